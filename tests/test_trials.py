"""In-silico trials: allocation, same bits whatever the workers, the CLI, and the
statistics a lab relies on (nominal false-positive rate, power that moves the right way)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from alsim.biology.interventions import builtin_catalogue
from alsim.cli import main
from alsim.config.treatments import AppliedTreatment, Treatment
from alsim.trials.analysis import summarise_trial
from alsim.trials.design import Arm, TrialDesign, parse_arm
from alsim.trials.execute import allocation, run_replicates

from tests.test_verification import tiny_scenario

SMALL = ["--set", "muscles.gastrocnemius.n_motor_units=10", "--set", "muscles.gastrocnemius.n_fibres=120",
         "--set", "muscles.tibialis_anterior.n_motor_units=8", "--set", "muscles.tibialis_anterior.n_fibres=80",
         "--set", "muscles.soleus.n_motor_units=6", "--set", "muscles.soleus.n_fibres=50",
         "--set", "muscles.diaphragm.n_motor_units=8", "--set", "muscles.diaphragm.n_fibres=80"]


def _stabiliser(dose: float, label: str) -> Arm:
    treatment = Treatment(name="stabiliser", kind="drug", compartment="terminal", mechanism="m", source="test",
                          strength_basis="assumed: test", effects={"retraction": 0.3})
    return Arm(label, (AppliedTreatment(label=label, treatment=treatment, start_day=0, dose=dose),))


def _design(arms, per_arm=10, replicates=0, seed=5, scenario=None) -> TrialDesign:
    return TrialDesign(scenario=scenario or tiny_scenario("dying_back"), arms=tuple(arms), per_arm=per_arm, days=70,
                       seed=seed, replicates=replicates)


def test_allocation_is_balanced_disjoint_and_reproducible():
    design = _design([Arm("control", ()), Arm("placebo", ()), _stabiliser(1.0, "s")], per_arm=8,
                     scenario=tiny_scenario("dying_back").model_copy(update={"variability": tiny_scenario().variability.model_copy(update={"litter_size": 4})}))
    arms = allocation(design, 0)
    assert [len(a) for a in arms] == [8, 8, 8]
    assert len(np.unique(np.concatenate(arms))) == 24
    for a, b in zip(arms, allocation(design, 0)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.concatenate(arms), np.concatenate(allocation(design, 1)))


def test_trial_results_do_not_depend_on_workers():
    design = _design([Arm("control", ()), _stabiliser(1.0, "s")], per_arm=4, replicates=1)
    one = run_replicates(design, [0, 1], workers=1)
    two = run_replicates(design, [0, 1], workers=2)
    for r in (0, 1):
        for label in design.labels:
            np.testing.assert_array_equal(one[r][label].outcome.end_stage_day, two[r][label].outcome.end_stage_day)
            np.testing.assert_array_equal(one[r][label].subjects, two[r][label].subjects)


def test_null_treatment_is_declared_positive_at_the_nominal_rate_and_power_moves_the_right_way():
    """Placebo vs control: log-rank rejections at alpha = 0.05 within 3 binomial SE of 0.05.
    A strong stabiliser beats a weak dose of it, and power grows with n."""
    replicates = 150
    design = _design([Arm("control", ()), Arm("placebo", ()), _stabiliser(1.0, "strong"), _stabiliser(0.25, "weak")],
                     per_arm=10, replicates=replicates)
    summary = summarise_trial(design, run_replicates(design, list(range(replicates + 1))))
    arms = summary["arms"]
    se = np.sqrt(0.05 * 0.95 / replicates)
    assert abs(arms["placebo"]["power"]["value"] - 0.05) < 3 * se
    strong, weak = arms["strong"]["power"], arms["weak"]["power"]
    assert strong["value"] - weak["value"] > 3 * np.hypot(strong["monte_carlo_se"], weak["monte_carlo_se"])
    curve = arms["strong"]["power_over_n"]
    smallest, largest = curve[min(curve, key=int)], curve[max(curve, key=int)]
    assert largest["value"] - smallest["value"] > 3 * np.hypot(largest["monte_carlo_se"], smallest["monte_carlo_se"])


def test_trial_cli_writes_arms_keyed_as_written(tmp_path):
    out = tmp_path / "trial"
    code = main(["trial", "sod1-g93a-b6sjl", *SMALL, "--arm", "control", "--arm", "musk_agonist@60:0.5", "--arm", "bax_knockout",
                 "--per-arm", "3", "--replicates", "2", "--days", "140", "--seed", "3", "--count-day", "90", "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "trial.json").read_text())
    assert list(summary["arms"]) == ["control", "musk_agonist@60:0.5", "bax_knockout"]
    treated = summary["arms"]["musk_agonist@60:0.5"]
    for key in ("median_end_stage_day", "median_onset_day", "difference_end_stage_day", "difference_onset_day",
                "hazard_ratio", "logrank_p", "power"):
        assert key in treated, key
    assert set(treated["difference_end_stage_day"]) == {"value", "lo", "hi"}
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / summary["results"]["bax_knockout"]).is_dir()


@pytest.mark.parametrize("args, message", [
    (["--arm", "control", "--arm", "nonsense@3"], "unknown treatment 'nonsense'"),
    (["--arm", "musk_agonist@60"], "a trial needs a 'control' arm"),
    (["--arm", "control", "--arm", "control"], "each arm must be different"),
    (["--arm", "control", "--arm", "riluzole@30:2"], "DOSE"),
    (["--arm", "control", "--arm", "riluzole", "--count-day", "900"], "count_day must be between 0 and the follow-up"),
])
def test_trial_cli_bad_input_names_the_field_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "trial"
    code = main(["trial", "sod1-g93a-b6sjl", *args, "--per-arm", "3", "--out", str(out)])
    assert code == 2
    assert message in capsys.readouterr().err.replace("\n", " ")
    assert not out.exists()


def test_window_cli_compares_start_days(tmp_path):
    out = tmp_path / "window"
    code = main(["window", "sod1-g93a-b6sjl", *SMALL, "--treat", "riluzole", "--start-days", "30,90", "--per-arm", "3",
                 "--days", "140", "--seed", "4", "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "window.json").read_text())
    assert summary["start_days"] == [30, 90]
    assert list(summary["arms"]) == ["control", "riluzole@30", "riluzole@90"]
    assert summary["by_start_day"]["30"]["arm"] == "riluzole@30"
    assert summary["count_endpoint"]["readout"] == "motor_neurons_alive_fraction"


def test_parse_arm_joins_treatments():
    arm = parse_arm("riluzole@30+musk_agonist@60:0.5", builtin_catalogue())
    assert [t.treatment.name for t in arm.treatments] == ["riluzole", "musk_agonist"]
    assert parse_arm("placebo", builtin_catalogue()).treatments == ()


@pytest.mark.parametrize("line, fragment", [
    ("per_arm = nan", "per_arm must be a whole number from 2 to 100000"),
    ("per_arm = 2.5", "per_arm must be a whole number"),
    ("replicates = inf", "replicates must be a whole number"),
    ("seed = -1", "seed must be a whole number from 0 up"),
    ("days = true", "days must be a whole number"),
    ("alpha = nan", "alpha must be a number between 0 and 1"),
    ("alpha = 1.0", "alpha must be a number between 0 and 1"),
    ('count_readout = 3', "count_readout must be a string"),
    ('set = "rates.sprouting=1"', "set must be a list of strings"),
])
def test_design_file_values_are_checked(tmp_path, line, fragment):
    """A design file's numbers were passed through int()/float(): NaN alpha ran, -1 seed crashed."""
    from alsim.config import ScenarioError
    from alsim.trials.design import read_design_file

    path = tmp_path / "design.toml"
    path.write_text(f'scenario = "sod1-g93a-b6sjl"\narms = ["control", "riluzole"]\n{line}\n')
    with pytest.raises(ScenarioError, match=fragment):
        read_design_file(path)
    path.write_text('scenario = "sod1-g93a-b6sjl"\narms = ["control", "riluzole"]\nper_arm = 4\nalpha = 0.01\n')
    assert read_design_file(path)["alpha"] == 0.01
