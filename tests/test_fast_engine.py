"""The compiled (Numba) backend: determinism, bookkeeping, its samplers, and treatments against the reference.

Its agreement with the reference stepper without treatments is in test_verification.py; here the same KS comparison runs with a treatment
that touches every target, ramped in mid-run in one muscle.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit
from scipy.stats import binom, chisquare

import alsim
from alsim.biology.interventions import with_treatments
from alsim.config.treatments import TARGETS, AppliedTreatment, Treatment
from alsim.engine.context import build_context
from alsim.engine.fast.chance import binomial, kernel_stream, uniform
from alsim.engine.fast.endplates import _disassembly_day
from alsim.verification.reference import simulate_reference
from alsim.engine.runner import simulate_block
from alsim.run import simulate_census

from .conftest import small_scenario
from .test_verification import (
    FAMILY_ALPHA,
    comparison_pvalues,
    engine_readouts,
    tiny_scenario,
)


def _same(a, b):
    for key in a.counts:
        np.testing.assert_array_equal(a.counts[key], b.counts[key], err_msg=key)


def test_same_bits_whatever_the_blocks_and_the_company():
    scenario = small_scenario()
    whole = simulate_census(scenario, subjects=6, days=100, seed=4, block_size=6)
    split = simulate_census(scenario, subjects=6, days=100, seed=4, block_size=4)
    _same(whole, split)
    picked = simulate_census(scenario, subjects=np.array([5, 1, 3]), days=100, seed=4)
    for row, subject in enumerate([5, 1, 3]):
        for key in whole.counts:
            np.testing.assert_array_equal(picked.counts[key][row], whole.counts[key][subject])
    alone = simulate_block(build_context(scenario), 4, np.array([3]), 100)
    np.testing.assert_array_equal(alone.counts["force"][0], whole.counts["force"][3])


def test_stopping_at_end_stage_keeps_the_endpoints_bit_for_bit():
    """Each mouse stops on the day clinical_endpoints calls its end stage; nothing before changes."""
    from alsim.readouts import clinical_endpoints

    scenario = small_scenario()
    full = simulate_census(scenario, subjects=6, days=200, seed=8)
    stopped = simulate_census(scenario, subjects=6, days=200, seed=8, stop_at_end_stage=True)
    names = list(scenario.muscles)
    end = clinical_endpoints(scenario, full.counts["force"], names)["end_stage_day"]
    assert np.isfinite(end).sum() >= 4, "the test needs mice that reach end stage within the run"
    for key in full.counts:
        for row, day in enumerate(end):
            last = 200 if np.isnan(day) else int(day)
            np.testing.assert_array_equal(stopped.counts[key][row, ..., :last + 1], full.counts[key][row, ..., :last + 1],
                                          err_msg=key)
            assert np.isnan(stopped.counts[key][row, ..., last + 1:]).all(), key
    again = clinical_endpoints(scenario, stopped.counts["force"], names)
    np.testing.assert_array_equal(again["end_stage_day"], end)


def test_traits_and_day_zero_are_the_reference_steppers():
    """Sex and burden come from the same streams as the reference stepper's, and day 0 is the same healthy census."""
    scenario = small_scenario()
    fast = simulate_census(scenario, subjects=3, days=5, seed=2)
    reference = simulate_reference(scenario, subjects=3, days=5, seed=2)
    np.testing.assert_array_equal(fast.burden_multiplier, reference["burden_multiplier"])
    np.testing.assert_array_equal(fast.is_female, reference["sex_is_female"])
    np.testing.assert_array_equal(fast.counts["endplates_covered"][..., 0] / fast.counts["endplates_intact"][..., 0],
                                  reference["endplates_innervated_fraction"][..., 0])
    np.testing.assert_array_equal(fast.unit_size[:, 0], reference["unit_size"][:, 0])


def test_census_bookkeeping():
    """Counts nest (full <= covered <= intact, functional <= axons), sizes add up to covered endplates,
    cross-sections stay between the floor and 1."""
    scenario = small_scenario(extra=["rates.sprouting=1.0"])
    c = simulate_census(scenario, subjects=4, days=160, seed=8).counts
    assert (c["endplates_full"] <= c["endplates_covered"]).all() and (c["endplates_covered"] <= c["endplates_intact"]).all()
    assert (c["units_functional"] <= c["units_axon_intact"]).all() and (c["units_axon_intact"] >= 0).all()
    assert (c["functional_size_sum"] <= c["endplates_covered"] + 1e-9).all()
    n_fibres = np.array([m.n_fibres for m in scenario.muscles.values()])[None, :, None]
    floor = scenario.rates.fibre_csa_floor
    assert (c["fibre_csa_sum"] >= floor * n_fibres - 1e-6).all() and (c["fibre_csa_sum"] <= n_fibres + 1e-6).all()
    assert np.isclose(c["units_alive_by_type"].sum(axis=2), c["units_alive"]).all()


@njit
def _binomial_sample(gen, n, hazard, size):
    out = np.empty(size, dtype=np.int64)
    for i in range(size):
        out[i] = binomial(gen, n, hazard)
    return out


