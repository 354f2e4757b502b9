"""The human disease: focal onset and spread, clinical readouts, days from onset (docs/human.md)."""

from __future__ import annotations

import numpy as np
import pytest

import alsim
from alsim.biology.spread import muscle_delays, regional_burden, subject_spread
from alsim.config import ScenarioError, load_scenario
from alsim.readouts.human import align_to_onset, human_clinical, item_score, onset_grid

MUSCLES = ("genioglossus", "abductor_pollicis_brevis", "first_dorsal_interosseous", "abductor_digiti_minimi",
           "biceps_brachii", "diaphragm", "external_intercostal", "tibialis_anterior")


LIMB = load_scenario("human-sals-limb")[0]


def small_human(**sets: object) -> alsim.Scenario:
    """The limb preset with 30 units of 10 fibres per muscle: the same rules, a fraction of the cost."""
    overrides = [f"muscles.{m}.n_motor_units=30" for m in MUSCLES] + [f"muscles.{m}.n_fibres=300" for m in MUSCLES]
    overrides += [f"{k}={v}" for k, v in sets.items()]
    return load_scenario("human-sals-limb", overrides)[0]


@pytest.fixture(scope="module")
def cohort():
    """Twelve people of the full limb preset, without electrophysiology (about 10 s)."""
    return alsim.simulate(load_scenario("human-sals-limb")[0], subjects=12, seed=3, electrophysiology=False)


def test_both_human_presets_load_with_five_regions():
    for name in ("human-sals-limb", "human-sals-bulbar"):
        scenario, sources = load_scenario(name)
        assert scenario.species == "human"
        assert {m.region for m in scenario.muscles.values()} == {"bulbar", "cervical", "respiratory", "thoracic", "lumbar"}
        assert all(source for source in sources.values())
    bulbar = load_scenario("human-sals-bulbar")[0]
    assert bulbar.spread.onset_region_probabilities["bulbar"] == 1.0


def test_a_human_scenario_without_its_sections_is_refused():
    with pytest.raises(ScenarioError, match=r"\[spread\] and \[human\]"):
        load_scenario("sod1-g93a-b6sjl", ["species=human"])


@pytest.mark.parametrize("setting, message", [
    ("spread.onset_region_probabilities.cervical=0.9", "sum to 1"),
    ("human.fvc_muscle_weights.soleus=1.0", "soleus"),
    ("human.diagnosis_regions=5", "cannot exceed"),
    ("spread.median_delay_days.lumbar.cervical=-3", "median_delay_days.lumbar.cervical"),
])
def test_bad_human_settings_name_the_field(setting, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario("human-sals-limb", [setting])


def test_onset_regions_follow_their_probabilities():
    """2,000 draws; the tolerance is 4 binomial standard errors."""
    scenario = small_human()
    regions = [subject_spread(scenario, 11, i).onset_region for i in range(2000)]
    p = scenario.spread.onset_region_probabilities["cervical"]
    share = regions.count("cervical") / len(regions)
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / len(regions))
    assert set(regions) == {"cervical", "lumbar"}


def test_spread_draws_are_per_subject_and_the_onset_region_has_no_delay():
    scenario = small_human()
    a, b = subject_spread(scenario, 5, 7), subject_spread(scenario, 5, 7)
    assert a == b
    assert a.delay_days[a.onset_region] == 0.0
    assert all(d > 0 for r, d in a.delay_days.items() if r != a.onset_region)
    delays = muscle_delays(scenario, a)
    assert delays.shape == (len(scenario.muscles),)
    assert subject_spread(load_scenario("sod1-g93a-b6sjl")[0], 5, 7) is None


def test_regional_burden_is_the_shifted_power_law():
    scenario = small_human()
    d = scenario.disease
    burden = regional_burden(2.0, np.array([0.0, 100.0, 900.0]), np.array([0.0, 300.0]), scenario)
    assert burden.shape == (3, 2)
    assert burden[1, 1] == 0.0                               # before the delay
    assert burden[2, 1] == pytest.approx(2.0 * (600 / d.burden_scale_days) ** d.burden_exponent)
    assert burden[2, 0] == pytest.approx(2.0 * (900 / d.burden_scale_days) ** d.burden_exponent)


def test_item_scores_fall_by_quarter_bands():
    function = np.array([1.0, 0.6, 0.59, 0.476, 0.474, 0.1, 0.0, np.nan])
    assert item_score(function, 0.6, 0.1).tolist() == [4, 4, 4, 4, 3, 0, 0, 0]


