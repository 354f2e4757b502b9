"""``alsim presets``, ``alsim treatments``, ``alsim run`` and ``alsim demo``: scenarios and
cohorts from the command line (:func:`alsim.simulate`, :mod:`alsim.store`, :mod:`alsim.report`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .common import (HypothesisName, PosteriorFolder, Resume, app, err, fail, faults, open_work, out, overrides,
                     posterior_file, recorded, say, warn_inert, warn_unsourced)

__all__ = ["MuneMethod", "demo", "presets", "run", "treatments"]

class MuneMethod(str, Enum):
    multipoint = "multipoint"
    incremental = "incremental"
    scan = "scan"


@app.command()
def presets() -> None:
    """List the scenario presets, one line each."""
    from ..config import load_scenario, preset_names

    for name in preset_names():
        scenario, _ = load_scenario(name)
        say(f"{name:22s} {scenario.description}")


def _simulate_with_progress(scenario, *, subjects: int, days: int, seed: int | None, workers: int, label: str,
                            scheduler: str | None = None, mune_method: str = "multipoint", work=None, cohort=None,
                            readouts=None):
    """``alsim.simulate`` with a progress bar; block by block, saved in ``work``, when one is given.
    ``cohort``: the subjects' own scenarios (``--posterior``, :class:`alsim.run.Cohort`), streamed to
    ``work`` or, without one, in memory (every readout)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from ..run import simulate, stream, stream_passes
    from ..run.cohort import simulate_cohort

    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        passes = stream_passes(scenario) if work is not None else 1
        task = bar.add_task(label, total=subjects * days * passes)
        options = dict(subjects=subjects, days=days, workers=workers, progress=lambda n: bar.advance(task, n),
                       scheduler=scheduler, mune_method=mune_method)
        if readouts is not None:
            options["readouts"] = readouts
        if work is not None:
            return stream(cohort or scenario, work, **options)
        if cohort is not None:   # every readout: no caller picks readouts without a work folder
            return simulate_cohort(cohort, cohort.subject, seed=seed, days=days, workers=workers, scheduler=scheduler,
                                   mune_method=mune_method, progress=options["progress"])
        return simulate(scenario, seed=seed, **options)


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="A preset name (see `alsim presets`) or a TOML file, which may `extends` a preset.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder (created; must not exist unless --overwrite).")],
    subjects: Annotated[int, typer.Option(min=1, max=100_000, help="Number of animals.")] = 10,
    seed: Annotated[int | None, typer.Option(min=0, help="Root seed (default: drawn and recorded).")] = None,
    days: Annotated[int | None, typer.Option(min=1, max=36_500, help="Days to simulate (default: the scenario's horizon_days).")] = None,
    hypothesis: Annotated[HypothesisName | None, typer.Option(help="Override the scenario's hypothesis.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=256, help="Workers: threads of this process while workers x subjects <= 1,024, worker processes above (results do not depend on it).")] = 1,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter: dotted.path=value (repeatable).")] = None,
    treat: Annotated[list[str] | None, typer.Option("--treat", help="Give a treatment: NAME[@START_DAY][:DOSE], e.g. musk_agonist@60:0.5 (repeatable; @0 = from birth). See `alsim treatments`.")] = None,
    treatments_file: Annotated[list[Path] | None, typer.Option("--treatments", help="Extra treatment catalogue (TOML, same schema as the built-in one; repeatable).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = False,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address tcp://host:port (default: a local cluster when --workers > 1).")] = None,
    posterior: PosteriorFolder = None,
    mune_method: Annotated[MuneMethod, typer.Option(help="How the `mune` readout estimates motor units: multipoint, incremental (overestimates by alternation) or scan (slow; overestimates small mouse pools). docs/electrophysiology.md")] = MuneMethod.multipoint,
    readouts: Annotated[str, typer.Option(help="Readout groups to compute: lab,clinical (always) and emg (CMAP, MUNE, MUNIX, MUSIX: most of a run's time). docs/readouts.md")] = "lab,clinical,emg",
    emg_muscles: Annotated[str | None, typer.Option(help="Muscles recorded by the emg readouts, comma-separated (default: all); the others are NaN.")] = None,
    emg_every: Annotated[int | None, typer.Option(min=1, help="Days between emg recordings, a multiple of the days between unit snapshots (7 in mice, 28 in people): in mice the ages that are multiples of it (and the last day), in people the days from each person's onset; default: every 7 days in mice, every 84 in people (3-monthly clinical follow-up).")] = None,
    resume: Resume = False,
) -> None:
    """Simulate a cohort and write results.zarr, summary.json and report.html."""
    from ..biology.species import species_of
    from ..config import ScenarioError, load_scenario
    from ..readouts.selection import ReadoutSelection
    from ..run import open_run_work, summarise
    from ..store.provenance import file_sha256

    try:
        resolved, sources = load_scenario(scenario, overrides(set_, hypothesis))
        resolved = _with_treatments(resolved, treat or [], treatments_file or [])
        posterior_csv = posterior_file(posterior, resolved.hypothesis.name)
        selection = ReadoutSelection.parse(readouts, emg_muscles=emg_muscles, emg_every_days=emg_every)
        selection.check_muscles(list(resolved.muscles))
        selection.cadence(species_of(resolved))
    except (ScenarioError, ValueError) as exc:
        raise fail(str(exc)) from None
    warn_unsourced(scenario, overrides(set_, hypothesis))
    warn_inert(resolved.treatments, resolved.hypothesis)
    days = days or resolved.horizon_days
    posterior_sha256 = None if posterior_csv is None else file_sha256(posterior_csv)
    work = open_work(lambda: open_run_work(out_dir, resolved, subjects=subjects, days=days,
                                           mune_method=mune_method.value, seed=seed, resume=resume,
                                           overwrite=overwrite, posterior_sha256=posterior_sha256,
                                           readouts=selection), out_dir)
    cohort = None
    if posterior is not None:
        from ..inference.cohort import PosteriorCohort

        cohort = PosteriorCohort.draw(resolved, posterior, subjects=subjects, seed=work.seed)
    label = resolved.name + (" (posterior)" if cohort is not None else "")
    with faults(out_dir, work), recorded("run", out_dir, scenario=resolved, seed=work.seed,
                                         inputs=[scenario, *(treatments_file or []), posterior_csv]) as record:
        try:
            ds = _simulate_with_progress(resolved, subjects=subjects, days=days, seed=work.seed, workers=workers,
                                         label=label, scheduler=scheduler, mune_method=mune_method.value, work=work,
                                         cohort=cohort, readouts=selection)
        except ScenarioError as exc:
            raise fail(str(exc)) from None
        except ValueError as exc:
            if "--scheduler" not in str(exc):
                raise
            raise fail(str(exc)) from None
        record.seed = int(ds.attrs["seed"])
        folder = _write_run(out_dir, {resolved.hypothesis.name: ds}, resolved_sources=sources, overwrite=overwrite,
                            title=f"alsim run: {resolved.name} ({resolved.hypothesis.name})", record=record,
                            scratch=work.path)
        summary = summarise(ds)             # before the work folder goes: a streamed ds reads from it
        work.remove()
    _print_summary(summary)
    out.print(f"wrote {folder}/results.zarr, summary.json and report.html", highlight=False, markup=False)


