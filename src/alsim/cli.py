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


def _simulate_with_progress(scenario, *, subjects: int, days: int, seed: int | None, workers: int, label: str):
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from .simulation import simulate

    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=subjects * days)
        return simulate(scenario, subjects=subjects, days=days, seed=seed, workers=workers,
                        progress=lambda n: bar.advance(task, n))


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
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = False,
) -> None:
    """Simulate a cohort and write results.zarr, summary.json and report.html."""
    from .config import ScenarioError, load_scenario

    overrides = list(set_ or [])
    if hypothesis is not None:
        overrides.append(f"hypothesis.name={hypothesis.value}")
    try:
        resolved, sources = load_scenario(scenario, overrides)
    except ScenarioError as exc:
        raise _fail(str(exc)) from None
    if out_dir.exists() and not overwrite:
        raise _fail(f"--out: folder {out_dir} already exists; choose another or pass --overwrite")
    ds = _simulate_with_progress(resolved, subjects=subjects, days=days or resolved.horizon_days, seed=seed,
                                 workers=workers, label=resolved.name)
    folder = _write_run(out_dir, {resolved.hypothesis.name: ds}, resolved_sources=sources, overwrite=overwrite,
                        title=f"alsim run: {resolved.name} ({resolved.hypothesis.name})")
    _print_summary(ds)
    out.print(f"wrote {folder}/results.zarr, summary.json and report.html", highlight=False)


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
