"""``alsim runs``, ``alsim show`` and ``alsim rerun``: the run catalogue from the command line
(:mod:`alsim.store.catalogue`, :mod:`alsim.store.provenance`)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from .common import app, err, fail, main, out

__all__ = ["rerun", "runs", "show"]

Dir = Annotated[Path, typer.Option("--dir", help="Folder whose alsim-catalogue.sqlite to read (the parent of the runs' --out folders).")]
RunId = Annotated[str, typer.Argument(help="A run id as `alsim runs` lists it, e.g. run-20261121T1302-ab12cd.")]


def _entry(run_id: str, folder: Path):
    from ..store import Catalogue, UnknownRunError

    try:
        return Catalogue(folder).get(run_id)
    except UnknownRunError as exc:
        raise fail(str(exc)) from None


def _shown_path(path: str, folder: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(folder.resolve()))
    return path


def _took(started: str, finished: str | None) -> str:
    from datetime import datetime

    if finished is None:
        return "-"
    seconds = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


@app.command()
def runs(folder: Dir = Path(".")) -> None:
    """List the runs recorded in a folder's catalogue, oldest first."""
    from ..store import CATALOGUE_FILE, Catalogue

    entries = Catalogue(folder).entries()
    if not entries:
        out.print(f"no runs recorded in {folder} (no {CATALOGUE_FILE} there, or it is empty)", highlight=False, markup=False)
        return
    table = Table(title=escape(f"runs in {folder}"), box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("run id (started, UTC)", "command", "status", "seed", "took", "output"):
        fixed = {"run id (started, UTC)": 24, "command": 9, "status": 11}.get(column)   # never cut a run id: `show` takes it
        table.add_column(column, overflow="fold", no_wrap=fixed is not None, min_width=fixed)
    colours = {"complete": "green", "failed": "red", "running": "yellow", "interrupted": "magenta"}
    for e in entries:
        table.add_row(e.run_id, e.command, f"[{colours[e.status]}]{e.status}[/]", "-" if e.seed is None else str(e.seed),
                      _took(e.started, e.finished),
                      escape(_shown_path(e.output_path, folder)))
    out.print(table)


@app.command()
def show(run_id: RunId, folder: Dir = Path("."),
         json_: Annotated[bool, typer.Option("--json", help="Print the catalogue row and provenance.json as one JSON object.")] = False,
         ) -> None:
    """Print one run's catalogue row and its provenance (provenance.json of its output folder)."""
    from ..store import read_provenance

    entry = _entry(run_id, folder)
    provenance = read_provenance(entry.output_path) if Path(entry.output_path).is_dir() else None
    if json_:
        out.print_json(json.dumps({"run": entry.as_dict(), "provenance": provenance}))
        return
    table = Table(title=escape(f"run {entry.run_id}"), show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in entry.as_dict().items():
        table.add_row(key, escape(" ".join(value) if key == "argv" else "-" if value is None else str(value)))
    if provenance is None:
        table.add_row("provenance", escape(f"none: {entry.output_path} has no provenance.json (run {entry.status})"))
    else:
        table.add_row("environment", "")
        for key, value in provenance["environment"].items():
            table.add_row(f"  {key}", escape(str(value)))
        table.add_row("training data sha256", provenance["training_data_sha256"])
        for path, digest in provenance["input_files"].items():
            table.add_row("input file", escape(f"{path}  sha256 {digest}"))
        scenario = provenance.get("scenario") or {}
        names = scenario.get("name") or ", ".join(f"{k}: {v['name']}" for k, v in scenario.items() if isinstance(v, dict))
        table.add_row("scenario", escape(f"{names or '-'} (sha256 {provenance['scenario_sha256']}; "
                                         f"in full: alsim show {entry.run_id} --json)"))
    out.print(table)


@app.command()
def rerun(
    run_id: RunId,
    new_out: Annotated[Path, typer.Option("--out", help="Output folder of the rerun (must not exist).")],
    folder: Dir = Path("."),
) -> None:
    """Run a recorded run again (same command line and seed, into --out) and compare the two bit for bit.

    Exit code 0 when the results are identical, 1 when they differ (the first difference is printed).
    """
    from .. import __version__
    from ..store import compare_outputs, read_provenance, rerun_argv
    from ..store.provenance import file_sha256

    entry = _entry(run_id, folder)
    original = Path(entry.output_path)
    if entry.status != "complete" or not original.is_dir():
        raise fail(f"run {run_id} is {entry.status}" + ("" if original.is_dir() else f" and {original} is gone")
                    + "; only a complete run with its output folder can be rerun and compared")
    if new_out.exists():
        raise fail(f"--out: folder {new_out} already exists; choose another")
    if entry.alsim_version != __version__:
        err.print(escape(f"warning: run {run_id} was made by alsim {entry.alsim_version}, this is {__version__}; "
                         "bits may differ"), highlight=False, soft_wrap=True)
    provenance = read_provenance(original) or {}
    cwd = Path(entry.cwd) if Path(entry.cwd).is_dir() else Path.cwd()
    argv = rerun_argv(entry.argv, seed=entry.seed, out=new_out.resolve())
    with contextlib.chdir(cwd):   # relative paths in the recorded command line are relative to its folder
        for path, digest in provenance.get("input_files", {}).items():
            now = file_sha256(path) if os.path.isfile(path) else None
            if now != digest:
                err.print(escape(f"warning: input file {path} has {'changed' if now else 'gone'} since run {run_id}"),
                          highlight=False, soft_wrap=True)
        err.print(escape(f"rerunning: alsim {' '.join(argv)}"), highlight=False, soft_wrap=True)
        code = main(argv)
    if code != 0:
        raise typer.Exit(code=code)
    difference, compared = compare_outputs(original, new_out)
    if difference is None and compared == 0:
        raise fail(f"{original}: nothing to compare (no results.zarr, posterior.csv, trial.json, window.json or sweep.json)")
    if difference is not None:
        out.print(escape(f"differ: {difference} (original {original}, rerun {new_out})"), highlight=False,
                  soft_wrap=True)
        raise typer.Exit(code=1)
    out.print(escape(f"identical: {compared} stored result(s) of {run_id} rebuilt bit for bit in {new_out}"), highlight=False,
              soft_wrap=True)