def _with_treatments(scenario, treat: list[str], files: list[Path]):
    """The scenario with the ``--treat`` strings applied (ScenarioError on bad input;
    the parsing is :func:`alsim.biology.interventions.parse_treatment`)."""
    if not treat:
        return scenario
    from ..biology.interventions import load_catalogue, parse_treatment, with_treatments

    catalogue = load_catalogue(files)
    return with_treatments(scenario, [parse_treatment(text, catalogue) for text in treat])


@app.command()
def treatments(
    treatments_file: Annotated[list[Path] | None, typer.Option("--treatments", help="Extra treatment catalogue (TOML).")] = None,
) -> None:
    """List the treatment catalogue: compartment, the rates each one scales, the hypotheses under which it acts, and its source."""
    from ..biology.interventions import hypotheses_acted_under, load_catalogue
    from ..config import ScenarioError

    try:
        catalogue = load_catalogue(treatments_file or [])
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    # One block per treatment, not a table: readable at any width and in a pipe (lines wrap
    # between words, never inside a name).
    say("treatments: the factor on each rate at full dose; the hypotheses under which it acts")
    for name, t in catalogue.items():
        effects = ", ".join(f"{target} x{factor:g}" for target, factor in t.effects.items())
        reach = "" if t.reach == "systemic" else f" (only {', '.join(t.muscles)})"
        acts = ", ".join(hypotheses_acted_under(t)) or "none"
        say("")
        say(f"{name}: {t.kind}, {t.compartment}{reach}, onset {t.onset_days:g} d")
        for label, text in (("effects", effects), ("acts under", acts), ("source", t.source)):
            say(f"{label}: {text}", indent="  ")


