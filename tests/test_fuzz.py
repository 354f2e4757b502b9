"""Hostile input (hypothesis): random and malformed ``--set`` values, ``--treat`` strings,
scenario names and scenario TOML files, thrown at ``alsim run`` in-process and at the API.

Every input must give exit code 0 (it happened to be valid) or 2 with one line on
stderr that names the field, never a traceback, and nothing written on exit 2 (no
result folder, no temporary folder, no catalogue). The API must raise
:class:`ScenarioError` and nothing else. The number of inputs tried is printed
(``pytest -s`` or ``-rA``) by the last test.

``ALSIM_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py`` hunts longer, with fresh random
inputs each time (the default is a fixed, derandomised set that takes about 30 s).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import alsim
from alsim.biology.interventions import builtin_catalogue, parse_treatment
from alsim.cli import main
from alsim.config import ScenarioError, load_scenario
from alsim.config.loading import _leaf_paths

from .conftest import SMALL_MUSCLES, write_small_preset

TRIED: Counter = Counter()   # inputs tried per kind, printed by test_fuzz_count
VALID: Counter = Counter()   # of which valid (exit 0)
HUNT = os.environ.get("ALSIM_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(HUNT or 100), deadline=None, derandomize=not HUNT, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# ------------------------------------------------------------------ fixtures and checks


@pytest.fixture(scope="module")
def small_preset(tmp_path_factory):
    """The B6SJL preset with small muscles, as a TOML file that `extends` it."""
    path = tmp_path_factory.mktemp("fuzz") / "small.toml"
    write_small_preset(path)
    return path


@pytest.fixture(scope="module", autouse=True)
def _no_report():
    """The HTML report (seconds of matplotlib per run) is not under test here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("alsim.report.write_report", lambda results, path, **kw: Path(path).write_text("<html></html>"))
        yield


def _run_cli(scenario: str, options: list[str], kind: str) -> tuple[int, str, Path]:
    """``alsim run OPTIONS --days 5 --subjects 2 -- SCENARIO`` into a fresh folder: (exit code, stderr, --out).

    (``--`` so that a scenario name starting with a dash is not read as an option.)"""
    TRIED[kind] += 1
    parent = Path(tempfile.mkdtemp(prefix="alsim-fuzz-"))
    out = parent / "out"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["run", *options, "--days", "5", "--subjects", "2", "--seed", "1", "--out", str(out), "--", scenario])
    text = stderr.getvalue()
    assert code in (0, 2), f"exit {code} for {scenario!r} {options!r}:\n{text}"
    assert "Traceback" not in text, text
    if code == 2:
        assert len(text.strip().splitlines()) == 1, f"not one line: {text!r}"
        assert text.startswith("error: "), text
        assert list(parent.iterdir()) == [], f"exit 2 but wrote {list(parent.iterdir())}"
    else:
        assert (out / "results.zarr").is_dir() and (out / "provenance.json").is_file()
    shutil.rmtree(parent, ignore_errors=True)
    VALID[kind] += code == 0
    return code, text, out


def _api(preset: Path | str, overrides: list[str]) -> bool:
    """True if ``load_scenario`` accepts the input; any exception but ScenarioError fails the test."""
    try:
        load_scenario(preset, overrides)
    except ScenarioError:
        return False
    return True


# ------------------------------------------------------------------ strategies

_small, _ = load_scenario("sod1-g93a-b6sjl", SMALL_MUSCLES)
LEAF_PATHS = _leaf_paths(_small.model_dump(mode="json", exclude_none=True))
TABLE_PATHS = sorted({p.rsplit(".", 1)[0] for p in LEAF_PATHS if "." in p})
NO_SURROGATES = st.characters(blacklist_categories=("Cs",))

EDGE_LITERALS = [
    "nan", "+nan", "-nan", "NaN", "inf", "+inf", "-inf", "Infinity", "1e400", "-1e400", "1e308", "1.7976931348623157e308",
    "5e-324", "1e-300", "-1", "-0.0", "0", "1", "-1e9", "1e9", "99999999999999999999", "-9223372036854775809",
    "18446744073709551616", "", " ", "=", "==1", "true", "false", '""', '"nan"', '"1"', "'single'", "[1, 2]", "[]",
    "{a = 1}", "{}", "1979-05-27", "07:32:00", "0x10", "0o17", "0b11", "1_000", "1__0", "01", ".5", "5.", "1e", "\\",
    '"ünïcødé"', "é", "名前", "\u0000", "\n", "a\nb", "[/x]", "[bold]", ":smile:", "--out", "\u202e", "\ufeff1",
]
VALUES = st.one_of(
    st.sampled_from(EDGE_LITERALS),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-1000, max_value=1000).map(str),
    st.sampled_from([10**7 + 1, 10**12, 2**63, -(2**63) - 1, 10**100]).map(str),
    st.text(NO_SURROGATES, max_size=12),
)
PATHS = st.one_of(
    st.sampled_from(LEAF_PATHS),
    st.sampled_from(LEAF_PATHS).map(lambda p: p + "x"),                          # a typo
    st.sampled_from(TABLE_PATHS),                                                 # a table, not a value
    st.sampled_from(LEAF_PATHS).map(lambda p: p + ".deeper"),
    st.text(NO_SURROGATES, max_size=20),                                          # anything at all
    st.lists(st.text(NO_SURROGATES, min_size=0, max_size=6), min_size=1, max_size=4).map(".".join),
)
NUMBERS_ANYWHERE = st.builds(lambda p, v: f"{p}={v}", st.sampled_from(LEAF_PATHS), st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-1000, 1000).map(str),
    st.floats(min_value=0.0, max_value=1.0).map(repr), st.floats(min_value=0.0, max_value=1e300).map(repr),
    st.integers(0, 40).map(str), st.sampled_from(["nan", "inf", "-inf", "1e308", "1e-308", "0", "-0.0", "1e9", "-1"])))
