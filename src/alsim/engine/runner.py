"""Running a cohort: subjects in blocks, each block on one backend, blocks in parallel.

A subject's random stream depends only on (seed, subject index), so for a given
backend the census is the same, bit for bit, whatever the block size, the number of
workers or the scheduler. The two backends (``numba``, ``numpy``) draw differently
and agree in distribution only (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..biology.spread import muscle_delays, subject_spread
from ..config.schema import Scenario
from .context import RunContext, build_context
from .observe import (CENSUS_FIELDS, SNAPSHOT_SIZE_DTYPE, TYPED_CENSUS_FIELDS, observe, snapshot_days,
                      snapshot_interval, snapshot_slots, snapshot_sizes)
from .state import initial_state
from .streams import subject_traits
from .vectorised import draw_day, step

BACKENDS: tuple[str, ...] = ("numba", "numpy")
DEFAULT_BACKEND = "numba"
"""The compiled, event-driven backend (:mod:`alsim.engine.fast`); ``numpy`` is the readable
vectorised one. They agree in distribution, not bit for bit (docs/performance.md)."""
DEFAULT_BLOCK_SIZE = 8
"""Subjects per block. The NumPy engine vectorises over a block; the compiled one runs a
block's subjects one by one, so there the block is only the unit of work sent to a worker."""


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
    and not mice (a mouse run shows the time courses to the horizon).
    """
    if stop_at_end_stage is None:
        stop_at_end_stage = ctx.scenario.species == "human"
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


def blocks_of(subjects: int | np.ndarray, block_size: int = DEFAULT_BLOCK_SIZE) -> list[np.ndarray]:
    """Split the cohort (a count, or an array of subject indices) into blocks of ``block_size``."""
    index = np.arange(subjects) if np.ndim(subjects) == 0 else np.asarray(subjects, dtype=np.int64)
    return [index[start:start + block_size] for start in range(0, len(index), block_size)]


def _run_block(scenario: Scenario, seed: int, subjects: np.ndarray, days: int, backend: str,
               stop_at_end_stage: bool | None = None) -> Census:
    return simulate_block(build_context(scenario), seed, subjects, days, backend=backend,
                          stop_at_end_stage=stop_at_end_stage)


def simulate_census(scenario: Scenario, *, subjects: int | np.ndarray, days: int, seed: int, workers: int = 1,
                    block_size: int = DEFAULT_BLOCK_SIZE, progress: Callable[[int], None] | None = None,
                    backend: str = DEFAULT_BACKEND, scheduler: str | None = None,
                    stop_at_end_stage: bool | None = None) -> Census:
    """Simulate a cohort and return its daily census.

    ``subjects`` is a count (subjects ``0 .. n-1``) or an array of subject indices (e.g.
    one trial arm's); a subject's result depends only on (seed, its index, backend),
    never on which other subjects run with it, the block size, ``workers`` or
    ``scheduler``. With ``workers > 1`` blocks run on a Dask ``LocalCluster``;
    ``scheduler="tcp://host:port"`` sends them to an existing cluster
    (:mod:`alsim.parallel`). ``progress`` is called with subject-days completed.
    ``stop_at_end_stage``: see :func:`simulate_block`.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    blocks = blocks_of(subjects, block_size)
    if not blocks:
        raise ValueError("subjects: need at least one subject")
    if (workers <= 1 or len(blocks) == 1) and scheduler is None:
        ctx = build_context(scenario)
        return Census.concatenate([simulate_block(ctx, seed, b, days, on_day=progress, backend=backend,
                                                  stop_at_end_stage=stop_at_end_stage) for b in blocks])
    from ..parallel import run_tasks

    def done(index: int) -> None:
        if progress is not None:
            progress(len(blocks[index]) * days)

    parts = run_tasks(_run_block, [(scenario, seed, b, days, backend, stop_at_end_stage) for b in blocks], workers=workers,
                      scheduler=scheduler, progress=done, threads=True)
    return Census.concatenate(parts)


def stream_census_to_zarr(scenario: Scenario, path, *, subjects: int | np.ndarray, days: int, seed: int,
                          workers: int = 1, block_size: int = 64, backend: str = DEFAULT_BACKEND,
                          scheduler: str | None = None, progress: Callable[[int], None] | None = None) -> None:
    """Simulate a cohort too large for memory block by block, writing each block's census to a Zarr group.

    Arrays ``<field>`` (subjects, muscles, [types,] days + 1) in float32 (counts are exact,
    force to 1e-7) chunked one block per chunk; the per-unit snapshots ``unit_size`` (uint16)
    and ``unit_axon_intact`` (subjects, snapshots, units) with ``snapshot_day``; and
    ``subject``, ``is_female``, ``litter``, ``burden_multiplier``. Only the blocks in
    flight are held in memory.
    """
    import zarr

    from ..parallel import iter_tasks

    blocks = blocks_of(subjects, block_size)
    layout = build_context(scenario).layout
    n, n_m, n_u = sum(len(b) for b in blocks), layout.n_muscles, layout.n_units
    snap_day = snapshot_days(days, snapshot_interval(scenario))
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    for name in CENSUS_FIELDS:
        group.create_array(name, shape=(n, n_m, days + 1), chunks=(block_size, n_m, days + 1), dtype="f4")
    for name in TYPED_CENSUS_FIELDS:
        group.create_array(name, shape=(n, n_m, 3, days + 1), chunks=(block_size, n_m, 3, days + 1), dtype="f4")
    for name, dtype in (("unit_size", "u2"), ("unit_axon_intact", "bool")):
        group.create_array(name, shape=(n, len(snap_day), n_u), chunks=(block_size, len(snap_day), n_u), dtype=dtype)
    group.create_array("snapshot_day", shape=(len(snap_day),), dtype="i8")[:] = snap_day
    traits = {"subject": "i8", "is_female": "bool", "litter": "i8", "burden_multiplier": "f8"}
    for name, dtype in traits.items():
        group.create_array(name, shape=(n,), chunks=(block_size,), dtype=dtype)
    group.attrs.update({"seed": int(seed), "days": int(days), "backend": backend, "scenario": scenario.name})
    starts = np.cumsum([0] + [len(b) for b in blocks])
    tasks = [(scenario, seed, b, days, backend) for b in blocks]
    for index, part in iter_tasks(_run_block, tasks, workers=workers, scheduler=scheduler):
        rows = slice(int(starts[index]), int(starts[index + 1]))
        for name, values in part.counts.items():
            group[name][rows] = values.astype(np.float32)
        group["unit_size"][rows] = part.unit_size
        group["unit_axon_intact"][rows] = part.unit_axon_intact
        for name in traits:
            group[name][rows] = getattr(part, name)
        if progress is not None:
            progress(len(blocks[index]) * days)
