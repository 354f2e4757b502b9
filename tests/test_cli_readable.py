"""What a person sees first: help and listings readable at 80 columns and in a pipe, one
``--treat`` syntax, a warning for a scenario value without a source (recorded as unsourced
in sources.json), and a warning for a treatment that changes nothing under the hypothesis."""

from __future__ import annotations

import json
import re

import pytest

from alsim.biology.interventions import (
    builtin_catalogue,
    hypotheses_acted_under,
    inert_treatment_warnings,
)
from alsim.cli import main
from alsim.config import load_scenario
from alsim.config.treatments import Treatment

from .conftest import write_small_preset

COMMANDS = ["", "presets", "treatments", "run", "demo", "trial", "window", "sweep", "calibrate", "compare", "runs",
            "show", "rerun", "bench"]


@pytest.fixture
def eighty_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def _help(command: str, capsys) -> str:
    """``alsim COMMAND --help`` (``alsim --help`` for "")."""
    assert main([command, "--help"] if command else ["--help"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_readable_at_80_columns_in_a_pipe(command, eighty_columns, capsys):
    """capsys is a pipe, not a terminal: no line over 80 characters, nothing cut with an
    ellipsis, no frame characters, and metavars a person can read (not ``<list[str]>``)."""
    shown = _help(command, capsys)
    assert all(len(line) <= 80 for line in shown.splitlines()), max(shown.splitlines(), key=len)
    assert "…" not in shown and "│" not in shown
    cut = [line for line in shown.splitlines() if line.rstrip().endswith("...") and not line.startswith("Usage:")]
    assert not cut, cut                                          # click's "..." of a shortened description
    assert not re.search(r"<(list|int range|str|path|Path|float)\b", shown.split("Options:")[-1]), shown


def test_treat_has_one_syntax_everywhere(eighty_columns, capsys):
    """``NAME[@START_DAY][:DOSE]`` whole in ``run --help`` (rich markup once ate ``[@START_DAY]``);
    ``window --treat`` says it is that without ``@START_DAY``."""
    run_help = _help("run", capsys)
    assert "--treat NAME[@START_DAY][:DOSE]" in run_help and "musk_agonist@60:0.5" in run_help
    assert "NAME[@START_DAY][:DOSE]" in _help("trial", capsys)
    window_help = " ".join(_help("window", capsys).split())
    assert "--treat NAME[:DOSE]" in window_help and "NAME[@START_DAY][:DOSE]` but without @START_DAY" in window_help


def test_treatments_listing_keeps_words_whole_and_says_where_each_acts(eighty_columns, capsys):
    assert main(["treatments"]) == 0
    shown = capsys.readouterr().out
    lines = shown.splitlines()
    assert all(len(line) <= 80 for line in lines)
    for name in builtin_catalogue():
        assert any(line.startswith(f"{name}: ") for line in lines), name
    riluzole = shown[shown.index("riluzole: "):].split("\n\n")[0]
    assert "acts under: dying_forward, independent" in riluzole


def test_hypotheses_a_treatment_acts_under():
    catalogue = builtin_catalogue()
    assert hypotheses_acted_under(catalogue["riluzole"]) == ["dying_forward", "independent"]
    assert hypotheses_acted_under(catalogue["musk_agonist"]) == ["dying_back", "dying_forward", "independent"]
    only_destabilisation = catalogue["musk_agonist"].model_copy(update={"effects": {"destabilisation": 0.5}})
    assert hypotheses_acted_under(Treatment.model_validate(only_destabilisation.model_dump())) == [
        "dying_back", "independent"]


def test_inert_treatment_warning_names_treatment_targets_and_weights():
    scenario, _ = load_scenario("sod1-g93a-b6sjl", ["hypothesis.name=dying_back"])
    lines = inert_treatment_warnings([builtin_catalogue()["riluzole"], builtin_catalogue()["cntf"]],
                                     scenario.hypothesis)
    assert len(lines) == 1
    assert "riluzole" in lines[0] and "cortical_drive" in lines[0] and "w_forward = 0" in lines[0]
    assert "dying_back" in lines[0]
    forward, _ = load_scenario("sod1-g93a-b6sjl", ["hypothesis.name=dying_forward"])
    assert inert_treatment_warnings([builtin_catalogue()["riluzole"]], forward.hypothesis) == []


def test_run_warns_about_an_inert_treatment_and_goes_on(tmp_path, capsys):
    small = write_small_preset(tmp_path / "small.toml")
    out = tmp_path / "out"
    assert main(["run", str(small), "--subjects", "1", "--days", "3", "--seed", "1", "--hypothesis", "dying_back",
                 "--treat", "riluzole@0", "--out", str(out)]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "riluzole" in warnings[0] and "w_forward = 0" in warnings[0]


def test_a_value_without_a_source_is_warned_about_and_recorded_as_unsourced(tmp_path, capsys):
    small = write_small_preset(tmp_path / "my.toml", extra=["[rates]", "sprouting = 0.5"])
    out = tmp_path / "out"
    assert main(["run", str(small), "--subjects", "1", "--days", "3", "--seed", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {small}: rates.sprouting has no source; recorded as unsourced in sources.json; "
                        'write it as { value = 0.5, source = "..." }'], err
    sources = json.loads((out / "sources.json").read_text())
    assert sources["rates.sprouting"].startswith("unsourced:")
    assert not any(v.startswith("unsourced:") for k, v in sources.items() if k != "rates.sprouting")


def test_a_sourced_or_overridden_value_gives_no_warning(tmp_path, capsys):
    small = write_small_preset(tmp_path / "my.toml", extra=["[rates]", "sprouting = 0.5"])
    assert main(["run", str(small), "--subjects", "1", "--days", "3", "--seed", "1", "--set", "rates.sprouting=0.4",
                 "--out", str(tmp_path / "out")]) == 0
    assert "warning:" not in capsys.readouterr().err


def test_sweep_warns_about_a_value_without_a_source(tmp_path, capsys):
    small = write_small_preset(tmp_path / "my.toml", extra=["[rates]", "sprouting = 0.5"])
    assert main(["sweep", str(small), "--vary", "disease.burden_scale_days=70,90", "--subjects", "1", "--days", "3",
                 "--seed", "1", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"warning: {small}: rates.sprouting has no source" in err and "sources.json" not in err
