"""Scenario loading: presets, sources, extends, --set overrides and clear errors."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

import alsim
from alsim.config import ScenarioError, load_scenario, parse_override, preset_names, scenario_to_toml
from alsim.config.loading import split_sources, unsourced_fields


def test_presets_listed():
    assert {"sod1-g93a-b6sjl", "sod1-g93a-c57bl6", "wildtype-mouse"} <= set(preset_names())


def _raw_leaves(tree, prefix=""):
    for key, node in tree.items():
        if isinstance(node, dict) and "value" not in node:
            yield from _raw_leaves(node, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", node


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_value_cites_a_source(name):
    text = resources.files("alsim.config.presets").joinpath(f"{name}.toml").read_text()
    tree = tomllib.loads(text)
    tree.pop("extends", None)
    for path, node in _raw_leaves(tree):
        if path in {"name", "description", "species", "strain", "genotype"}:
            continue
        assert isinstance(node, dict) and node.get("source", "").strip(), f"{name}: {path} has no source"
        source = node["source"].strip()
        # a bare word is not a source: 'assumed' and 'hand-set' need their reason
        assert len(source.split()) >= 3, f"{name}: {path} source {source!r} gives no reason or reference"


@pytest.mark.parametrize("name", preset_names())
def test_presets_validate(name):
    scenario, sources = load_scenario(name)
    assert scenario.name == name
    assert sources["rates.sprouting"]


def test_wildtype_has_no_burden():
    scenario, _ = load_scenario("wildtype-mouse")
    assert scenario.disease.burden_multiplier == 0.0


def test_set_overrides_value_and_records_source():
    scenario, sources = load_scenario("sod1-g93a-b6sjl", ["rates.sprouting=0.3", "hypothesis.name=dying_forward"])
    assert scenario.rates.sprouting == 0.3
    assert scenario.hypothesis.weights == (0.0, 1.0)
    assert sources["rates.sprouting"] == "set by override (--set)"


@pytest.mark.parametrize("override, fragment", [
    ("rates.sproutng=0.1", "did you mean 'sprouting'"),
    ("rates.sprouting=-1", "rates.sprouting"),
    ("rates.sprouting=nan", "not a finite number"),
    ("rates.sprouting=inf", "not a finite number"),
    ("hypothesis.name=sideways", "hypothesis.name"),
    ("muscles.gastrocnemius.fraction_S=0.9", "must be 1"),
    ("rates=1", "is a table"),
    ("novalue", "expected dotted.path=value"),
    ("muscles.quadriceps.n_fibres=10", "unknown field 'quadriceps'"),
])
def test_bad_overrides_name_the_field(override, fragment):
    with pytest.raises(ScenarioError) as info:
        load_scenario("sod1-g93a-b6sjl", [override])
    assert fragment in str(info.value)


def test_unknown_preset_lists_allowed():
    with pytest.raises(ScenarioError, match="allowed presets: .*sod1-g93a-b6sjl"):
        load_scenario("sod1-g93a-nope")


def test_user_file_extends_preset(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('extends = "sod1-g93a-b6sjl"\nname = "mine"\n[rates]\nsprouting = { value = 0.2, source = "my lab" }\n')
    scenario, sources = load_scenario(f)
    assert scenario.name == "mine" and scenario.rates.sprouting == 0.2
    assert sources["rates.sprouting"] == "my lab"
    assert sources["rates.axon_dieback"] != "my lab"


def test_malformed_toml(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[rates\nsprouting = 1\n")
    with pytest.raises(ScenarioError, match="malformed TOML"):
        load_scenario(f)


def test_unknown_key_in_file_is_rejected(tmp_path):
    f = tmp_path / "typo.toml"
    f.write_text('extends = "sod1-g93a-b6sjl"\n[rates]\nsprouting_rate = 0.2\n')
    with pytest.raises(ScenarioError, match="rates.sprouting_rate"):
        load_scenario(f)


@pytest.mark.parametrize("override", [
    "rates.sprouting=nan", "rates.sprouting=inf", "rates.sprouting=-inf", "muscles.soleus.axon_length_mm=1e400",
    "horizon_days=inf", "muscles.soleus.n_fibres=1e300", "variability.litter_size=nan",
    "disease.burden_scale_days=1e-300", "disease.burden_scale_days=0.5",   # overflowed D(t) in the engine (fuzzing)
])
def test_non_finite_and_absurd_values_are_refused(override):
    with pytest.raises(ScenarioError, match=override.split("=")[0].replace(".", r"\.")):
        load_scenario("sod1-g93a-b6sjl", [override])


@pytest.mark.parametrize("content, fragment", [
    (b"\xff\xfe[rates]\n", "not UTF-8 text"),
    (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "malformed TOML"),
    (b'extends = "a\\u0000b"\n', "extends unknown preset or file"),
])
def test_unreadable_scenario_files_raise_scenario_error(tmp_path, content, fragment):
    """Found by tests/test_fuzz.py: these raised UnicodeDecodeError, RecursionError or ValueError."""
    f = tmp_path / "hostile.toml"
    f.write_bytes(content)
    with pytest.raises(ScenarioError, match=fragment):
        load_scenario(f)


@pytest.mark.parametrize("spec", ["a\x00b", "a\x00b.toml", "x" * 5000, "x" * 300 + ".toml"])
def test_impossible_file_names_raise_scenario_error(spec):
    """A NUL byte or a name too long for the file system: ScenarioError, not ValueError or OSError."""
    with pytest.raises(ScenarioError):
        load_scenario(spec)


def test_resolved_scenario_round_trips_through_toml(tmp_path):
    scenario, _ = load_scenario("sod1-g93a-b6sjl", ["rates.sprouting=0.25"])
    f = tmp_path / "resolved.toml"
    f.write_text(scenario_to_toml(scenario))
    again, _ = load_scenario(f)
    assert again == scenario


def test_parse_override_types():
    assert parse_override("a.b=3") == ("a.b", 3)
    assert parse_override("a.b=0.5") == ("a.b", 0.5)
    assert parse_override("a.b=dying_back") == ("a.b", "dying_back")


def test_split_sources():
    values, sources = split_sources({"a": {"value": 1, "source": "x"}, "b": {"c": 2}})
    assert values == {"a": 1, "b": {"c": 2}} and sources == {"a": "x"}


def test_public_names_are_documented():
    for name in alsim.__all__:
        obj = getattr(alsim, name)
        if callable(obj):
            assert obj.__doc__, f"alsim.{name} has no docstring"


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_value_has_a_source(preset):
    _, sources = load_scenario(preset)
    assert unsourced_fields(sources) == []


def test_a_file_value_without_a_source_is_recorded_as_unsourced(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('extends = "sod1-g93a-b6sjl"\nname = "mine"\n[rates]\nsprouting = 0.5\n'
                    'terminal_retraction_per_stress = { value = 0.02, source = "assumed: a test" }\n')
    _, sources = load_scenario(path)
    assert unsourced_fields(sources) == ["rates.sprouting"]
    assert sources["rates.sprouting"] == f"unsourced: set in {path} without a source"
    assert sources["rates.terminal_retraction_per_stress"] == "assumed: a test"


def test_an_unknown_preset_gets_a_did_you_mean():
    with pytest.raises(ScenarioError, match=r"unknown preset 'sod1-g93a-b6sjll' \(did you mean 'sod1-g93a-b6sjl'\?\)"):
        load_scenario("sod1-g93a-b6sjll")
