"""``alsim bench``: the engine's speed on this machine (:mod:`alsim.bench`)."""

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
) -> None:
    """Time the compiled and NumPy engines, the reference stepper, a 1,000-mouse two-arm trial and 1-2 worker scaling."""
    import json

    from ..bench import format_table, run_bench

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
