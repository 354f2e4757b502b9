"""What every command shares: the Typer app and consoles, the option types, the error
handling (one line naming the field, exit code 2, nothing written) and the run record.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["CalibrationResume", "CalibrationScheduler", "CalibrationWorkers", "DaskWorkers", "HypothesisName",
           "Overwrite", "PosteriorFolder", "Resume", "Scheduler", "app", "err", "fail", "faults", "main", "open_work",
           "out", "overrides", "posterior_file", "recorded", "say", "warn", "warn_inert", "warn_unsourced"]

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="alsim: simulate ALS from upper motor neuron to muscle fibre.")
err = Console(stderr=True)
out = Console()
_ARGV: ContextVar[list[str] | None] = ContextVar("alsim_argv", default=None)


class HypothesisName(str, Enum):
    dying_back = "dying_back"
    dying_forward = "dying_forward"
    independent = "independent"


Resume = Annotated[bool, typer.Option(help="Continue an interrupted run of the same command from its completed blocks (kept in .NAME.inprogress beside --out).")]
DaskWorkers = Annotated[int, typer.Option(min=1, max=1024, help="Dask workers on this machine (results do not depend on it).")]
Scheduler = Annotated[str | None, typer.Option(help="Address of an existing Dask scheduler, tcp://host:port.")]
Overwrite = Annotated[bool, typer.Option(help="Replace an existing output folder.")]
PosteriorFolder = Annotated[Path | None, typer.Option(help="Folder of an `alsim calibrate`/`compare` run, or the name of a packaged posterior (sod1-g93a-b6sjl): draw each subject's calibrated parameters from its posterior (of the scenario's hypothesis).")]
CalibrationResume = Annotated[bool, typer.Option(help="Continue an interrupted run of the same settings from its last completed generation.")]
CalibrationWorkers = Annotated[int, typer.Option(min=1, max=256, help="Dask worker processes on this machine (1: run in this process).")]
CalibrationScheduler = Annotated[str | None, typer.Option(help="Address tcp://host:port of an existing Dask cluster (workers with one thread each).")]


def _one_line(message: str) -> str:
    # One line, whatever the input held: control characters and line breaks are shown
    # escaped, and brackets from user input are not read as rich markup.
    return escape("".join(c if c.isprintable() else repr(c)[1:-1] for c in message))


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on one line and return the exit (code 2) to raise."""
    err.print(f"[bold red]error:[/] {_one_line(message)}", highlight=False, soft_wrap=True, emoji=False)
    return typer.Exit(code=2)


def say(text: str, indent: str = "") -> None:
    """Print ``text`` to stdout wrapped at the console's width (80 in a pipe) between words,
    never inside a name, continuation lines indented by ``indent`` plus four spaces."""
    import textwrap

    width = max(40, out.size.width)
    lines = textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + "    ",
                          break_long_words=False, break_on_hyphens=False) or [""]
    for line in lines:
        out.print(line, highlight=False, markup=False, soft_wrap=True, emoji=False)


def warn(message: str) -> None:
    """Print ``warning: message`` on one line (stderr); the command goes on."""
    err.print(f"[bold yellow]warning:[/] {_one_line(message)}", highlight=False, soft_wrap=True, emoji=False)


def warn_unsourced(spec, set_: list[str] | None = None, *, recorded_in: str | None = "sources.json") -> None:
    """A warning line for each value of the scenario file ``spec`` given without a source
    (``key = value``): the run goes on, and ``recorded_in`` (if any) records it as unsourced.
    Nothing for a preset or a scenario that does not load (the command reports that)."""
    from ..config import ScenarioError, load_scenario, preset_names
    from ..config.loading import unsourced_fields

    if spec is None or str(spec) in preset_names():
        return
    try:
        scenario, sources = load_scenario(spec, list(set_ or []))
    except ScenarioError:
        return
    values = scenario.model_dump(mode="json")
    for path in unsourced_fields(sources):
        value = values
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        shown = json.dumps(value) if value is not None else "..."
        where = f"recorded as unsourced in {recorded_in}; " if recorded_in else ""
        warn(f"{spec}: {path} has no source; {where}write it as {{ value = {shown}, source = \"...\" }}")


def warn_inert(treatments, hypothesis) -> None:
    """A warning line for each treatment that changes nothing under ``hypothesis``
    (:func:`alsim.biology.interventions.inert_treatment_warnings`)."""
    from ..biology.interventions import inert_treatment_warnings

    for line in inert_treatment_warnings(treatments, hypothesis):
        warn(line)


