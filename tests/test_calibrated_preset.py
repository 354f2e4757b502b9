"""The calibrated B6SJL preset against the published numbers it was fitted to.

Tolerances come from sampling error: the simulated cohort's, the published cohort's and
the observation error the calibration assumed (alsim/inference/observations.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import alsim
from alsim.inference.observations import FLOOR_DAYS, HINDLIMB
from alsim.inference.summaries import crossing_days

N = 40
PUBLISHED_END_STAGE = (123.9, 10.3, 162)  # Solomon 2011 PLoS ONE 6:e20582, CS4: mean, SD, n


@pytest.fixture(scope="module")
def calibrated():
    scenario, sources = alsim.load_scenario("sod1-g93a-b6sjl-calibrated")
    return scenario, sources, alsim.simulate(scenario, subjects=N, seed=2026)


def _end_stage(ds) -> np.ndarray:
    return np.where(np.isfinite(ds.end_stage_day.values), ds.end_stage_day.values, float(ds.day.values[-1]))


def test_calibrated_values_name_their_run(calibrated):
    _, sources, _ = calibrated
    assert "posterior median" in sources["disease.burden_scale_days"]
    assert "sha256" in sources["disease.burden_scale_days"]


def test_median_end_stage_and_spread_match_the_published_cohort(calibrated):
    _, _, ds = calibrated
    end = _end_stage(ds)
    mean, sd = end.mean(), end.std(ddof=1)
    published_mean, published_sd, n = PUBLISHED_END_STAGE
    tolerance = 3 * math.sqrt(sd ** 2 / N + published_sd ** 2 / n + FLOOR_DAYS ** 2)
    assert abs(mean - published_mean) < tolerance, f"mean end stage {mean:.1f} d vs {published_mean} (tol {tolerance:.1f})"
    # Ratio of variances: F distribution with (N-1, n-1) degrees of freedom, two-sided 0.3 %.
    low, high = stats.f.ppf([0.0015, 0.9985], N - 1, n - 1)
    ratio = sd ** 2 / published_sd ** 2
    assert low < ratio < high, f"end-stage SD {sd:.1f} d vs {published_sd} (variance ratio {ratio:.2f})"


def _per_animal_days(ds, var: str, threshold: float, unit_type: str | None = None) -> np.ndarray:
    spec = {"var": var, "muscles": list(HINDLIMB), "threshold": threshold}
    if unit_type:
        spec["unit_type"] = unit_type
    return crossing_days(ds, spec)


def _sign_test_p(successes: int, trials: int) -> float:
    return stats.binomtest(successes, trials, 0.5, alternative="greater").pvalue


def test_ff_units_are_lost_before_fr_units(calibrated):
    _, _, ds = calibrated
    ff = _per_animal_days(ds, "motor_units_functional_by_type_fraction", 0.5, "FF")
    fr = _per_animal_days(ds, "motor_units_functional_by_type_fraction", 0.5, "FR")
    assert _sign_test_p(int(np.sum(ff < fr)), N) < 0.001, f"FF before FR in {np.sum(ff < fr)}/{N} animals"


def test_functional_units_are_lost_before_motor_neurons(calibrated):
    """Kennel 1996: functional motor-unit loss leads motor-neuron loss (by ~6 weeks)."""
    _, _, ds = calibrated
    functional = _per_animal_days(ds, "motor_units_functional_fraction", 0.9)
    neurons = _per_animal_days(ds, "motor_neurons_alive_fraction", 0.9)
    leads = int(np.sum(functional < neurons))
    assert _sign_test_p(leads, N) < 0.001, f"functional loss first in {leads}/{N} animals"


def test_no_motor_neuron_loss_at_p47(calibrated):
    """Fischer 2004: no loss detectable at P47 (error 0.22 assumed for a recalled row)."""
    _, _, ds = calibrated
    alive = ds.motor_neurons_alive_fraction.sel(muscle=list(HINDLIMB), day=47).mean("muscle").values
    assert alive.mean() > 1 - 3 * 0.224
