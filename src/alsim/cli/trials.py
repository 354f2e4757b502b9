"""``alsim trial`` and ``alsim window``: the command-line side of :mod:`alsim.trials`
(:func:`alsim.trials.trial.run_trial`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .common import (DaskWorkers, HypothesisName, Overwrite, PosteriorFolder, Resume, Scheduler, app, err, fail, faults,
                     open_work, out, posterior_file, recorded, warn_inert, warn_unsourced)

__all__ = ["trial", "window"]


def _start_work(command: str, out_dir: Path, design, seed: int | None, *, resume: bool, overwrite: bool,
                posterior: dict | None = None):
    """The command's work folder (new, or continued with ``resume``) and the design with its seed.
    ``posterior``: :func:`_posterior_record` (a run resumes only with the same posterior file)."""
    from dataclasses import replace

    from ..store import open_work_folder
    from ..trials.execute import design_identity

    identity = design_identity(design, command)
    if posterior is not None:
        identity["posterior_sha256"] = posterior["posterior_sha256"]
    work = open_work(lambda: open_work_folder(out_dir, identity, seed=seed, resume=resume, overwrite=overwrite), out_dir)
    return work, replace(design, seed=work.seed)


def _posterior_record(posterior: Path | None, design) -> dict | None:
    """``--posterior`` checked before any work (its posterior.csv must hold particles of the
    design's hypothesis; ScenarioError naming ``--posterior`` otherwise): as given, the file
    and its SHA-256, for trial.json / window.json and the page. None without it."""
    from ..store.provenance import file_sha256

    csv = posterior_file(posterior, design.scenario.hypothesis.name)
    if csv is None:
        return None
    return {"posterior_file": str(csv.resolve()), "posterior_sha256": file_sha256(csv)}


def _posterior_cohort(posterior: Path | None, design):
    """Each animal's posterior particle, drawn by its subject index from the trial's seed
    (:class:`alsim.inference.cohort.PosteriorCohort`, as ``alsim run --posterior``); None without one."""
    if posterior is None:
        return None
    from ..inference.cohort import PosteriorCohort
    from ..trials.execute import subjects_needed

    return PosteriorCohort.draw(design.scenario, posterior, subjects=subjects_needed(design), seed=design.seed)


def _posterior_html(summary: dict) -> str:
    """The page's paragraph on where the animals' parameters came from (empty without --posterior)."""
    from html import escape as html_escape

    record = summary.get("parameter_uncertainty")
    if not record:
        return ""
    return ("<p class='note'>Parameters: each animal's calibrated parameters were drawn (by its subject index, whatever "
            f"its arm) from the posterior of hypothesis {html_escape(record.get('posterior_hypothesis', '?'))} in "
            f"{html_escape(record.get('posterior_file', '?'))} (SHA-256 {html_escape(record.get('posterior_sha256', '?'))}); "
            "power and effects carry that parameter uncertainty.</p>")


def _warn(settings: dict, design) -> None:
    """Warnings about the design's scenario file (values without a source) and its arms
    (treatments that change nothing under the hypothesis); the command goes on."""
    overrides = list(settings.get("set") or [])
    if settings.get("hypothesis"):
        overrides.append(f"hypothesis.name={settings['hypothesis']}")
    warn_unsourced(settings["scenario"], overrides, recorded_in=None)
    warn_inert([t for arm in design.arms for t in arm.treatments], design.scenario.hypothesis)


def _run_with_progress(design, *, workers: int, scheduler: str | None, label: str, work=None, cohort=None):
    """:func:`alsim.trials.trial.run_trial` with a progress bar: replicate 0 (reported) and
    1..R (power); each arm of each replicate is saved in ``work`` as it is done, and loaded
    from there if it was. ``cohort``: each animal's parameters (``--posterior``)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from ..trials.trial import run_trial

    total = (design.replicates + 1) * len(design.arms) * design.per_arm * design.days
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        return run_trial(design, workers=workers, scheduler=scheduler, progress=lambda n: bar.advance(task, n),
                         checkpoint=work, cohort=cohort)


def _write_trial(out_dir: Path, summary: dict, runs: dict, design, *, overwrite: bool, title: str, name: str,
                 record, work, extra_html: str = "") -> None:
    """The output folder, written atomically: each arm's results.zarr, ``name`` (the
    summary as JSON), provenance.json and report.html."""
    import json

    from ..report.trial import write_trial_report
    from ..store import atomic_output_dir, write_results

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
    record = summary.get("parameter_uncertainty")
    if record:
        out.print(f"parameters: drawn per animal from {record['posterior_file']} (hypothesis "
                  f"{record['posterior_hypothesis']}, sha256 {record['posterior_sha256'][:12]}...)",
                  highlight=False, markup=False)


def _with_posterior(summary: dict, record: dict | None) -> dict:
    """``summary`` with the posterior file and its SHA-256 added to its ``parameter_uncertainty``."""
    if record is not None:
        summary["parameter_uncertainty"].update(record)
    return summary


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
    posterior: PosteriorFolder = None,
    workers: DaskWorkers = 1,
    scheduler: Scheduler = None,
    overwrite: Overwrite = False,
    resume: Resume = False,
) -> None:
    """An in-silico trial: randomised, sex-balanced, litter-aware arms; KM, log-rank, Cox; power with --replicates."""
    from ..config import ScenarioError
    from ..trials.trial import design_from_settings, trial_settings

    options = {"arms": arm, "per_arm": per_arm, "replicates": replicates, "seed": seed, "days": days,
               "hypothesis": hypothesis.value if hypothesis else None, "count_day": count_day,
               "count_readout": count_readout, "count_muscle": count_muscle, "set": set_,
               "treatments": [str(p) for p in treatments_file or []]}
    try:
        settings = trial_settings(scenario, design, options)
        built = design_from_settings(settings)
        posterior_record = _posterior_record(posterior, built)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    _warn(settings, built)
    work, built = _start_work("trial", out_dir, built, settings.get("seed"), resume=resume, overwrite=overwrite,
                              posterior=posterior_record)
    inputs = [design, settings["scenario"], *settings.get("treatments", [])]
    if posterior_record is not None:
        inputs.append(Path(posterior_record["posterior_file"]))
    with faults(out_dir, work), recorded("trial", out_dir, scenario=built.scenario, seed=built.seed,
                                         inputs=inputs) as record:
        result = _run_with_progress(built, workers=workers, scheduler=scheduler, label=f"trial {built.scenario.name}",
                                    work=work, cohort=_posterior_cohort(posterior, built))
        summary = _with_posterior(result.summary, posterior_record)
        _write_trial(out_dir, summary, result.runs, built, overwrite=overwrite, name="trial.json", record=record, work=work,
                     extra_html=_posterior_html(summary),
                     title=f"alsim trial: {built.scenario.name} ({built.scenario.hypothesis.name})")
    _print_trial(summary)
    out.print(f"wrote {out_dir}/trial.json and report.html", highlight=False, markup=False)