@contextmanager
def faults(out_dir: Path, work=None):
    """A full disk, an unwritable folder, an ``--out`` where no folder can be made (checked
    on entry, :func:`alsim.store.probe_output`) or a block that kills its workers, inside the
    ``with``: one clear message and exit code 2 (:func:`alsim.store.disk_faults`).
    ``work``: the command's work folder (a WorkFolder or its path), if it has one."""
    from ..store import StoreFault, disk_faults, probe_output

    try:
        with disk_faults(out_dir, getattr(work, "path", work)):
            probe_output(out_dir)           # a path where no folder can be made: said before any work
            yield
    except StoreFault as exc:
        raise fail(str(exc)) from None


def posterior_file(posterior: Path | None, hypothesis: str) -> Path | None:
    """``--posterior``'s posterior.csv (None without one), checked before any work: a
    ScenarioError naming ``--posterior`` when it is missing, unreadable or has no particles
    of ``hypothesis``."""
    if posterior is None:
        return None
    from ..config import ScenarioError
    from ..inference.posterior import POSTERIOR_FILE, Posterior

    table = Posterior.read(posterior)
    try:
        table.of(hypothesis)
    except ScenarioError as exc:
        raise ScenarioError(f"--posterior {posterior}: {exc}") from None
    return Path(table.folder) / POSTERIOR_FILE


def open_work(opener, out_dir: Path):
    """``opener()``, which opens a command's work folder, with its refusals (existing
    output, interrupted run, wrong ``--resume``) and disk faults as clear messages."""
    from ..store import OutputExistsError, ResumeError

    with faults(out_dir):
        try:
            return opener()
        except (OutputExistsError, ResumeError) as exc:
            raise fail(str(exc)) from None


def overrides(set_: list[str] | None, hypothesis: HypothesisName | None) -> list[str]:
    """``--set`` overrides, then ``--hypothesis`` as one more (it wins over a ``--set`` of it)."""
    result = list(set_ or [])
    if hypothesis is not None:
        result.append(f"hypothesis.name={hypothesis.value}")
    return result


def recorded(command: str, out_dir: Path, **record):
    """Catalogue row and provenance.json of this command (:func:`alsim.store.recorded_run`)."""
    from ..inference.posterior import training_data_sha256
    from ..store import recorded_run

    argv = _ARGV.get()
    return recorded_run(command, list(sys.argv[1:] if argv is None else argv), out_dir,
                        training_data_sha256=training_data_sha256(), **record)


#: What a value looks like in ``--help`` where the type alone says little (``<list[str]>``).
METAVARS: dict[str, str] = {
    "treat": "NAME[@START_DAY][:DOSE]", "arm": "control|placebo|NAME[@START_DAY][:DOSE][+...]",
    "set_": "PATH=VALUE", "vary": "PATH=V1,V2,...|PATH=START:STOP:N[:log]", "treatments_file": "FILE.toml",
    "scenario": "PRESET|FILE.toml", "out_dir": "FOLDER", "design": "FILE.toml", "posterior": "FOLDER|NAME",
    "priors": "FILE.toml", "preset": "PRESET|FILE.toml", "scheduler": "tcp://HOST:PORT", "start_days": "DAY,DAY,...",
    "seed": "SEED", "days": "DAYS", "count_day": "DAY",
}
_BY_TYPE = {"int": "N", "float": "X", "Path": "PATH", "str": "TEXT", "list[str]": "TEXT", "list[Path]": "FILE"}


def _readable_metavars(command) -> None:
    """Give every parameter of ``command`` (the click group of :data:`app`) a metavar a person
    can read: :data:`METAVARS` by name, else by type (``N``, ``X``, ``PATH``, ``TEXT``); choices
    and flags keep theirs. Each command's first paragraph is its line in ``alsim --help``."""
    for sub in getattr(command, "commands", {}).values():
        _readable_metavars(sub)
        if sub.help and not sub.short_help:         # listed whole (wrapped), not cut with "..."
            sub.short_help = sub.help.strip().split("\n\n")[0]
    for param in getattr(command, "params", []):
        descriptor = getattr(param, "type_descriptor", None)
        if param.metavar is not None or getattr(param, "is_flag", False) or descriptor is None or descriptor.is_choice:
            continue
        name = param.name or ""
        param.metavar = METAVARS.get(name) or _BY_TYPE.get(param.bare_type(), name.upper())


def command():
    """The click command of :data:`app`, with readable metavars (what ``alsim`` runs)."""
    import typer.main

    click_command = typer.main.get_command(app)
    _readable_metavars(click_command)
    return click_command


def main(argv: list[str] | None = None) -> int:
    """Entry point; ``argv`` lets tests drive the CLI in-process. Returns the exit code."""
    token = _ARGV.set(list(sys.argv[1:] if argv is None else argv))   # recorded in provenance.json
    try:
        command()(args=argv, prog_name="alsim", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if argv is None:
            sys.exit(code)
        return code
    finally:
        _ARGV.reset(token)
    return 0
