"""``alsim run`` in blocks of subjects, each block saved as soon as it is done.

A block is :data:`BLOCK_SIZE` consecutive subjects, saved in the run's work folder
(:mod:`alsim.store.workfolder`) once done:

- in mouse runs, the block's results Dataset, electrophysiology included (which costs
  more than the simulation): every readout of a subject depends only on the seed, the
  subject's index and the scenario, so the blocks put together are what
  :func:`alsim.simulate` returns for the whole cohort;
- in human runs, the block's census (:class:`alsim.engine.runner.Census`): their
  Dataset puts every subject on one day-from-onset grid that spans the whole cohort, so
  it is built from the whole census at the end.

Either way the result is, bit for bit, :func:`alsim.simulate`'s, whatever blocks were
loaded from disk and however many workers ran the others (``tests/test_resume.py``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import fields

import numpy as np
import xarray as xr

from ..config.schema import Scenario
from ..engine.context import build_context
from ..engine.runner import DEFAULT_BLOCK_SIZE, Census, blocks_of, simulate_block
from .provenance import content_sha256
from .workfolder import ResumeError, WorkFolder, open_work_folder

__all__ = ["BLOCK_SIZE", "open_run_work", "run_identity", "simulate_resumable"]

BLOCK_SIZE = DEFAULT_BLOCK_SIZE
"""Subjects per saved block (the engine's block: the most a kill can lose, per worker)."""


def run_identity(scenario: Scenario, *, subjects: int, days: int, backend: str, mune_method: str) -> dict:
    """What a resumed ``alsim run`` must share with the interrupted one (the seed apart)."""
    return {"command": "run", "scenario_sha256": content_sha256(scenario.model_dump(mode="json")),
            "subjects": subjects, "days": days, "backend": backend, "mune_method": mune_method}


def open_run_work(out: str | os.PathLike, scenario: Scenario, *, subjects: int, days: int, backend: str,
                  mune_method: str, seed: int | None, resume: bool, overwrite: bool,
                  posterior: bool = False) -> WorkFolder | None:
    """The work folder of an ``alsim run`` into ``out`` (:func:`open_work_folder`); ``None``
    for a ``--posterior`` cohort, which is not saved in blocks."""
    if posterior:
        if resume:
            raise ResumeError("--resume: a --posterior run is not saved in blocks and cannot be resumed; "
                              "run it again without --resume")
        if os.path.exists(out) and not overwrite:
            from .results import OutputExistsError

            raise OutputExistsError(f"--out: folder {out} already exists; choose another or pass --overwrite")
        return None
    identity = run_identity(scenario, subjects=subjects, days=days, backend=backend, mune_method=mune_method)
    return open_work_folder(out, identity, seed=seed, resume=resume, overwrite=overwrite)


def _per_subject(scenario: Scenario) -> bool:
    """Whether a block's results Dataset is its subjects' rows of the cohort's (not in
    human runs, aligned on a cohort-wide day-from-onset grid)."""
    return scenario.species != "human"


def _block_dataset(scenario: Scenario, seed: int, subjects: np.ndarray, days: int, backend: str, mune_method: str,
                   on_day: Callable[[int], None] | None = None) -> xr.Dataset:
    """The results Dataset of one block of subjects (their rows of the cohort's Dataset)."""
    from ..simulation import results_dataset

    census = simulate_block(build_context(scenario), seed, subjects, days, on_day=on_day, backend=backend)
    return results_dataset(scenario, census, seed=seed, backend=backend, mune_method=mune_method)


def _block_census(scenario: Scenario, seed: int, subjects: np.ndarray, days: int, backend: str, mune_method: str,
                  on_day: Callable[[int], None] | None = None) -> Census:
    """The census of one block of subjects (``mune_method`` unused: same signature as :func:`_block_dataset`)."""
    return simulate_block(build_context(scenario), seed, subjects, days, on_day=on_day, backend=backend)


def _census_arrays(census: Census) -> dict[str, np.ndarray]:
    arrays = {f"counts/{name}": value for name, value in census.counts.items()}
    for field in fields(Census):
        value = getattr(census, field.name)
        if field.name != "counts" and value is not None:
            arrays[field.name] = value
    return arrays


def _census_from(arrays: dict[str, np.ndarray]) -> Census:
    counts = {name.removeprefix("counts/"): v for name, v in arrays.items() if name.startswith("counts/")}
    return Census(counts=counts, **{name: v for name, v in arrays.items() if not name.startswith("counts/")})


def _key(index: int) -> str:
    return f"subjects-{index:06d}"


def _save(work: WorkFolder, index: int, result: xr.Dataset | Census) -> None:
    if isinstance(result, xr.Dataset):
        work.save(_key(index), {}, result)
    else:
        work.save(_key(index), _census_arrays(result))


def _load(work: WorkFolder, index: int, block: np.ndarray) -> xr.Dataset | Census | None:
    """Block ``index`` from disk; ``None`` when it is still to do (or is not this block's subjects)."""
    loaded = work.load(_key(index))
    if loaded is None:
        return None
    arrays, dataset = loaded
    try:
        result = dataset if dataset is not None else _census_from(arrays)
    except TypeError:
        return None
    subjects = result["subject"].values if isinstance(result, xr.Dataset) else result.subject
    return result if np.array_equal(subjects, block) else None


def _run_todo(scenario: Scenario, work: WorkFolder, blocks: list[np.ndarray], parts: list, *, days: int, backend: str,
              mune_method: str, workers: int, scheduler: str | None, progress: Callable[[int], None] | None) -> None:
    """Simulate the blocks whose ``parts`` entry is ``None``, saving each as it finishes."""
    from ..parallel import iter_tasks

    task = _block_dataset if _per_subject(scenario) else _block_census
    todo = [index for index, part in enumerate(parts) if part is None]
    if not todo:
        return
    if (workers <= 1 or len(todo) <= 1) and scheduler is None:
        for index in todo:
            parts[index] = task(scenario, work.seed, blocks[index], days, backend, mune_method, on_day=progress)
            _save(work, index, parts[index])
        return
    tasks = [(scenario, work.seed, blocks[index], days, backend, mune_method) for index in todo]
    for position, result in iter_tasks(task, tasks, workers=workers, scheduler=scheduler):
        index = todo[position]
        _save(work, index, result)
        parts[index] = result
        if progress is not None:
            progress(len(blocks[index]) * days)


def simulate_resumable(scenario: Scenario, work: WorkFolder, *, subjects: int, days: int, backend: str,
                       mune_method: str, workers: int = 1, scheduler: str | None = None,
                       progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """``alsim.simulate(scenario, subjects=..., days=..., seed=work.seed, ...)``, block by block.

    Blocks found in ``work`` are loaded; the others run (on ``workers`` processes or
    ``scheduler``) and are saved as each finishes. ``progress`` is called with
    subject-days done (loaded blocks count at once).
    """
    from ..simulation import results_dataset

    blocks = blocks_of(subjects, BLOCK_SIZE)
    parts = [_load(work, index, block) for index, block in enumerate(blocks)]
    if progress is not None:
        progress(sum(len(b) for b, part in zip(blocks, parts) if part is not None) * days)
    with _cluster(workers, scheduler, sum(part is None for part in parts)) as address:
        _run_todo(scenario, work, blocks, parts, days=days, backend=backend, mune_method=mune_method, workers=workers,
                  scheduler=address, progress=progress)
        if not _per_subject(scenario):
            return results_dataset(scenario, Census.concatenate(parts), seed=work.seed, backend=backend,
                                   mune_method=mune_method, workers=workers, scheduler=address)
    if len(parts) == 1:
        return parts[0]
    return xr.concat(parts, dim="subject", data_vars="minimal", coords="minimal", compat="identical", join="exact",
                     combine_attrs="identical")


@contextlib.contextmanager
def _cluster(workers: int, scheduler: str | None, todo: int) -> Iterator[str | None]:
    """The scheduler address to use: ``scheduler``, or one local cluster for all the
    parallel work of the call (blocks and whole-census readouts), or ``None`` (in process)."""
    if scheduler is not None or workers <= 1 or todo <= 1:
        yield scheduler
        return
    from ..parallel import local_scheduler

    with local_scheduler(workers) as address:
        yield address
