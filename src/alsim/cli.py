"""The command line: thin wrappers that parse, call the public API and print.

Bad input gives one line naming the field and what is allowed, exit code 2, and
writes nothing.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="alsim: simulate ALS from upper motor neuron to muscle fibre.")
err = Console(stderr=True)
out = Console()


class HypothesisName(str, Enum):
    dying_back = "dying_back"
    dying_forward = "dying_forward"
    independent = "independent"


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


@app.command()
def presets() -> None:
    """List the scenario presets, one line each."""
    from .config import load_scenario, preset_names

    for name in preset_names():
        scenario, _ = load_scenario(name)
        out.print(f"{name:22s} {scenario.description}", highlight=False, soft_wrap=True)


def _simulate_with_progress(scenario, *, subjects: int, days: int, seed: int | None, workers: int, label: str,
                            backend: str = "numba", scheduler: str | None = None):
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from .simulation import simulate

    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=subjects * days)
        return simulate(scenario, subjects=subjects, days=days, seed=seed, workers=workers,
                        progress=lambda n: bar.advance(task, n), backend=backend, scheduler=scheduler)


def _simulate_posterior_cohort(scenario, folder: Path, *, subjects: int, days: int, seed: int | None, workers: int,
                               backend: str, scheduler: str | None):
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from .engine.streams import fresh_seed
    from .inference.cohort import simulate_with_posterior

    seed = fresh_seed() if seed is None else seed
    with Progress(TextColumn(f"[bold]{scenario.name} (posterior)"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task("posterior cohort", total=subjects * days)
        return simulate_with_posterior(scenario, folder, subjects=subjects, days=days, seed=seed, workers=workers,
                                       scheduler=scheduler, backend=backend, progress=lambda n: bar.advance(task, n))


class BackendName(str, Enum):
    numba = "numba"
    numpy = "numpy"


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="A preset name (see `alsim presets`) or a TOML file, which may `extends` a preset.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder (created; must not exist unless --overwrite).")],
    subjects: Annotated[int, typer.Option(min=1, max=100_000, help="Number of animals.")] = 10,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: drawn and recorded).")] = None,
    days: Annotated[int | None, typer.Option(min=1, max=36_500, help="Days to simulate (default: the scenario's horizon_days).")] = None,
    hypothesis: Annotated[HypothesisName | None, typer.Option(help="Override the scenario's hypothesis.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=256, help="Worker processes (results do not depend on it).")] = 1,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter: dotted.path=value (repeatable).")] = None,
    treat: Annotated[list[str] | None, typer.Option("--treat", help="Give a treatment: NAME[@START_DAY][:DOSE], e.g. musk_agonist@60:0.5 (repeatable; @0 = from birth). See `alsim treatments`.")] = None,
    treatments_file: Annotated[list[Path] | None, typer.Option("--treatments", help="Extra treatment catalogue (TOML, same schema as the built-in one; repeatable).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = False,
    backend: Annotated[BackendName, typer.Option(help="Engine: numba (compiled, fast) or numpy (readable); same distribution, not the same bits.")] = BackendName.numba,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address tcp://host:port (default: a local cluster when --workers > 1).")] = None,
    posterior: Annotated[Path | None, typer.Option(help="Folder of an `alsim calibrate`/`compare` run: draw each subject's calibrated parameters from its posterior (of the scenario's hypothesis).")] = None,
) -> None:
    """Simulate a cohort and write results.zarr, summary.json and report.html."""
    from .config import ScenarioError, load_scenario

    overrides = list(set_ or [])
    if hypothesis is not None:
        overrides.append(f"hypothesis.name={hypothesis.value}")
    try:
        resolved, sources = load_scenario(scenario, overrides)
        resolved = _with_treatments(resolved, treat or [], treatments_file or [])
    except ScenarioError as exc:
        raise _fail(str(exc)) from None
    if out_dir.exists() and not overwrite:
        raise _fail(f"--out: folder {out_dir} already exists; choose another or pass --overwrite")
    try:
        if posterior is not None:
            ds = _simulate_posterior_cohort(resolved, posterior, subjects=subjects, days=days or resolved.horizon_days,
                                            seed=seed, workers=workers, backend=backend.value, scheduler=scheduler)
        else:
            ds = _simulate_with_progress(resolved, subjects=subjects, days=days or resolved.horizon_days, seed=seed,
                                         workers=workers, label=resolved.name, backend=backend.value, scheduler=scheduler)
    except ScenarioError as exc:
        raise _fail(str(exc)) from None
    except ValueError as exc:
        if "--scheduler" not in str(exc):
            raise
        raise _fail(str(exc)) from None
    folder = _write_run(out_dir, {resolved.hypothesis.name: ds}, resolved_sources=sources, overwrite=overwrite,
                        title=f"alsim run: {resolved.name} ({resolved.hypothesis.name})")
    _print_summary(ds)
    out.print(f"wrote {folder}/results.zarr, summary.json and report.html", highlight=False)


def _with_treatments(scenario, treat: list[str], files: list[Path]):
    """The scenario with the ``--treat`` strings applied (ScenarioError on bad input)."""
    if not treat:
        return scenario
    from .biology.interventions import load_catalogue, parse_treatment, with_treatments

    catalogue = load_catalogue(files)
    return with_treatments(scenario, [parse_treatment(text, catalogue) for text in treat])


@app.command()
def treatments(
    treatments_file: Annotated[list[Path] | None, typer.Option("--treatments", help="Extra treatment catalogue (TOML).")] = None,
) -> None:
    """List the treatment catalogue: compartment, the rates each one scales, and its source."""
    from .biology.interventions import load_catalogue
    from .config import ScenarioError

    try:
        catalogue = load_catalogue(treatments_file or [])
    except ScenarioError as exc:
        raise _fail(str(exc)) from None
    table = Table(title="treatments (factor on each rate at full dose)")
    for column in ("name", "kind", "compartment", "effects", "onset (d)", "source"):
        table.add_column(column, overflow="fold")
    for name, t in catalogue.items():
        effects = ", ".join(f"{target} x{factor:g}" for target, factor in t.effects.items())
        reach = "" if t.reach == "systemic" else f" [{', '.join(t.muscles)}]"
        table.add_row(name, t.kind, t.compartment + reach, effects, f"{t.onset_days:g}", t.source)
    out.print(table)


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("alsim-demo"),
    subjects: Annotated[int, typer.Option(min=1, max=10_000, help="Animals per hypothesis.")] = 24,
    seed: Annotated[int, typer.Option(min=0, help="Root seed.")] = 2026,
    workers: Annotated[int, typer.Option(min=1, max=256, help="Worker processes.")] = 1,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = True,
) -> None:
    """Run the B6SJL preset under dying-back and dying-forward and write one report comparing them."""
    from .config import load_scenario

    if out_dir.exists() and not overwrite:
        raise _fail(f"--out: folder {out_dir} already exists; choose another or pass --overwrite")
    results, sources = {}, {}
    for name in ("dying_back", "dying_forward"):
        scenario, sources = load_scenario("sod1-g93a-b6sjl", [f"hypothesis.name={name}"])
        results[name] = _simulate_with_progress(scenario, subjects=subjects, days=scenario.horizon_days,
                                                seed=seed, workers=workers, label=name)
    folder = _write_run(out_dir, results, resolved_sources=sources, overwrite=overwrite,
                        title="alsim demo: SOD1-G93A (B6SJL), dying-back versus dying-forward")
    for ds in results.values():
        _print_summary(ds)
    out.print(f"report: {(folder / 'report.html').resolve()}", highlight=False)


def _load_trial_settings(scenario: str | None, design_file: Path | None, cli: dict) -> dict:
    """Merge a design file with command-line options (the command line wins where given)."""
    from .trials.design import read_design_file

    settings = read_design_file(design_file) if design_file is not None else {}
    for key, value in cli.items():
        if value not in (None, [], ()):
            settings[key] = value
    if scenario is not None:
        settings["scenario"] = scenario
    if "scenario" not in settings:
        raise _fail("SCENARIO: give a preset name or TOML file, or a --design file with `scenario = ...`")
    return settings


def _build_design(settings: dict, default_replicates: int = 0):
    """A validated TrialDesign from merged settings (ScenarioError names the field)."""
    from .biology.interventions import load_catalogue
    from .config import ScenarioError, load_scenario
    from .engine.streams import fresh_seed
    from .trials.design import TrialDesign, parse_arm

    overrides = list(settings.get("set", []))
    if settings.get("hypothesis"):
        overrides.append(f"hypothesis.name={settings['hypothesis']}")
    base, _ = load_scenario(str(settings["scenario"]), overrides)
    catalogue = load_catalogue([Path(p) for p in settings.get("treatments", [])])
    arms = settings.get("arms") or []
    if not isinstance(arms, list) or not all(isinstance(a, str) for a in arms):
        raise ScenarioError("arms: expected a list of strings such as [\"control\", \"musk_agonist@60:0.5\"]")
    return TrialDesign(
        scenario=base, arms=tuple(parse_arm(a, catalogue) for a in arms),
        per_arm=int(settings.get("per_arm", 10)), days=int(settings.get("days") or base.horizon_days),
        seed=int(settings["seed"]) if settings.get("seed") is not None else fresh_seed(),
        replicates=int(settings.get("replicates", default_replicates)), alpha=float(settings.get("alpha", 0.05)),
        count_day=settings.get("count_day"), count_readout=settings.get("count_readout", "endplates_innervated_fraction"),
        count_muscle=settings.get("count_muscle"))


def _run_design(design, *, workers: int, scheduler: str | None, label: str):
    """Simulate replicate 0 (reported) and 1..R (power), with a progress bar."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from .trials.execute import run_replicates

    total = (design.replicates + 1) * len(design.arms) * design.per_arm * design.days
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        return run_replicates(design, list(range(design.replicates + 1)), workers=workers, scheduler=scheduler,
                              progress=lambda n: bar.advance(task, n))


