"""``alsim calibrate``, ``alsim compare`` and ``alsim run --posterior`` end to end, on a small
B6SJL scenario with a tiny budget (the numbers mean nothing; the plumbing is under test)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from alsim.cli import main
from alsim.config import load_scenario
from alsim.store import compare_outputs, read_results

from .conftest import write_small_preset


BUDGET = 40  # generation 0 of 8 particles took 27 simulations at seed 3 (24 sufficed before S vulnerability joined the priors)
TINY = ["--budget", str(BUDGET), "--population", "8", "--subjects", "3", "--draws", "2", "--workers", "1", "--seed", "3"]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """One small `alsim compare` run shared by the tests below."""
    folder = tmp_path_factory.mktemp("compare")
    preset = folder / "small.toml"
    write_small_preset(preset, extra=["horizon_days = 150"])
    out = folder / "out"
    assert main(["compare", "--preset", str(preset), *TINY, "--out", str(out)]) == 0
    return preset, out


def test_compare_writes_the_promised_files(compared):
    _, out = compared
    names = {p.name for p in out.iterdir()}
    assert {"posterior.csv", "compare.json", "summary.json", "predictive.json", "predictive.zarr", "report.html",
            "calibration.db", "run.json"} <= names
    compare = json.loads((out / "compare.json").read_text())
    probabilities = compare["model_probabilities"]
    assert set(probabilities) == {"dying_back", "dying_forward", "independent"}
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert 0 < compare["n_simulations"] <= BUDGET  # the budget is a ceiling on stored simulations
    posterior = pd.read_csv(out / "posterior.csv")
    for hypothesis, rows in posterior.groupby("hypothesis"):
        assert rows["weight"].sum() == pytest.approx(1.0)
        assert f"preset-{hypothesis}.toml" in names
    checks = json.loads((out / "predictive.json").read_text())["checks"]
    assert set(checks) == set(posterior["hypothesis"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["training_data_sha256"]
    assert "Model probabilities" in (out / "report.html").read_text()


def test_calibrated_preset_loads_and_names_its_run(compared):
    _, out = compared
    preset = next(out.glob("preset-*.toml"))
    scenario, sources = load_scenario(preset)
    run_id = json.loads((out / "summary.json").read_text())["run_id"]
    assert run_id in sources["disease.burden_scale_days"]
    assert "posterior median" in sources["disease.burden_scale_days"]


def test_run_draws_subject_parameters_from_the_posterior(compared, tmp_path):
    preset, out = compared
    hypothesis = pd.read_csv(out / "posterior.csv")["hypothesis"].iloc[0]
    run_out = tmp_path / "run"
    args = ["run", str(preset), "--hypothesis", hypothesis, "--posterior", str(out), "--subjects", "4", "--days", "60",
            "--seed", "5", "--out", str(run_out)]
    assert main(args) == 0
    ds = read_results(run_out)
    assert list(ds.subject.values) == [0, 1, 2, 3]
    assert ds.parameter_value.dims == ("subject", "parameter")
    assert "disease.burden_scale_days" in list(ds.parameter.values)
    again = tmp_path / "again"             # streamed on two workers: the same bits
    assert main(args[:-1] + [str(again), "--workers", "2"]) == 0
    assert compare_outputs(run_out, again) == (None, 1)


@pytest.mark.parametrize("args, message", [
    (["calibrate", "--hypothesis", "sideways"], "hypothesis"),
    (["compare", "--priors", "nonsense"], "--priors"),
    (["compare", "--preset", "no-such-preset"], "--preset"),
    (["calibrate", "--hypothesis", "dying_back", "--resume"], "--resume"),
    (["calibrate", "--hypothesis", "dying_back", "--population", "30"], "--budget"),
])
def test_bad_calibration_input_names_the_field_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main([args[0], *TINY, *args[1:], "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_existing_output_is_not_overwritten(compared, capsys):
    preset, out = compared
    assert main(["calibrate", "--hypothesis", "dying_back", "--preset", str(preset), *TINY, "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_run_posterior_without_the_hypothesis_is_refused(compared, tmp_path, capsys):
    preset, out = compared
    table = pd.read_csv(out / "posterior.csv")
    kept = table["hypothesis"].iloc[0]
    folder = tmp_path / "one-hypothesis"
    folder.mkdir()
    table[table["hypothesis"] == kept].to_csv(folder / "posterior.csv", index=False)
    other = next(h for h in ("dying_back", "dying_forward", "independent") if h != kept)
    args = ["run", str(preset), "--hypothesis", other, "--posterior", str(folder), "--out", str(tmp_path / "r")]
    assert main(args) == 2
    assert "no particles" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
