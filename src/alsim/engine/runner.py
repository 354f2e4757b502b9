"""Running a cohort: subjects in blocks, each block through the compiled engine, blocks in parallel.

A subject's random stream depends only on (seed, subject index), so the census is the
same, bit for bit, whatever the block size, the number of workers or the scheduler.
(The readable NumPy engine that once stood beside the compiled one is gone: the compiled
engine is verified against the reference stepper and the mean field, docs/verification.md.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..config.schema import Scenario
from .census import CENSUS_FIELDS, TYPED_CENSUS_FIELDS, Census, snapshot_days, snapshot_interval
from .context import RunContext, build_context
from .fast import simulate_block_numba

BACKENDS: tuple[str, ...] = ("numba",)
DEFAULT_BACKEND = "numba"
"""The compiled, event-driven engine (:mod:`alsim.engine.fast`), the only one: it is verified
against the reference stepper and the mean field (:mod:`alsim.verification`, docs/verification.md)."""
DEFAULT_BLOCK_SIZE = 8
"""Subjects per block. The compiled engine runs a block's subjects one by one, so the block is
only the unit of work sent to a worker."""


def simulate_block(ctx: RunContext, seed: int, subjects: np.ndarray, days: int,
                   on_day: Callable[[int], None] | None = None, backend: str = DEFAULT_BACKEND,
                   stop_at_end_stage: bool | None = None) -> Census:
    """Simulate ``subjects`` (indices into the cohort) for ``days`` days with ``backend`` (``"numba"``).

    ``on_day`` is called with a number of subject-days completed. ``stop_at_end_stage``
    stops each subject on its end-stage day (later census NaN). ``None``: stop people
    (every human readout is NaN after the end stage, so the results are the same bits)
    and not mice (a mouse run shows the time courses to the horizon).
    """
    if stop_at_end_stage is None:
        stop_at_end_stage = ctx.scenario.species == "human"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    return simulate_block_numba(ctx, seed, subjects, days, on_day=on_day, stop_at_end_stage=stop_at_end_stage)


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
