"""``alsim calibrate`` and ``alsim compare``: from the training data to a results folder.

The work happens in a hidden folder beside the target, ``.NAME.inprogress``, which holds
pyabc's SQLite history (``calibration.db``) and ``run.json``. A killed run is continued
with ``--resume`` from its last completed generation; when everything is written, the
folder is renamed to ``NAME`` in one step, so ``NAME`` is either complete or absent.

Files of a finished folder:

- ``posterior.csv``: particles of the last generation, natural units (:mod:`.posterior`);
- ``summary.json``: settings, generations (epsilon, simulations, acceptance), each
  hypothesis's posterior medians and 95 % intervals, provenance;
- ``compare.json``: model probabilities with Monte Carlo SE (always written; with one
  hypothesis it is trivially 1);
- ``predictive.json`` and ``predictive.zarr``: posterior predictive checks of every
  training row, and cohort-mean time courses for credible bands (:mod:`.predictive`);
  a human preset's rows are events, so its folder has checks and the people behind them
  in ``predictive.json`` and no ``predictive.zarr`` (:mod:`.human_predictive`);
- ``preset-HYPOTHESIS.toml``: the base preset with the posterior medians, with provenance;
- ``calibration.db``: the pyabc history (open with ``pyabc.History``);
- ``report.html``: marginals, pairwise plots, fits with credible bands, checks.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .._version import __version__
from ..biology.species import HUMAN, MOUSE, species_of
from ..config.loading import ScenarioError, load_scenario
from ..config.schema import HYPOTHESES
from ..store.results import OutputExistsError
from ..store.workfolder import ResumeError, lock_work_folder, unlock_work_folder
from .human_observations import HUMAN_ERROR_RULES, human_fitted_statistics, human_statistics
from .observations import ERROR_RULES, fitted_statistics, observed_statistics
from .posterior import POSTERIOR_FILE, Posterior, calibrated_preset, training_data_sha256, write_posterior
from .predictive import predictive_checks
from .priors import load_priors
from .smc import DATABASE, AbcSettings, model_probabilities, run_abc

__all__ = ["CalibrationRequest", "run_calibration", "in_progress_folder"]

RUN_FILE = "run.json"


@dataclass(frozen=True)
class CalibrationRequest:
    """Everything that defines a calibration; ``resume`` requires the same request."""

    command: str                  # "calibrate" or "compare"
    hypotheses: tuple[str, ...]
    preset: str
    budget: int
    population: int
    subjects: int
    days: int
    seed: int
    draws: int
    priors_files: tuple[str | None, ...]

    def comparable(self) -> dict:
        """The fields a resumed run must share with the original (the budget may grow)."""
        fields = asdict(self)
        fields.pop("budget")
        fields.pop("draws")
        return fields


def in_progress_folder(out: Path) -> Path:
    return out.parent / f".{out.name}.inprogress"


@dataclass
class Hooks:
    """Callbacks: a generation starts (t, tasks), a task ends, a predictive cohort ends;
    ``on_start(folder)`` once the input is checked and the in-progress folder is ready,
    ``on_finish(folder)`` when that folder is complete, just before it is renamed into
    place (``alsim`` writes provenance.json there)."""

    on_generation: Callable[[int, int], None] | None = None
    on_task_done: Callable[[], None] | None = None
    on_predictive_start: Callable[[int], None] | None = None
    on_draw: Callable[[], None] | None = None
    on_start: Callable[[Path], None] | None = None
    on_finish: Callable[[Path], None] | None = None


def _prepare_folder(out: Path, request: CalibrationRequest, resume: bool, overwrite: bool) -> Path:
    work = in_progress_folder(out)
    if out.exists() and not overwrite:
        raise OutputExistsError(f"output folder {out} already exists; choose another --out or pass --overwrite")
    if resume:
        if work.is_dir():
            _lock(work, out)
        run_file = work / RUN_FILE
        if not run_file.is_file() or not (work / DATABASE).is_file():
            raise ScenarioError(f"--resume: no interrupted run for --out {out} (looked for {work}/{DATABASE})")
        saved = json.loads(run_file.read_text())["request"]
        saved_fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in saved.items()}
        mismatched = [k for k, v in request.comparable().items() if saved_fields.get(k) != v]
        if mismatched:
            raise ScenarioError(f"--resume: the interrupted run in {work} was started with different "
                                f"{', '.join(mismatched)}; pass the same values (only --budget may change)")
        return work
    if work.exists():
        raise ScenarioError(f"an interrupted run exists in {work}; continue it with --resume, or delete that folder")
    work.mkdir(parents=True)
    _lock(work, out)
    return work


def _lock(work: Path, out: Path) -> None:
    """Lock the work folder for this process (:func:`alsim.store.lock_work_folder`), refusing in the
    terms of calibration's other input faults when another process works in it."""
    try:
        lock_work_folder(work, out)
    except ResumeError as exc:
        raise ScenarioError(str(exc)) from None


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, allow_nan=False, default=_jsonable))
    os.replace(tmp, path)


