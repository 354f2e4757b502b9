"""``alsim bench``: the engine's speed on this machine, and the commands users run (:mod:`alsim.bench`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from .common import app, err, out

__all__ = ["bench"]


@app.command()
def bench(
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
    quick: Annotated[bool, typer.Option(help="A small version (seconds), for tests.")] = False,
    workers: Annotated[int | None, typer.Option(min=1, max=1024, help="Workers for the trial (default: the cores here).")] = None,
    commands: Annotated[bool, typer.Option(help="Instead, time what users run, end to end with reports: alsim run of 200 mice and of 20 people, alsim trial of 2 x 250 mice, alsim calibrate; with the engine, readouts, store and report stages (minutes).")] = False,
) -> None:
    """Time the compiled engine against the reference stepper, a 1,000-mouse two-arm trial and 1-2 worker
    scaling; or, with --commands, the commands users run, end to end."""
    import json

    from ..bench import format_table, run_bench
    from ..bench_commands import command_rows, run_commands

    say = None if json_ else (lambda m: err.print(m, highlight=False))
    if commands:
        from .common import main

        result = run_commands(main, quick=quick, workers=workers or 2, report=say)
    else:
        result = run_bench(quick=quick, workers=workers, report=say)
    if json_:
        out.print_json(json.dumps(result))
        return
    table = Table(title="alsim bench" + (" (quick)" if quick else ""))
    table.add_column("what")
    table.add_column("figure")
    for row in (command_rows if commands else format_table)(result):
        table.add_row(*row)
    out.print(table)
