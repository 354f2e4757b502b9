"""A cohort's daily census: subjects in blocks, blocks in this process, on threads or on a Dask cluster.

A subject's random stream depends only on (seed, subject index), so the census is the
same, bit for bit, whatever the block size, the number of workers or the scheduler.
The engine (:func:`alsim.engine.runner.simulate_block`) simulates one block; this module
splits the cohort and sends the blocks out (:mod:`alsim.run.tasks`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..config.schema import Scenario
from ..engine.context import build_context
from ..engine.census import CENSUS_FIELDS, TYPED_CENSUS_FIELDS, Census, snapshot_days, snapshot_interval
from ..engine.runner import simulate_block
from .tasks import iter_tasks, run_tasks

__all__ = ["DEFAULT_BLOCK_SIZE", "blocks_of", "census_block", "simulate_census", "stream_census_to_zarr"]

DEFAULT_BLOCK_SIZE = 8
"""Subjects per block: the unit of work sent to a worker (the compiled engine runs a block's
subjects one by one)."""


def blocks_of(subjects: int | np.ndarray, block_size: int = DEFAULT_BLOCK_SIZE) -> list[np.ndarray]:
    """Split the cohort (a count, or an array of subject indices) into blocks of ``block_size``."""
    index = np.arange(subjects) if np.ndim(subjects) == 0 else np.asarray(subjects, dtype=np.int64)
    return [index[start:start + block_size] for start in range(0, len(index), block_size)]


def census_block(scenario: Scenario, seed: int, subjects: np.ndarray, days: int,
                 stop_at_end_stage: bool | None = None) -> Census:
    """One block's census (a task for a worker: builds the scenario's context there)."""
    return simulate_block(build_context(scenario), seed, subjects, days, stop_at_end_stage=stop_at_end_stage)


def simulate_census(scenario: Scenario, *, subjects: int | np.ndarray, days: int, seed: int, workers: int = 1,
                    block_size: int = DEFAULT_BLOCK_SIZE, progress: Callable[[int], None] | None = None,
                    scheduler: str | None = None, stop_at_end_stage: bool | None = None) -> Census:
    """Simulate a cohort and return its daily census.

    ``subjects`` is a count (subjects ``0 .. n-1``) or an array of subject indices (e.g.
    one trial arm's); a subject's result depends only on (seed, its index), never on which
    other subjects run with it, the block size, ``workers`` or ``scheduler``. With
    ``workers > 1`` blocks run on threads of a local Dask cluster;
    ``scheduler="tcp://host:port"`` sends them to an existing cluster (:mod:`alsim.run.tasks`).
    ``progress`` is called with subject-days completed. ``stop_at_end_stage``: see
    :func:`alsim.engine.runner.simulate_block` (default: the species',
    :attr:`alsim.biology.species.Species.stops_at_end_stage`).
    """
    blocks = blocks_of(subjects, block_size)
    if not blocks:
        raise ValueError("subjects: need at least one subject")
    if (workers <= 1 or len(blocks) == 1) and scheduler is None:
        ctx = build_context(scenario)
        return Census.concatenate([simulate_block(ctx, seed, b, days, on_day=progress,
                                                  stop_at_end_stage=stop_at_end_stage) for b in blocks])

    def done(index: int) -> None:
        if progress is not None:
            progress(len(blocks[index]) * days)

    parts = run_tasks(census_block, [(scenario, seed, b, days, stop_at_end_stage) for b in blocks], workers=workers,
                      scheduler=scheduler, progress=done, threads=True)
    return Census.concatenate(parts)


def stream_census_to_zarr(scenario: Scenario, path, *, subjects: int | np.ndarray, days: int, seed: int,
                          workers: int = 1, block_size: int = 64, scheduler: str | None = None,
                          progress: Callable[[int], None] | None = None) -> None:
    """Simulate a cohort too large for memory block by block, writing each block's census to a Zarr group.

    Arrays ``<field>`` (subjects, muscles, [types,] days + 1) in float32 (counts are exact,
    force to 1e-7) chunked one block per chunk; the per-unit snapshots ``unit_size`` (uint16)
    and ``unit_axon_intact`` (subjects, snapshots, units) with ``snapshot_day``; and
    ``subject``, ``is_female``, ``litter``, ``burden_multiplier``. Only the blocks in
    flight are held in memory. The group's ``backend`` attribute is ``numba`` (the engine).
    """
    import zarr

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
    group.attrs.update({"seed": int(seed), "days": int(days), "backend": "numba", "scenario": scenario.name})
    starts = np.cumsum([0] + [len(b) for b in blocks])
    tasks = [(scenario, seed, b, days) for b in blocks]
    for index, part in iter_tasks(census_block, tasks, workers=workers, scheduler=scheduler):
        rows = slice(int(starts[index]), int(starts[index + 1]))
        for name, values in part.counts.items():
            group[name][rows] = values.astype(np.float32)
        group["unit_size"][rows] = part.unit_size
        group["unit_axon_intact"][rows] = part.unit_axon_intact
        for name in traits:
            group[name][rows] = getattr(part, name)
        if progress is not None:
            progress(len(blocks[index]) * days)