def _write_trial(out_dir: Path, summary: dict, runs: dict, design, *, overwrite: bool, title: str, name: str,
                 extra_html: str = "") -> None:
    import json

    from .store import atomic_output_dir, write_results
    from .trials.report import write_trial_report

    with atomic_output_dir(out_dir, overwrite=overwrite) as tmp:
        summary["results"] = {}
        for i, label in enumerate(design.labels):
            folder = f"arms/arm-{i}"
            (tmp / folder).mkdir(parents=True)
            write_results(runs[0][label].dataset, tmp / folder)
            summary["results"][label] = f"{folder}/results.zarr"
        (tmp / name).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        write_trial_report(tmp / "report.html", summary, runs[0], design.muscle_for_count, title=title, extra_html=extra_html)


def _print_trial(summary: dict) -> None:
    table = Table(title=f"{summary['scenario']} ({summary['hypothesis']}), {summary['per_arm']} per arm, seed {summary['seed']}")
    table.add_column("arm", overflow="fold")
    for column in ("end stage (d)", "vs control", "HR", "log-rank p", "power"):
        table.add_column(column)

    def fmt(entry, key="value"):
        return "-" if not entry or entry.get(key) is None else f"{entry[key]:.3g}"

    for label, entry in summary["arms"].items():
        power = entry.get("power")
        table.add_row(label, fmt(entry["median_end_stage_day"]), fmt(entry.get("difference_end_stage_day")),
                      fmt(entry.get("hazard_ratio")), "-" if entry.get("logrank_p") is None else f"{entry['logrank_p']:.3g}",
                      "-" if power is None else f"{power['value']:.2f} ± {power['monte_carlo_se']:.2f}")
    out.print(table)


