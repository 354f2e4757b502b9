"""Independent tasks on Dask: in this process, on a local cluster, or on an existing cluster.

Cohorts, trials, treatment windows and calibrations split their work into blocks that
do not talk to each other; :func:`run_tasks` runs such a list and returns the results
in task order. Where a task runs never changes its result (each block carries its own
random streams, :mod:`alsim.engine.streams`).

- ``workers <= 1`` and no scheduler: one after the other, in this process.
- ``workers > 1``: a :class:`distributed.LocalCluster` of ``workers`` processes with
  one thread each, started for the call and shut down after it; or, with
  ``threads=True``, a local cluster of one worker in this process with ``workers``
  threads. Threads are for tasks that spend their time in the compiled engine, which
  releases the GIL: no worker process to start and import alsim in (seconds), and
  nothing to pickle between processes (docs/performance.md, *Scale out*).
- ``scheduler="tcp://host:port"``: a :class:`distributed.Client` on that scheduler
  (``alsim ... --scheduler``); the cluster is left running.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

DEFAULT_CONNECT_TIMEOUT_S = 10.0

THREADS_UP_TO = 1024
"""A cohort whose ``workers x subjects`` is at most this runs on a local cluster of threads, a
larger one on worker processes (:func:`local_threads`)."""


def local_threads(workers: int, subjects: int) -> bool:
    """Whether a local cluster for ``subjects`` subjects (simulation and readouts, EMG included)
    on ``workers`` should be threads of this process rather than worker processes.

    Threads start in a fraction of a second and pickle nothing, but about a seventh of a
    block's time (the EMG's per-recording Python, building the Dataset) holds the GIL, so
    their speed-up stops growing with more threads while the processes' start-up (seconds)
    is paid once. Measured on 2 cores, ``alsim run`` of the B6SJL preset, threads against
    processes: 200 mice 0.89x wall, 1,000 mice 1.05x (docs/performance.md, *Scale out*).
    ``workers x subjects <= THREADS_UP_TO`` (512 subjects on 2 workers, 128 on 8) keeps threads
    where they were measured to win; larger cohorts also get worker processes' fault tolerance
    (a worker that dies has its block redone).
    """
    return workers * subjects <= THREADS_UP_TO


@contextmanager
def dask_client(*, workers: int = 1, scheduler: str | None = None,
                connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S, threads: bool = False) -> Iterator[Any]:
    """A :class:`distributed.Client` on ``scheduler`` or on a fresh local cluster of ``workers``
    processes (``threads=True``: of one in-process worker with ``workers`` threads).

    Raises ``ValueError`` naming ``--scheduler`` when the scheduler cannot be reached
    within ``connect_timeout_s`` seconds.
    """
    import distributed

    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=connect_timeout_s)
        except (OSError, TimeoutError, ValueError) as err:
            raise ValueError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there within "
                             f"{connect_timeout_s:g} s ({type(err).__name__}: {err})") from None
        try:
            yield client
        finally:
            client.close()
        return
    # Dask's own log lines (a worker died, a task failed) are silenced: alsim says what happened
    # in one message of its own (alsim.store.faults), and the user's screen keeps only that.
    # silence_logs quiets this process; worker processes set up their logging when they import
    # distributed, before the cluster's setting reaches them, so they are told by the environment.
    with _quiet_worker_processes():
        if threads:
            cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=workers, processes=False,
                                               dashboard_address=":0", silence_logs=logging.CRITICAL)
        else:
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=":0", silence_logs=logging.CRITICAL)
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()


@contextmanager
def _quiet_worker_processes() -> Iterator[None]:
    """``DASK_LOGGING__DISTRIBUTED=critical`` for the processes started in the block (a value the
    user set is kept), restored afterwards."""
    key = "DASK_LOGGING__DISTRIBUTED"
    before = os.environ.get(key)
    os.environ.setdefault(key, "critical")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)


@contextmanager
def local_scheduler(workers: int, *, threads: bool = False) -> Iterator[str]:
    """A local cluster of ``workers`` processes (``threads=True``: threads of this process)
    kept up for a ``with`` block; yields its address.

    Pass the address as ``scheduler=`` to several calls (e.g. both arms of a trial) to pay
    the cluster's start-up (seconds: each worker process imports alsim) once.
    """
    with dask_client(workers=workers, threads=threads) as client:
        yield client.scheduler.address


def iter_tasks(func: Callable, args: Sequence[tuple], *, workers: int = 1, scheduler: str | None = None,
               connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S, threads: bool = False) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, func(*args[index]))`` as each task finishes (any order).

    For streaming: the caller can write each result away and drop it. ``threads``: see
    :func:`dask_client` (ignored with a ``scheduler``).
    """
    if workers <= 1 and scheduler is None:
        for index, a in enumerate(args):
            yield index, func(*a)
        return
    import distributed

    with dask_client(workers=workers, scheduler=scheduler, connect_timeout_s=connect_timeout_s,
                     threads=threads) as client:
        futures = [client.submit(func, *a, pure=False, key=f"alsim-task-{index}-{id(args)}")
                   for index, a in enumerate(args)]
        position = {f.key: index for index, f in enumerate(futures)}
        for future in distributed.as_completed(futures):
            index = position[future.key]
            result = future.result()
            future.release()
            yield index, result


def run_tasks(func: Callable, args: Sequence[tuple], *, workers: int = 1, scheduler: str | None = None,
              progress: Callable[[int], None] | None = None,
              connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S, threads: bool = False) -> list:
    """``[func(*a) for a in args]``, run on Dask; results in task order.

    ``func`` must be picklable (a module-level function) when ``workers > 1`` or a
    scheduler is given. ``progress(index)`` is called as each task finishes. ``threads``:
    see :func:`dask_client`.
    """
    results: list = [None] * len(args)
    for index, result in iter_tasks(func, args, workers=workers, scheduler=scheduler,
                                    connect_timeout_s=connect_timeout_s, threads=threads):
        results[index] = result
        if progress is not None:
            progress(index)
    return results
