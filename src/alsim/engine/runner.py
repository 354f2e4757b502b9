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

from ..config.schema import Scenario
from .context import RunContext, build_context
from .observe import CENSUS_FIELDS, TYPED_CENSUS_FIELDS, observe
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
    """Daily raw counts for a set of subjects.

    ``counts[name]`` has shape (subjects, muscles, days + 1), or (subjects, muscles, 3,
    days + 1) for the per-type fields.
    """

    subject: np.ndarray          # (N,) subject indices
    is_female: np.ndarray        # (N,) bool
    litter: np.ndarray           # (N,) int
    burden_multiplier: np.ndarray  # (N,) float
    counts: dict[str, np.ndarray]

    @staticmethod
    def concatenate(parts: list["Census"]) -> "Census":
        return Census(
            subject=np.concatenate([p.subject for p in parts]),
            is_female=np.concatenate([p.is_female for p in parts]),
            litter=np.concatenate([p.litter for p in parts]),
            burden_multiplier=np.concatenate([p.burden_multiplier for p in parts]),
            counts={k: np.concatenate([p.counts[k] for p in parts]) for k in parts[0].counts},
        )


_traits = subject_traits   # the former name, kept for callers


def simulate_block(ctx: RunContext, seed: int, subjects: np.ndarray, days: int,
                   on_day: Callable[[int], None] | None = None, backend: str = DEFAULT_BACKEND) -> Census:
    """Simulate ``subjects`` (indices into the cohort) for ``days`` days with ``backend``.

    ``on_day`` is called with a number of subject-days completed.
    """
    if backend == "numba":
        from .fast import simulate_block_numba

        return simulate_block_numba(ctx, seed, subjects, days, on_day=on_day)
    if backend != "numpy":
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    generators, female, litter, burden = subject_traits(ctx.scenario, seed, subjects)
    state = initial_state(ctx.layout, burden)
    layout = ctx.layout
    counts = {name: np.empty((len(subjects), layout.n_muscles, days + 1)) for name in CENSUS_FIELDS}
    counts.update({name: np.empty((len(subjects), layout.n_muscles, 3, days + 1)) for name in TYPED_CENSUS_FIELDS})
    for day in range(days + 1):
        obs = observe(state, ctx)
        for name, value in obs.census.items():
            counts[name][..., day] = value
        if day == days:
            break
        step(state, obs, ctx, day, draw_day(generators, layout.n_units, layout.n_endplates), generators)
        if on_day is not None:
            on_day(len(subjects))
    return Census(subject=np.asarray(subjects), is_female=female, litter=litter, burden_multiplier=burden, counts=counts)


def blocks_of(subjects: int | np.ndarray, block_size: int = DEFAULT_BLOCK_SIZE) -> list[np.ndarray]:
    """Split the cohort (a count, or an array of subject indices) into blocks of ``block_size``."""
    index = np.arange(subjects) if np.ndim(subjects) == 0 else np.asarray(subjects, dtype=np.int64)
    return [index[start:start + block_size] for start in range(0, len(index), block_size)]


def _run_block(scenario: Scenario, seed: int, subjects: np.ndarray, days: int, backend: str) -> Census:
    return simulate_block(build_context(scenario), seed, subjects, days, backend=backend)


def simulate_census(scenario: Scenario, *, subjects: int | np.ndarray, days: int, seed: int, workers: int = 1,
                    block_size: int = DEFAULT_BLOCK_SIZE, progress: Callable[[int], None] | None = None,
                    backend: str = DEFAULT_BACKEND, scheduler: str | None = None) -> Census:
    """Simulate a cohort and return its daily census.

    ``subjects`` is a count (subjects ``0 .. n-1``) or an array of subject indices (e.g.
    one trial arm's); a subject's result depends only on (seed, its index, backend),
    never on which other subjects run with it, the block size, ``workers`` or
    ``scheduler``. With ``workers > 1`` blocks run on a Dask ``LocalCluster``;
    ``scheduler="tcp://host:port"`` sends them to an existing cluster
    (:mod:`alsim.parallel`). ``progress`` is called with subject-days completed.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    blocks = blocks_of(subjects, block_size)
    if not blocks:
        raise ValueError("subjects: need at least one subject")
    if (workers <= 1 or len(blocks) == 1) and scheduler is None:
        ctx = build_context(scenario)
        return Census.concatenate([simulate_block(ctx, seed, b, days, on_day=progress, backend=backend) for b in blocks])
    from ..parallel import run_tasks

    def done(index: int) -> None:
        if progress is not None:
            progress(len(blocks[index]) * days)

    parts = run_tasks(_run_block, [(scenario, seed, b, days, backend) for b in blocks], workers=workers,
                      scheduler=scheduler, progress=done)
    return Census.concatenate(parts)


def stream_census_to_zarr(scenario: Scenario, path, *, subjects: int | np.ndarray, days: int, seed: int,
                          workers: int = 1, block_size: int = 64, backend: str = DEFAULT_BACKEND,
                          scheduler: str | None = None, progress: Callable[[int], None] | None = None) -> None:
    """Simulate a cohort too large for memory block by block, writing each block's census to a Zarr group.

    Arrays ``<field>`` (subjects, muscles, [types,] days + 1) in float32 (counts are exact,
    force to 1e-7) chunked one block per chunk, and ``subject``, ``is_female``, ``litter``,
    ``burden_multiplier``. Only the blocks in flight are held in memory.
    """
    import zarr

    from ..parallel import iter_tasks

    blocks = blocks_of(subjects, block_size)
    n, n_m = sum(len(b) for b in blocks), build_context(scenario).layout.n_muscles
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    for name in CENSUS_FIELDS:
        group.create_array(name, shape=(n, n_m, days + 1), chunks=(block_size, n_m, days + 1), dtype="f4")
    for name in TYPED_CENSUS_FIELDS:
        group.create_array(name, shape=(n, n_m, 3, days + 1), chunks=(block_size, n_m, 3, days + 1), dtype="f4")
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
        for name in traits:
            group[name][rows] = getattr(part, name)
        if progress is not None:
            progress(len(blocks[index]) * days)
