"""Verification at scale: the engines' mean against the model's mean field (DESIGN.md, *Verification*).

The reference stepper is the oracle at tens of fibres a unit; a real muscle has hundreds,
where only the compiled engine goes. There the law of large numbers gives a second
oracle: with unit deaths and disassembly off, each muscle's fractions converge to the
deterministic day map of :mod:`alsim.verification.meanfield` (an independent transcription of
docs/model.md in expected counts) as the fibres a unit grow.

Tolerance, per muscle, readout and day: 5 standard errors of the cohort mean (from the
subjects' spread on that day) plus ``1 / nbar``, ``nbar`` the muscle's mean unit size.
The second term is the finite-size bias: a unit's hazards are smooth functions of means
over its ``n_u`` endplates (stress grows as ``sqrt(n_u)``, capacity is a ``min``), whose
expectation differs from the function of the expectation by O(1/n_u) (delta method).
Measured (B6SJL, 8 mice, 180 days; docs/verification.md): the largest difference is 0.016
at 1x the fibres (36 a unit on average), 0.010 at 4x and 0.005 at 16x, 0.63 of this tolerance
at 16x; one rate of the map changed by 5 % (sprouting, expansion, retraction per stress,
Schwann cell loss, destabilising gain) gives 1.5-3.9 times the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

import alsim
from alsim.biology.interventions import builtin_catalogue, parse_treatment, with_treatments
from alsim.verification import meanfield
from alsim.verification.meanfield import census_fraction as fraction
from alsim.verification.meanfield import compare_with_mean_field, mean_field_blockers, mean_field_census
from alsim.run import simulate_census

def limit_scenario(fibre_factor: int, *extra: str):
    """The B6SJL preset in the map's domain, every muscle's fibres times ``fibre_factor``."""
    return meanfield.limit_scenario("sod1-g93a-b6sjl-handset", fibre_factor, extra)


def tolerance_ratio(scenario, counts: dict[str, np.ndarray], limit: dict[str, np.ndarray]) -> float:
    """The largest |engine mean - mean field| over muscles, days and readouts, in units of the tolerance."""
    return compare_with_mean_field(scenario, counts, limit)[1]


def test_the_map_refuses_what_has_no_limit():
    preset, _ = alsim.load_scenario("sod1-g93a-b6sjl-handset", [])
    blockers = mean_field_blockers(preset)
    assert {b.split(" ")[0] for b in blockers} == {"rates.soma_starvation_death", "rates.soma_ageing_death",
                                                  "rates.axon_dieback", "rates.endplate_disassembly"}
    with pytest.raises(ValueError, match="rates.endplate_disassembly = 0.01"):
        mean_field_census(preset, burden_multiplier=1.0, days=3)
    # soma stress and excitotoxic deaths are weighted by w_forward: no blocker under dying-back
    back = limit_scenario(1, "rates.soma_stress_death=0.01")
    assert mean_field_blockers(back) == []
    forward = limit_scenario(1, "rates.soma_stress_death=0.01", "hypothesis.name=dying_forward")
    assert mean_field_blockers(forward) == ["rates.soma_stress_death = 0.01 (with w_forward = 1)"]


def test_the_map_keeps_every_endplate_and_a_healthy_muscle_whole():
    scenario = limit_scenario(1)
    counts = mean_field_census(scenario, burden_multiplier=0.0, days=60)
    n_fibres = np.array([m.n_fibres for m in scenario.muscles.values()], dtype=float)[:, None]
    np.testing.assert_allclose(counts["endplates_intact"], np.broadcast_to(n_fibres, (len(n_fibres), 61)), rtol=1e-12)
    # without burden only the baseline retraction acts: a small, steady share partially covered
    covered = fraction(counts, "endplates_covered")
    assert covered.min() > 0.99
    np.testing.assert_allclose(fraction(counts, "force")[:, -1], fraction(counts, "force")[:, -2], atol=1e-4)
    diseased = mean_field_census(scenario, burden_multiplier=1.0, days=120)
    assert fraction(diseased, "endplates_covered")[:, 120].max() < 0.9


@pytest.mark.parametrize("treatment", [None, "muscle_gdnf@60"])
def test_compiled_engine_mean_follows_the_mean_field_at_16x_fibres(treatment):
    scenario = limit_scenario(16)
    if treatment:
        scenario = with_treatments(scenario, [parse_treatment(treatment, builtin_catalogue())])
    census = simulate_census(scenario, subjects=8, days=180, seed=5)
    assert np.all(census.burden_multiplier == scenario.disease.burden_multiplier)
    limit = mean_field_census(scenario, burden_multiplier=scenario.disease.burden_multiplier, days=180)
    assert tolerance_ratio(scenario, census.counts, limit) < 1.0


def test_a_five_percent_error_in_one_rate_is_seen():
    """The comparison can fail: the map with sprouting 5 % faster is outside the tolerance."""
    scenario = limit_scenario(16)
    census = simulate_census(scenario, subjects=8, days=180, seed=5)
    wrong = limit_scenario(16, f"rates.sprouting={scenario.rates.sprouting * 1.05}")
    limit = mean_field_census(wrong, burden_multiplier=scenario.disease.burden_multiplier, days=180)
    assert tolerance_ratio(scenario, census.counts, limit) > 1.0


def test_compiled_engine_mean_follows_the_mean_field_at_4x_fibres():
    """Nearer the finite-size end (a quarter of the fibres of the 16x test), with the seed and size
    the NumPy engine's check used before that engine was removed."""
    scenario = limit_scenario(4)
    census = simulate_census(scenario, subjects=8, days=150, seed=11)
    limit = mean_field_census(scenario, burden_multiplier=scenario.disease.burden_multiplier, days=150)
    assert tolerance_ratio(scenario, census.counts, limit) < 1.0
