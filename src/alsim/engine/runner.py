"""Simulating one block of subjects, and the census it returns.

A subject's random stream depends only on (seed, subject index), so for a given
backend the census is the same, bit for bit, whatever block it runs in. Splitting a
cohort into blocks and sending them to workers is :mod:`alsim.run.census`'s job: the
engine writes no files and knows no cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..biology.species import species_of
from ..biology.spread import muscle_delays, subject_spread
from .context import RunContext
from .observe import (CENSUS_FIELDS, SNAPSHOT_SIZE_DTYPE, TYPED_CENSUS_FIELDS, observe, snapshot_days,
                      snapshot_interval, snapshot_slots, snapshot_sizes)
from .state import initial_state
from .streams import subject_traits
from .vectorised import draw_day, step

BACKENDS: tuple[str, ...] = ("numba", "numpy")
DEFAULT_BACKEND = "numba"
"""The compiled, event-driven backend (:mod:`alsim.engine.fast`); ``numpy`` is the readable
vectorised one. They agree in distribution, not bit for bit (docs/performance.md)."""


@dataclass
class Census:
    """Daily raw counts for a set of subjects, and sparse per-unit snapshots.

    ``counts[name]`` has shape (subjects, muscles, days + 1), or (subjects, muscles, 3,
    days + 1) for the per-type fields. On the ages ``snapshot_day`` (every 7th day and
    the last, :func:`~alsim.engine.observe.snapshot_days`) the start-of-day state of
    every unit is kept: ``unit_size`` (subjects, snapshots, units), uint16, its
    innervated fibres ``n_u`` (intact endplates with coverage >= 1 that it owns), and
    ``unit_axon_intact`` (same shape), bool. Units are in layout order (muscle by
    muscle, ``layout.unit_start``). The electrophysiology readouts are computed from
    them (:mod:`alsim.readouts.emg.simulated`); they are ``None`` for a census built
    without them.
    """

    subject: np.ndarray          # (N,) subject indices
    is_female: np.ndarray        # (N,) bool
    litter: np.ndarray           # (N,) int
    burden_multiplier: np.ndarray  # (N,) float
    counts: dict[str, np.ndarray]
    snapshot_day: np.ndarray | None = None       # (K,) ages of the per-unit snapshots
    unit_size: np.ndarray | None = None          # (N, K, U) uint16
    unit_axon_intact: np.ndarray | None = None   # (N, K, U) bool

    @staticmethod
    def concatenate(parts: list["Census"]) -> "Census":
        has_units = all(p.unit_size is not None for p in parts)
        return Census(
            subject=np.concatenate([p.subject for p in parts]),
            is_female=np.concatenate([p.is_female for p in parts]),
            litter=np.concatenate([p.litter for p in parts]),
            burden_multiplier=np.concatenate([p.burden_multiplier for p in parts]),
            counts={k: np.concatenate([p.counts[k] for p in parts]) for k in parts[0].counts},
            snapshot_day=parts[0].snapshot_day if has_units else None,
            unit_size=np.concatenate([p.unit_size for p in parts]) if has_units else None,
            unit_axon_intact=np.concatenate([p.unit_axon_intact for p in parts]) if has_units else None,
        )


def simulate_block(ctx: RunContext, seed: int, subjects: np.ndarray, days: int,
                   on_day: Callable[[int], None] | None = None, backend: str = DEFAULT_BACKEND,
                   stop_at_end_stage: bool | None = None) -> Census:
    """Simulate ``subjects`` (indices into the cohort) for ``days`` days with ``backend``.

    ``on_day`` is called with a number of subject-days completed. ``stop_at_end_stage``
    lets the compiled backend stop each subject on its end-stage day (later census NaN);
    the NumPy backend, which steps a block together, ignores it. ``None``: stop people
    (every human readout is NaN after the end stage, so the results are the same bits)
    and not mice (a mouse run shows the time courses to the horizon):
    :attr:`alsim.biology.species.Species.stops_at_end_stage`.
    """
    if stop_at_end_stage is None:
        stop_at_end_stage = species_of(ctx.scenario).stops_at_end_stage
    if backend == "numba":
        from .fast import simulate_block_numba

        return simulate_block_numba(ctx, seed, subjects, days, on_day=on_day, stop_at_end_stage=stop_at_end_stage)
    if backend != "numpy":
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    generators, female, litter, burden = subject_traits(ctx.scenario, seed, subjects)
    delays = np.array([muscle_delays(ctx.scenario, subject_spread(ctx.scenario, seed, int(i))) for i in subjects])
    state = initial_state(ctx.layout, burden, delays.reshape(len(subjects), ctx.layout.n_muscles))
    layout = ctx.layout
    counts = {name: np.empty((len(subjects), layout.n_muscles, days + 1)) for name in CENSUS_FIELDS}
    counts.update({name: np.empty((len(subjects), layout.n_muscles, 3, days + 1)) for name in TYPED_CENSUS_FIELDS})
    every = snapshot_interval(ctx.scenario)
    snap_day, slot = snapshot_days(days, every), snapshot_slots(days, every)
    unit_size = np.zeros((len(subjects), len(snap_day), layout.n_units), dtype=SNAPSHOT_SIZE_DTYPE)
    unit_axon = np.zeros((len(subjects), len(snap_day), layout.n_units), dtype=bool)
    for day in range(days + 1):
        obs = observe(state, ctx)
        for name, value in obs.census.items():
            counts[name][..., day] = value
        if slot[day] >= 0:
            unit_size[:, slot[day]] = snapshot_sizes(obs.unit_size)
            unit_axon[:, slot[day]] = state.axon_intact
        if day == days:
            break
        step(state, obs, ctx, day, draw_day(generators, layout.n_units, layout.n_endplates), generators)
        if on_day is not None:
            on_day(len(subjects))
    return Census(subject=np.asarray(subjects), is_female=female, litter=litter, burden_multiplier=burden, counts=counts,
                  snapshot_day=snap_day, unit_size=unit_size, unit_axon_intact=unit_axon)