def test_respiratory_insufficiency_follows_ventilatory_support():
    """Item 12 scores 4 without support (FVC >= 0.5), 0 at permanent ventilation (FVC <= 0.25), 3-1 between."""
    from alsim.readouts.human import ventilation_item_score

    fvc = np.array([1.0, 0.5, 0.49, 0.45, 0.4, 0.34, 0.3, 0.26, 0.25, 0.1, np.nan])
    np.testing.assert_array_equal(ventilation_item_score(fvc, 0.5, 0.25), [4, 4, 3, 3, 2, 2, 1, 1, 0, 0, 0])


def test_align_to_onset_moves_each_subject_to_its_own_onset():
    values = np.arange(20, dtype=float).reshape(2, 10)          # subject, day
    onset = np.array([3.0, 6.0])
    grid = onset_grid(onset, 10)
    assert grid[0] == -6 and grid[-1] == 6
    aligned = align_to_onset(values, onset, grid, np.arange(10))
    zero = int(np.flatnonzero(grid == 0)[0])
    assert aligned[0, zero] == 3 and aligned[1, zero] == 16
    assert np.isnan(aligned[0, 0]) and aligned[1, 0] == 10     # subject 0 has only 3 days before onset
    assert np.isnan(align_to_onset(values, np.array([np.nan, 6.0]), grid, np.arange(10))[0]).all()


def test_clinical_events_from_constructed_force():
    """Force of every muscle falls linearly, the bulbar one last: events come out where the thresholds put them."""
    scenario = small_human()
    names = list(scenario.muscles)
    days = np.arange(101)
    force = np.ones((1, len(names), len(days)))
    for j, m in enumerate(names):
        start = 60 if m == "genioglossus" else 20
        force[0, j] = np.clip(1 - np.maximum(days - start, 0) / 50, 0, 1)
    c = human_clinical(scenario, force, names)
    weak = scenario.human.weakness_force_fraction                 # 0.6: reached 20 days after the start
    assert c["onset_day"][0] == 20 + np.floor((1 - weak) * 50) + 1
    assert c["diagnosis_day"][0] == c["onset_day"][0]             # cervical, thoracic and lumbar at once
    assert c["end_stage_day"][0] == 20 + np.floor((1 - scenario.human.end_stage_fvc_fraction) * 50) + 1
    assert c["alsfrs_r"][0, 0] == 48 and c["alsfrs_r"][0, -1] < 12
    assert c["alsfrs_r_items"][0, 0, 50] == 4                   # speech: the tongue is still strong on day 50


def test_ventilation_brings_diagnosis_forward():
    """Only the breathing muscles weaken (at most one El Escorial region, the thoracic one): the
    criteria are never met, but a person starting ventilation is examined, so diagnosis is the
    day ventilation starts."""
    scenario = small_human()
    names = list(scenario.muscles)
    respiratory = set(scenario.human.fvc_muscle_weights)
    assert len({scenario.muscles[m].region for m in respiratory} & set(scenario.human.diagnostic_regions)) < 2
    days = np.arange(101)
    force = np.ones((1, len(names), len(days)))
    for j, m in enumerate(names):
        if m in respiratory:
            force[0, j] = np.clip(1 - np.maximum(days - 20, 0) / 50, 0.3, 1)     # plateaus at 0.3, above end stage
    c = human_clinical(scenario, force, names)
    assert np.isfinite(c["ventilation_day"][0]) and np.isnan(c["end_stage_day"][0])
    assert c["diagnosis_day"][0] == c["ventilation_day"][0] == 20 + np.floor(0.5 * 50) + 1


def test_delayed_regions_keep_their_units_longer():
    """With the other regions delayed by ten years, only the onset region loses units."""
    regions = {"cervical": 3650.0, "lumbar": 3650.0, "bulbar": 3650.0, "respiratory": 3650.0, "thoracic": 3650.0}
    sets = {f"spread.median_delay_days.{onset}.{r}": d for onset in ("cervical", "lumbar") for r, d in regions.items()
            if r != onset}
    scenario = small_human(**sets, **{"spread.delay_log_sd": 0.0})
    census = alsim.run.simulate_census(scenario, subjects=np.arange(2), days=1500, seed=1)
    names = list(scenario.muscles)
    alive = census.counts["units_functional"][..., -1] / 30
    for i in range(2):
        onset = subject_spread(scenario, 1, i).onset_region
        inside = [j for j, m in enumerate(names) if scenario.muscles[m].region == onset]
        outside = [j for j, m in enumerate(names) if scenario.muscles[m].region != onset]
        assert alive[i, inside].mean() < 0.6
        # pooled over the 210 units outside the onset region: one ageing death is 3 % of a 30-unit pool
        assert alive[i, outside].mean() > 0.95


def test_mouse_runs_have_no_spread_and_keep_the_age_coordinate():
    ds = alsim.simulate(load_scenario("sod1-g93a-b6sjl")[0], subjects=1, days=20, seed=1, electrophysiology=False)
    assert ds.day.values[0] == 0 and "alsfrs_r" not in ds


