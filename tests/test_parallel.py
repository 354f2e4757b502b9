"""alsim.run.tasks: task order, progress, local clusters, unreachable schedulers; cohorts on workers."""

from __future__ import annotations

import time

import numpy as np
import pytest

from alsim.run import run_tasks, simulate_census

from .conftest import small_scenario


def _slow_square(x: int, delay_s: float) -> int:
    time.sleep(delay_s)
    return x * x


def test_in_process_results_in_order_with_progress():
    seen = []
    assert run_tasks(_slow_square, [(i, 0.0) for i in range(5)], progress=seen.append) == [0, 1, 4, 9, 16]
    assert sorted(seen) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("threads", [False, True])
def test_local_cluster_keeps_task_order(threads):
    """Later tasks finish first; results still come back in task order (worker processes or threads)."""
    seen = []
    args = [(i, 0.3 if i == 0 else 0.0) for i in range(4)]
    assert run_tasks(_slow_square, args, workers=2, progress=seen.append, threads=threads) == [0, 1, 4, 9]
    assert sorted(seen) == [0, 1, 2, 3]


def test_unreachable_scheduler_names_the_option():
    start = time.monotonic()
    with pytest.raises(ValueError, match="--scheduler"):
        run_tasks(_slow_square, [(1, 0.0)], scheduler="tcp://127.0.0.1:9", connect_timeout_s=1.0)
    assert time.monotonic() - start < 30


def test_cohort_on_a_cluster_matches_in_process():
    """simulate_census runs its blocks on two threads of one worker (the compiled kernel releases the GIL)."""
    scenario = small_scenario()
    subjects = np.array([7, 2, 11, 4, 9])
    serial = simulate_census(scenario, subjects=subjects, days=60, seed=12, block_size=2)
    done = []
    parallel = simulate_census(scenario, subjects=subjects, days=60, seed=12, block_size=2, workers=2,
                               progress=done.append)
    for key in serial.counts:
        np.testing.assert_array_equal(serial.counts[key], parallel.counts[key])
    np.testing.assert_array_equal(parallel.subject, subjects)
    assert sum(done) == len(subjects) * 60


def test_blocks_on_worker_processes_match_threads():
    """The same blocks on two worker processes and on two threads: the same bits."""
    from alsim.run import blocks_of, census_block

    scenario = small_scenario()
    tasks = [(scenario, 5, b, 40) for b in blocks_of(np.array([3, 0, 8, 5]), 2)]
    on_processes = run_tasks(census_block, tasks, workers=2)
    on_threads = run_tasks(census_block, tasks, workers=2, threads=True)
    for a, b in zip(on_processes, on_threads):
        for key in a.counts:
            np.testing.assert_array_equal(a.counts[key], b.counts[key])


def test_local_clusters_are_threads_for_small_cohorts_and_processes_for_large():
    """``workers x subjects`` up to THREADS_UP_TO: threads (they start at once); above: worker processes."""
    from alsim.run.tasks import THREADS_UP_TO, local_threads

    assert local_threads(2, 200) and local_threads(2, THREADS_UP_TO // 2)
    assert not local_threads(2, THREADS_UP_TO // 2 + 1) and not local_threads(8, 200)
