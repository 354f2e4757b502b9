"""``alsim calibrate`` and ``alsim compare``: the command-line side of :mod:`alsim.inference`."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import (
    CalibrationResume, CalibrationScheduler, CalibrationWorkers, HypothesisName, Overwrite, app, err, fail, faults, out,
    recorded, warn_unsourced,
)

__all__ = ["calibrate", "compare"]

DEFAULT_WORKERS = max(1, min(os.cpu_count() or 1, 8))

Budget = Annotated[int, typer.Option(min=10, max=10_000_000, help="Simulations to spend; no new generation starts once they are spent.")]
Population = Annotated[int | None, typer.Option(min=5, max=100_000, help="Particles per generation (default: a tenth of the budget, 20-500).")]
Subjects = Annotated[int | None, typer.Option(min=2, max=1000, help="Animals or people per simulated cohort (the statistics are cohort means, SDs, medians); default 12 mice or 20 people.")]
Draws = Annotated[int, typer.Option(min=2, max=10_000, help="Posterior draws simulated for the predictive checks and credible bands, per hypothesis.")]
Seed = Annotated[int, typer.Option(min=0, help="Root seed: the same seed gives the same posterior, whatever the number of workers.")]
Preset = Annotated[str, typer.Option(help="Preset (or TOML file) to calibrate; a mouse preset is fitted to the training rows of its strain, a human one to human.csv.")]
OutDir = Annotated[Path, typer.Option("--out", help="Output folder (must not exist unless --overwrite).")]


@contextmanager
def _progress():
    """Rich progress: one bar per ABC generation, then one for the predictive cohorts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..inference.calibration import Hooks

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=False) as bar:
        state = {"task": None}

        def on_generation(t: int, n: int) -> None:
            if state["task"] is not None:
                bar.update(state["task"], completed=bar.tasks[state["task"]].total)
            label = "prior sample" if t < 0 else f"generation {t}"
            state["task"] = bar.add_task(f"{label}: accepted particles", total=n)

        def on_task_done() -> None:
            if state["task"] is not None:
                bar.advance(state["task"])

        def on_predictive_start(n: int) -> None:
            state["task"] = bar.add_task("posterior predictive cohorts", total=n)

        yield Hooks(on_generation=on_generation, on_task_done=on_task_done,
                    on_predictive_start=on_predictive_start, on_draw=on_task_done)


def _run(request, out_dir: Path, *, resume: bool, overwrite: bool, workers: int, scheduler: str | None) -> dict:
    from dataclasses import asdict

    from ..config import ScenarioError, load_scenario
    from ..inference.calibration import in_progress_folder, run_calibration
    from ..store.results import OutputExistsError

    warn_unsourced(request.preset, recorded_in=None)
    try:
        # The catalogue row is added by hooks.on_start, once run_calibration has checked its input.
        with faults(out_dir, in_progress_folder(out_dir)), _progress() as hooks, \
                recorded(request.command, out_dir, request=asdict(request), seed=request.seed,
                          scenario=load_scenario(request.preset)[0], start=False,
                          inputs=[request.preset, *request.priors_files]) as record:
            hooks.on_start, hooks.on_finish = record.start, record.write
            return run_calibration(request, out_dir, resume=resume, overwrite=overwrite, workers=workers,
                                   scheduler=scheduler, hooks=hooks, run_id=record.run_id)
    except (ScenarioError, OutputExistsError) as exc:
        raise fail(str(exc)) from None
    except ValueError as exc:
        if "--scheduler" not in str(exc):
            raise
        raise fail(str(exc)) from None


def _request(command: str, hypotheses: list[str], priors: list[str | None], **settings):
    """The checked :func:`alsim.inference.verbs.calibration_request`; its warnings on stderr."""
    from ..config import ScenarioError
    from ..inference.verbs import calibration_request

    try:
        return calibration_request(command, hypotheses, priors, **settings,
                                   warn=lambda message: err.print(message, highlight=False, markup=False))
    except ScenarioError as exc:
        raise fail(str(exc)) from None


def _print_result(summary: dict, out_dir: Path) -> None:
    table = Table(title=f"{summary['request']['command']}: {summary['strain']}, {summary['n_simulations']} simulations")
    for column in ("hypothesis", "probability", "MC SE", "rows covered (95 %)"):
        table.add_column(column)
    for h, p in summary["model_probabilities"].items():
        cover = summary["predictive_coverage_95"].get(h)
        table.add_row(h, f"{p:.3f}", f"{summary['monte_carlo_se'][h]:.3f}",
                      f"{cover['covered']}/{cover['fitted']}" if cover else "no particles")
    out.print(table)
    for h, ess in summary.get("posterior_effective_sample_size", {}).items():
        if ess < 10:
            err.print(f"warning: the {h} posterior rests on an effective {ess:.1f} particles; its medians and "
                      f"intervals are rough (raise --budget or --population)", highlight=False, markup=False)
    out.print(f"wrote {out_dir}/posterior.csv, compare.json, predictive.json, report.html", highlight=False)


