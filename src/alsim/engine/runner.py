"""Running a cohort: subjects in blocks, each block vectorised, blocks in parallel.

A subject's random stream depends only on (seed, subject index), so the census is the
same, bit for bit, whatever the block size or the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..biology.variability import burden_multiplier
from ..config.schema import Scenario
from .context import RunContext, build_context
from .observe import CENSUS_FIELDS, TYPED_CENSUS_FIELDS, observe
from .state import initial_state
from .streams import litter_generator, subject_generator
from .vectorised import draw_day, step

DEFAULT_BLOCK_SIZE = 8


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


def _traits(scenario: Scenario, seed: int, subjects: np.ndarray) -> tuple[list[np.random.Generator], np.ndarray, np.ndarray, np.ndarray]:
    """Each subject's generator, sex, litter and burden multiplier (docs/model.md, Variability)."""
    generators, female, litters, burden = [], [], [], []
    var = scenario.variability
    for i in subjects:
        g = subject_generator(seed, int(i))
        is_female = bool(g.random() < var.female_fraction)
        z_copy = float(g.standard_normal())
        litter = int(i) // var.litter_size
        z_litter = float(litter_generator(seed, litter).standard_normal())
        generators.append(g)
        female.append(is_female)
        litters.append(litter)
        burden.append(burden_multiplier(scenario, is_female=is_female, z_copy=z_copy, z_litter=z_litter))
    return generators, np.array(female, dtype=bool), np.array(litters, dtype=np.int64), np.array(burden)


def simulate_block(ctx: RunContext, seed: int, subjects: np.ndarray, days: int,
                   on_day: Callable[[int], None] | None = None) -> Census:
    """Simulate ``subjects`` (indices into the cohort) for ``days`` days, vectorised."""
    generators, female, litter, burden = _traits(ctx.scenario, seed, subjects)
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


def blocks_of(subjects: int, block_size: int = DEFAULT_BLOCK_SIZE) -> list[np.ndarray]:
    return [np.arange(start, min(start + block_size, subjects)) for start in range(0, subjects, block_size)]


def _run_block(scenario: Scenario, seed: int, subjects: np.ndarray, days: int) -> Census:
    return simulate_block(build_context(scenario), seed, subjects, days)


def simulate_census(scenario: Scenario, *, subjects: int, days: int, seed: int, workers: int = 1,
                    block_size: int = DEFAULT_BLOCK_SIZE,
                    progress: Callable[[int], None] | None = None) -> Census:
    """Simulate a cohort and return its daily census.

    ``progress`` is called with a number of subject-days completed.
    With ``workers > 1`` blocks run in separate processes through Dask.
    """
    blocks = blocks_of(subjects, block_size)
    if workers <= 1 or len(blocks) == 1:
        ctx = build_context(scenario)
        return Census.concatenate([simulate_block(ctx, seed, b, days, on_day=progress) for b in blocks])
    return _simulate_parallel(scenario, blocks, days, seed, workers, progress)


def _simulate_parallel(scenario: Scenario, blocks: list[np.ndarray], days: int, seed: int, workers: int,
                       progress: Callable[[int], None] | None) -> Census:
    """Blocks on Dask's local multiprocessing scheduler; each finished block reports its subject-days."""
    import dask
    from dask.callbacks import Callback

    tasks = [dask.delayed(_run_block, pure=True)(scenario, seed, b, days, dask_key_name=f"block-{i}")
             for i, b in enumerate(blocks)]
    sizes = {f"block-{i}": len(b) * days for i, b in enumerate(blocks)}

    class _Progress(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            if progress is not None and key in sizes:
                progress(sizes[key])

    # fork where the platform has it: workers inherit the loaded package, and scripts need no
    # `if __name__ == "__main__":` guard (spawn would re-import the caller's script)
    import multiprocessing

    context = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with _Progress(), dask.config.set({"multiprocessing.context": context}):
        # chunksize 1: otherwise Dask sends up to 6 blocks to one worker at a time
        parts = dask.compute(*tasks, scheduler="processes", num_workers=workers, chunksize=1)
    return Census.concatenate(list(parts))