def test_human_results_count_days_from_onset(cohort):
    assert cohort.attrs["day_coordinate"].startswith("days from")
    assert cohort.day.values.min() < -365                 # the pre-symptomatic years are in the result
    zero = cohort.sel(day=0)
    assert (zero.alsfrs_r <= 48).all()
    assert np.isfinite(cohort.onset_sim_day).all()
    reached = np.isfinite(cohort.diagnosis_day)
    assert (cohort.diagnosis_day.values[reached] >= 0).all()
    assert set(cohort.onset_region.values) <= {"cervical", "lumbar"}


def test_weakness_comes_after_a_large_share_of_units_is_lost(cohort):
    """Seed 000: weakness is not apparent until a large share of motor units is lost. At onset, the
    weakest region's muscles have lost at least a third of their functional units (median over
    people), and a year before onset, when the ALSFRS-R is still full, units are already going."""
    loss_at_onset = []
    for i in range(cohort.sizes["subject"]):
        person = cohort.isel(subject=i)
        weakest = int(np.argmin(person.region_function.sel(day=0).values))
        region = person.region.values[weakest]
        muscles = [m for m in person.muscle.values if LIMB.muscles[str(m)].region == region]
        loss_at_onset.append(1 - float(person.motor_units_functional_fraction.sel(day=0, muscle=muscles).mean()))
    assert np.median(loss_at_onset) > 1 / 3
    year_before = cohort.sel(day=-365)
    assert (year_before.alsfrs_r == 48).all()
    assert float(year_before.motor_units_functional_fraction.mean()) < 0.95


def test_function_falls_after_onset_and_survival_is_months_to_years(cohort):
    months = cohort.end_stage_day.values / 30.44
    assert 12 < np.nanmedian(months) < 60
    first_year = cohort.sel(day=365).alsfrs_r
    assert float(first_year.median()) < 46


def test_the_reference_stepper_runs_a_human_scenario():
    from alsim.verification.reference import simulate_reference

    out = simulate_reference(small_human(), subjects=1, days=3, seed=1)
    assert out["force_fraction"].shape == (1, len(MUSCLES), 4)
    assert out["snapshot_day"].tolist() == [0, 3]


def test_people_stop_at_their_end_stage_without_changing_the_results():
    """The compiled engine stops each person at the end stage (FVC < 0.25); every human readout
    is NaN after it, so the results Dataset is the same bits as a run to the horizon."""
    from alsim.run import results_dataset, simulate_census

    scenario = small_human()
    days = scenario.horizon_days
    full = simulate_census(scenario, subjects=4, days=days, seed=6, stop_at_end_stage=False)
    stopped = simulate_census(scenario, subjects=4, days=days, seed=6)
    assert np.isnan(stopped.counts["force"][:, 0, -1]).sum() >= 2, "the test needs people who die within the horizon"
    a, b = (results_dataset(scenario, census, seed=6) for census in (full, stopped))
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    for name in a.coords:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_people_are_recorded_every_84_days_from_onset_with_the_bits_of_every_snapshot():
    """The default cadence (3-monthly clinical follow-up) keeps the onset-aligned recordings on
    multiples of 84 days; each is the same bits as in a run recording every snapshot, and the
    CMAP keeps its day-0 reference."""
    from alsim.readouts.selection import ReadoutSelection
    from alsim.run import results_dataset, simulate_census

    scenario = small_human()
    census = simulate_census(scenario, subjects=3, days=scenario.horizon_days, seed=6)
    default = results_dataset(scenario, census, seed=6)
    monthly = results_dataset(scenario, census, seed=6, readouts=ReadoutSelection(emg_every_days=28))
    assert (default.emg_day.values % 84 == 0).all() and (np.diff(default.emg_day.values) == 84).all()
    assert (np.diff(monthly.emg_day.values) == 28).all()
    assert default.attrs["emg_days"] == "every 84 days from each person's onset"
    for name in ("cmap_fraction", "mune", "munix", "musix"):
        same_days = monthly[name].sel(emg_day=default.emg_day).values
        np.testing.assert_array_equal(default[name].values, same_days, err_msg=name)
    assert np.isfinite(default.cmap_fraction.values).sum() > 20


def test_a_cadence_off_the_snapshots_is_refused_naming_the_field():
    from alsim.biology.species import HUMAN, MOUSE
    from alsim.readouts.selection import ReadoutSelection

    with pytest.raises(ValueError, match=r"emg_every_days \(--emg-every\) must be a multiple of 28 days"):
        ReadoutSelection(emg_every_days=91).cadence(HUMAN)
    assert ReadoutSelection().cadence(HUMAN) == 84 and ReadoutSelection().cadence(MOUSE) is None
    assert ReadoutSelection(emg_every_days=14).cadence(MOUSE) == 14
