"""A run whose days count from symptom onset (people) streamed to ``results.zarr``: two passes.

A human run's Dataset (:mod:`alsim.run.human`) puts every subject on one
day-from-onset grid, and the electrophysiology on one grid of recordings, that span
the whole cohort: from the latest symptom onset to the earliest. No block's rows can be
written before every subject's onset is known, so:

1. every block is simulated and only its subjects' onset days are kept, in
   ``blocks/onsets-NNNNNN.npz`` (a few bytes per subject);
2. the store's layout is made on the cohort's grids, and each group of
   :data:`~alsim.run.streamed.HUMAN_GROUP_BLOCKS` blocks is simulated again (the same
   bits: a subject depends only on the seed, its index and its scenario), its readouts
   computed and written into its region; ``blocks/subjects-NNNNNN.npz`` records each
   group written.

The grids depend only on the earliest and latest onset, which each group is given
(:func:`alsim.run.dataset.results_dataset`, ``grid_onset``). Simulating twice costs about
a tenth more than one pass in memory (the electrophysiology of a person costs about ten
times its simulation). Memory is that of one block and one group
whatever the number of subjects; nothing but the onsets and the store is kept on disk.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..store.streaming import create_store, sync_block, tidy_store, write_block
from .blocks import BlockRun, marked, subjects_key
from .cohort import Cohort, block_dataset, part_censuses
from .events import clinical_events

__all__ = ["stream_human"]


def _onsets_key(index: int) -> str:
    return f"onsets-{index:06d}"


def _block_onsets(cohort: Cohort, seed: int, subjects: np.ndarray, days: int,
                  on_day: Callable[[int], None] | None = None) -> np.ndarray:
    """The onset days (simulation days; NaN: none) of one block of subjects (in ascending order),
    each part of it run with its scenario."""
    ids, onsets = [], []
    for _, member, census in part_censuses(cohort, seed, subjects, days, on_day):
        ids.append(census.subject)
        onsets.append(clinical_events(member, census.counts["force"])["onset_day"])
    return np.concatenate(onsets)[np.argsort(np.concatenate(ids), kind="stable")]


def _onsets(run: BlockRun, blocks: list[np.ndarray]) -> np.ndarray:
    """Pass 1: every subject's onset day, from the blocks' files or simulated (and saved)."""
    work = run.work
    onsets: list[np.ndarray | None] = []
    for index, block in enumerate(blocks):
        stored = work.load_arrays(_onsets_key(index), ("subject", "onset_day"))
        ok = stored is not None and np.array_equal(stored["subject"], block)
        onsets.append(stored["onset_day"] if ok else None)
    run.advance(sum(len(block) for block, o in zip(blocks, onsets) if o is not None))
    todo = [index for index, o in enumerate(onsets) if o is None]
    args = lambda i: (run.cohort.of(blocks[i]), work.seed, blocks[i], run.days)  # noqa: E731
    for index, onset in run.each(_block_onsets, todo, args, lambda i: len(blocks[i])):
        work.save(_onsets_key(index), {"subject": blocks[index], "onset_day": onset})
        onsets[index] = onset
    return np.concatenate(onsets)


def _extreme_onsets(onset: np.ndarray) -> np.ndarray:
    """The earliest and latest onset of the cohort (empty without onsets): all the grids depend on."""
    reached = onset[np.isfinite(onset)]
    return np.array([reached.min(), reached.max()]) if reached.size else np.zeros(0)


def stream_human(run: BlockRun, blocks: list[np.ndarray], store, *, group_size: int) -> None:
    """Both passes of an onset-aligned run."""
    onset = _onsets(run, blocks)
    cohort = np.concatenate(blocks)
    groups = [cohort[start:start + group_size] for start in range(0, len(cohort), group_size)]
    work = run.work
    if not tidy_store(store):
        work.forget("subjects-")          # no store: no group is in it
    todo = [index for index, group in enumerate(groups) if not marked(work, subjects_key(index), group)]
    extremes = _extreme_onsets(onset)
    attrs = {"subjects_without_onset": int(np.sum(~np.isfinite(onset)))}

    def args(index: int) -> tuple:
        return (run.cohort.of(groups[index]), work.seed, groups[index], run.days, run.mune_method, extremes,
                run.readouts)

    run.advance(sum(len(group) for index, group in enumerate(groups) if index not in todo))
    for index, ds in run.each(block_dataset, todo, args, subjects=sum(len(groups[index]) for index in todo)):
        if not store.is_dir():
            create_store(store, ds, cohort, group_size, attrs=attrs)
        write_block(store, ds, index * group_size)
        sync_block(store, index)
        work.save(subjects_key(index), {"subject": groups[index]})
        run.advance(len(groups[index]))         # pass 2 is the second half of the progress bar
