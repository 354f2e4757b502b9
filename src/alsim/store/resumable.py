"""``alsim run`` in blocks of subjects, streamed to ``results.zarr`` as each block is done.

The cohort's store is built in the run's work folder (:mod:`alsim.store.workfolder`),
one block of subjects at a time (:mod:`alsim.store.streaming`), so a run holds a few
blocks in memory whatever its number of subjects:

- in mouse runs a block's results Dataset, electrophysiology included (which costs more
  than the simulation), is written into its region of the store as soon as it is done,
  then a small block file ``blocks/subjects-NNNNNN.npz`` (its subject indices) records
  that it is there: every readout of a subject depends only on the seed, the subject's
  index and the scenario, so the blocks put together are what :func:`alsim.simulate`
  returns for the whole cohort;
- human runs go twice over the cohort (:mod:`alsim.store.stream_human`): their Dataset
  puts every subject on one day-from-onset grid that spans the whole cohort, which is
  known only when every subject's onset is.

Either way the result is, bit for bit, :func:`alsim.simulate`'s, whatever blocks were
done before a kill and however many workers ran the others (``tests/test_resume.py``,
``tests/test_streaming.py``).

``alsim run --posterior`` streams the same way: its subjects run with scenarios of their
own (their posterior particles'), which a :class:`Cohort` tells each block's task; a
block's Dataset is then its parts' (the subjects of one particle) put together, and the
result is :func:`alsim.inference.cohort.simulate_with_posterior`'s bit for bit.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..config.schema import Scenario
from ..engine.context import build_context
from ..engine.runner import DEFAULT_BLOCK_SIZE, Census, blocks_of, simulate_block
from ..readouts.selection import ALL, ReadoutSelection
from .provenance import content_sha256
from .streaming import STORE, create_store, open_streamed, stream_block_size, sync_block, tidy_store, write_block
from .workfolder import WorkFolder, open_work_folder

__all__ = ["BLOCK_SIZE", "Cohort", "open_run_work", "run_identity", "simulate_resumable"]

BLOCK_SIZE = DEFAULT_BLOCK_SIZE
"""Subjects per block of a cohort up to 2,048 (the engine's block: the most a kill can lose, per
worker); larger cohorts have larger blocks, up to 64 subjects (:func:`alsim.store.streaming.stream_block_size`)."""
HUMAN_GROUP_BLOCKS = 4
"""Human runs write their store in groups of this many blocks (:mod:`alsim.store.stream_human`)."""


def run_identity(scenario: Scenario, *, subjects: int, days: int, backend: str, mune_method: str,
                 posterior_sha256: str | None = None, readouts: ReadoutSelection = ALL) -> dict:
    """What a resumed ``alsim run`` must share with the interrupted one (the seed apart);
    ``posterior_sha256``: that of ``--posterior``'s posterior.csv, which decides every
    subject's parameters (the hypothesis is the scenario's)."""
    identity = {"command": "run", "scenario_sha256": content_sha256(scenario.model_dump(mode="json")),
                "subjects": subjects, "days": days, "backend": backend, "mune_method": mune_method,
                **readouts.identity()}
    if posterior_sha256 is not None:
        identity["posterior_sha256"] = posterior_sha256
    return identity


def open_run_work(out: str | os.PathLike, scenario: Scenario, *, subjects: int, days: int, backend: str,
                  mune_method: str, seed: int | None, resume: bool, overwrite: bool,
                  posterior_sha256: str | None = None, readouts: ReadoutSelection = ALL) -> WorkFolder:
    """The work folder of an ``alsim run`` into ``out`` (:func:`open_work_folder`)."""
    identity = run_identity(scenario, subjects=subjects, days=days, backend=backend, mune_method=mune_method,
                            posterior_sha256=posterior_sha256, readouts=readouts)
    return open_work_folder(out, identity, seed=seed, resume=resume, overwrite=overwrite)


class Cohort:
    """Which scenario each subject of a streamed run runs with, and how a block's Dataset is put
    together from its parts (the subjects that share a scenario): here one scenario for
    every subject, so a block is one part.

    :class:`alsim.inference.cohort.PosteriorCohort` gives each subject its posterior particle's
    scenario. A block's task gets ``cohort.of(block)`` (what that block needs: it is sent to
    a worker with each task) and runs each part with its scenario. A subject's results depend
    only on the seed, its index and its scenario, so they do not depend on the blocks.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario

    def of(self, subjects: np.ndarray) -> "Cohort":
        """The part of the cohort that the block ``subjects`` needs."""
        return self

    def parts(self, subjects: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """``(key, subject indices)`` of each part of ``subjects`` that runs with one scenario."""
        return [(0, subjects)]

    def scenario_of(self, key: int) -> Scenario:
        """The scenario of part ``key``."""
        return self.scenario

    def dataset(self, parts: dict[int, xr.Dataset]) -> xr.Dataset:
        """A block's results Dataset from its parts' (``{key: Dataset}``), subjects in order."""
        return parts[0]


def part_censuses(cohort: Cohort, seed: int, subjects: np.ndarray, days: int, backend: str,
                  on_day: Callable[[int], None] | None) -> Iterator[tuple[int, Scenario, Census]]:
    """``(key, scenario, census)`` of each part of the block ``subjects``."""
    for key, ids in cohort.parts(subjects):
        member = cohort.scenario_of(key)
        yield key, member, simulate_block(build_context(member), seed, ids, days, on_day=on_day, backend=backend)


def _per_subject(scenario: Scenario) -> bool:
    """Whether a block's results Dataset is its subjects' rows of the cohort's (not in
    human runs, aligned on a cohort-wide day-from-onset grid)."""
    return scenario.species != "human"


def block_dataset(cohort: Cohort, seed: int, subjects: np.ndarray, days: int, backend: str, mune_method: str,
                  grid_onset: np.ndarray | None = None, readouts: ReadoutSelection | None = None,
                  on_day: Callable[[int], None] | None = None) -> xr.Dataset:
    """The results Dataset of one block of subjects (their rows of the cohort's Dataset);
    ``grid_onset``: see :func:`alsim.simulation.results_dataset` (human runs)."""
    from ..simulation import results_dataset

    return cohort.dataset({key: results_dataset(member, census, seed=seed, backend=backend, mune_method=mune_method,
                                                grid_onset=grid_onset, readouts=readouts)
                           for key, member, census in part_censuses(cohort, seed, subjects, days, backend, on_day)})


def _key(index: int) -> str:
    return f"subjects-{index:06d}"


@dataclass
class BlockRun:
    """What the blocks of one streamed run share: the cohort, the work folder, sizes, options, the cluster."""

    cohort: Cohort
    work: WorkFolder
    days: int
    backend: str
    mune_method: str
    workers: int
    progress: Callable[[int], None] | None
    cluster: "_Cluster"
    readouts: ReadoutSelection = ALL

    def advance(self, subjects: int) -> None:
        """Count ``subjects`` subjects' days as done."""
        if self.progress is not None and subjects:
            self.progress(subjects * self.days)

    def each(self, task: Callable, todo: list[int], args: Callable[[int], tuple],
             sizes: Callable[[int], int] | None = None) -> Iterator[tuple[int, object]]:
        """Yield ``(index, task(*args(index)))`` for each index in ``todo`` as it finishes: in
        process (``task`` gets ``on_day``) or on the cluster (``sizes(index)`` subjects advance
        the progress as each finishes; ``None``: no progress)."""
        if not todo:
            return
        address = self.cluster.address(len(todo))
        if address is None:
            for index in todo:
                yield index, task(*args(index), on_day=None if sizes is None else self.progress)
            return
        from ..parallel import iter_tasks

        for position, result in iter_tasks(task, [args(index) for index in todo], workers=self.workers,
                                           scheduler=address):
            yield todo[position], result
            if sizes is not None:
                self.advance(sizes(todo[position]))


def marked(work: WorkFolder, key: str, subjects: np.ndarray) -> bool:
    """Whether block file ``key`` is on disk and records ``subjects``."""
    stored = work.load_arrays(key, ("subject",))
    return stored is not None and np.array_equal(stored["subject"], subjects)


def simulate_resumable(scenario: Scenario | Cohort, work: WorkFolder, *, subjects: int, days: int, backend: str,
                       mune_method: str, workers: int = 1, scheduler: str | None = None,
                       progress: Callable[[int], None] | None = None,
                       readouts: ReadoutSelection = ALL) -> xr.Dataset:
    """``alsim.simulate(scenario, subjects=..., days=..., seed=work.seed, ...)``, streamed to
    ``work``'s ``results.zarr`` block by block, returned read lazily from there.

    ``scenario`` may be a :class:`Cohort` whose subjects run with scenarios of their own
    (``alsim run --posterior``, :class:`alsim.inference.cohort.PosteriorCohort`).
    Blocks already in the store are not done again; the others run (on ``workers``
    processes or ``scheduler``). ``progress`` is called with subject-days done (blocks
    done before count at once).

    The Dataset reads the store in ``work``: read it before ``work.remove()`` (or read the
    published result, :func:`alsim.store.read_results`); once the store is gone, Zarr reads
    its chunks as missing, i.e. NaN.
    """
    from .stream_human import stream_human

    cohort = scenario if isinstance(scenario, Cohort) else Cohort(scenario)
    size = stream_block_size(subjects, BLOCK_SIZE)
    blocks = blocks_of(subjects, size)
    store = work.path / STORE
    with _Cluster(workers, scheduler) as cluster:
        run = BlockRun(cohort, work, days, backend, mune_method, workers, progress, cluster, readouts)
        if _per_subject(cohort.scenario):
            _stream_blocks(run, blocks, store)
        else:
            stream_human(run, blocks, store, group_size=size * HUMAN_GROUP_BLOCKS)
    return open_streamed(store)


def _stream_blocks(run: BlockRun, blocks: list[np.ndarray], store) -> None:
    """Mouse runs: each block's Dataset written into the store as it is done."""
    work = run.work
    if not tidy_store(store):
        work.forget("subjects-")          # no store: no block is in it
    done = [marked(work, _key(index), block) for index, block in enumerate(blocks)]
    run.advance(sum(len(block) for block, d in zip(blocks, done) if d))
    todo = [index for index, d in enumerate(done) if not d]
    cohort = np.concatenate(blocks)
    args = lambda i: (run.cohort.of(blocks[i]), work.seed, blocks[i], run.days, run.backend, run.mune_method,  # noqa: E731
                      None, run.readouts)
    for index, ds in run.each(block_dataset, todo, args, lambda i: len(blocks[i])):
        if not store.is_dir():
            create_store(store, ds, cohort, len(blocks[0]))
        write_block(store, ds, index * len(blocks[0]))
        sync_block(store, index)
        work.save(_key(index), {"subject": blocks[index]})


class _Cluster(contextlib.ExitStack):
    """The scheduler address for a batch of tasks: ``scheduler``, or one local cluster
    started at the first batch that needs it and kept for the others, or ``None`` (in process)."""

    def __init__(self, workers: int, scheduler: str | None):
        super().__init__()
        self.workers, self.scheduler, self.local = workers, scheduler, None

    def address(self, todo: int) -> str | None:
        if self.scheduler is not None or self.local is not None:
            return self.scheduler or self.local
        if self.workers <= 1 or todo <= 1:
            return None
        from ..parallel import local_scheduler

        self.local = self.enter_context(local_scheduler(self.workers))
        return self.local
