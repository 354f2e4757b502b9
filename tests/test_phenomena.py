"""What the seeds say the disease looks like, as it comes out of the rules.

Each test runs the full B6SJL preset (12 subjects, seed 11) and checks one phenomenon
of the reviews in shared/seeds on medians across animals. Nothing here is painted on:
the engine has no threshold, day or order written into it for these to appear.
"""

from __future__ import annotations

import numpy as np
import pytest

import alsim

HINDLIMB = ["gastrocnemius", "tibialis_anterior", "soleus"]


def _first_day(series, predicate):
    hits = np.flatnonzero(predicate(series.values))
    return int(series.day.values[hits[0]]) if hits.size else None


def test_dying_back_denervation_precedes_motor_neuron_loss_by_weeks(b6sjl_runs):
    r = b6sjl_runs["dying_back"]
    den = r.endplates_denervated_fraction.sel(muscle="gastrocnemius").median("subject")
    mn = r.motor_neurons_alive_fraction.sel(muscle="gastrocnemius").median("subject")
    day_den = _first_day(den, lambda v: v >= 0.2)
    day_mn = _first_day(mn, lambda v: v <= 0.8)
    assert day_den is not None and day_mn is not None
    assert day_mn - day_den >= 14, (day_den, day_mn)


@pytest.fixture(scope="module")
def handset_dying_back():
    """The B6SJL preset's earlier hand-set values (original structure), dying-back, 12 mice."""
    scenario, _ = alsim.load_scenario("sod1-g93a-b6sjl-handset", ["hypothesis.name=dying_back"])
    return alsim.simulate(scenario, subjects=12, seed=11, electrophysiology=False)


@pytest.mark.parametrize("preset", [
    "handset",
    pytest.param("shipped", marks=pytest.mark.xfail(strict=True, reason=(
        "the calibrated default (terminal_first) keeps gastrocnemius FR units whole 25 days after half the FF "
        "units are gone (still ~96 % at its median end stage): FR loss comes too late (docs/calibration.md)"))),
])
def test_dying_back_loses_ff_then_fr_while_s_resist_and_sprout(b6sjl_runs, handset_dying_back, preset):
    r = handset_dying_back if preset == "handset" else b6sjl_runs["dying_back"]
    by_type = r.motor_units_functional_by_type_fraction.sel(muscle="gastrocnemius").median("subject")
    ff_half = _first_day(by_type.sel(unit_type="FF"), lambda v: v <= 0.5)
    assert ff_half is not None
    at_ff_half = by_type.sel(day=ff_half)
    later = by_type.sel(day=ff_half + 25)
    # when half the FF units are gone, FR units are mostly there and S units all there
    assert float(at_ff_half.sel(unit_type="FR")) >= 0.75
    assert float(at_ff_half.sel(unit_type="S")) >= 0.95
    # FR units go next, S units resist
    assert float(later.sel(unit_type="FR")) <= float(at_ff_half.sel(unit_type="FR")) - 0.1
    # S above FR in nearly every animal: a one-sided sign test, P(>= 10 of 12 | p = 1/2) = 0.019
    per_animal = r.motor_units_functional_by_type_fraction.sel(muscle="gastrocnemius", day=ff_half + 25)
    s_minus_fr = (per_animal.sel(unit_type="S") - per_animal.sel(unit_type="FR")).values
    s_minus_fr = s_minus_fr[np.isfinite(s_minus_fr)]
    assert len(s_minus_fr) >= 10 and np.sum(s_minus_fr > 0) >= len(s_minus_fr) - 2
    # surviving units enlarge by collateral sprouting
    size = r.mean_motor_unit_size.sel(muscle="gastrocnemius").median("subject")
    assert float(size.sel(day=ff_half + 25)) > float(size.sel(day=0))


def test_diaphragm_lags_the_limb(b6sjl_runs):
    r = b6sjl_runs["dying_back"]
    den = r.endplates_denervated_fraction.median("subject")
    limb = _first_day(den.sel(muscle="tibialis_anterior"), lambda v: v >= 0.25)
    diaphragm = _first_day(den.sel(muscle="diaphragm"), lambda v: v >= 0.25)
    assert limb is not None and diaphragm is not None and diaphragm - limb >= 14


def test_onset_only_after_most_fast_units_are_lost(b6sjl_runs):
    r = b6sjl_runs["dying_back"]
    ff = r.motor_units_functional_by_type_fraction.sel(muscle=HINDLIMB, unit_type="FF")
    reached = np.isfinite(r.onset_day.values)
    assert reached.all()
    at_onset = [float(ff.isel(subject=i).sel(day=int(d)).mean()) for i, d in enumerate(r.onset_day.values)]
    assert np.median(at_onset) <= 0.5


def test_dying_forward_loses_somas_and_endplates_together(b6sjl_runs):
    forward = b6sjl_runs["dying_forward"]
    back = b6sjl_runs["dying_back"]

    def gap(r):
        den = r.endplates_denervated_fraction.sel(muscle="gastrocnemius").median("subject")
        mn = r.motor_neurons_alive_fraction.sel(muscle="gastrocnemius").median("subject")
        return _first_day(mn, lambda v: v <= 0.8) - _first_day(den, lambda v: v >= 0.2)

    # somas go no later than their endplates (here they lead: sprouting hides the first losses)
    assert gap(forward) <= 7
    assert gap(back) - gap(forward) >= 14


def test_hypotheses_give_different_motor_neuron_time_courses(b6sjl_runs):
    day = 80  # before any end stage, so no subject is masked
    back = b6sjl_runs["dying_back"].motor_neurons_alive_fraction.sel(muscle="gastrocnemius", day=day).values
    forward = b6sjl_runs["dying_forward"].motor_neurons_alive_fraction.sel(muscle="gastrocnemius", day=day).values
    from scipy.stats import mannwhitneyu

    assert np.isfinite(back).all() and np.isfinite(forward).all()
    assert mannwhitneyu(back, forward).pvalue < 0.001
    assert np.median(back) > np.median(forward) + 0.2


def test_wildtype_keeps_its_motor_units():
    scenario, _ = alsim.load_scenario("wildtype-mouse")
    r = alsim.simulate(scenario, subjects=4, days=180, seed=2)
    assert np.isnan(r.onset_day.values).all() and np.isnan(r.end_stage_day.values).all()
    # pooled over each mouse's 430 motor neurons: ageing kills about 0.5 of them by day 180
    # (0.44 and 0.58 a mouse in two 48-mouse runs), so 1 % is about 9 times that. A minimum
    # over muscles would test the seed: one death is 3 % of the 30-unit soleus pool.
    pools = np.array([m.n_motor_units for m in scenario.muscles.values()], dtype=float)
    alive = r.motor_neurons_alive_fraction.sel(day=180).values @ pools / pools.sum()
    assert alive.min() >= 0.99
    assert float(r.endplates_innervated_fraction.sel(day=180).min()) >= 0.97
    assert float(r.force_fraction.sel(day=180).min()) >= 0.95