@pytest.mark.parametrize("n, hazard", [(40, 0.01), (300, 0.02), (500, 0.2), (60, 1.5)])
def test_binomial_sampler_has_the_binomial_law(n, hazard):
    """Inversion (n h <= 20) and geometric waiting times (n h > 20, p below and above 1/2)."""
    p = -math.expm1(-hazard)
    draws = _binomial_sample(kernel_stream(np.random.default_rng(7)), n, hazard, 20_000)
    ks = np.arange(draws.max() + 1)
    expected = binom.pmf(ks, n, p) * len(draws)
    observed = np.bincount(draws, minlength=len(ks))
    keep = expected >= 5           # pool the sparse tails
    obs = np.r_[observed[keep], observed[~keep].sum()]
    exp = np.r_[expected[keep], len(draws) - expected[keep].sum()]
    assert chisquare(obs, exp).pvalue > 1e-3


@njit
def _disassembly_days(gen, achr, disassembly, decay, factors, size):
    out = np.empty(size, dtype=np.int64)
    for i in range(size):
        out[i] = _disassembly_day(gen, 0, achr, 0, disassembly, decay, factors)
    return out


def test_orphan_disassembly_day_matches_daily_draws():
    """Drawing the day once from the cumulative hazard gives the law of drawing every day."""
    days, achr, disassembly, decay = 120, 0.8, 0.03, 0.02
    factors = np.ones((days, 10, 1))
    factors[40:, 8, 0] = 0.5                  # a treatment halves disassembly from day 40
    gen = np.random.default_rng(3)
    once = _disassembly_days(kernel_stream(gen), achr, disassembly, decay, factors, 20_000)
    daily = np.full(20_000, days)
    alive = np.ones(20_000, dtype=bool)
    a = achr
    for d in range(days):
        f = factors[d, 8, 0]
        hit = alive & (gen.random(20_000) < -np.expm1(-disassembly * (1 - a) * f))
        daily[hit] = d
        alive &= ~hit
        a *= math.exp(-decay * f)
    bins = np.r_[0:days:10, days, days + 1]
    a_counts, _ = np.histogram(once, bins)
    b_counts, _ = np.histogram(daily, bins)
    assert chisquare(a_counts, b_counts * a_counts.sum() / b_counts.sum()).pvalue > 1e-3


def _all_targets_treatment(scenario):
    effects = {target: (0.5 if i % 2 else 1.6) for i, target in enumerate(TARGETS)}
    treatment = Treatment(name="everything", kind="drug", compartment="muscle", mechanism="test: every target",
                          source="test", strength_basis="test", effects=effects, onset_days=5.0, offset_days=3.0)
    return with_treatments(scenario, [AppliedTreatment(label="everything@15", treatment=treatment,
                                                       start_day=15, end_day=50, dose=0.8)])


@pytest.mark.parametrize("hypothesis", ["independent"])
def test_treated_engine_matches_reference_in_distribution(hypothesis):
    scenario = _all_targets_treatment(tiny_scenario(hypothesis))
    fast = engine_readouts(scenario, subjects=120, days=70, seed=101)
    slow = simulate_reference(scenario, subjects=120, days=70, seed=202)
    checks = comparison_pvalues(fast, slow, [20, 35, 50, 70])
    worst = min(checks, key=lambda c: c[1])
    assert worst[1] > FAMILY_ALPHA / len(checks), f"{worst[0]}: p = {worst[1]:.2e}"


def test_wild_type_stays_healthy():
    scenario, _ = alsim.load_scenario("wildtype-mouse", ["muscles.gastrocnemius.n_fibres=600"])
    c = simulate_census(scenario, subjects=2, days=60, seed=1).counts
    assert (c["endplates_covered"][..., -1] / c["endplates_intact"][..., -1] > 0.97).all()


def _xoshiro256_starstar(state: list[int], count: int) -> list[int]:
    """The generator of Blackman and Vigna's reference C code, in Python integers."""
    mask = (1 << 64) - 1

    def rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & mask

    s0, s1, s2, s3 = state
    out = []
    for _ in range(count):
        out.append(rotl(s1 * 5 & mask, 7) * 9 & mask)
        t = s1 << 17 & mask
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
    return out


@njit
def _uniforms(rng, size):
    out = np.empty(size)
    for i in range(size):
        out[i] = uniform(rng)
    return out


def test_kernel_uniforms_are_xoshiro256_starstar():
    """The kernel's uniforms are the top 53 bits of xoshiro256** (checked against a Python
    transcription of the reference code), seeded from the subject's generator, in [0, 1)."""
    state = kernel_stream(np.random.default_rng(11))
    expected = [(x >> 11) * 2.0 ** -53 for x in _xoshiro256_starstar([int(w) for w in state], 1000)]
    np.testing.assert_array_equal(_uniforms(state.copy(), 1000), expected)
    many = _uniforms(state.copy(), 200_000)
    assert many.min() >= 0.0 and many.max() < 1.0
    assert abs(many.mean() - 0.5) < 4 * math.sqrt(1 / 12 / len(many))
    assert not np.array_equal(kernel_stream(np.random.default_rng(11)), kernel_stream(np.random.default_rng(12)))
