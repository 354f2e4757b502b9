"""``alsim trial`` and ``alsim window``: the command-line side of :mod:`alsim.trials`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .cli import DaskWorkers, HypothesisName, Overwrite, Resume, Scheduler, _fail, _faults, _open_work, _recorded, app, err, out


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
    if base.species != "mouse":
        raise ScenarioError(f"scenario: trials and windows take mouse scenarios (onset and end stage as days of age); "
                            f"'{base.name}' is {base.species} (run it with alsim run; docs/human.md)")
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


def _start_work(command: str, out_dir: Path, design, seed: int | None, *, resume: bool, overwrite: bool):
    """The command's work folder (new, or continued with ``resume``) and the design with its seed."""
    from dataclasses import replace

    from .store import open_work_folder
    from .trials.execute import design_identity

    work = _open_work(lambda: open_work_folder(out_dir, design_identity(design, command), seed=seed, resume=resume,
                                               overwrite=overwrite), out_dir)
    return work, replace(design, seed=work.seed)


def _run_design(design, *, workers: int, scheduler: str | None, label: str, work=None):
    """Simulate replicate 0 (reported) and 1..R (power), with a progress bar; each arm of
    each replicate is saved in ``work`` as it is done, and loaded from there if it was."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from .trials.execute import run_replicates

    total = (design.replicates + 1) * len(design.arms) * design.per_arm * design.days
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        return run_replicates(design, list(range(design.replicates + 1)), workers=workers, scheduler=scheduler,
                              progress=lambda n: bar.advance(task, n), checkpoint=work)


def _write_trial(out_dir: Path, summary: dict, runs: dict, design, *, overwrite: bool, title: str, name: str,
                 record, work, extra_html: str = "") -> None:
    import json

    from .store import atomic_output_dir, write_results
    from .trials.report import write_trial_report

    with atomic_output_dir(out_dir, overwrite=overwrite, scratch=work.path) as tmp:
        summary["results"] = {}
        for i, label in enumerate(design.labels):
            folder = f"arms/arm-{i}"
            (tmp / folder).mkdir(parents=True)
            write_results(runs[0][label].dataset, tmp / folder)
            summary["results"][label] = f"{folder}/results.zarr"
        (tmp / name).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        record.write(tmp)
        write_trial_report(tmp / "report.html", summary, runs[0], design.muscle_for_count, title=title, extra_html=extra_html)
    work.remove()


def _print_trial(summary: dict) -> None:
    table = Table(title=escape(f"{summary['scenario']} ({summary['hypothesis']}), {summary['per_arm']} per arm, "
                               f"seed {summary['seed']}"))
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
    workers: DaskWorkers = 1,
    scheduler: Scheduler = None,
    overwrite: Overwrite = False,
    resume: Resume = False,
) -> None:
    """An in-silico trial: randomised, sex-balanced, litter-aware arms; KM, log-rank, Cox; power with --replicates."""
    from .config import ScenarioError
    from .trials.analysis import summarise_trial

    cli = {"arms": arm, "per_arm": per_arm, "replicates": replicates, "seed": seed, "days": days,
           "hypothesis": hypothesis.value if hypothesis else None, "count_day": count_day, "count_readout": count_readout,
           "count_muscle": count_muscle, "set": set_, "treatments": [str(p) for p in treatments_file or []]}
    try:
        settings = _load_trial_settings(scenario, design, cli)
        built = _build_design(settings)
    except ScenarioError as exc:
        raise _fail(str(exc)) from None
    work, built = _start_work("trial", out_dir, built, settings.get("seed"), resume=resume, overwrite=overwrite)
    with _faults(out_dir, work), _recorded("trial", out_dir, scenario=built.scenario, seed=built.seed,
                                           inputs=[design, settings["scenario"], *settings.get("treatments", [])]) as record:
        runs = _run_design(built, workers=workers, scheduler=scheduler, label=f"trial {built.scenario.name}", work=work)
        summary = summarise_trial(built, runs)
        _write_trial(out_dir, summary, runs, built, overwrite=overwrite, name="trial.json", record=record, work=work,
                     title=f"alsim trial: {built.scenario.name} ({built.scenario.hypothesis.name})")
    _print_trial(summary)
    out.print(f"wrote {out_dir}/trial.json and report.html", highlight=False, markup=False)


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
    workers: DaskWorkers = 1,
    scheduler: Scheduler = None,
    overwrite: Overwrite = False,
    resume: Resume = False,
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
    work, built = _start_work("window", out_dir, built, seed, resume=resume, overwrite=overwrite)
    with _faults(out_dir, work), _recorded("window", out_dir, scenario=built.scenario, seed=built.seed,
                                           inputs=[scenario, *(treatments_file or [])]) as record:
        runs = _run_design(built, workers=workers, scheduler=scheduler, label=f"window {treat}", work=work)
        summary = window_summary(summarise_trial(built, runs), starts, labels)
        _write_trial(out_dir, summary, runs, built, overwrite=overwrite, name="window.json", record=record, work=work,
                     extra_html=window_section(summary),
                     title=f"alsim window: {treat} in {built.scenario.name} ({built.scenario.hypothesis.name})")
    _print_trial(summary)
    out.print(f"wrote {out_dir}/window.json and report.html", highlight=False, markup=False)
