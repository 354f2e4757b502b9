"""``alsim bench --commands``: the commands users wait for, end to end, against the engine's own time.

Each command runs in this process exactly as a user types it (``alsim.cli.main``, output
to a temporary folder), and the same work is then timed stage by stage on the same
workers: the engine (:func:`alsim.engine.runner.simulate_census`), the readouts
(:func:`alsim.run.results_dataset`: lab, clinical and, where the command computes
them, electrophysiology), the store (:func:`alsim.store.write_results`) and the report
(:func:`alsim.report.write_report`). The ratio of a command to the engine is what the
user waits for each second of simulation (docs/performance.md, *Commands*). The stages
are timed apart from the command, so their sum need not equal it (the command also starts
a cluster, writes provenance and a summary).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MOUSE_PRESET = "sod1-g93a-b6sjl"
HUMAN_PRESET = "human-sals-limb"
TRIAL_ARMS = ("control", "muscle_gdnf@60")


def command_sizes(quick: bool) -> dict[str, int]:
    """Mice of ``run``, mice per arm of ``trial``, people of ``run``, simulations of ``calibrate``."""
    if quick:
        return dict(run_mice=4, trial_per_arm=3, people=1, calibrate_budget=40, calibrate_population=5,
                    calibrate_subjects=2, days=40,
                    human_days=0)
    return dict(run_mice=200, trial_per_arm=250, people=20, calibrate_budget=200, calibrate_population=20,
                    calibrate_subjects=12, days=0,
                human_days=0)


def _timed(func: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def _command(main: Callable[[list[str]], int], argv: list[str]) -> float:
    """Wall seconds of ``main(ARGV)``, the command line run in this process (its printing
    swallowed); raises if it fails."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        seconds, code = _timed(lambda: main(argv))
    if code != 0:
        raise RuntimeError(f"alsim {' '.join(argv)} exited {code}: {sink.getvalue()[-2000:]}")
    return seconds


def _stages(scenario, *, subjects: int, days: int, workers: int, folder: Path, electrophysiology: bool,
            stop_at_end_stage: bool = False) -> dict[str, float]:
    """Seconds of each stage of a cohort: engine, readouts, store, report (one cluster for the first two)."""
    from .report import write_report
    from .run import DEFAULT_BLOCK_SIZE, local_scheduler, results_dataset, simulate_census
    from .run.tasks import local_threads
    from .store import write_results

    def cohort(address):
        engine_s, census = _timed(lambda: simulate_census(scenario, subjects=subjects, days=days, seed=1,
                                                          workers=workers, scheduler=address,
                                                          stop_at_end_stage=stop_at_end_stage))
        readouts_s, ds = _timed(lambda: results_dataset(scenario, census, seed=1, workers=workers,
                                                        scheduler=address, electrophysiology=electrophysiology))
        return engine_s, readouts_s, ds

    if workers > 1 and subjects > DEFAULT_BLOCK_SIZE:
        with local_scheduler(workers, threads=local_threads(workers, subjects)) as address:   # as the commands
            engine_s, readouts_s, ds = cohort(address)
    else:
        engine_s, readouts_s, ds = cohort(None)
    store_s, _ = _timed(lambda: write_results(ds, folder / "stages"))
    report_s, _ = _timed(lambda: write_report(ds, folder / "stages" / "report.html", training=[]))
    return {"engine_s": engine_s, "readouts_s": readouts_s, "store_s": store_s, "report_s": report_s}


def _shares(stages: dict[str, float], command_s: float) -> dict[str, float]:
    total = sum(stages.values())
    return {**stages, "command_s": command_s, "ratio_to_engine": command_s / stages["engine_s"],
            **{name.replace("_s", "_share"): value / total for name, value in stages.items()}}


