"""Resume after ``kill -9``: ``alsim run`` (plain and ``--posterior``), ``trial --replicates``, ``window`` and
``sweep`` are started as subprocesses, killed with SIGKILL once a (seeded) random number of their blocks is on disk,
then continued with ``--resume``; the result must be the same bits as an uninterrupted run's.

The fast tests kill each command at one point; ``-m slow`` kills them at several, and kills
a run on two workers to resume it on one.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

import alsim
from alsim.cli import main
from alsim.inference.posterior import POSTERIOR_FILE, Posterior
from alsim.store import in_progress_folder, open_work_folder, read_results
from alsim.store.provenance import file_sha256
from alsim.store.resumable import run_identity, simulate_resumable

from .conftest import small_scenario, write_small_preset

KILL_SEED = 20261121
ALSIM = [sys.executable, "-c", "import sys; from alsim.cli import main; sys.exit(main(sys.argv[1:]))"]
UNCOMPARED = ("provenance.json", "report.html")   # a run id and argv; plots (not bits of the result)


def run_argv(scenario: Path, out: Path) -> list[str]:
    """A small run of 3 blocks (8 + 8 + 4 subjects), about half a second per block."""
    return ["run", str(scenario), "--subjects", "20", "--days", "14", "--seed", "3", "--backend", "numba",
            "--out", str(out)]


def trial_argv(scenario: Path, out: Path) -> list[str]:
    """A trial of 3 arms and 3 replicates: 12 blocks. Replicate 0's 3 come first and carry their results
    Dataset (a third of a second each); the power replicates' take milliseconds."""
    return ["trial", str(scenario), "--arm", "control", "--arm", "placebo", "--arm", "musk_agonist@5:0.5",
            "--per-arm", "3", "--replicates", "3", "--days", "14", "--seed", "5", "--out", str(out)]


def window_argv(scenario: Path, out: Path) -> list[str]:
    """A window of 4 arms (control, 3 start days) and 2 replicates: 12 blocks, replicate 0's 4 the slow ones."""
    return ["window", str(scenario), "--treat", "musk_agonist:0.5", "--start-days", "5,10,15", "--per-arm", "3",
            "--replicates", "2", "--days", "14", "--seed", "4", "--out", str(out)]


def posterior_argv(scenario: Path, out: Path) -> list[str]:
    """The run with each mouse's parameters drawn from the packaged B6SJL posterior: 3 blocks, each of
    mice of several particles."""
    return [*run_argv(scenario, out), "--posterior", "sod1-g93a-b6sjl"]


def sweep_argv(scenario: Path, out: Path) -> list[str]:
    """A sweep of 3 points, a block of 16 B6SJL mice each (the small preset's blocks take milliseconds)."""
    return ["sweep", "sod1-g93a-b6sjl", "--vary", "disease.burden_scale_days=80:120:3", "--subjects", "16",
            "--days", "60", "--seed", "6", "--out", str(out)]


COMMANDS = {"run": (run_argv, 3, 3), "run-posterior": (posterior_argv, 3, 3), "trial": (trial_argv, 12, 3),
            "window": (window_argv, 12, 4), "sweep": (sweep_argv, 3, 3)}
"""command: (its argv, its blocks, how many of the first take long enough that a kill lands between them)"""


def result_files(folder: Path) -> dict[str, bytes]:
    """Every file of a result folder, as bytes (all but provenance.json and report.html):
    each Zarr store's metadata and chunks, summary.json, sources.json, trial.json, window.json."""
    files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
             if p.is_file() and p.name not in UNCOMPARED}
    assert any(name.endswith(".zarr/.zattrs") or "/.zattrs" in name or name == "sweep.json" for name in files), sorted(files)
    return files


def changed(argv: list[str], option: str, value: str | None) -> list[str]:
    """``argv`` with ``option``'s value replaced by ``value`` (``None``: the option left out)."""
    at = argv.index(option)
    return argv[:at] + ([] if value is None else [option, value]) + argv[at + 2:]


def assert_same_bits(folder: Path, reference: Path) -> None:
    got, want = result_files(folder), result_files(reference)
    assert sorted(got) == sorted(want)
    different = [name for name in want if got[name] != want[name]]
    assert not different, f"files differ from the uninterrupted run: {different}"


