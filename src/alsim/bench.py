"""``alsim bench``: how fast the engines run here, in one process and one run.

Throughput is in endplate-days per second: endplates in the scenario times days
simulated, divided by wall seconds (docs/performance.md). Everything is measured on
the B6SJL preset (``--quick``: its muscles shrunk, fewer subjects and days, for tests),
except one figure for people: ``human-sals-limb`` with 16 times its sampled fibres (400
endplates a motor unit, about a hand muscle's density), simulated to the end stage.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Callable

import numpy as np

QUICK_MUSCLES = ["muscles.gastrocnemius.n_fibres=500", "muscles.tibialis_anterior.n_fibres=400",
                 "muscles.soleus.n_fibres=200", "muscles.diaphragm.n_fibres=500",
                 "muscles.gastrocnemius.n_motor_units=20", "muscles.tibialis_anterior.n_motor_units=20",
                 "muscles.soleus.n_motor_units=10", "muscles.diaphragm.n_motor_units=20"]
TRIAL_TREATMENT = "muscle_gdnf@60"
HUMAN_FIBRE_FACTOR = 16


def _timed(func: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def _best_of(repeats: int, func: Callable[[], object]) -> tuple[float, list[float]]:
    """The fastest of ``repeats`` timings of ``func`` (seconds), and all of them.

    The minimum is the figure least disturbed by whatever else the machine is doing.
    """
    times = [_timed(func)[0] for _ in range(repeats)]
    return min(times), times


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _sizes(quick: bool) -> dict[str, int]:
    if quick:
        return dict(days=60, engine=4, reference=1, trial=40, scaling=8, block=5, repeats=1, scaling_block=2,
                    people=1, human_fibre_factor=1, human_days=365)
    return dict(days=180, engine=32, reference=1, trial=1000, scaling=64, block=25, repeats=3, scaling_block=8,
                people=4, human_fibre_factor=HUMAN_FIBRE_FACTOR, human_days=None)


def _people(*, people: int, fibre_factor: int, days: int | None, repeats: int) -> dict[str, float]:
    """The compiled engine on ``people`` people of ``human-sals-limb`` with ``fibre_factor``
    times its fibres, each to its end stage (or ``days``): endplate-days simulated per second
    (the best of ``repeats`` runs)."""
    import alsim
    from .engine.context import build_context
    from .run import simulate_census

    base, _ = alsim.load_scenario("human-sals-limb", [])
    scenario, _ = alsim.load_scenario("human-sals-limb", [f"muscles.{name}.n_fibres={m.n_fibres * fibre_factor}"
                                                          for name, m in base.muscles.items()])
    endplates = build_context(scenario).layout.n_endplates
    days = scenario.horizon_days if days is None else days
    simulate_census(scenario, subjects=1, days=2, seed=0)                     # the kernel for these dtypes

    def run():
        return simulate_census(scenario, subjects=people, days=days, seed=3, stop_at_end_stage=True)

    seconds, census = min((_timed(run) for _ in range(repeats)), key=lambda timing: timing[0])
    simulated = int(np.isfinite(census.counts["force"][:, 0, 1:]).sum())      # person-days stepped
    return {"endplates": endplates, "seconds_per_person": seconds / people,
            "endplate_days_per_s": endplates * simulated / seconds}


def _trial(scenario, treated, *, mice: int, days: int, workers: int, block: int) -> tuple[float, float]:
    """A two-arm trial (alternate allocation) on one cluster, endpoints included; as in a
    trial's power replicates, each mouse is simulated up to its end stage.

    Returns (wall seconds in all, seconds of that spent starting the cluster).
    """
    from .engine.census import Census
    from .run import blocks_of, census_block, clinical_events, local_scheduler, run_tasks

    arms = [(scenario, np.arange(0, mice, 2)), (treated, np.arange(1, mice, 2))]
    tasks = [(s, 1, b, days, True) for s, subjects in arms for b in blocks_of(subjects, block)]
    start = time.perf_counter()
    with local_scheduler(workers, threads=True) if workers > 1 else _no_cluster() as address:
        started = time.perf_counter()
        parts = run_tasks(census_block, tasks, scheduler=address)
    n_control = len(blocks_of(arms[0][1], block))
    for s, arm_parts in ((scenario, parts[:n_control]), (treated, parts[n_control:])):
        clinical_events(s, Census.concatenate(arm_parts).counts["force"])
    return time.perf_counter() - start, started - start


def _scaling(scenario, *, mice: int, days: int, block: int, repeats: int) -> dict[str, float]:
    """Seconds (best of ``repeats``) to simulate ``mice`` in blocks of ``block`` on 1 worker (in
    this process), and on 2 workers of a local cluster already started (its start-up is not
    counted): 2 threads of this process (what cohorts and trials use) and 2 worker processes."""
    from .run import blocks_of, census_block, local_scheduler, run_tasks

    tasks = [(scenario, 2, b, days) for b in blocks_of(mice, block)]
    one, _ = _best_of(repeats, lambda: [census_block(*task) for task in tasks])
    seconds = {"one": one}
    for kind, threads in (("threads", True), ("processes", False)):
        with local_scheduler(2, threads=threads) as address:
            run_tasks(census_block, tasks[:2], scheduler=address)      # worker processes import alsim and load the kernels
            seconds[kind], _ = _best_of(repeats, lambda: run_tasks(census_block, tasks, scheduler=address))
    return seconds


class _no_cluster:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def run_bench(*, quick: bool = False, workers: int | None = None,
              report: Callable[[str], None] | None = None) -> dict:
    """Time the compiled engine, the reference stepper, a two-arm trial and 1-to-2-worker scaling
    (threads and processes)."""
    import alsim
    from .biology.interventions import builtin_catalogue, parse_treatment, with_treatments
    from .engine.context import build_context
    from .engine.census import snapshot_days
    from .engine.fast.params import build_params
    from .engine.fast.state import initial_subject_state, state_bytes_per_subject
    from .run import simulate_census
    from .verification.reference import simulate_reference

    say = report or (lambda _msg: None)
    n = _sizes(quick)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = workers or max(1, cores)
    scenario, _ = alsim.load_scenario("sod1-g93a-b6sjl", QUICK_MUSCLES if quick else [])
    ctx = build_context(scenario)
    endplates, days = ctx.layout.n_endplates, n["days"]

    def epd_per_s(subjects: int, seconds: float) -> float:
        return subjects * endplates * days / seconds

    say("compiling (or loading cached) kernels")
    compile_s, _ = _timed(lambda: simulate_census(scenario, subjects=1, days=2, seed=0))
    say(f"compiled engine (best of {n['repeats']})")
    engine_s, engine_runs = _best_of(n["repeats"], lambda: simulate_census(scenario, subjects=n["engine"], days=days,
                                                                           seed=1))
    say("reference stepper")
    reference_s, _ = _timed(lambda: simulate_reference(scenario, subjects=n["reference"], days=days, seed=1))
    say(f"two-arm trial of {n['trial']} mice on {workers} worker(s)")
    treated = with_treatments(scenario, [parse_treatment(TRIAL_TREATMENT, builtin_catalogue())])
    trial_s, cluster_start_s = _trial(scenario, treated, mice=n["trial"], days=days, workers=workers, block=n["block"])
    say(f"people: human-sals-limb, {n['human_fibre_factor']}x its fibres (best of {n['repeats']})")
    human = _people(people=n["people"], fibre_factor=n["human_fibre_factor"], days=n["human_days"], repeats=n["repeats"])
    say(f"strong scaling, 1 and 2 workers (best of {n['repeats']})")
    scaling = _scaling(scenario, mice=n["scaling"], days=days, block=n["scaling_block"], repeats=n["repeats"])
    state = initial_subject_state(ctx, build_params(ctx), days)
    snapshot_bytes = len(snapshot_days(days)) * ctx.layout.n_units * (2 + 1)   # uint16 size + bool axon per unit
    census_bytes = (9 + 2 * 3) * ctx.layout.n_muscles * (days + 1) * 8 + snapshot_bytes
    per_mouse = state_bytes_per_subject(state) + census_bytes
    peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {
        "quick": quick,
        "scenario": scenario.name,
        "endplates_per_mouse": endplates,
        "units_per_mouse": ctx.layout.n_units,
        "days": days,
        "machine": {"cpu": _cpu_model(), "cores": cores, "cpu_count": os.cpu_count(), "python": platform.python_version()},
        "cores": cores,
        "numba_compile_or_cache_load_s": compile_s,
        "engine_subjects": n["engine"],
        "engine_s": engine_s,
        "engine_repeats_s": engine_runs,
        "engine_endplate_days_per_s": epd_per_s(n["engine"], engine_s),
        "reference_endplate_days_per_s": epd_per_s(n["reference"], reference_s),
        "speedup_vs_reference": epd_per_s(n["engine"], engine_s) / epd_per_s(n["reference"], reference_s),
        "trial_mice": n["trial"],
        "trial_workers": workers,
        "trial_s": trial_s,
        "trial_cluster_start_s": cluster_start_s,
        "trial_1000_mice_s": None if quick else trial_s,
        "human_fibre_factor": n["human_fibre_factor"],
        "human_endplates_per_person": human["endplates"],
        "human_s_per_person": human["seconds_per_person"],
        "human_endplate_days_per_s": human["endplate_days_per_s"],
        "scaling_subjects": n["scaling"],
        "scaling_1_worker_s": scaling["one"],
        "scaling_2_workers_s": scaling["threads"],
        "scaling_speedup_1_to_2": scaling["one"] / scaling["threads"],
        "scaling_2_worker_processes_s": scaling["processes"],
        "scaling_speedup_1_to_2_processes": scaling["one"] / scaling["processes"],
        "state_bytes_per_mouse": state_bytes_per_subject(state),
        "census_bytes_per_mouse": census_bytes,
        "mice_per_24_gib_in_one_block": int(24 * 2**30 // per_mouse),
        "peak_memory_mb": peak_kb / 1024,
    }


def format_table(result: dict) -> list[tuple[str, str]]:
    """Rows (what, figure) for the printed table."""
    return [
        ("machine", f"{result['machine']['cpu']}, {result['cores']} core(s)"),
        ("scenario", f"{result['scenario']}: {result['endplates_per_mouse']} endplates, {result['units_per_mouse']} units, "
                     f"{result['days']} days"),
        ("Numba compile (or cache load)", f"{result['numba_compile_or_cache_load_s']:.2f} s"),
        (f"compiled engine, 1 core (best of {len(result['engine_repeats_s'])})",
         f"{result['engine_endplate_days_per_s']:.3g} endplate-days/s"),
        ("reference stepper, 1 core", f"{result['reference_endplate_days_per_s']:.3g} endplate-days/s"),
        ("speed-up vs reference", f"{result['speedup_vs_reference']:.0f}x"),
        (f"two-arm trial, {result['trial_mice']} mice, {result['trial_workers']} worker(s)", f"{result['trial_s']:.1f} s"),
        ("  of which starting the local cluster", f"{result['trial_cluster_start_s']:.1f} s"),
        (f"people: human-sals-limb x{result['human_fibre_factor']} fibres ({result['human_endplates_per_person']} endplates)",
         f"{result['human_endplate_days_per_s']:.3g} endplate-days/s, {result['human_s_per_person']:.2f} s a person"),
        (f"{result['scaling_subjects']} mice on 1 / 2 worker threads (cluster started)",
         f"{result['scaling_1_worker_s']:.2f} s / {result['scaling_2_workers_s']:.2f} s "
         f"({result['scaling_speedup_1_to_2']:.2f}x)"),
        ("  on 2 worker processes instead",
         f"{result['scaling_2_worker_processes_s']:.2f} s ({result['scaling_speedup_1_to_2_processes']:.2f}x)"),
        ("state + census per mouse", f"{(result['state_bytes_per_mouse'] + result['census_bytes_per_mouse']) / 1e6:.2f} MB"),
        ("peak memory (this process or a worker)", f"{result['peak_memory_mb']:.0f} MB"),
    ]
