"""``alsim sweep``: the command-line side of :mod:`alsim.trials.sweep`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .common import (
    DaskWorkers, HypothesisName, Overwrite, Resume, Scheduler, app, err, fail, faults, open_work, out, overrides, recorded,
    warn_unsourced,
)

__all__ = ["sweep"]

SHOWN_POINTS = 30
"""Points printed in the terminal table (all are in sweep.csv and the report)."""


def _run_with_progress(design, *, workers: int, scheduler: str | None, work):
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from ..trials.sweep import run_sweep

    label = f"sweep {design.name}"
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=len(design.points) * design.subjects * design.days)
        return run_sweep(design, workers=workers, scheduler=scheduler, progress=lambda n: bar.advance(task, n),
                         checkpoint=work)


def _write_sweep(out_dir: Path, design, summary: dict, endpoints: dict, *, overwrite: bool, record, work) -> None:
    from ..report.sweep import write_sweep_report
    from ..store import atomic_output_dir
    from ..trials.sweep_tables import sweep_tables

    points, per_subject = sweep_tables(summary, endpoints)
    with atomic_output_dir(out_dir, overwrite=overwrite, scratch=work.path) as tmp:
        (tmp / "sweep.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        points.to_csv(tmp / "sweep.csv", index=False)
        per_subject.to_csv(tmp / "endpoints.csv", index=False)
        record.write(tmp)
        write_sweep_report(tmp / "report.html", summary,
                           title=f"alsim sweep: {design.name} ({design.base.hypothesis.name})")
    work.remove()


def _print_sweep(summary: dict) -> None:
    table = Table(title=escape(f"{summary['scenario']} ({summary['hypothesis']}), {summary['subjects_per_point']} "
                               f"per point, seed {summary['seed']}"))
    paths = [a["path"] for a in summary["axes"]]
    for column in (*paths, "onset (d)", "end stage (d)", "onset to end stage (d)", "at end stage"):
        table.add_column(column, overflow="fold")

    def fmt(entry):
        return "-" if entry["value"] is None else f"{entry['value']:.0f}"

    for point in summary["points"][:SHOWN_POINTS]:
        table.add_row(*(escape(point["values"][p]) for p in paths), fmt(point["median_onset_day"]),
                      fmt(point["median_end_stage_day"]), fmt(point["median_onset_to_end_stage_days"]),
                      f"{point['fraction_with_end_stage']:.2f}")
    out.print(table)
    hidden = len(summary["points"]) - SHOWN_POINTS
    if hidden > 0:
        out.print(f"... and {hidden} more points (sweep.csv, report.html)", highlight=False, markup=False)


@app.command()
def sweep(
    scenario: Annotated[str, typer.Argument(help="A preset name (see `alsim presets`) or a TOML file.")],
    vary: Annotated[list[str], typer.Option("--vary", help="A parameter and its values: dotted.path=V1,V2,... (numbers or names) or dotted.path=START:STOP:N[:log] (repeatable: the grid is their product).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder (created; must not exist unless --overwrite).")] = Path("alsim-sweep"),
    subjects: Annotated[int, typer.Option(min=1, max=100_000, help="Subjects at each point (the same subjects at every point).")] = 20,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: drawn and recorded).")] = None,
    days: Annotated[int | None, typer.Option(min=1, max=36_500, help="Follow-up in days (default: the scenario's horizon_days).")] = None,
    hypothesis: Annotated[HypothesisName | None, typer.Option(help="Override the scenario's hypothesis.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Fix a parameter at every point: dotted.path=value (repeatable).")] = None,
    workers: DaskWorkers = 1,
    scheduler: Scheduler = None,
    overwrite: Overwrite = False,
    resume: Resume = False,
) -> None:
    """A parameter sweep: a cohort at each point of a grid; onset and end stage against the parameters."""
    from dataclasses import replace

    from ..config import ScenarioError
    from ..engine.streams import fresh_seed
    from ..store import open_work_folder
    from ..trials.sweep import build_sweep, parse_axis, summarise_sweep

    try:
        axes = [parse_axis(spec) for spec in vary]
        design = build_sweep(scenario, axes, overrides=overrides(set_, hypothesis), subjects=subjects, days=days,
                             seed=fresh_seed() if seed is None else seed)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    warn_unsourced(scenario, overrides(set_, hypothesis), recorded_in=None)
    work = open_work(lambda: open_work_folder(out_dir, design.identity(), seed=seed, resume=resume,
                                              overwrite=overwrite), out_dir)
    design = replace(design, seed=work.seed)
    with faults(out_dir, work), recorded("sweep", out_dir, scenario=design.base, seed=design.seed,
                                         inputs=[scenario]) as record:
        endpoints = _run_with_progress(design, workers=workers, scheduler=scheduler, work=work)
        summary = summarise_sweep(design, endpoints)
        _write_sweep(out_dir, design, summary, endpoints, overwrite=overwrite, record=record, work=work)
    _print_sweep(summary)
    out.print(f"wrote {out_dir}/sweep.json, sweep.csv, endpoints.csv and report.html", highlight=False, markup=False)
