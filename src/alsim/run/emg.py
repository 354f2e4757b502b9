"""The electrophysiology of a cohort, read in blocks of subjects on workers.

A recording (CMAP, MUNE, MUNIX) costs a few milliseconds, more than a subject's
simulation, so a cohort's recordings are read in blocks of subjects, each block a task
(:mod:`alsim.run.tasks`). Every recording has its own random stream
(:func:`alsim.engine.streams.emg_generator`), so the blocks and the workers change no bit.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..readouts.emg.simulated import DEFAULT_MUNE_METHOD, MOUSE, RecordingSetup, emg_readouts
from ..readouts.selection import ReadoutSelection
from .tasks import local_threads, run_tasks

__all__ = ["EMG_BLOCK_SIZE", "emg_in_blocks"]

EMG_BLOCK_SIZE = 16
"""Subjects per task of the electrophysiology."""


def _rows(census, rows: slice):
    """The unit snapshots of ``census``'s subjects ``rows`` (no daily counts: not read, not sent)."""
    return replace(census, subject=census.subject[rows], is_female=census.is_female[rows], litter=census.litter[rows],
                   burden_multiplier=census.burden_multiplier[rows], counts={}, unit_size=census.unit_size[rows],
                   unit_axon_intact=census.unit_axon_intact[rows])


def emg_in_blocks(census, layout, *, seed: int, mune_method: str = DEFAULT_MUNE_METHOD,
                  until_day: np.ndarray | None = None, setup: RecordingSetup = MOUSE, workers: int = 1,
                  scheduler: str | None = None, block_size: int = EMG_BLOCK_SIZE,
                  selection: ReadoutSelection | None = None,
                  on_snapshot: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """:func:`alsim.readouts.emg_readouts` of ``census``, in blocks of ``block_size`` subjects on
    ``workers`` (threads or processes, :func:`alsim.run.tasks.local_threads`) or ``scheduler`` (one block:
    in this process); ``selection``: the muscles and days recorded
    (:class:`alsim.readouts.selection.ReadoutSelection`); ``on_snapshot`` (subject, snapshot) bool:
    each subject's own recording days, if they differ (people)."""
    if census.unit_size is None:
        raise ValueError("this census has no unit snapshots (unit_size); simulate it with alsim's engines")
    n = len(census.subject)
    until = np.full(n, np.nan) if until_day is None else np.asarray(until_day, dtype=float)
    blocks = [slice(start, start + block_size) for start in range(0, n, block_size)]
    tasks = [(_rows(census, b), layout) for b in blocks]
    options = [dict(seed=seed, mune_method=mune_method, until_day=until[b], setup=setup, block_size=block_size,
                    selection=selection, on_snapshot=None if on_snapshot is None else on_snapshot[b]) for b in blocks]
    workers = workers if len(tasks) > 1 else 1          # no cluster for a single block
    parts = run_tasks(_emg_task, [(*task, o) for task, o in zip(tasks, options)], workers=workers, scheduler=scheduler,
                      threads=local_threads(workers, n))
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _emg_task(census, layout, options: dict) -> dict[str, np.ndarray]:
    return emg_readouts(census, layout, **options)
