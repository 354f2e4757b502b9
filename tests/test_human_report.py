"""The human report (alsim.report.human) on a small simulated human run."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

import alsim
from alsim.report import write_report
from alsim.report import human_plots as hp
from alsim.report.human import human_training_rows, render_human_report

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def human():
    """Four people of the limb preset over 1500 days: most are not at end stage when the run stops."""
    scenario = alsim.load_scenario("human-sals-limb")[0]
    return scenario, alsim.simulate(scenario, subjects=4, seed=1, days=1500)


@pytest.fixture(scope="module")
def report(human, tmp_path_factory):
    path = write_report(human[1], tmp_path_factory.mktemp("human") / "report.html", title="human test")
    return path.read_text(encoding="utf-8")


def _images(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


def test_write_report_gives_the_human_report(human, report):
    ds = human[1]
    for section in ("runs", "methods", "scores", "regions", "events"):
        assert f'id="{section}"' in report
    assert "Training data vs simulation" not in report  # the mouse report's section
    images = _images(report)
    assert len(images) == ds.sizes["muscle"] + 3
    assert all(png.startswith(PNG) for png in images)
    assert "10-90 %" in report and "symptom onset (1 month = 30.44 days)" in report
    assert "not a validation" in report and "Paulukonis" in report
    assert "http://" not in report and "https://" not in report


def test_subjects_without_end_stage_are_censored(human, report):
    ds = human[1]
    end = ds["end_stage_day"].values
    assert np.isnan(end).any() and np.isfinite(end).any()
    durations, observed = hp.event_times(ds, "end_stage_day")
    follow = hp.followup_days(ds)
    np.testing.assert_array_equal(observed, np.isfinite(end))
    np.testing.assert_array_equal(durations[~observed], follow[np.isnan(end)])
    np.testing.assert_array_equal(durations[observed], end[np.isfinite(end)])
    # a censored subject's follow-up is the last day of the run
    assert np.all(follow[np.isnan(end)] == ds["day"].values.max() + np.nanmin(ds["onset_sim_day"].values)
                  - ds["onset_sim_day"].values[np.isnan(end)])
    n_end = int(np.isfinite(end).sum())
    assert f"{n_end} of {end.size} reach it" in report


def test_diagnosis_after_end_stage_does_not_count(human):
    ds = human[1].copy(deep=True)
    i = int(np.nonzero(np.isfinite(ds["end_stage_day"].values))[0][0])
    ds["diagnosis_day"].values[i] = ds["end_stage_day"].values[i] + 10.0
    days_to_event, observed = hp.event_times(ds, "diagnosis_day")     # Kaplan-Meier follow-up, days from onset
    assert not observed[i] and days_to_event[i] == ds["end_stage_day"].values[i]


def test_true_count_curve_at_onset(human):
    """The plotted median true count on day 0 is the median over the group of fraction x units."""
    scenario, ds = human
    muscle = "tibialis_anterior"
    group = np.asarray(ds["onset_region"].values).astype(str) == "lumbar"
    assert group.sum() >= 3  # drawn only where at least 3 subjects have data
    fig = hp.muscle_methods_figure(ds, muscle)
    line = next(ln for ln in fig.axes[0].get_lines() if ln.get_label() == "true functional units")
    x, y = line.get_data()
    at_onset = float(np.asarray(y)[np.asarray(x) == 0.0][0])
    expected = np.median(ds["motor_units_functional_fraction"].sel(muscle=muscle, day=0).values[group]
                         * scenario.muscles[muscle].n_motor_units)
    assert at_onset == pytest.approx(expected, rel=1e-6)
    assert "onset in the lumbar region" in fig.axes[0].get_title()


def test_loss_at_onset(human, report):
    ds = human[1]
    everyone = hp.with_onset(ds)
    loss = hp.loss_at_onset(ds, "tibialis_anterior", everyone)
    true = ds["motor_units_functional_fraction"].sel(muscle="tibialis_anterior", day=0).values
    assert loss["true"] == pytest.approx(1.0 - np.median(true))
    first = [row[np.isfinite(row)][0] for row in ds["munix"].sel(muscle="tibialis_anterior").values]
    munix = ds["munix"].sel(muscle="tibialis_anterior", emg_day=0).values
    assert loss["munix"] == pytest.approx(np.median(1.0 - munix / np.median(first)))
    assert f"{100 * loss['true']:.0f} %" in report


def test_one_year_mortality_counts_followed_diagnosed_subjects(human):
    ds = human[1]
    m = hp.one_year_mortality(ds)
    dx, end = ds["diagnosis_day"].values, ds["end_stage_day"].values
    follow = hp.followup_days(ds)
    year = 12 * hp.MONTH_DAYS
    diagnosed = np.isfinite(dx) & ~(dx > end)
    died = diagnosed & (end - dx <= year)
    followed = diagnosed & np.isnan(end) & (follow - dx >= year)
    assert m["diagnosed"] == diagnosed.sum() and m["died"] == died.sum()
    assert m["eligible"] == died.sum() + followed.sum()


def test_training_rows_and_hand_set_parameters(human, report):
    rows = {r.key: r for r in human_training_rows()}
    assert set(rows) == {"end_stage_day", "diagnosis_day", "one_year_mortality"}
    assert (rows["end_stage_day"].low, rows["end_stage_day"].high) == (20.0, 48.0)
    assert rows["one_year_mortality"].low == pytest.approx(0.341)
    assert "disease.burden_scale_days" in report and "human.weakness_force_fraction" in report


def test_without_electrophysiology_or_onset(human):
    """No EMG variables, and one subject without onset: the report still renders."""
    ds = human[1].drop_vars(["cmap_fraction", "mune", "munix", "musix", "emg_day"])
    ds = ds.copy(deep=True)
    ds["onset_sim_day"].values[0] = np.nan
    for var in ds.data_vars:
        if "day" in ds[var].dims:
            ds[var].values[0] = np.nan
    text = render_human_report(ds, dpi=30)
    assert "no electrophysiology" in text
    assert len(_images(text)) == ds.sizes["muscle"] + 3


def test_a_run_in_which_nobody_reaches_onset_is_reported(human):
    """30 days: no person has symptoms yet, so the grid of days from onset is empty; the
    report still renders (it raised 'argmax of an empty sequence')."""
    scenario, _ = human
    ds = alsim.simulate(scenario, subjects=2, seed=1, days=30)
    assert ds.sizes["day"] == 0 or not np.isfinite(ds["onset_sim_day"].values).any()
    assert "<html" in render_human_report(ds, dpi=30)


def test_human_results_are_reported_alone(human, tmp_path):
    with pytest.raises(ValueError, match="on its own"):
        write_report({"a": human[1], "b": human[1]}, tmp_path / "r.html")


def test_summary_and_human_report_give_the_same_medians(human):
    """One convention: summary.json (and the terminal) and the human report's Kaplan-Meier medians
    agree, and they are lifelines' medians of the report's follow-up data."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import qth_survival_time

    from alsim.run import summarise

    ds = human[1]
    summary = summarise(ds)
    medians = hp.event_medians(ds)
    for var, _ in hp.EVENTS:
        expected = medians[var]
        assert (summary[var]["median"] is None and not np.isfinite(expected)) or summary[var]["median"] == expected
        durations, observed = hp.event_times(ds, var)
        kmf = KaplanMeierFitter().fit(durations, observed)
        assert expected == float(qth_survival_time(0.5 + 1e-9, kmf.survival_function_))


def test_nobody_is_ventilated_before_diagnosis(human):
    dx, vent = human[1]["diagnosis_day"].values, human[1]["ventilation_day"].values
    assert not np.any(np.isfinite(vent) & ~(dx <= vent))
