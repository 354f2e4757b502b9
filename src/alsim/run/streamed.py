"""A cohort streamed to ``results.zarr`` block by block, resumable after a kill.

The cohort's store is built in the run's work folder (:mod:`alsim.store.workfolder`),
one block of subjects at a time (:mod:`alsim.store.streaming`), so a run holds a few
blocks in memory whatever its number of subjects:

- where a subject's rows do not depend on the others' (mice), a block's results Dataset,
  electrophysiology included (which costs more than the simulation), is written into its
  region of the store as soon as it is done, then a small block file
  ``blocks/subjects-NNNNNN.npz`` (its subject indices) records that it is there: every
  readout of a subject depends only on the seed, the subject's index and the scenario, so
  the blocks put together are what :func:`alsim.simulate` returns for the whole cohort;
- species whose days count from onset (people) go twice over the cohort
  (:mod:`alsim.run.stream_human`): their Dataset puts every subject on one
  day-from-onset grid that spans the whole cohort, which is known only when every
  subject's onset is.

Either way the result is, bit for bit, :func:`alsim.simulate`'s, whatever blocks were
done before a kill and however many workers ran the others (``tests/test_resume.py``,
``tests/test_streaming.py``).

``alsim run --posterior`` streams the same way: its subjects run with scenarios of their
own (their posterior particles'), which a :class:`~alsim.run.cohort.Cohort` tells each
block's task; the result is :func:`alsim.inference.cohort.simulate_with_posterior`'s bit for bit.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import xarray as xr

from ..biology.species import species_of
from ..config.schema import Scenario
from ..readouts.selection import ALL, ReadoutSelection
from ..store.provenance import content_sha256
from ..store.streaming import STORE, create_store, open_streamed, stream_block_size, sync_block, tidy_store, write_block
from ..store.workfolder import WorkFolder, open_work_folder
from .blocks import BlockRun, Cluster, marked, subjects_key
from .census import DEFAULT_BLOCK_SIZE, blocks_of
from .cohort import Cohort, as_cohort, block_dataset
from .stream_human import stream_human

__all__ = ["BLOCK_SIZE", "HUMAN_GROUP_BLOCKS", "open_run_work", "run_identity", "stream", "stream_passes"]

BLOCK_SIZE = DEFAULT_BLOCK_SIZE
"""Subjects per block of a cohort up to 2,048 (the engine's block: the most a kill can lose, per
worker); larger cohorts have larger blocks, up to 64 subjects (:func:`alsim.store.streaming.stream_block_size`)."""
HUMAN_GROUP_BLOCKS = 4
"""Onset-aligned runs write their store in groups of this many blocks (:mod:`alsim.run.stream_human`)."""


def run_identity(scenario: Scenario, *, subjects: int, days: int, mune_method: str,
                 posterior_sha256: str | None = None, readouts: ReadoutSelection = ALL) -> dict:
    """What a resumed ``alsim run`` must share with the interrupted one (the seed apart);
    ``posterior_sha256``: that of ``--posterior``'s posterior.csv, which decides every
    subject's parameters (the hypothesis is the scenario's). ``readouts``: a choice other
    than the default adds its keys (older work folders resume unchanged; one that records
    ``"backend": "numba"`` too, :mod:`alsim.store.workfolder`). Runs counted from onset (people)
    record their recording cadence: the default changed to 84 days on 2026-12-08, so a work
    folder of every-snapshot recordings is refused rather than resumed into a mixed store."""
    identity = {"command": "run", "scenario_sha256": content_sha256(scenario.model_dump(mode="json")),
                "subjects": subjects, "days": days, "mune_method": mune_method, **readouts.identity()}
    species = species_of(scenario)
    if species.onset_aligned and readouts.emg:
        identity["emg_every_days_from_onset"] = readouts.cadence(species)
    if posterior_sha256 is not None:
        identity["posterior_sha256"] = posterior_sha256
    return identity


def open_run_work(out: str | os.PathLike, scenario: Scenario, *, subjects: int, days: int, mune_method: str,
                  seed: int | None, resume: bool, overwrite: bool, posterior_sha256: str | None = None,
                  readouts: ReadoutSelection = ALL) -> WorkFolder:
    """The work folder of an ``alsim run`` into ``out`` (:func:`alsim.store.open_work_folder`)."""
    identity = run_identity(scenario, subjects=subjects, days=days, mune_method=mune_method,
                            posterior_sha256=posterior_sha256, readouts=readouts)
    return open_work_folder(out, identity, seed=seed, resume=resume, overwrite=overwrite)


def stream_passes(scenario: Scenario) -> int:
    """How many times :func:`stream` goes over the cohort (for a progress bar of ``passes *
    subjects * days``): twice where the days count from onset, else once."""
    return 2 if species_of(scenario).onset_aligned else 1


def stream(scenario: Scenario | Cohort, work: WorkFolder, *, subjects: int, days: int, mune_method: str,
           workers: int = 1, scheduler: str | None = None, progress: Callable[[int], None] | None = None,
           readouts: ReadoutSelection = ALL) -> xr.Dataset:
    """``alsim.simulate(scenario, subjects=..., days=..., seed=work.seed, ...)``, streamed to
    ``work``'s ``results.zarr`` block by block, returned read lazily from there.

    ``scenario`` may be a :class:`~alsim.run.cohort.Cohort` whose subjects run with scenarios
    of their own (``alsim run --posterior``, :class:`alsim.inference.cohort.PosteriorCohort`).
    Blocks already in the store are not done again; the others run (on ``workers``
    threads or processes, :func:`alsim.run.tasks.local_threads`, or ``scheduler``). ``progress`` is called with subject-days done (blocks
    done before count at once). ``readouts``: which are computed (:class:`alsim.readouts.selection.ReadoutSelection`).

    The Dataset reads the store in ``work``: read it before ``work.remove()`` (or read the
    published result, :func:`alsim.store.read_results`); once the store is gone, Zarr reads
    its chunks as missing, i.e. NaN.
    """
    cohort = as_cohort(scenario)
    size = stream_block_size(subjects, BLOCK_SIZE)
    blocks = blocks_of(subjects, size)
    store = work.path / STORE
    with Cluster(workers, scheduler) as cluster:
        run = BlockRun(cohort, work, days, mune_method, workers, progress, cluster, readouts)
        if species_of(cohort.scenario).onset_aligned:
            stream_human(run, blocks, store, group_size=size * HUMAN_GROUP_BLOCKS)
        else:
            _stream_blocks(run, blocks, store)
    return open_streamed(store)


def _stream_blocks(run: BlockRun, blocks: list[np.ndarray], store) -> None:
    """Each block's Dataset written into the store as it is done (its rows are its own)."""
    work = run.work
    if not tidy_store(store):
        work.forget("subjects-")          # no store: no block is in it
    done = [marked(work, subjects_key(index), block) for index, block in enumerate(blocks)]
    run.advance(sum(len(block) for block, d in zip(blocks, done) if d))
    todo = [index for index, d in enumerate(done) if not d]
    cohort = np.concatenate(blocks)
    args = lambda i: (run.cohort.of(blocks[i]), work.seed, blocks[i], run.days, run.mune_method,  # noqa: E731
                      None, run.readouts)
    for index, ds in run.each(block_dataset, todo, args, lambda i: len(blocks[i])):
        if not store.is_dir():
            create_store(store, ds, cohort, len(blocks[0]))
        write_block(store, ds, index * len(blocks[0]))
        sync_block(store, index)
        work.save(subjects_key(index), {"subject": blocks[index]})