@app.command()
def trial(
    scenario: Annotated[str | None, typer.Argument(help="A preset name or TOML file (or give it in --design).")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder (created; must not exist unless --overwrite).")] = Path("alsim-trial"),
    arm: Annotated[list[str] | None, typer.Option("--arm", help="An arm: control, placebo, or NAME[@START_DAY][:DOSE][+...] (repeatable; one must be control).")] = None,
    per_arm: Annotated[int | None, typer.Option("--per-arm", min=2, max=100_000, help="Animals per arm.")] = None,
    replicates: Annotated[int | None, typer.Option(min=0, max=100_000, help="Repeat the trial on fresh animals this many times for power and effect distributions.")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: drawn and recorded).")] = None,
    days: Annotated[int | None, typer.Option(min=1, max=36_500, help="Follow-up, days of age (default: the scenario's horizon_days).")] = None,
    hypothesis: Annotated[HypothesisName | None, typer.Option(help="Override the scenario's hypothesis.")] = None,
    count_day: Annotated[int | None, typer.Option(min=0, help="Also compare an NMJ or motor-unit readout at this age.")] = None,
    count_readout: Annotated[str | None, typer.Option(help="Readout for --count-day (default endplates_innervated_fraction).")] = None,
    count_muscle: Annotated[str | None, typer.Option(help="Muscle for --count-day (default: the scenario's first).")] = None,
    design: Annotated[Path | None, typer.Option(help="TOML design file (keys: scenario, arms, per_arm, replicates, seed, days, count_day, ...).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a scenario parameter: dotted.path=value (repeatable).")] = None,
    treatments_file: Annotated[list[Path] | None, typer.Option("--treatments", help="Extra treatment catalogue (TOML; repeatable).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=1024, help="Dask workers on this machine (results do not depend on it).")] = 1,
    scheduler: Annotated[str | None, typer.Option(help="Address of an existing Dask scheduler, tcp://host:port.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = False,
) -> None:
    """An in-silico trial: randomised, sex-balanced, litter-aware arms; KM, log-rank, Cox; power with --replicates."""
    from .config import ScenarioError
    from .trials.analysis import summarise_trial

    cli = {"arms": arm, "per_arm": per_arm, "replicates": replicates, "seed": seed, "days": days,
           "hypothesis": hypothesis.value if hypothesis else None, "count_day": count_day, "count_readout": count_readout,
           "count_muscle": count_muscle, "set": set_, "treatments": [str(p) for p in treatments_file or []]}
    try:
        built = _build_design(_load_trial_settings(scenario, design, cli))
    except ScenarioError as exc:
        raise _fail(str(exc)) from None
    if out_dir.exists() and not overwrite:
        raise _fail(f"--out: folder {out_dir} already exists; choose another or pass --overwrite")
    runs = _run_design(built, workers=workers, scheduler=scheduler, label=f"trial {built.scenario.name}")
    summary = summarise_trial(built, runs)
    _write_trial(out_dir, summary, runs, built, overwrite=overwrite, name="trial.json",
                 title=f"alsim trial: {built.scenario.name} ({built.scenario.hypothesis.name})")
    _print_trial(summary)
    out.print(f"wrote {out_dir}/trial.json and report.html", highlight=False)


@app.command()
def window(
    scenario: Annotated[str, typer.Argument(help="A preset name or TOML file.")],
    treat: Annotated[str, typer.Option("--treat", help="The treatment: NAME[:DOSE] (start days come from --start-days).")],
    start_days: Annotated[str, typer.Option("--start-days", help="Ages at which to start, comma-separated, e.g. 30,45,60,75,90,105.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("alsim-window"),
    per_arm: Annotated[int, typer.Option("--per-arm", min=2, max=100_000, help="Animals per arm.")] = 12,
    replicates: Annotated[int, typer.Option(min=0, max=100_000, help="Replicate trials for power per start day.")] = 0,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: drawn and recorded).")] = None,
    days: Annotated[int | None, typer.Option(min=1, max=36_500, help="Follow-up, days of age.")] = None,
    hypothesis: Annotated[HypothesisName | None, typer.Option(help="Override the scenario's hypothesis.")] = None,
    count_day: Annotated[int | None, typer.Option(min=0, help="Age at which motor neurons (or --count-readout) are counted (default 110, or the follow-up if shorter).")] = None,
    count_readout: Annotated[str, typer.Option(help="Readout counted at --count-day.")] = "motor_neurons_alive_fraction",
    count_muscle: Annotated[str | None, typer.Option(help="Muscle for the count (default: the scenario's first).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a scenario parameter (repeatable).")] = None,
    treatments_file: Annotated[list[Path] | None, typer.Option("--treatments", help="Extra treatment catalogue (TOML).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=1024, help="Dask workers on this machine.")] = 1,
    scheduler: Annotated[str | None, typer.Option(help="Address of an existing Dask scheduler, tcp://host:port.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = False,
) -> None:
    """The same treatment started at different ages: its effect against start day."""
    from .config import ScenarioError
    from .trials.analysis import summarise_trial
    from .trials.report import window_section
    from .trials.window import parse_start_days, window_arms, window_summary

    try:
        starts = parse_start_days(start_days)
        labels = window_arms(treat, starts)
        settings = {"scenario": scenario, "arms": labels, "per_arm": per_arm, "replicates": replicates, "seed": seed,
                    "days": days, "hypothesis": hypothesis.value if hypothesis else None, "count_readout": count_readout,
                    "count_muscle": count_muscle, "set": set_ or [], "treatments": [str(p) for p in treatments_file or []]}
        follow_up = days
        if follow_up is None:
            from .config import load_scenario
            follow_up = load_scenario(scenario, list(set_ or []))[0].horizon_days
        settings["count_day"] = count_day if count_day is not None else min(110, follow_up)
        built = _build_design(settings)
    except ScenarioError as exc:
        raise _fail(str(exc)) from None
    if out_dir.exists() and not overwrite:
        raise _fail(f"--out: folder {out_dir} already exists; choose another or pass --overwrite")
    runs = _run_design(built, workers=workers, scheduler=scheduler, label=f"window {treat}")
    summary = window_summary(summarise_trial(built, runs), starts, labels)
    _write_trial(out_dir, summary, runs, built, overwrite=overwrite, name="window.json", extra_html=window_section(summary),
                 title=f"alsim window: {treat} in {built.scenario.name} ({built.scenario.hypothesis.name})")
    _print_trial(summary)
    out.print(f"wrote {out_dir}/window.json and report.html", highlight=False)


def _write_run(out_dir: Path, results: dict, *, resolved_sources: dict[str, str], overwrite: bool, title: str) -> Path:
    import json

    from .data import load_training
    from .report import write_report
    from .store import atomic_output_dir, summarise, write_results, write_summary

    with atomic_output_dir(out_dir, overwrite=overwrite) as tmp:
        if len(results) == 1:
            ds = next(iter(results.values()))
            write_results(ds, tmp)
            write_summary(summarise(ds), tmp)
        else:
            for label, ds in results.items():
                (tmp / label).mkdir()
                write_results(ds, tmp / label)
                write_summary(summarise(ds), tmp / label)
        (tmp / "sources.json").write_text(json.dumps(resolved_sources, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        write_report(results, tmp / "report.html", title=title, training=load_training())
    return out_dir


def _print_summary(ds) -> None:
    from .store import summarise

    s = summarise(ds)
    table = Table(title=f"{s['scenario']}, {s['hypothesis']}: {s['subjects']} subjects, seed {s['seed']}", min_width=60)
    table.add_column("endpoint")
    table.add_column("median day")
    table.add_column("IQR")
    table.add_column("reached")
    for key in ("onset_day", "end_stage_day"):
        d = s[key]
        iqr = "-" if d["q25"] is None else f"{d['q25']:.0f}-{d['q75']:.0f}"
        median = "-" if d["median"] is None else f"{d['median']:.1f}"
        table.add_row(key.removesuffix("_day").replace("_", " "), median, iqr, f"{d['n_reached']}/{s['subjects']}")
    out.print(table)


@app.command()
def bench(
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
    quick: Annotated[bool, typer.Option(help="A small version (seconds), for tests.")] = False,
    workers: Annotated[int | None, typer.Option(min=1, max=1024, help="Workers for the trial (default: the cores here).")] = None,
) -> None:
    """Time the compiled and NumPy engines, the reference stepper, a 1,000-mouse two-arm trial and 1-2 worker scaling."""
    import json

    from .bench import format_table, run_bench

    result = run_bench(quick=quick, workers=workers, report=None if json_ else (lambda m: err.print(m, highlight=False)))
    if json_:
        out.print_json(json.dumps(result))
        return
    table = Table(title="alsim bench" + (" (quick)" if quick else ""))
    table.add_column("what")
    table.add_column("figure")
    for row in format_table(result):
        table.add_row(*row)
    out.print(table)


from . import cli_inference  # noqa: E402,F401  (registers calibrate and compare)


def main(argv: list[str] | None = None) -> int:
    """Entry point; ``argv`` lets tests drive the CLI in-process. Returns the exit code."""
    try:
        app(args=argv, prog_name="alsim", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if argv is None:
            sys.exit(code)
        return code
    return 0


if __name__ == "__main__":
    main()
