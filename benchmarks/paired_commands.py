"""Paired, run-for-run timing of the commands users wait for: an old checkout against this one.

Usage: python benchmarks/paired_commands.py OLD_SRC NEW_SRC PAIRS OUT.json [COMMAND ...]

COMMAND: any of run_mice, trial, run_people, engine (default: all, after a warm-up run of each tree).
Sizes: environment variables PAIRED_MICE (default 50), PAIRED_PER_ARM (50), PAIRED_PEOPLE (2);
the issue's sizes are 200, 250 and 20.

Each pair runs the same command with the old source tree (OLD_SRC on PYTHONPATH) and the
new one, alternating which goes first, so that the load of a shared machine falls on both
alike; the figures are per-pair ratios old/new, reported as median and range, of wall seconds
and of CPU seconds (the command's process and its workers). Commands:
``alsim run`` of 50 mice, ``alsim trial`` of 2 x 50 mice and ``alsim run`` of 2 people, each on
2 workers (people on 1 worker before 2026-12-07), and the engine alone (``simulate_census``) on the
same mice.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MICE, PER_ARM, PEOPLE = (int(os.environ.get(f"PAIRED_{name}", default))
                         for name, default in (("MICE", 50), ("PER_ARM", 50), ("PEOPLE", 2)))
COMMANDS = {
    "run_mice": ["run", "sod1-g93a-b6sjl", "--subjects", str(MICE), "--seed", "1", "--workers", "2"],
    "trial": ["trial", "sod1-g93a-b6sjl", "--arm", "control", "--arm", "muscle_gdnf@60", "--per-arm",
                    str(PER_ARM), "--seed", "1", "--workers", "2"],
    "run_people": ["run", "human-sals-limb", "--subjects", str(PEOPLE), "--seed", "1", "--workers", "2"],
}
# simulate_census lives in alsim.run since the house restructuring, in alsim.engine.runner before it
ENGINE = ("import time, importlib.util, alsim; "
          "simulate_census = importlib.import_module('alsim.run' if importlib.util.find_spec('alsim.run') "
          "else 'alsim.engine.runner').simulate_census; "
          "s, _ = alsim.load_scenario('sod1-g93a-b6sjl'); simulate_census(s, subjects=1, days=2, seed=0); "
          "t = time.perf_counter(); simulate_census(s, subjects={n}, days=s.horizon_days, seed=1, workers=2); "
          "print(time.perf_counter() - t)")


CPU: dict[str, list[float]] = {}
"""CPU seconds of each timed command (its process and the worker processes it started and
reaped), by ``label name``: on a loaded machine they vary much less than wall seconds."""


def timed(src: str, argv: list[str], key: str | None = None) -> float:
    env = {**os.environ, "PYTHONPATH": src}
    out = tempfile.mkdtemp(prefix="paired-")
    shutil.rmtree(out)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    alsim = str(Path(sys.executable).with_name("alsim"))     # the console script: it registers every command
    subprocess.run([alsim, *argv, "--out", out], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if key is not None:
        CPU.setdefault(key, []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    shutil.rmtree(out, ignore_errors=True)
    return seconds


def engine(src: str, n: int) -> float:
    env = {**os.environ, "PYTHONPATH": src}
    return float(subprocess.run([sys.executable, "-c", ENGINE.format(n=n)], env=env, check=True,
                                capture_output=True, text=True).stdout.split()[-1])


def main(old: str, new: str, pairs: int, path: str, only: list[str]) -> None:
    results: dict[str, dict[str, list[float]]] = {}
    for src in (old, new) if not only else ():    # compile (or load) both trees' kernels before any timing
        timed(src, ["run", "sod1-g93a-b6sjl", "--subjects", "2", "--days", "30", "--seed", "1"])
        timed(src, ["run", "human-sals-limb", "--subjects", "1", "--seed", "1"])    # a human run needs an onset
    for name, argv in COMMANDS.items():
        if only and name not in only:
            continue
        runs = results.setdefault(name, {"old": [], "new": []})
        for i in range(pairs):
            order = (("old", old), ("new", new)) if i % 2 == 0 else (("new", new), ("old", old))
            for label, src in order:
                runs[label].append(timed(src, argv, f"{label} {name}"))
                print(name, label, f"{runs[label][-1]:.1f} s, CPU {CPU[f'{label} {name}'][-1]:.1f} s", flush=True)
    if not only or "engine" in only:
        results["engine_run_mice"] = {"new": [engine(new, MICE) for _ in range(pairs)]}
        results["engine_trial_mice"] = {"new": [engine(new, 2 * PER_ARM) for _ in range(pairs)]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump({**results, "cpu_s": CPU}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:])
