"""A real Dask cluster on this machine: ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1, as a user would start them on a cluster's nodes.

``alsim run --scheduler tcp://...`` gives the same bits as the run without a cluster, also when
one of the two workers is killed while blocks are in flight (Dask gives its work to the other);
a small ``alsim calibrate --scheduler`` gives the posterior of an in-process calibration. Every
process the tests start is stopped at the end, whatever happens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alsim.store import in_progress_folder

from .test_resume import ALSIM, assert_same_bits, small  # noqa: F401  (small: a fixture)

STARTUP_S = 120.0


class LocalDaskCluster:
    """A scheduler and worker processes started from the command line, stopped by :meth:`stop`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.logs = folder / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._log_files: list = []
        self.scheduler = self._start("scheduler", ["distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                                   "--port", "0", "--dashboard-address", ":0",
                                                   "--scheduler-file", str(self.scheduler_file)])
        self.address = self._address()
        self.workers: list[subprocess.Popen] = []

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")     # noqa: SIM115  (closed in stop())
        self._log_files.append(log)
        return subprocess.Popen([sys.executable, "-m", *args], stdout=log, stderr=subprocess.STDOUT, cwd=self.folder)

    def _address(self) -> str:
        deadline = time.monotonic() + STARTUP_S
        while not self.scheduler_file.is_file() or not self.scheduler_file.read_text().strip():
            assert self.scheduler.poll() is None, (self.logs / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        return json.loads(self.scheduler_file.read_text())["address"]

    def add_worker(self) -> subprocess.Popen:
        """One single-threaded worker process without a nanny (killing it kills the worker)."""
        name = f"worker-{len(self.workers)}"
        worker = self._start(name, ["distributed.cli.dask_worker", self.address, "--nthreads", "1",
                                    "--no-nanny", "--name", name, "--local-directory", str(self.folder / name)])
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=STARTUP_S) as client:
            client.wait_for_workers(n, timeout=STARTUP_S)

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self._log_files:
            log.close()


@pytest.fixture
def cluster(tmp_path):
    started = LocalDaskCluster(tmp_path / "cluster")
    try:
        started.add_worker()
        started.add_worker()
        started.wait_for_workers(2)
        yield started
    finally:
        started.stop()
    assert all(p.poll() is not None for p in [*started.workers, started.scheduler])


def _run_argv(scenario: Path, out: Path) -> list[str]:
    """Six blocks of 8 subjects: long enough that a worker can be killed while blocks are in flight."""
    return ["run", str(scenario), "--subjects", "48", "--days", "30", "--seed", "11", "--out", str(out)]


def _alsim(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*ALSIM, *argv], capture_output=True, text=True, cwd=cwd, timeout=600)


def test_run_on_a_real_cluster_same_bits_also_when_a_worker_dies(small, cluster, tmp_path):  # noqa: F811
    local = tmp_path / "local"
    done = _alsim(_run_argv(small, local), tmp_path)
    assert done.returncode == 0, done.stderr

    on_cluster = tmp_path / "on-cluster"
    done = _alsim([*_run_argv(small, on_cluster), "--scheduler", cluster.address], tmp_path)
    assert done.returncode == 0, done.stderr
    assert_same_bits(on_cluster, local)

    killed = tmp_path / "worker-killed"
    with open(tmp_path / "killed.stderr", "wb") as log:
        run = subprocess.Popen([*ALSIM, *_run_argv(small, killed), "--scheduler", cluster.address],
                               stdout=subprocess.DEVNULL, stderr=log, cwd=tmp_path)
    try:
        blocks = in_progress_folder(killed) / "blocks"
        deadline = time.monotonic() + 300
        while not list(blocks.glob("*.npz")):
            assert run.poll() is None, (tmp_path / "killed.stderr").read_text()
            assert time.monotonic() < deadline, "no block finished on the cluster"
            time.sleep(0.01)
        victim = cluster.workers[0]
        victim.kill()
        victim.wait()
        in_flight = run.poll() is None
        assert run.wait(timeout=600) == 0, (tmp_path / "killed.stderr").read_text()
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert in_flight, "the run had finished before the worker was killed: nothing was tested"
    assert_same_bits(killed, local)
    said = (tmp_path / "killed.stderr").read_text()
    assert "Traceback" not in said, said


def test_calibrate_on_a_real_cluster_gives_the_in_process_posterior(small, cluster, tmp_path):  # noqa: F811
    argv = ["calibrate", "--preset", str(small), "--hypothesis", "dying_back", "--budget", "48", "--population", "8",
            "--subjects", "3", "--draws", "2", "--seed", "3"]
    local = _alsim([*argv, "--workers", "1", "--out", str(tmp_path / "local")], tmp_path)
    assert local.returncode == 0, local.stderr
    remote = _alsim([*argv, "--scheduler", cluster.address, "--out", str(tmp_path / "remote")], tmp_path)
    assert remote.returncode == 0, remote.stderr
    posterior = "posterior.csv"
    assert (tmp_path / "remote" / posterior).read_bytes() == (tmp_path / "local" / posterior).read_bytes()