def run_commands(main: Callable[[list[str]], int], *, quick: bool = False, workers: int = 2,
                 report: Callable[[str], None] | None = None) -> dict:
    """Time ``alsim run`` (mice and people), ``alsim trial`` and ``alsim calibrate`` end to end, with the
    engine, readouts, store and report stages of the same cohorts. ``main``: the command line's
    entry point (:func:`alsim.cli.main`), run in this process."""
    import alsim

    say = report or (lambda _msg: None)
    n = command_sizes(quick)
    mouse, _ = alsim.load_scenario(MOUSE_PRESET, [])
    human, _ = alsim.load_scenario(HUMAN_PRESET, [])
    days = n["days"] or mouse.horizon_days
    human_days = n["human_days"] or human.horizon_days
    w = ["--workers", str(workers)]
    out: dict[str, object] = {"workers": workers, "sizes": n}
    with tempfile.TemporaryDirectory(prefix="alsim-bench-") as tmp:
        root = Path(tmp)
        _command(main, ["run", MOUSE_PRESET, "--subjects", "2", "--days", "8", "--seed", "1", "--out", str(root / "warm")])
        say(f"alsim run {MOUSE_PRESET} --subjects {n['run_mice']} on {workers} worker(s)")
        command_s = _command(main, ["run", MOUSE_PRESET, "--subjects", str(n["run_mice"]), "--days", str(days), "--seed", "1",
                              "--out", str(root / "run"), *w])
        stages = _stages(mouse, subjects=n["run_mice"], days=days, workers=workers, folder=root / "run-stages",
                         electrophysiology=True)
        out["run_mice"] = {"subjects": n["run_mice"], **_shares(stages, command_s)}
        say(f"alsim trial: 2 x {n['trial_per_arm']} mice")
        arms = [a for arm in TRIAL_ARMS for a in ("--arm", arm)]
        command_s = _command(main, ["trial", MOUSE_PRESET, *arms, "--per-arm", str(n["trial_per_arm"]), "--days", str(days),
                              "--seed", "1", "--out", str(root / "trial"), *w])
        stages = _stages(mouse, subjects=2 * n["trial_per_arm"], days=days, workers=workers,
                         folder=root / "trial-stages", electrophysiology=False)
        out["trial"] = {"subjects": 2 * n["trial_per_arm"], **_shares(stages, command_s)}
        say(f"alsim run {HUMAN_PRESET} --subjects {n['people']}")
        command_s = _command(main, ["run", HUMAN_PRESET, "--subjects", str(n["people"]), "--days", str(human_days),
                              "--seed", "1", "--out", str(root / "people"), *w])
        stages = _stages(human, subjects=n["people"], days=human_days, workers=workers, folder=root / "people-stages",
                         electrophysiology=True)
        out["run_people"] = {"subjects": n["people"], **_shares(stages, command_s),
                             "emg_to_engine": stages["readouts_s"] / stages["engine_s"]}
        say(f"alsim calibrate --budget {n['calibrate_budget']}")
        command_s = _command(main, ["calibrate", "--preset", MOUSE_PRESET, "--hypothesis", "dying_back",
                              "--budget", str(n["calibrate_budget"]), "--population", str(n["calibrate_population"]),
                              "--subjects", str(n["calibrate_subjects"]),
                              "--draws", "2", "--seed", "1", "--out", str(root / "calibrate"), *w])
        out["calibrate"] = {"budget": n["calibrate_budget"], "subjects": n["calibrate_subjects"],
                            "command_s": command_s, "simulations_per_s": n["calibrate_budget"] / command_s}
    return out


def command_rows(result: dict) -> list[tuple[str, str]]:
    """Rows (what, figure) for the printed table."""
    rows = []
    for key, label in (("run_mice", "alsim run, {subjects} mice"), ("trial", "alsim trial, {subjects} mice"),
                       ("run_people", "alsim run, {subjects} people")):
        r = result[key]
        rows.append((label.format(**r) + f", {result['workers']} worker(s)",
                     f"{r['command_s']:.1f} s = {r['ratio_to_engine']:.1f}x the engine's {r['engine_s']:.1f} s"))
        rows.append(("  stages: engine / readouts / store / report",
                     f"{r['engine_s']:.1f} / {r['readouts_s']:.1f} / {r['store_s']:.1f} / {r['report_s']:.1f} s "
                     f"({r['engine_share']:.0%} / {r['readouts_share']:.0%} / {r['store_share']:.0%} / "
                     f"{r['report_share']:.0%})"))
    c = result["calibrate"]
    rows.append((f"alsim calibrate, budget {c['budget']}, {c['subjects']} mice a simulation",
                 f"{c['command_s']:.1f} s, {c['simulations_per_s']:.2f} simulations/s"))
    return rows