@app.command()
def window(
    scenario: Annotated[str, typer.Argument(help="A preset name or TOML file.")],
    treat: Annotated[str, typer.Option("--treat", metavar="NAME[:DOSE]", help="The treatment, as for `alsim run --treat NAME[@START_DAY][:DOSE]` but without @START_DAY: --start-days gives the start days.")],
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
    posterior: PosteriorFolder = None,
    workers: DaskWorkers = 1,
    scheduler: Scheduler = None,
    overwrite: Overwrite = False,
    resume: Resume = False,
) -> None:
    """The same treatment started at different ages: its effect against start day."""
    from ..config import ScenarioError
    from ..report.trial import window_section
    from ..trials.trial import design_from_settings, window_settings
    from ..trials.window import window_summary

    try:
        settings, starts, labels = window_settings(
            scenario, treat, start_days, count_day=count_day, per_arm=per_arm, replicates=replicates, seed=seed,
            days=days, hypothesis=hypothesis.value if hypothesis else None, count_readout=count_readout,
            count_muscle=count_muscle, set=set_ or [], treatments=[str(p) for p in treatments_file or []])
        built = design_from_settings(settings)
        posterior_record = _posterior_record(posterior, built)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    _warn(settings, built)
    work, built = _start_work("window", out_dir, built, seed, resume=resume, overwrite=overwrite,
                              posterior=posterior_record)
    inputs = [scenario, *(treatments_file or [])]
    if posterior_record is not None:
        inputs.append(Path(posterior_record["posterior_file"]))
    with faults(out_dir, work), recorded("window", out_dir, scenario=built.scenario, seed=built.seed,
                                         inputs=inputs) as record:
        result = _run_with_progress(built, workers=workers, scheduler=scheduler, label=f"window {treat}", work=work,
                                    cohort=_posterior_cohort(posterior, built))
        summary = window_summary(_with_posterior(result.summary, posterior_record), starts, labels)
        _write_trial(out_dir, summary, result.runs, built, overwrite=overwrite, name="window.json", record=record, work=work,
                     extra_html=_posterior_html(summary) + window_section(summary),
                     title=f"alsim window: {treat} in {built.scenario.name} ({built.scenario.hypothesis.name})")
    _print_trial(summary)
    out.print(f"wrote {out_dir}/window.json and report.html", highlight=False, markup=False)
