"""``alsim sweep``: parsing the grid, the same bits whatever the workers or blocks, and the
parameter reaching the engine at each point."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from alsim.cli import main
from alsim.config import ScenarioError
from alsim.trials import sweep as sweep_module
from alsim.trials.sweep import Axis, build_sweep, parse_axis, run_sweep, simulate_point, summarise_sweep

from .conftest import write_small_preset


def test_axis_from_a_list_a_range_and_a_log_range():
    assert parse_axis("disease.burden_scale_days=80, 100,120") == Axis("disease.burden_scale_days", ("80", "100", "120"))
    assert parse_axis("hypothesis.name=dying_back,independent").numeric() is None
    linear = parse_axis("disease.burden_scale_days=80:120:5")
    np.testing.assert_array_equal(linear.numeric(), [80, 90, 100, 110, 120])
    assert parse_axis("rates.sprouting=0.05:0.6:12").values[7] == "0.4"      # not 0.39999999999999997
    geometric = parse_axis("disease.burden_exponent=1:100:3:log")
    assert geometric.log
    np.testing.assert_allclose(geometric.numeric(), [1, 10, 100])


@pytest.mark.parametrize("spec, said", [
    ("disease.burden_scale_days", "expected PATH=V1,V2"),
    ("=1,2", "expected PATH=V1,V2"),
    ("disease.burden_scale_days=80,,100", "empty value"),
    ("disease.burden_scale_days=80,80", "given twice"),
    ("disease.burden_scale_days=80:120", "expected PATH=V1,V2"),
    ("disease.burden_scale_days=80:120:1", "N must be a whole number >= 2"),
    ("disease.burden_scale_days=80:x:3", "STOP must be a number"),
    ("disease.burden_scale_days=0:120:3:log", "needs START and STOP > 0"),
    ("disease.burden_scale_days=1:120:3:lin", "expected PATH=V1,V2"),
])
def test_bad_axis_is_refused_with_its_text(spec, said):
    with pytest.raises(ScenarioError, match=said):
        parse_axis(spec)


def test_bad_grid_names_the_field_and_value():
    axes = [parse_axis("disease.burden_exponent=1,2"), parse_axis("disease.burden_scale_days=80,-1")]
    with pytest.raises(ScenarioError) as caught:
        build_sweep("sod1-g93a-b6sjl", axes, subjects=2, days=10, seed=1)
    message = str(caught.value)
    assert message.startswith("--vary disease.burden_scale_days=-1:") and "greater than or equal to 1" in message
    with pytest.raises(ScenarioError, match="unknown field 'nope'"):
        build_sweep("sod1-g93a-b6sjl", [parse_axis("disease.nope=1,2")], subjects=2, days=10, seed=1)
    with pytest.raises(ScenarioError, match="varied twice"):
        build_sweep("sod1-g93a-b6sjl", [axes[0], axes[0]], subjects=2, days=10, seed=1)
    with pytest.raises(ScenarioError, match="also fixed by --set"):
        build_sweep("sod1-g93a-b6sjl", axes[:1], overrides=["disease.burden_exponent=3"], subjects=2, days=10, seed=1)
    with pytest.raises(ScenarioError, match="1200 grid points; at most 1000"):
        build_sweep("sod1-g93a-b6sjl", [parse_axis("disease.burden_exponent=1:3:30"),
                                        parse_axis("disease.burden_scale_days=60:120:40")], subjects=2, days=10, seed=1)


@pytest.fixture(scope="module")
def small_design(tmp_path_factory):
    preset = write_small_preset(tmp_path_factory.mktemp("preset") / "small.toml")
    axes = [parse_axis("disease.burden_scale_days=70,130"), parse_axis("hypothesis.name=dying_back,dying_forward")]
    return build_sweep(str(preset), axes, subjects=10, days=180, seed=11)


def test_grid_is_the_product_first_axis_slowest(small_design):
    assert small_design.values == (("70", "dying_back"), ("70", "dying_forward"), ("130", "dying_back"),
                                   ("130", "dying_forward"))
    got = [(p.disease.burden_scale_days, p.hypothesis.name) for p in small_design.points]
    assert got == [(70.0, "dying_back"), (70.0, "dying_forward"), (130.0, "dying_back"), (130.0, "dying_forward")]


def test_same_bits_whatever_the_blocks_and_workers(small_design, monkeypatch):
    """An animal's endpoints depend on the seed, its index and its point only."""
    one = run_sweep(small_design)
    monkeypatch.setattr(sweep_module, "BLOCK_SIZE", 3)
    blocks_of_three = run_sweep(small_design, workers=2)
    for key in one:
        assert one[key].tobytes() == blocks_of_three[key].tobytes(), key
    alone = simulate_point(small_design.points[3], np.array([7]), small_design.days, small_design.seed)
    assert alone["end_stage_day"].tobytes() == one["end_stage_day"][3, 7:8].tobytes()


def test_each_point_runs_its_own_parameter(small_design):
    """Burden scale 70 against 130 days moves onset by about 60 days (docs/model.md: D(t) = b (t / scale)^k),
    far outside the sampling error of 10 animals (onset's SD across animals is ~7 days here)."""
    endpoints = run_sweep(small_design)
    onset = endpoints["onset_day"]
    assert np.isfinite(onset[:2]).all()                      # every animal has its onset by day 180 at scale 70
    early, late = np.nanmedian(onset[0]), np.nanmedian(onset[2])
    assert late - early > 30, (early, late)
    summary = summarise_sweep(small_design, endpoints)
    assert summary["points"][0]["values"] == {"disease.burden_scale_days": "70", "hypothesis.name": "dying_back"}
    assert summary["points"][0]["median_onset_day"]["value"] == pytest.approx(np.median(onset[0]), abs=3)
    assert summary["points"][0]["fraction_with_onset"] == 1.0


def test_cli_writes_the_sweep_and_refuses_bad_input(tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = ["sweep", "sod1-g93a-b6sjl", "--vary", "disease.burden_scale_days=70:110:3", "--subjects", "4", "--days",
            "130", "--seed", "2", "--out", str(out)]
    assert main(argv) == 0
    assert {p.name for p in out.iterdir()} >= {"sweep.json", "sweep.csv", "endpoints.csv", "report.html", "provenance.json"}
    summary = json.loads((out / "sweep.json").read_text())
    assert [p["values"]["disease.burden_scale_days"] for p in summary["points"]] == ["70", "90", "110"]
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["disease.burden_scale_days"]) == [70.0, 90.0, 110.0]
    per_subject = pd.read_csv(out / "endpoints.csv")
    assert len(per_subject) == 12 and list(per_subject.columns) == ["point", "subject", "onset_day", "end_stage_day"]
    assert "<img" in (out / "report.html").read_text()
    capsys.readouterr()
    bad = tmp_path / "bad"
    assert main([*argv[:3], "disease.burden_scale_days=70,-5", *argv[4:-1], str(bad)]) == 2
    said = capsys.readouterr().err
    assert "disease.burden_scale_days=-5" in said and not bad.exists()