@pytest.fixture(scope="module", autouse=True)
def _no_report():
    """The HTML reports (seconds of matplotlib, not compared) are left out of the runs made in this process."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("alsim.report.write_report", lambda results, path, **kw: Path(path).write_text("<html></html>"))
        patch.setattr("alsim.trials.report.write_trial_report",
                      lambda path, *a, **kw: Path(path).write_text("<html></html>"))
        patch.setattr("alsim.trials.sweep_report.write_sweep_report",
                      lambda path, *a, **kw: Path(path).write_text("<html></html>"))
        yield


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return write_small_preset(tmp_path_factory.mktemp("preset") / "small.toml")


@pytest.fixture(scope="module")
def reference(small, tmp_path_factory):
    """Uninterrupted runs of each command, made once: ``reference(command) -> folder``."""
    made: dict[str, Path] = {}

    def get(command: str) -> Path:
        if command not in made:
            folder = tmp_path_factory.mktemp(f"reference-{command}") / "out"
            assert main(COMMANDS[command][0](small, folder)) == 0
            made[command] = folder
        return made[command]

    return get


def kill_after_blocks(argv: list[str], out: Path, blocks: int, timeout_s: float = 300.0) -> int:
    """Start ``alsim ARGV``, SIGKILL it once ``blocks`` blocks of its work are on disk; the number there after."""
    saved = in_progress_folder(out) / "blocks"
    log = out.parent / f"{out.name}.stderr"
    with open(log, "wb") as stderr:
        proc = subprocess.Popen([*ALSIM, *argv], stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + timeout_s
        try:
            while len(list(saved.glob("*.npz"))) < blocks:
                assert proc.poll() is None, f"exited {proc.returncode} before {blocks} blocks:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"no {blocks} blocks within {timeout_s} s"
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"not killed (exit {proc.returncode}):\n{log.read_text()}"
    return len(list(saved.glob("*.npz")))


def kill_and_resume(command: str, small: Path, out: Path, blocks: int, capsys) -> int:
    """Kill ``command`` after ``blocks`` blocks; check the refusal without --resume, resume, clean up.
    Returns the number of blocks that were on disk when it was killed."""
    argv = COMMANDS[command][0](small, out)
    on_disk = kill_after_blocks(argv, out, blocks)
    assert on_disk >= blocks and not out.exists()
    capsys.readouterr()
    assert main(argv) == 2
    said = capsys.readouterr().err
    assert "--resume" in said and "--overwrite" in said and len(said.strip().splitlines()) == 1, said
    assert main([*argv, "--resume"]) == 0
    assert not in_progress_folder(out).exists()
    assert not list(out.parent.glob(f".{out.name}.partial-*"))
    return on_disk


@pytest.mark.parametrize("command", list(COMMANDS))
def test_killed_and_resumed_gives_the_same_bits(command, small, reference, tmp_path, capsys):
    """Killed with blocks still to do (a seeded random number of the slow first ones on disk)."""
    _, total, slow = COMMANDS[command]
    blocks = random.Random(f"{KILL_SEED}-{command}").randint(1, slow - 1)
    on_disk = kill_and_resume(command, small, tmp_path / "out", blocks, capsys)
    assert on_disk < total, "killed with nothing left to do: the test did not test resuming"
    assert_same_bits(tmp_path / "out", reference(command))


@pytest.mark.slow
@pytest.mark.parametrize("command", list(COMMANDS))
def test_killed_at_many_points(command, small, reference, tmp_path, capsys):
    total = COMMANDS[command][1]     # anywhere: in the slow blocks, the fast ones, or writing the result
    for blocks in sorted(random.Random(f"{KILL_SEED}-{command}-many").sample(range(1, total + 1), min(4, total))):
        out = tmp_path / f"killed-after-{blocks}"
        kill_and_resume(command, small, out, blocks, capsys)
        assert_same_bits(out, reference(command))


@pytest.mark.slow
def test_killed_on_two_workers_resumed_on_one(small, reference, tmp_path, capsys):
    out = tmp_path / "out"
    argv = run_argv(small, out)
    kill_after_blocks([*argv, "--workers", "2"], out, 1)
    assert main([*argv, "--resume"]) == 0
    assert_same_bits(out, reference("run"))


def test_blocks_put_together_are_simulate_bit_for_bit(tmp_path):
    """The streamed store of ``alsim run`` equals ``alsim.simulate`` on the whole cohort: fresh, and with
    blocks already in it kept, a missing and an unreadable block file redone on two workers."""
    scenario = small_scenario()
    options = dict(subjects=19, days=14, backend="numba", mune_method="multipoint")
    whole = alsim.simulate(scenario, seed=5, **options)
    work = open_work_folder(tmp_path / "out", run_identity(scenario, **options), seed=5, resume=False, overwrite=False)
    fresh = simulate_resumable(scenario, work, **options)
    (work.blocks / "subjects-000001.npz").unlink()
    (work.blocks / "subjects-000002.npz").write_bytes(b"PK\x03\x04 not a whole block")
    reloaded = simulate_resumable(scenario, work, workers=2, **options)
    for ds in (fresh, reloaded):
        xr.testing.assert_identical(ds, whole)
        for name, variable in whole.variables.items():
            assert ds[name].dtype == variable.dtype and ds[name].values.tobytes() == variable.values.tobytes(), name
    assert work.completed() == 3


@pytest.mark.slow
def test_human_blocks_streamed_in_two_passes_give_simulate_bit_for_bit(tmp_path):
    """Human runs keep each block's onsets, then write the store in groups once the cohort-wide onset grid
    is known (alsim.store.stream_human): fresh and after a lost group, the bits of ``alsim.simulate``."""
    scenario, _ = alsim.load_scenario("human-sals-limb")
    options = dict(subjects=10, days=300, backend="numba", mune_method="multipoint")
    whole = alsim.simulate(scenario, seed=5, **options)
    work = open_work_folder(tmp_path / "out", run_identity(scenario, **options), seed=5, resume=False, overwrite=False)
    fresh = simulate_resumable(scenario, work, **options)
    (work.blocks / "subjects-000000.npz").unlink()
    for ds in (fresh, simulate_resumable(scenario, work, **options)):
        xr.testing.assert_identical(ds, whole)
        for name, variable in whole.variables.items():
            assert ds[name].dtype == variable.dtype and ds[name].values.tobytes() == variable.values.tobytes(), name


def test_resume_refuses_another_command_and_names_the_field(small, tmp_path, capsys):
    out = tmp_path / "out"
    argv = run_argv(small, out)
    assert main([*argv, "--resume"]) == 2
    assert "no interrupted run" in capsys.readouterr().err and not in_progress_folder(out).exists()
    scenario, _ = alsim.load_scenario(str(small))
    open_work_folder(out, run_identity(scenario, subjects=20, days=14, backend="numba", mune_method="multipoint"),
                     seed=3, resume=False, overwrite=False)
    state = sorted(p.name for p in in_progress_folder(out).rglob("*"))
    for other, fragment in ((changed(argv, "--subjects", "21"), "--subjects 20 (now 21)"),
                            (changed(argv, "--seed", "4"), "--seed 4: the interrupted run"),
                            ([*argv, "--set", "rates.sprouting=0.2"], "the scenario (its resolved parameters)")):
        assert main([*other, "--resume"]) == 2
        said = capsys.readouterr().err
        assert fragment in said and len(said.strip().splitlines()) == 1 and "Traceback" not in said, said
    assert sorted(p.name for p in in_progress_folder(out).rglob("*")) == state and not out.exists()
    design = tmp_path / "design.toml"
    design.write_text(f'scenario = "{small}"\narms = ["control", "placebo"]\nper_arm = 2\nseed = 1\ndays = 5\n')
    assert main(["trial", "--design", str(design), "--out", str(out), "--resume"]) == 2
    assert "--command" not in (said := capsys.readouterr().err) and 'command "run" (now "trial")' in said, said


def test_resume_refuses_another_posterior(small, tmp_path, capsys):
    """A --posterior run resumed with another posterior.csv (one weight changed), or without --posterior,
    is refused naming --posterior, and the interrupted run is left as it was."""
    out = tmp_path / "out"
    argv = posterior_argv(small, out)
    packaged = Path(Posterior.read("sod1-g93a-b6sjl").folder) / POSTERIOR_FILE
    scenario, _ = alsim.load_scenario(str(small))
    open_work_folder(out, run_identity(scenario, subjects=20, days=14, backend="numba", mune_method="multipoint",
                                       posterior_sha256=file_sha256(packaged)), seed=3, resume=False, overwrite=False)
    state = sorted(p.name for p in in_progress_folder(out).rglob("*"))
    table = pd.read_csv(packaged)
    table.loc[0, "weight"] *= 2
    (tmp_path / "other").mkdir()
    table.to_csv(tmp_path / "other" / POSTERIOR_FILE, index=False)
    for other in (changed(argv, "--posterior", str(tmp_path / "other")), run_argv(small, out)):
        assert main([*other, "--resume"]) == 2
        said = capsys.readouterr().err
        assert "--posterior (its posterior.csv)" in said and len(said.strip().splitlines()) == 1, said
    assert sorted(p.name for p in in_progress_folder(out).rglob("*")) == state and not out.exists()


def test_resume_without_seed_takes_the_interrupted_runs_seed(small, tmp_path, reference):
    out = tmp_path / "out"
    argv = run_argv(small, out)
    no_seed = changed(argv, "--seed", None)
    scenario, _ = alsim.load_scenario(str(small))
    open_work_folder(out, run_identity(scenario, subjects=20, days=14, backend="numba", mune_method="multipoint"),
                     seed=3, resume=False, overwrite=False)
    assert main([*no_seed, "--resume"]) == 0
    assert_same_bits(out, reference("run"))
    assert json.loads((out / "provenance.json").read_text())["seed"] == 3


def test_overwrite_discards_an_interrupted_run(small, tmp_path):
    out = tmp_path / "out"
    argv = run_argv(small, out)
    work = in_progress_folder(out)
    (work / "blocks").mkdir(parents=True)
    (work / "blocks" / "subjects-000000.npz").write_bytes(b"not a block")
    (work / "run.json").write_text("{}")
    assert main([*changed(argv, "--subjects", "1"), "--overwrite"]) == 0
    assert not work.exists() and read_results(out).subject.values.tolist() == [0]
