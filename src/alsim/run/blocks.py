"""What the blocks of one streamed run share: the cohort, the work folder, the cluster, the progress.

A streamed run (:mod:`alsim.run.streamed`, :mod:`alsim.run.stream_human`) does its blocks in
this process or on a Dask cluster started at the first batch that needs one, and records
each finished block in the work folder (:class:`alsim.store.WorkFolder`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..readouts.selection import ALL, ReadoutSelection
from ..store.workfolder import WorkFolder
from .cohort import Cohort
from .tasks import iter_tasks, local_scheduler, local_threads

__all__ = ["BlockRun", "Cluster", "marked", "subjects_key"]


def subjects_key(index: int) -> str:
    """The block file of block (or group) ``index`` written into the store."""
    return f"subjects-{index:06d}"


def marked(work: WorkFolder, key: str, subjects: np.ndarray) -> bool:
    """Whether block file ``key`` is on disk and records ``subjects``."""
    stored = work.load_arrays(key, ("subject",))
    return stored is not None and np.array_equal(stored["subject"], subjects)


class Cluster(contextlib.ExitStack):
    """The scheduler address for a batch of tasks: ``scheduler``, or one local cluster started at
    the first batch that needs it and kept for the others (threads of this process or worker
    processes, as :func:`alsim.run.tasks.local_threads` decides for the batch's subjects), or
    ``None`` (in process)."""

    def __init__(self, workers: int, scheduler: str | None):
        super().__init__()
        self.workers, self.scheduler, self.local = workers, scheduler, None

    def address(self, todo: int, subjects: int) -> str | None:
        """The address for ``todo`` tasks of ``subjects`` subjects in all."""
        if self.scheduler is not None or self.local is not None:
            return self.scheduler or self.local
        if self.workers <= 1 or todo <= 1:
            return None
        self.local = self.enter_context(local_scheduler(self.workers,
                                                        threads=local_threads(self.workers, subjects)))
        return self.local


@dataclass
class BlockRun:
    """What the blocks of one streamed run share: the cohort, the work folder, sizes, options, the cluster."""

    cohort: Cohort
    work: WorkFolder
    days: int
    mune_method: str
    workers: int
    progress: Callable[[int], None] | None
    cluster: Cluster
    readouts: ReadoutSelection = ALL

    def advance(self, subjects: int) -> None:
        """Count ``subjects`` subjects' days as done."""
        if self.progress is not None and subjects:
            self.progress(subjects * self.days)

    def each(self, task: Callable, todo: list[int], args: Callable[[int], tuple],
             sizes: Callable[[int], int] | None = None, subjects: int | None = None) -> Iterator[tuple[int, object]]:
        """Yield ``(index, task(*args(index)))`` for each index in ``todo`` as it finishes: in
        process (``task`` gets ``on_day``) or on the cluster (``sizes(index)`` subjects advance
        the progress as each finishes; ``None``: no progress). ``subjects``: the subjects of the
        tasks in all, where ``sizes`` does not give them (a local cluster's kind depends on it)."""
        if not todo:
            return
        if subjects is None:
            subjects = sum(sizes(index) for index in todo) if sizes is not None else len(todo)
        address = self.cluster.address(len(todo), subjects)
        if address is None:
            for index in todo:
                yield index, task(*args(index), on_day=None if sizes is None else self.progress)
            return
        for position, result in iter_tasks(task, [args(index) for index in todo], workers=self.workers,
                                           scheduler=address):
            yield todo[position], result
            if sizes is not None:
                self.advance(sizes(todo[position]))
