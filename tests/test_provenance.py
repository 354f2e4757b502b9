"""The run catalogue, provenance.json and ``alsim rerun``: every command's result rebuilt bit for
bit from what it recorded (as msprime's ``TestRoundTrip`` does for its provenance)."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

import alsim
from alsim.cli import main
from alsim.store import Catalogue, read_provenance, read_results, rerun_argv
from alsim.store.catalogue import RunEntry, new_run_id

from .conftest import write_small_preset
from .test_cli import small_toml  # noqa: F401  (fixture)


@pytest.fixture
def no_report(monkeypatch):
    """A run's HTML report (seconds of matplotlib) is neither compared nor under test here."""
    monkeypatch.setattr("alsim.report.write_report", lambda results, path, **kw: Path(path).write_text("<html></html>"))


def _only_run(folder: Path) -> RunEntry:
    entries = Catalogue(folder).entries()
    assert len(entries) == 1, entries
    return entries[0]


def _rerun(capsys, entry: RunEntry, folder: Path, new: Path) -> tuple[int, str, str]:
    """``alsim rerun``: exit code, stdout, stderr."""
    capsys.readouterr()
    code = main(["rerun", entry.run_id, "--dir", str(folder), "--out", str(new)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_records_its_provenance_and_reruns_bit_for_bit(small_toml, tmp_path, capsys, no_report):
    out = tmp_path / "runs" / "a"
    argv = ["run", str(small_toml), "--subjects", "2", "--days", "20", "--treat", "musk_agonist@5:0.5", "--out", str(out)]
    assert main(argv) == 0   # no --seed: one is drawn, and must be recorded
    entry = _only_run(out.parent)
    seed = int(read_results(out).attrs["seed"])
    assert (entry.command, entry.status, entry.seed, entry.argv) == ("run", "complete", seed, argv)
    assert entry.run_id.startswith("run-") and entry.output_path == str(out.resolve()) and entry.finished
    provenance = read_provenance(out)
    assert provenance["run_id"] == entry.run_id and provenance["seed"] == seed and provenance["argv"] == argv
    assert provenance["scenario"] == json.loads(read_results(out).attrs["scenario_json"])
    assert provenance["scenario_sha256"] == entry.scenario_hash
    assert provenance["input_files"] == {str(small_toml): hashlib.sha256(small_toml.read_bytes()).hexdigest()}
    assert provenance["environment"]["alsim"] == alsim.__version__ and provenance["environment"]["numpy"]
    assert len(provenance["training_data_sha256"]) == 64

    code, printed, _ = _rerun(capsys, entry, out.parent, out.parent / "b")
    assert code == 0 and "identical" in printed
    again = [e for e in Catalogue(out.parent).entries() if e.run_id != entry.run_id]
    assert again[0].argv[-4:] == ["--seed", str(seed), "--out", str((out.parent / "b").resolve())]

    # The same command on a changed input gives other bits, and rerun says which variable differs first.
    small_toml.write_text(small_toml.read_text().replace("n_fibres = { value = 600", "n_fibres = { value = 610"))
    code, printed, warned = _rerun(capsys, entry, out.parent, out.parent / "c")
    assert code == 1 and "differ: results.zarr: variable" in printed
    assert f"input file {small_toml} has changed since run {entry.run_id}" in warned


def test_trial_reruns_bit_for_bit(small_toml, tmp_path, capsys):
    design = tmp_path / "design.toml"
    design.write_text(f'scenario = "{small_toml}"\narms = ["control", "musk_agonist@10:0.5"]\nper_arm = 3\n')
    out = tmp_path / "trial"
    assert main(["trial", "--design", str(design), "--days", "40", "--out", str(out)]) == 0   # seed drawn
    entry = _only_run(tmp_path)
    assert entry.seed == json.loads((out / "trial.json").read_text())["seed"]
    provenance = read_provenance(out)
    assert provenance["scenario"]["name"] == "small" and set(provenance["input_files"]) == {str(design), str(small_toml)}
    code, printed, _ = _rerun(capsys, entry, tmp_path, tmp_path / "again")
    assert code == 0 and "identical: 3 stored result(s)" in printed   # two arms' results.zarr and trial.json


def test_window_reruns_bit_for_bit(small_toml, tmp_path, capsys):
    out = tmp_path / "window"
    assert main(["window", str(small_toml), "--treat", "musk_agonist:0.5", "--start-days", "5,15", "--per-arm", "2",
                 "--days", "30", "--seed", "4", "--out", str(out)]) == 0
    entry = _only_run(tmp_path)
    assert entry.command == "window" and entry.seed == 4
    code, printed, _ = _rerun(capsys, entry, tmp_path, tmp_path / "again")
    assert code == 0 and "identical: 4 stored result(s)" in printed   # three arms and window.json


@pytest.fixture
def preset_150(tmp_path):
    """Small muscles and a 150-day horizon, as in tests/test_cli_calibration.py."""
    path = tmp_path / "small150.toml"
    write_small_preset(path, extra=["horizon_days = 150"])
    return path


def test_sweep_reruns_bit_for_bit(small_toml, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", str(small_toml), "--vary", "disease.burden_scale_days=70,90", "--subjects", "3",
                 "--days", "40", "--out", str(out)]) == 0
    entry = _only_run(tmp_path)
    assert entry.command == "sweep" and entry.seed is not None        # drawn, recorded, given back to the rerun
    code, printed, _ = _rerun(capsys, entry, tmp_path, tmp_path / "again")
    assert code == 0 and "identical: 2 stored result(s)" in printed   # endpoints.csv and sweep.json


def test_calibrate_reruns_bit_for_bit(preset_150, tmp_path, capsys):
    out = tmp_path / "cal"
    assert main(["calibrate", "--hypothesis", "dying_back", "--preset", str(preset_150), "--budget", "32",
                 "--population", "8", "--subjects", "3", "--draws", "2", "--workers", "1", "--seed", "3",
                 "--out", str(out)]) == 0
    entry = _only_run(tmp_path)
    assert entry.command == "calibrate" and entry.seed == 3 and entry.status == "complete"
    provenance = read_provenance(out)
    assert provenance["request"]["budget"] == 32 and str(preset_150) in provenance["input_files"]
    assert json.loads((out / "summary.json").read_text())["run_id"] == entry.run_id
    code, printed, _ = _rerun(capsys, entry, tmp_path, tmp_path / "again")
    assert code == 0 and "identical: 2 stored result(s)" in printed   # posterior.csv and predictive.zarr


def test_bad_input_leaves_no_catalogue_row(small_toml, tmp_path):
    assert main(["run", str(small_toml), "--set", "rates.sprouting=nan", "--out", str(tmp_path / "x")]) == 2
    assert main(["calibrate", "--hypothesis", "dying_back", "--preset", str(small_toml), "--priors", "nope.toml",
                 "--budget", "24", "--out", str(tmp_path / "y")]) == 2
    assert list(tmp_path.iterdir()) == [small_toml]


def test_runs_and_show(small_toml, tmp_path, capsys, no_report):
    assert main(["runs", "--dir", str(tmp_path)]) == 0
    assert "no runs recorded" in capsys.readouterr().out
    assert main(["run", str(small_toml), "--subjects", "1", "--days", "5", "--seed", "9", "--out", str(tmp_path / "r")]) == 0
    entry = _only_run(tmp_path)
    capsys.readouterr()
    assert main(["runs", "--dir", str(tmp_path)]) == 0
    listed = capsys.readouterr().out
    assert entry.run_id in listed and "complete" in listed
    assert main(["show", entry.run_id, "--dir", str(tmp_path), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["run"]["seed"] == 9 and shown["provenance"]["run_id"] == entry.run_id
    assert main(["show", "run-nope", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no run 'run-nope'" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert main(["rerun", "run-nope", "--dir", str(tmp_path), "--out", str(tmp_path / "z")]) == 2


def test_concurrent_writers_share_one_catalogue(tmp_path):
    """Eight threads, each with its own connections, add and finish 25 runs each in one catalogue."""
    catalogue = Catalogue(tmp_path)
    errors = []

    def writer(k: int) -> None:
        try:
            for i in range(25):
                entry = RunEntry(run_id=f"{new_run_id()}-{k}-{i}", command="run", argv=["run", str(i)],
                                 scenario_hash=None, seed=None, alsim_version="test", status="running",
                                 started="2026-01-01T00:00:00+00:00", finished=None, output_path=str(tmp_path / f"{k}-{i}"),
                                 cwd=str(tmp_path))
                catalogue.add(entry)
                catalogue.finish(entry.run_id, "complete", seed=i)
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = catalogue.entries()
    assert len(entries) == 200 and {e.status for e in entries} == {"complete"}
    assert sorted(e.seed for e in entries) == sorted(list(range(25)) * 8)


@pytest.mark.parametrize("argv, seed, expected", [
    (["run", "p", "--out", "a"], 7, ["run", "p", "--seed", "7", "--out", "/n"]),
    (["run", "p", "--seed", "3", "--out=a", "--overwrite"], 3, ["run", "p", "--seed", "3", "--out", "/n"]),
    (["calibrate", "--resume", "--out", "a", "--seed", "1"], 1, ["calibrate", "--seed", "1", "--out", "/n"]),
    (["trial", "p", "--per-arm", "3"], 11, ["trial", "p", "--per-arm", "3", "--seed", "11", "--out", "/n"]),
    (["trial", "--scheduler", "tcp://h:1", "p", "--seed=2"], 2, ["trial", "p", "--seed=2", "--out", "/n"]),
])
def test_rerun_argv(argv, seed, expected):
    assert rerun_argv(argv, seed=seed, out="/n") == expected


def test_a_row_whose_process_is_gone_reads_as_interrupted(tmp_path):
    """A ``running`` row written by a process of this host that no longer lives is ``interrupted``;
    one of a live process stays ``running``; one from another host cannot be judged and stays too."""
    import subprocess

    from alsim.store.catalogue import this_process

    gone = subprocess.Popen(["true"])
    gone.wait()
    catalogue = Catalogue(tmp_path)
    rows = {"dead": {**this_process(), "pid": gone.pid}, "alive": this_process(),
            "elsewhere": {**this_process(), "host": "another-host", "pid": gone.pid}}
    for name, process in rows.items():
        catalogue.add(RunEntry(run_id=name, command="run", argv=["run"], scenario_hash=None, seed=None,
                               alsim_version="test", status="running", started="2026-01-01T00:00:00+00:00",
                               finished=None, output_path=str(tmp_path / name), cwd=str(tmp_path), **process))
    assert {e.run_id: e.status for e in catalogue.entries()} == {"dead": "interrupted", "alive": "running",
                                                               "elsewhere": "running"}
    assert catalogue.get("dead").status == "interrupted"


def test_a_version_1_catalogue_is_read_and_upgraded(tmp_path):
    """A catalogue written before rows recorded their process: read as it is, upgraded when next written."""
    import sqlite3

    with sqlite3.connect(tmp_path / "alsim-catalogue.sqlite") as conn:
        conn.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, command TEXT NOT NULL, argv TEXT NOT NULL, "
                     "scenario_hash TEXT, seed INTEGER, alsim_version TEXT NOT NULL, status TEXT NOT NULL, "
                     "started TEXT NOT NULL, finished TEXT, output_path TEXT NOT NULL, cwd TEXT NOT NULL)")
        conn.execute("INSERT INTO runs VALUES ('old', 'run', '[]', NULL, 1, '0.1.0', 'running', "
                     "'2026-01-01T00:00:00+00:00', NULL, '/x', '/')")
    conn.close()
    catalogue = Catalogue(tmp_path)
    assert [(e.run_id, e.status, e.pid) for e in catalogue.entries()] == [("old", "running", None)]
    catalogue.finish("old", "complete")
    assert [e.status for e in catalogue.entries()] == ["complete"]
