"""``alsim trial --posterior`` and ``alsim window --posterior``: each animal's calibrated
parameters drawn from a posterior by its subject index, whatever its arm; the same bits
whatever the workers; bad input refused before any work; provenance in the outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from alsim.cli import main
from alsim.inference.cohort import PosteriorCohort, posterior_assignment
from alsim.inference.posterior import Posterior
from alsim.run import simulate_census
from alsim.run.events import clinical_events
from alsim.store.provenance import file_sha256
from alsim.trials.design import Arm, TrialDesign
from alsim.trials.execute import run_replicates, simulate_arm, subjects_needed
from alsim.trials.trial import run_trial

from tests.test_trials import SMALL, _stabiliser
from tests.test_verification import tiny_scenario

PACKAGED = "sod1-g93a-b6sjl"


def _design(per_arm=3, replicates=1, seed=7) -> TrialDesign:
    return TrialDesign(scenario=tiny_scenario("dying_back"), arms=(Arm("control", ()), _stabiliser(1.0, "s")),
                       per_arm=per_arm, days=90, seed=seed, replicates=replicates)


def _cohort(design: TrialDesign) -> PosteriorCohort:
    return PosteriorCohort.draw(design.scenario, PACKAGED, subjects=subjects_needed(design), seed=design.seed)


def test_a_subjects_particle_does_not_depend_on_how_many_are_drawn():
    """Subject i of a trial gets the particle subject i of `alsim run --posterior` gets
    with the same seed, however many subjects each draws (the draw is a prefix)."""
    posterior = Posterior.read(PACKAGED)
    few, many = (posterior_assignment(posterior, "dying_back", n, seed=11) for n in (7, 500))
    np.testing.assert_array_equal(few, many[:7])
    assert len(np.unique(many)) > 20            # the draws do spread over the particles


def test_an_arm_runs_each_animal_with_its_own_particle():
    """The arm's endpoints are those of each animal simulated alone with its particle's scenario."""
    design = _design()
    cohort = _cohort(design)
    subjects = np.array([1, 4, 9, 12])
    arm = simulate_arm(cohort.of(subjects), subjects, design.days, design.seed, None, keep_dataset=True)
    for position, subject in enumerate(subjects):
        scenario = cohort.scenario_of(int(cohort.particle[subject]))
        census = simulate_census(scenario, subjects=np.array([subject]), days=design.days, seed=design.seed)
        alone = clinical_events(scenario, census.counts["force"])
        np.testing.assert_array_equal(arm.outcome.end_stage_day[position], alone["end_stage_day"][0])
        np.testing.assert_array_equal(arm.outcome.onset_day[position], alone["onset_day"][0])
    np.testing.assert_array_equal(arm.dataset["posterior_particle"].values, cohort.particle[subjects])
    np.testing.assert_array_equal(arm.dataset["subject"].values, subjects)


def test_treated_and_control_arms_draw_from_the_same_cohort_by_subject():
    """A treated arm's cohort is the control's on the treated scenario: the same particle for
    the same subject index, so the arms differ by treatment (and by which animals they hold)."""
    design = _design()
    cohort = _cohort(design)
    treated = cohort.with_scenario(design.arms[1].scenario(design.scenario))
    subjects = np.arange(subjects_needed(design))
    np.testing.assert_array_equal(treated.of(subjects).particle, cohort.of(subjects).particle)
    assert treated.scenario.treatments and not cohort.scenario.treatments


def test_posterior_trial_does_not_depend_on_workers():
    design = _design(per_arm=3, replicates=1)
    one = run_replicates(design, [0, 1], workers=1, cohort=_cohort(design))
    two = run_replicates(design, [0, 1], workers=2, cohort=_cohort(design))
    for r in (0, 1):
        for label in design.labels:
            np.testing.assert_array_equal(one[r][label].outcome.end_stage_day, two[r][label].outcome.end_stage_day)
            np.testing.assert_array_equal(one[r][label].outcome.onset_day, two[r][label].outcome.onset_day)


def test_run_trial_refuses_a_cohort_too_small_or_of_another_scenario():
    design = _design()
    small = PosteriorCohort.draw(design.scenario, PACKAGED, subjects=5, seed=design.seed)
    with pytest.raises(ValueError, match="cohort: it must hold subjects"):
        run_trial(design, cohort=small)
    other = PosteriorCohort.draw(tiny_scenario("dying_back", terminal_retraction_baseline=0.5), PACKAGED,
                                 subjects=subjects_needed(design), seed=design.seed)
    with pytest.raises(ValueError, match="base scenario must be the design's"):
        run_trial(design, cohort=other)


def _posterior_entry(out, name):
    summary = json.loads((out / name).read_text())
    return summary, summary["parameter_uncertainty"]


def test_trial_cli_with_posterior_records_it(tmp_path):
    out = tmp_path / "trial"
    code = main(["trial", "sod1-g93a-b6sjl", *SMALL, "--arm", "control", "--arm", "musk_agonist@60", "--per-arm", "3",
                 "--replicates", "1", "--days", "120", "--seed", "3", "--posterior", PACKAGED, "--out", str(out)])
    assert code == 0
    summary, record = _posterior_entry(out, "trial.json")
    csv = Posterior.read(PACKAGED).folder / "posterior.csv"
    assert record["posterior_sha256"] == file_sha256(csv)
    assert record["posterior_hypothesis"] == "dying_back" and record["posterior_folder"] == PACKAGED
    assert record["posterior_sha256"] in (out / "report.html").read_text()
    provenance = json.loads((out / "provenance.json").read_text())
    assert file_sha256(csv) in provenance["input_files"].values()
    import xarray as xr
    arm = xr.open_zarr(out / summary["results"]["musk_agonist@60"])
    expected = posterior_assignment(Posterior.read(PACKAGED), "dying_back", 1000, seed=3)[arm["subject"].values]
    np.testing.assert_array_equal(arm["posterior_particle"].values, expected)


def test_window_cli_with_posterior_records_it(tmp_path):
    out = tmp_path / "window"
    code = main(["window", "sod1-g93a-b6sjl", *SMALL, "--treat", "cntf", "--start-days", "30,60", "--per-arm", "3",
                 "--days", "120", "--seed", "4", "--posterior", PACKAGED, "--out", str(out)])
    assert code == 0
    summary, record = _posterior_entry(out, "window.json")
    assert record["posterior_hypothesis"] == "dying_back"
    assert summary["start_days"] == [30, 60]
    assert record["posterior_sha256"] in (out / "report.html").read_text()


@pytest.fixture
def one_hypothesis_posterior(tmp_path):
    """The packaged posterior with its dying-back particles only."""
    table = Posterior.read(PACKAGED).table
    folder = tmp_path / "dying-back-only"
    folder.mkdir()
    table[table["hypothesis"] == "dying_back"].to_csv(folder / "posterior.csv", index=False)
    return folder


@pytest.mark.parametrize("command", [
    ["trial", "sod1-g93a-b6sjl", "--arm", "control", "--arm", "cntf@60"],
    ["window", "sod1-g93a-b6sjl", "--treat", "cntf", "--start-days", "30,60"],
])
@pytest.mark.parametrize("case", ["missing", "other hypothesis"])
def test_bad_posterior_is_refused_naming_the_option_and_writes_nothing(tmp_path, capsys, one_hypothesis_posterior,
                                                                        command, case):
    out = tmp_path / "out"
    if case == "missing":
        extra = ["--posterior", str(tmp_path / "no-such-folder")]
    else:
        extra = ["--posterior", str(one_hypothesis_posterior), "--hypothesis", "dying_forward"]
    code = main([*command, "--per-arm", "3", *extra, "--out", str(out)])
    assert code == 2
    message = capsys.readouterr().err
    assert "--posterior" in message and message.count("\n") == 1
    assert not out.exists()
    assert not list(tmp_path.glob(".out*"))             # no work folder left behind either
