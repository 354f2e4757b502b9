"""The reference stepper against facts derivable by hand from docs/model.md.

Scenarios are the B6SJL preset shrunk to a few units and fibres per muscle. Stochastic
checks use a fixed seed and a tolerance of 4 binomial standard deviations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from alsim.config import Scenario, load_scenario
from alsim.config.schema import Muscle
from alsim.verification.reference import (
    DENERVATED,
    PARTIAL,
    ReferenceMuscle,
    ReferenceSubject,
    draw_competing,
    largest_remainder_sizes,
    simulate_reference,
    unit_types_of,
)

PRESET = "sod1-g93a-b6sjl"
MUSCLES = ("gastrocnemius", "tibialis_anterior", "soleus", "diaphragm")
NO_VARIABILITY = ["variability.copy_number_log_sd=0", "variability.litter_log_sd=0", "variability.male_burden_ratio=1"]
QUIET = ["disease.burden_multiplier=0", "rates.soma_ageing_death=0", "rates.terminal_retraction_baseline=0"]
"""No disease, no ageing, no remodelling: nothing should ever change."""


def tiny(*overrides: str, units: int = 4, fibres: int = 40) -> Scenario:
    """The preset with every muscle shrunk to ``units`` motor units and ``fibres`` fibres."""
    sizes = [f"muscles.{m}.n_motor_units={units}" for m in MUSCLES] + [f"muscles.{m}.n_fibres={fibres}" for m in MUSCLES]
    scenario, _ = load_scenario(PRESET, overrides=[*sizes, *overrides])
    return scenario


def one_muscle(scenario: Scenario, **muscle: object) -> Scenario:
    """``scenario`` with a single all-S hindlimb muscle ``m`` (fields overridable)."""
    values = scenario.model_dump()
    fields = dict(region="hindlimb", n_motor_units=2, n_fibres=40, fraction_S=1.0, fraction_FR=0.0, fraction_FF=0.0, axon_length_mm=40.0)
    values["muscles"] = {"m": {**fields, **muscle}}
    return Scenario.model_validate(values)


def within_binomial(observed: float, p: float, n: int) -> bool:
    return abs(observed - p) <= 4.0 * math.sqrt(p * (1.0 - p) / n) + 1e-12


# --- structure -------------------------------------------------------------------


def test_unit_types_follow_rounded_fractions() -> None:
    scenario, _ = load_scenario(PRESET)
    types = unit_types_of(scenario.muscles["gastrocnemius"])
    assert (types.count("S"), types.count("FR"), types.count("FF")) == (12, 27, 61)
    assert types == sorted(types, key=["S", "FR", "FF"].index)  # S first, then FR, then FF
    soleus = unit_types_of(scenario.muscles["soleus"])
    assert (soleus.count("S"), soleus.count("FR"), soleus.count("FF")) == (14, 16, 0)


def test_unit_type_counts_never_exceed_the_pool() -> None:
    muscle = Muscle(region="hindlimb", n_motor_units=3, n_fibres=30, fraction_S=0.5, fraction_FR=0.5, fraction_FF=0.0, axon_length_mm=40.0)
    assert unit_types_of(muscle) == ["S", "S", "FR"]  # round(1.5) = 2 S; FR gets the 1 left


@pytest.mark.parametrize(
    ("n_fibres", "weights", "expected"),
    [
        (10, [1.0, 1.5, 2.5], [2, 3, 5]),  # exact quotas
        (10, [1.0, 1.0, 1.0], [4, 3, 3]),  # tie of remainders goes to the lower index
        (7, [1.0, 2.5], [2, 5]),  # quotas 2.0, 5.0
        (8, [1.0, 2.5], [2, 6]),  # quotas 2.29, 5.71: leftover to the larger remainder
        (2, [1.0, 100.0], [1, 1]),  # unit 0 would get 0: takes one from the largest
    ],
)
def test_largest_remainder_by_hand(n_fibres: int, weights: list[float], expected: list[int]) -> None:
    assert largest_remainder_sizes(n_fibres, weights) == expected


def test_largest_remainder_sizes_sum_to_n_fibres() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n_units = int(rng.integers(1, 30))
        n_fibres = int(rng.integers(n_units, 500))
        weights = [float(w) for w in rng.choice([1.0, 1.5, 2.5, 0.3, 7.0], size=n_units)]
        sizes = largest_remainder_sizes(n_fibres, weights)
        assert sum(sizes) == n_fibres and min(sizes) >= 1
        quotas = [n_fibres * w / sum(weights) for w in weights]
        if min(quotas) >= 1.0:  # no unit needed lifting to 1: every size is its quota rounded down or up
            assert all(math.floor(q) <= s <= math.floor(q) + 1 for s, q in zip(sizes, quotas))


def test_endplates_are_numbered_by_unit() -> None:
    scenario, _ = load_scenario(PRESET)
    muscle = ReferenceMuscle("gastrocnemius", scenario.muscles["gastrocnemius"], scenario)
    owners = [muscle.units.index(e.owner) for e in muscle.endplates]
    assert owners == sorted(owners)
    assert [owners.count(u) for u in range(len(muscle.units))] == [u.n0 for u in muscle.units]
    assert all(e.fibre_type == e.owner.unit_type for e in muscle.endplates)


# --- chance ------------------------------------------------------------------------


def test_competing_events_split_by_hazard() -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    draws = [draw_competing(rng, {"a": 0.25, "b": 0.75}) for _ in range(n)]
    p_any = 1.0 - math.exp(-1.0)
    assert within_binomial(sum(d is None for d in draws) / n, 1.0 - p_any, n)
    assert within_binomial(draws.count("a") / n, p_any * 0.25, n)
    assert within_binomial(draws.count("b") / n, p_any * 0.75, n)


# --- whole runs ----------------------------------------------------------------------


def test_outputs_have_documented_shapes_and_are_reproducible() -> None:
    scenario = tiny()
    out = simulate_reference(scenario, subjects=3, days=5, seed=7)
    again = simulate_reference(scenario, subjects=3, days=5, seed=7)
    for name in ("endplates_innervated_fraction", "mean_motor_unit_size", "force_fraction", "axons_intact_fraction"):
        assert out[name].shape == (3, 4, 6) and out[name].dtype == np.float64
    for name in ("onset_day", "end_stage_day", "sex_is_female", "burden_multiplier"):
        assert out[name].shape == (3,)
    assert out["sex_is_female"].dtype == bool
    for name, value in out.items():
        np.testing.assert_array_equal(value, again[name], err_msg=name)


def test_nothing_changes_without_disease_or_ageing() -> None:
    out = simulate_reference(tiny(*QUIET), subjects=2, days=20, seed=3)
    ones = np.ones((2, 4, 21))
    for name in ("endplates_innervated_fraction", "endplates_fully_innervated_fraction", "motor_neurons_alive_fraction",
                 "axons_intact_fraction", "motor_units_functional_fraction", "force_fraction"):
        np.testing.assert_array_equal(out[name], ones, err_msg=name)
    np.testing.assert_array_equal(out["endplates_denervated_fraction"], 0.0 * ones)
    np.testing.assert_array_equal(out["mean_motor_unit_size"], 10.0 * ones)  # 40 fibres / 4 units
    assert np.isnan(out["onset_day"]).all() and np.isnan(out["end_stage_day"]).all()
    np.testing.assert_array_equal(out["burden_multiplier"], [0.0, 0.0])


def test_burden_is_the_multiplier_times_the_male_ratio_without_spread() -> None:
    scenario = tiny(*NO_VARIABILITY[:2], "variability.male_burden_ratio=2", "disease.burden_multiplier=1.5")
    out = simulate_reference(scenario, subjects=12, days=0, seed=5)
    expected = np.where(out["sex_is_female"], 1.5, 3.0)
    np.testing.assert_allclose(out["burden_multiplier"], expected, rtol=1e-12)


def test_soma_ageing_death_is_exponential() -> None:
    hazard = 0.05
    scenario = tiny(*QUIET, f"rates.soma_ageing_death={hazard}", units=20, fibres=100)
    subjects = 10
    out = simulate_reference(scenario, subjects=subjects, days=20, seed=11)
    n_units = subjects * 4 * 20
    for age in (1, 5, 10, 20):
        alive = out["motor_neurons_alive_fraction"][:, :, age].mean()
        assert within_binomial(alive, math.exp(-hazard * age), n_units), (age, alive)


def test_wallerian_terminal_loss_follows_the_axon() -> None:
    """Soma dies on day 0, its axon on day 1 (soma dead at the start of day 1), then the
    terminals go with hazard wallerian_terminal from day 2 on."""
    hazard = 0.3
    scenario = tiny(*QUIET, "rates.soma_ageing_death=50", "rates.wallerian_axon=50", f"rates.wallerian_terminal={hazard}",
                    "rates.sprouting=0", "rates.endplate_disassembly=0")
    subjects = 5
    out = simulate_reference(scenario, subjects=subjects, days=8, seed=13)
    alive, axons = out["motor_neurons_alive_fraction"], out["axons_intact_fraction"]
    innervated, force = out["endplates_innervated_fraction"], out["force_fraction"]
    np.testing.assert_array_equal(alive[:, :, :2], np.stack([np.ones((subjects, 4)), np.zeros((subjects, 4))], axis=-1))
    np.testing.assert_array_equal(axons[:, :, 1:3], np.stack([np.ones((subjects, 4)), np.zeros((subjects, 4))], axis=-1))
    np.testing.assert_array_equal(innervated[:, :, :3], 1.0)  # terminals still there at age 2 ...
    np.testing.assert_array_equal(force[:, :, 1], 1.0)
    np.testing.assert_array_equal(force[:, :, 2], 0.0)  # ... but transmit nothing without an axon
    assert np.isnan(out["mean_motor_unit_size"][:, :, 2:]).all()  # no functional unit left
    np.testing.assert_array_equal(out["onset_day"], 2.0)
    np.testing.assert_array_equal(out["end_stage_day"], 2.0)
    n_endplates = subjects * 4 * 40
    for k in (1, 2, 4, 6):
        assert within_binomial(innervated[:, :, 2 + k].mean(), math.exp(-hazard * k), n_endplates), k


def test_endplate_fractions_are_nan_once_all_endplates_are_disassembled() -> None:
    """Terminals lost on day 2; A collapses on day 3 (disassembly reads the start-of-day
    A = 1, so none yet); endplates disassembled on day 4."""
    scenario = tiny(*QUIET, "rates.soma_ageing_death=50", "rates.wallerian_axon=50", "rates.wallerian_terminal=50",
                    "rates.sprouting=0", "rates.achr_decay=50", "rates.endplate_disassembly=50")
    out = simulate_reference(scenario, subjects=2, days=6, seed=17)
    denervated = out["endplates_denervated_fraction"]
    np.testing.assert_array_equal(denervated[:, :, 3:5], 1.0)
    assert np.isnan(denervated[:, :, 5:]).all()
    assert np.isnan(out["endplates_innervated_fraction"][:, :, 5:]).all()


# --- single subjects, stepped by hand --------------------------------------------------


def test_stress_relaxes_to_production_times_tau_under_constant_burden() -> None:
    """With D(t) = b constant (exponent 0) and sizes fixed, M(t) = P tau (1 - exp(-t / tau))."""
    scenario = tiny(*NO_VARIABILITY, "disease.burden_exponent=0", "disease.burden_multiplier=2", "rates.terminal_retraction_per_stress=0",
                    "rates.terminal_retraction_baseline=0", "rates.soma_starvation_death=0", "rates.soma_ageing_death=0")
    subject = ReferenceSubject(scenario, np.random.default_rng(0), z_litter=0.0)
    for age in range(15):
        subject.step(age)
    rates = scenario.rates
    tau = rates.stress_time_constant_days
    for muscle in subject.muscles:
        nbar0 = muscle.params.n_fibres / muscle.params.n_motor_units
        for unit in muscle.units:
            k = scenario.unit_types[unit.unit_type]
            production = 2.0 * k.vulnerability * k.activity * (unit.n0 / nbar0) ** rates.stress_size_exponent
            assert unit.size == unit.n0
            assert unit.stress == pytest.approx(production * tau * (1.0 - math.exp(-15 / tau)), rel=1e-12)


def _cut_unit_zero(max_enlargement: float) -> ReferenceSubject:
    """One muscle of two S units of 20 fibres; unit 0 dead with all its endplates denervated."""
    base = tiny(*QUIET, "rates.sprouting=1000", "rates.endplate_disassembly=0", f"unit_types.S.max_enlargement={max_enlargement}")
    subject = ReferenceSubject(one_muscle(base), np.random.default_rng(2), z_litter=0.0)
    muscle = subject.muscles[0]
    dead = muscle.units[0]
    dead.soma_alive = dead.axon_intact = False
    for endplate in muscle.endplates[:20]:
        endplate.owner, endplate.coverage, endplate.tsc = None, DENERVATED, "reactive"
    subject.derive()
    return subject


def test_sprouting_donor_takes_exactly_its_capacity() -> None:
    """Capacity floor(1.5 * 20) - 20 = 10: of 20 certain requests, 10 are granted on day 0,
    at coverage 1; the donor is then full and nothing more is granted."""
    subject = _cut_unit_zero(max_enlargement=1.5)
    muscle = subject.muscles[0]
    donor = muscle.units[1]
    subject.step(0)
    adopted = [e for e in muscle.endplates[:20] if e.owner is donor]
    assert len(adopted) == 10 and all(e.coverage == PARTIAL for e in adopted)
    assert donor.size == 30
    subject.step(1)
    assert donor.size == 30


def test_no_sprouting_without_capacity() -> None:
    subject = _cut_unit_zero(max_enlargement=1.0)
    for age in range(3):
        subject.step(age)
    assert all(e.owner is None and e.coverage == DENERVATED for e in subject.muscles[0].endplates[:20])
