"""Engine mechanics: structure, determinism, independence of chunking, conservation."""

from __future__ import annotations

import numpy as np
import pytest

import alsim
from alsim.biology.motor_units import baseline_sizes, build_layout, unit_type_counts
from alsim.engine.context import build_context
from alsim.engine.fast.chance import kernel_stream
from alsim.engine.fast.driver import burden_by_day
from alsim.engine.fast.kernel import simulate_subject
from alsim.engine.fast.params import build_params, factor_tables
from alsim.engine.fast.state import initial_subject_state
from alsim.engine.runner import simulate_block
from alsim.run import simulate_census
from alsim.engine.streams import subject_generator

from .conftest import small_scenario


def test_baseline_sizes_largest_remainder():
    sizes = baseline_sizes(10, np.array([1.0, 1.0, 1.0]))
    assert sizes.tolist() == [4, 3, 3]
    sizes = baseline_sizes(7, np.array([1.0, 100.0]))
    assert sizes.sum() == 7 and sizes.min() >= 1


def test_layout_matches_scenario():
    scenario = small_scenario()
    layout = build_layout(scenario)
    assert layout.n_units == sum(m.n_motor_units for m in scenario.muscles.values())
    assert layout.n_endplates == sum(m.n_fibres for m in scenario.muscles.values())
    assert np.bincount(layout.endplate_unit, minlength=layout.n_units).tolist() == layout.unit_baseline_size.tolist()
    for m, muscle in enumerate(scenario.muscles.values()):
        assert tuple(layout.units_per_type[m]) == unit_type_counts(muscle)
    # FF units are larger than S units of the same muscle (innervation ratio)
    g = slice(layout.unit_start[0], layout.unit_start[1])
    types, sizes = layout.unit_type[g], layout.unit_baseline_size[g]
    assert sizes[types == 2].mean() > sizes[types == 0].mean()


def test_same_seed_same_bits_and_different_seed_differs():
    scenario = small_scenario()
    a = simulate_census(scenario, subjects=3, days=90, seed=5)
    b = simulate_census(scenario, subjects=3, days=90, seed=5)
    c = simulate_census(scenario, subjects=3, days=90, seed=6)
    for key in a.counts:
        np.testing.assert_array_equal(a.counts[key], b.counts[key])
    assert not np.array_equal(a.counts["endplates_covered"], c.counts["endplates_covered"])


def test_block_size_does_not_change_bits():
    scenario = small_scenario()
    one = simulate_census(scenario, subjects=5, days=80, seed=9, block_size=5)
    many = simulate_census(scenario, subjects=5, days=80, seed=9, block_size=2)
    for key in one.counts:
        np.testing.assert_array_equal(one.counts[key], many.counts[key])


def test_one_subject_regenerated_alone():
    scenario = small_scenario()
    cohort = simulate_census(scenario, subjects=4, days=70, seed=3)
    alone = simulate_block(build_context(scenario), 3, np.array([2]), 70)
    for key in cohort.counts:
        np.testing.assert_array_equal(cohort.counts[key][2], alone.counts[key][0])


def test_workers_do_not_change_bits():
    scenario = small_scenario()
    serial = alsim.simulate(scenario, subjects=10, days=60, seed=21, workers=1)
    parallel = alsim.simulate(scenario, subjects=10, days=60, seed=21, workers=2)
    for name in serial.data_vars:
        np.testing.assert_array_equal(serial[name].values, parallel[name].values)


def test_initial_state_is_healthy():
    ctx = build_context(small_scenario())
    layout = ctx.layout
    state = initial_subject_state(ctx, build_params(ctx), 10)
    assert (state.coverage == 2).all() and state.soma.all() and state.axon.all() and state.intact.all()
    assert (state.owner == layout.endplate_unit).all()
    assert (state.size == layout.unit_baseline_size).all()


def test_endplate_bookkeeping_is_consistent():
    """After 150 days of heavy sprouting every covered endplate has an owner in its own muscle, every
    denervated one none, each unit's size counts its covered endplates, and no size ever (in the
    weekly snapshots) exceeded the enlargement bound floor(max_enlargement n0) (docs/model.md, rule 2)."""
    scenario = small_scenario(extra=["rates.sprouting=1.0"])
    ctx = build_context(scenario)
    layout, params, days = ctx.layout, build_params(ctx), 150
    state = initial_subject_state(ctx, params, days)
    census = np.zeros((days + 1, 9, layout.n_muscles))
    typed = np.zeros((days + 1, 2, layout.n_muscles, 3))
    slot = np.arange(days + 1, dtype=np.int64)
    sizes = np.zeros((days + 1, layout.n_units), dtype=np.uint16)
    axons = np.zeros((days + 1, layout.n_units), dtype=np.bool_)
    simulate_subject(kernel_stream(subject_generator(1, 0)), params, state,
                     *burden_by_day(ctx, 1.5, days, np.zeros(layout.n_muscles)), *factor_tables(ctx, days),
                     census, typed, slot, sizes, axons, np.zeros(0))
    assert (sizes <= np.maximum(params.max_size, params.n0)).all()
    assert (sizes[-1] < sizes[0]).any(), "the test needs units that lost endplates"
    intact, covered = state.intact, state.coverage >= 1
    assert (state.owner[covered] >= 0).all() and (state.owner[~covered] == -1).all()
    assert (layout.unit_muscle[state.owner[covered]] == layout.endplate_muscle[covered]).all()
    np.testing.assert_array_equal(np.bincount(state.owner[covered & intact], minlength=layout.n_units), state.size)


def test_subjects_must_be_positive():
    with pytest.raises(ValueError, match="subjects"):
        alsim.simulate(small_scenario(), subjects=0, days=5, seed=1)