#: The preset of ``alsim demo``; its packaged posterior (of the same name) gives each hypothesis its parameters.
DEMO_PRESET = "sod1-g93a-b6sjl"


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("alsim-demo"),
    subjects: Annotated[int, typer.Option(min=1, max=10_000, help="Animals per hypothesis.")] = 24,
    seed: Annotated[int, typer.Option(min=0, help="Root seed.")] = 2026,
    workers: Annotated[int, typer.Option(min=1, max=256, help="Workers (threads of this process for a demo-sized cohort).")] = 1,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output folder.")] = True,
) -> None:
    """Run the B6SJL preset under dying-back and dying-forward, each with its parameters drawn
    from its own posterior (the packaged sod1-g93a-b6sjl posterior), and write one report comparing them."""
    from ..config import load_scenario
    from ..inference.cohort import PosteriorCohort
    from ..run import summarise

    with faults(out_dir):
        if out_dir.exists() and not overwrite:
            raise fail(f"--out: folder {out_dir} already exists; choose another or pass --overwrite")
    scenarios, sources = {}, {}
    for name in ("dying_back", "dying_forward"):
        scenarios[name], sources = load_scenario(DEMO_PRESET, [f"hypothesis.name={name}"])
        demo_posterior = posterior_file(Path(DEMO_PRESET), name)
    with faults(out_dir), recorded("demo", out_dir, scenario=scenarios, seed=seed, inputs=[demo_posterior]) as record:
        results = {name: _simulate_with_progress(
            scenario, subjects=subjects, days=scenario.horizon_days, seed=seed, workers=workers,
            label=f"{name} (posterior)", cohort=PosteriorCohort.draw(scenario, DEMO_PRESET, subjects=subjects, seed=seed))
            for name, scenario in scenarios.items()}
        folder = _write_run(out_dir, results, resolved_sources=sources, overwrite=overwrite, record=record,
                            title="alsim demo: SOD1-G93A (B6SJL), dying-back versus dying-forward, each at its own posterior")
    for ds in results.values():
        _print_summary(summarise(ds))
    out.print(f"report: {(folder / 'report.html').resolve()}", highlight=False, markup=False)


def _write_run(out_dir: Path, results: dict, *, resolved_sources: dict[str, str], overwrite: bool, title: str,
               record, scratch: Path | None = None) -> Path:
    """The output folder of ``run`` or ``demo``, written atomically: results.zarr and
    summary.json (one folder per label when there are several), sources.json,
    provenance.json and report.html."""
    import json

    from ..data import load_training
    from ..report import write_report
    from ..run import summarise
    from ..store import atomic_output_dir, write_results, write_summary

    with atomic_output_dir(out_dir, overwrite=overwrite, scratch=scratch) as tmp:
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
        record.write(tmp)
        write_report(results, tmp / "report.html", title=title, training=load_training())
    return out_dir


_HUMAN_ROWS = (("onset_sim_day", "onset", "simulation day"), ("diagnosis_day", "diagnosis", "days from onset"),
               ("ventilation_day", "ventilation", "days from onset"), ("end_stage_day", "end stage", "days from onset"))
_MOUSE_ROWS = (("onset_day", "onset", "age (days)"), ("end_stage_day", "end stage", "age (days)"))


def _print_summary(s: dict) -> None:
    """Print the endpoints of a run's :func:`alsim.run.summarise` summary, each row with its unit,
    and the convention of the medians (``event_statistics``) under the table."""
    table = Table(title=escape(f"{s['scenario']}, {s['hypothesis']}: {s['subjects']} subjects, seed {s['seed']}"),
                  min_width=60)
    rows = _HUMAN_ROWS if "onset_sim_day" in s else _MOUSE_ROWS
    for column in ("endpoint", "unit", "median", "IQR", "reached"):
        table.add_column(column)
    for key, label, unit in rows:
        d = s[key]
        table.add_row(label, unit, _day_text(d["median"], 1), f"{_day_text(d['q25'])}-{_day_text(d['q75'])}",
                      f"{d['n_reached']}/{s['subjects']}")
    out.print(table)
    censoring = ("people with onset, censored at their end stage or end of follow-up" if rows is _HUMAN_ROWS
                 else "all subjects, censored at the end of the run")
    out.print(f"median, IQR: Kaplan-Meier over {censoring} (not reached: fewer subjects had the event); "
              "see event_statistics in summary.json", highlight=False, markup=False)


def _day_text(day: float | None, decimals: int = 0) -> str:
    return "not reached" if day is None else f"{day:.{decimals}f}"