SETS = st.one_of(NUMBERS_ANYWHERE, NUMBERS_ANYWHERE,   # listed twice: half the inputs are numbers on real fields
                 st.builds(lambda p, v: f"{p}={v}", PATHS, VALUES), st.text(NO_SURROGATES, max_size=30))

CATALOGUE = builtin_catalogue()
TREAT_NAMES = st.one_of(st.sampled_from(sorted(CATALOGUE)), st.text(NO_SURROGATES, max_size=10))
NUMBERS = st.one_of(st.sampled_from(EDGE_LITERALS), st.integers(-10**6, 10**6).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(NO_SURROGATES, max_size=6))
TREATS = st.one_of(
    st.builds(lambda n, s, d: n + ("" if s is None else "@" + s) + ("" if d is None else ":" + d),
              TREAT_NAMES, st.none() | NUMBERS, st.none() | NUMBERS),
    st.text(NO_SURROGATES, max_size=30),
)


# ------------------------------------------------------------------ --set


@FUZZ
@given(overrides=st.lists(SETS, min_size=1, max_size=2))
def test_set_values_cli_and_api(small_preset, overrides):
    accepted = _api(small_preset, overrides)
    code, err, _ = _run_cli(str(small_preset), [a for o in overrides for a in ("--set", o)], "--set")
    assert code == (0 if accepted else 2), err
    if code == 2:
        assert "--set" in err or "field '" in err, err


# ------------------------------------------------------------------ --treat


@FUZZ
@given(treat=TREATS)
def test_treatment_strings_cli_and_api(small_preset, treat):
    try:
        parse_treatment(treat, CATALOGUE)
        parsed = True
    except ScenarioError:
        parsed = False
    code, err, _ = _run_cli(str(small_preset), ["--treat", treat], "--treat")
    if not parsed:
        assert code == 2 and "--treat" in err, err


# ------------------------------------------------------------------ scenario names and files


@FUZZ
@given(name=st.one_of(st.text(NO_SURROGATES, max_size=40), st.sampled_from(
    ["", ".", "..", "/", "/dev/null", "nonexistent.toml", "a\x00b", "a\x00b.toml", "x" * 5000, "x" * 300 + ".toml",
     "sod1-g93a-b6sjl ", "SOD1-G93A-B6SJL", "~/small.toml", "[/x]", "sod1-g93a-b6sjl"])))
def test_scenario_names(name):
    assert not _api(name, []) or name in alsim.preset_names()
    code, err, _ = _run_cli(name, [a for s in SMALL_MUSCLES for a in ("--set", s)], "scenario name")
    assert code == (0 if name in alsim.preset_names() else 2), err


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def _toml(tree: dict, prefix: str = "") -> str:
    scalars = [f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}" for k, v in tree.items() if not isinstance(v, dict)]
    text = ((f"[{prefix}]\n" if prefix else "") + "\n".join(scalars) + "\n") if scalars or not prefix else ""
    for key, value in tree.items():
        if isinstance(value, dict):
            text += _toml(value, f"{prefix}.{json.dumps(key, ensure_ascii=False)}" if prefix else json.dumps(key, ensure_ascii=False))
    return text


def _set_path(tree: dict, path: list[str], value) -> None:
    for key in path[:-1]:
        if not isinstance(tree.get(key), dict):
            tree[key] = {}
        tree = tree[key]
    tree[path[-1]] = value


SCALARS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1.0, 0, 10**18, True, "", "nan"]),
    st.booleans(), st.text(NO_SURROGATES, max_size=8),
)
TOML_VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(NO_SURROGATES, max_size=5), SCALARS, max_size=2))


@st.composite
def scenario_trees(draw):
    """A scenario as a dict: small muscles on top of the preset (by `extends`) or written out in
    full with some tables dropped; then a few leaves changed to random values or unknown keys added."""
    if draw(st.booleans()):
        tree: dict = {"extends": "sod1-g93a-b6sjl", "name": "small"}
        for item in SMALL_MUSCLES:
            path, value = item.split("=")
            _set_path(tree, path.split("."), int(value))
    else:
        tree = _small.model_dump(mode="json", exclude_none=True)     # no TOML null: absent optional sections
        for table in draw(st.lists(st.sampled_from(sorted(k for k, v in tree.items() if isinstance(v, dict))), max_size=2)):
            tree.pop(table, None)
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.one_of(st.sampled_from(LEAF_PATHS).map(lambda p: p.split(".")),
                              st.lists(st.text(NO_SURROGATES, min_size=1, max_size=6), min_size=1, max_size=3)))
        _set_path(tree, path, draw(TOML_VALUES))
    return tree


TOML_FILES = st.one_of(
    st.binary(max_size=200),
    st.text(NO_SURROGATES, max_size=200).map(lambda t: t.encode("utf-8")),
    scenario_trees().map(lambda tree: _toml(tree).encode("utf-8")),
)


@FUZZ
@given(content=TOML_FILES)
def test_scenario_toml_files(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("toml") / "scenario.toml"
    path.write_bytes(content)
    accepted = _api(path, [])
    code, err, _ = _run_cli(str(path), [], "scenario TOML")
    assert code == (0 if accepted else 2), err
    if code == 2:
        assert str(path) in err or "field '" in err or "--" in err, err


def test_fuzz_count():
    """The number of hostile inputs tried by the tests above (shown with -s or -rA)."""
    total = sum(TRIED.values())
    print(f"fuzz: {total} hostile inputs tried through `alsim run` and the API "
          f"({', '.join(f'{k}: {n}, {VALID[k]} valid' for k, n in TRIED.items())})")
    if TRIED:
        assert total >= 100