def _jsonable(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def _generations(history) -> list[dict]:
    table = history.get_all_populations()
    table = table[table["t"] >= 0]
    return [{"t": int(r.t), "epsilon": float(r.epsilon), "simulations": int(r.samples), "particles": int(r.particles),
             "acceptance_rate": float(r.particles / r.samples) if r.samples else None,
             "wall_time_s": float(r.wall_time)} for r in table.itertuples()]


def _export_posterior(history, prior_sets, folder: Path) -> Posterior:
    samples = {}
    t = history.max_t
    for index, priors in enumerate(prior_sets):
        frame, weights = history.get_distribution(m=index, t=t)
        if len(frame) == 0:
            continue
        natural = frame[[p.path for p in priors.priors]].copy()
        for p in priors.priors:
            natural[p.path] = [p.to_natural(v) for v in natural[p.path]]
        samples[priors.hypothesis] = (natural, weights)
    table = write_posterior(folder / POSTERIOR_FILE, samples)
    return Posterior(table, folder)


@dataclass(frozen=True)
class SpeciesCalibration:
    """What a species is calibrated against and how its posterior is checked."""

    statistics: Callable[[str], tuple[list, list, dict]]
    """strain -> ``(fitted, all, error rules)`` statistics."""
    predictive: Callable
    """``(base, posterior, statistics, draws=, subjects=, days=, seed=, on_draw=)`` -> (checks, extra)."""
    extra_in_json: str | None
    """Key under which the predictive ``extra`` goes into predictive.json; ``None``: it is a Dataset
    of bands written to predictive.zarr."""


def _human_predictive(*args, **kwargs):
    from .human_predictive import human_predictive_checks

    return human_predictive_checks(*args, **kwargs)


SPECIES_CALIBRATION = {
    MOUSE.name: SpeciesCalibration(lambda strain: (fitted_statistics(strain), observed_statistics(strain), ERROR_RULES),
                                   predictive_checks, None),
    HUMAN.name: SpeciesCalibration(lambda strain: (human_fitted_statistics(), human_statistics(), HUMAN_ERROR_RULES),
                                   _human_predictive, "cohort_counts"),
}
"""Mice are fitted to the rows of their strain and checked with bands of the time courses;
people to the clinical-event rows, checked with counts of the cohort's people."""


def statistics_for(base) -> tuple[list, list, dict]:
    """``(fitted, all, error rules)`` statistics of a preset (:data:`SPECIES_CALIBRATION`)."""
    return SPECIES_CALIBRATION[species_of(base).name].statistics(base.strain)


def _predictive(base, posterior, statistics, request, hooks):
    """Predictive checks and bands (mice) or checks and cohort counts (people)."""
    return SPECIES_CALIBRATION[species_of(base).name].predictive(
        base, posterior, statistics, draws=request.draws, subjects=request.subjects, days=request.days,
        seed=request.seed, on_draw=hooks.on_draw)


def run_calibration(request: CalibrationRequest, out: str | os.PathLike, *, resume: bool = False,
                    overwrite: bool = False, workers: int = 1, scheduler: str | None = None,
                    hooks: Hooks | None = None, stop_after_generations: int | None = None,
                    run_id: str | None = None) -> dict:
    """Run a calibration or comparison into ``out``; returns ``summary.json``'s content.

    ``run_id`` names the run in its summary and calibrated presets (default: made from
    the command, start time and seed).

    ``stop_after_generations`` leaves the run in progress after that many generations
    (to test ``resume``); the function then returns ``{"status": "interrupted"}``.
    """
    hooks = hooks or Hooks()
    out = Path(out)
    for h in request.hypotheses:
        if h not in HYPOTHESES:
            raise ScenarioError(f"--hypothesis must be one of {', '.join(HYPOTHESES)}, got {h!r}")
    base, _ = load_scenario(request.preset)
    statistics, all_statistics, error_rules = statistics_for(base)
    if not statistics:
        raise ScenarioError(f"--preset {request.preset}: the training data have no rows for strain {base.strain}")
    prior_sets = [load_priors(h, f, species=base.species) for h, f in zip(request.hypotheses, request.priors_files)]
    work = _prepare_folder(out, request, resume, overwrite)
    if hooks.on_start is not None:
        hooks.on_start(work)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    run_record = {"request": asdict(request), "status": "running", "started": started, "alsim_version": __version__,
                  "training_data_sha256": training_data_sha256()}
    _write_json(work / RUN_FILE, run_record)
    settings = AbcSettings(budget=request.budget, population=request.population, subjects=request.subjects,
                           days=request.days, seed=request.seed)
    clock = time.perf_counter()
    history = run_abc(base, prior_sets, statistics, settings, work / DATABASE, resume=resume, workers=workers,
                      scheduler=scheduler, on_task_done=hooks.on_task_done, on_generation=hooks.on_generation,
                      stop_after_generations=stop_after_generations)
    abc_seconds = time.perf_counter() - clock
    if stop_after_generations is not None and history.total_nr_simulations < request.budget:
        return {"status": "interrupted", "generations": history.max_t + 1, "folder": str(work)}

    if history.max_t < 0:
        raise ScenarioError(f"--budget {request.budget}: not one generation of {request.population} particles was "
                            f"accepted within it; continue with --resume and a larger --budget, or lower --population")
    posterior = _export_posterior(history, prior_sets, work)
    probabilities = model_probabilities(history, list(request.hypotheses))
    run_id = run_id or f"{request.command}-{started.replace(':', '').replace('-', '')[:15]}-seed{request.seed}"
    provenance = (f"alsim {request.command} run {run_id} (alsim {__version__}; {history.total_nr_simulations} "
                  f"simulations; fitted to {len(statistics)} {base.strain} training statistics, data sha256 "
                  f"{run_record['training_data_sha256'][:12]})")
    if hooks.on_predictive_start is not None:
        hooks.on_predictive_start(request.draws * len(posterior.hypotheses))
    clock = time.perf_counter()
    checks, bands = _predictive(base, posterior, all_statistics, request, hooks)
    predictive_seconds = time.perf_counter() - clock
    in_json = SPECIES_CALIBRATION[species_of(base).name].extra_in_json
    extra = {} if in_json is None else {in_json: bands}
    _write_json(work / "predictive.json", {"checks": checks, "error_rules": error_rules, **extra})
    if (work / "predictive.zarr").exists():
        shutil.rmtree(work / "predictive.zarr")
    if in_json is None:
        bands.to_zarr(work / "predictive.zarr", mode="w", consolidated=False, zarr_format=2)
    for hypothesis in posterior.hypotheses:
        _, text = calibrated_preset(request.preset, posterior, hypothesis, provenance)
        (work / f"preset-{hypothesis}.toml").write_text(f"# Calibrated by {provenance}.\n{text}")

    compare = {
        "model_probabilities": {h: probabilities[h]["probability"] for h in request.hypotheses},
        "monte_carlo_se": {h: probabilities[h]["monte_carlo_se"] for h in request.hypotheses},
        "effective_sample_size": next(iter(probabilities.values()))["ess"],
        "n_simulations": int(history.total_nr_simulations),
        "generations": int(history.max_t + 1),
        "strain": base.strain, "preset": request.preset, "run_id": run_id,
        "monte_carlo_se_basis": "sqrt(p(1-p)/ESS) of the last generation's weighted model indicators",
    }
    coverage = {h: {"covered": sum(1 for c in rows if c.get("fitted") and c.get("covered_95")),
                    "fitted": sum(1 for c in rows if c.get("fitted"))} for h, rows in checks.items()}
    summary = {
        **run_record, "status": "complete", "run_id": run_id, "provenance": provenance,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "strain": base.strain, "species": base.species, "statistics": [s.as_dict() for s in statistics],
        "priors": {p.hypothesis: {"origin": p.origin, "parameters": [asdict(x) for x in p.priors]} for p in prior_sets},
        "generations": _generations(history), "n_simulations": int(history.total_nr_simulations),
        "posterior": {h: posterior.summary(h) for h in posterior.hypotheses},
        "posterior_effective_sample_size": {h: posterior.effective_sample_size(h) for h in posterior.hypotheses},
        "model_probabilities": compare["model_probabilities"], "monte_carlo_se": compare["monte_carlo_se"],
        "predictive_coverage_95": coverage, "abc_seconds": abc_seconds, "predictive_seconds": predictive_seconds,
        "workers": workers, "scheduler": scheduler,
    }
    _write_json(work / "compare.json", compare)
    _write_json(work / "summary.json", summary)
    from .report import write_calibration_report

    write_calibration_report(work)
    _write_json(work / RUN_FILE, {**run_record, "status": "complete", "finished": summary["finished"]})
    _move_into_place(work, out, hooks)
    return summary


def _move_into_place(work: Path, out: Path, hooks: Hooks) -> None:
    """The complete in-progress folder becomes ``out`` (replacing it: ``--overwrite`` was checked)."""
    if hooks.on_finish is not None:
        hooks.on_finish(work)
    if out.exists():
        shutil.rmtree(out)
    unlock_work_folder(work)
    os.replace(work, out)