@app.command()
def calibrate(
    out_dir: OutDir,
    hypothesis: Annotated[HypothesisName | None, typer.Option(help="The hypothesis whose parameters to fit (default: the preset's).")] = None,
    preset: Preset = "sod1-g93a-b6sjl",
    budget: Budget = 2000,
    population: Population = None,
    subjects: Subjects = None,
    draws: Draws = 30,
    seed: Seed = 1,
    workers: CalibrationWorkers = DEFAULT_WORKERS,
    scheduler: CalibrationScheduler = None,
    priors: Annotated[str | None, typer.Option(help="A priors TOML file (default: the packaged one of the hypothesis; priors/human.toml for human presets).")] = None,
    resume: CalibrationResume = False,
    overwrite: Overwrite = False,
) -> None:
    """Fit one hypothesis to the training data by ABC-SMC (pyabc) and write the posterior.

    Mouse presets are fitted to the training rows of their strain; human presets to the
    three rows of human.csv (docs/calibration.md)."""
    from ..config import ScenarioError
    from ..inference.verbs import load_preset

    try:
        chosen = hypothesis.value if hypothesis is not None else load_preset(preset).hypothesis.name
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    request = _request("calibrate", [chosen], [priors], preset=preset, budget=budget, population=population,
                       subjects=subjects, draws=draws, seed=seed)
    summary = _run(request, out_dir, resume=resume, overwrite=overwrite, workers=workers, scheduler=scheduler)
    _print_result(summary, out_dir)


@app.command()
def compare(
    out_dir: OutDir,
    preset: Preset = "sod1-g93a-b6sjl",
    budget: Budget = 3000,
    population: Population = None,
    subjects: Subjects = None,
    draws: Draws = 30,
    seed: Seed = 1,
    workers: CalibrationWorkers = DEFAULT_WORKERS,
    scheduler: CalibrationScheduler = None,
    priors: Annotated[list[str] | None, typer.Option(help="HYPOTHESIS=FILE: replace the packaged priors of one hypothesis (repeatable).")] = None,
    structures: Annotated[str | None, typer.Option(help="Comma-separated structures (original, terminal_first): compare every structure x hypothesis, fitted to B6SJL and C57BL6 together (docs/calibration.md); writes structures.json and each model's posterior; --preset, --priors and --draws do not apply.")] = None,
    resume: CalibrationResume = False,
    overwrite: Overwrite = False,
) -> None:
    """Posterior probabilities of dying_back, dying_forward and independent (ABC-SMC model selection).

    With --structures, of every structure x hypothesis on B6SJL and C57BL6 together."""
    from ..config import ScenarioError
    from ..config.schema import HYPOTHESES
    from ..inference.verbs import priors_by_hypothesis

    if structures is not None:
        if priors or preset != "sod1-g93a-b6sjl":
            raise fail("--structures fits the packaged priors of sod1-g93a-b6sjl and sod1-g93a-c57bl6 together; "
                       "leave out --preset and --priors")
        _compare_structures(structures, out_dir, budget=budget, population=population, subjects=subjects, seed=seed,
                            workers=workers, resume=resume, overwrite=overwrite)
        return
    try:
        files = priors_by_hypothesis(priors or [])
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    request = _request("compare", list(HYPOTHESES), [files.get(h) for h in HYPOTHESES], preset=preset, budget=budget,
                       population=population, subjects=subjects, draws=draws, seed=seed)
    summary = _run(request, out_dir, resume=resume, overwrite=overwrite, workers=workers, scheduler=scheduler)
    _print_result(summary, out_dir)


def _compare_structures(structures: str, out_dir: Path, *, budget: int, population: int | None,
                        subjects: int | None, seed: int, workers: int, resume: bool, overwrite: bool) -> None:
    from dataclasses import asdict

    from ..config import ScenarioError, load_scenario
    from ..inference.calibration import in_progress_folder
    from ..inference.structure_run import run_structure_comparison, structure_request, summary_rows
    from ..store.results import OutputExistsError

    try:
        request = structure_request(structures, budget=budget, population=population, subjects=subjects, seed=seed)
        with faults(out_dir, in_progress_folder(out_dir)), _progress() as hooks, \
                recorded("compare", out_dir, request=asdict(request), seed=seed,
                         scenario=load_scenario("sod1-g93a-b6sjl")[0], start=False) as record:
            hooks.on_start, hooks.on_finish = record.start, record.write
            summary = run_structure_comparison(request, out_dir, resume=resume, overwrite=overwrite, workers=workers,
                                               hooks=hooks)
    except (ScenarioError, OutputExistsError) as exc:
        raise fail(str(exc)) from None
    table = Table(title=f"compare --structures: B6SJL + C57BL6, {summary['n_simulations']} simulations, "
                        f"{summary['generations']} generations")
    for column in ("model", "probability", "ESS of its particles", "parameters"):
        table.add_column(column)
    for row in summary_rows(summary):
        table.add_row(*row)
    out.print(table)
    low = [m["model"] for m in summary["models"] if m["probability"] > 0.05 and m["effective_sample_size"] < 100]
    if low:
        err.print(f"warning: {', '.join(low)} keep more than 5 % with fewer than 100 effective particles; the "
                  "probabilities are rough (raise --budget, and compare runs with other --seed values)",
                  highlight=False, markup=False)
    out.print(f"wrote {out_dir}/structures.json, posteriors/ and structures.db", highlight=False)
