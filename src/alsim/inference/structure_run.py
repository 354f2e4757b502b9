"""``alsim compare --structures``: every structure x hypothesis, fitted to B6SJL and C57BL6 together.

The command-line side of :mod:`alsim.inference.structures`. It works in an in-progress folder
beside ``--out`` (the pyabc history and ``run.json``), so that a killed run continues with
``--resume`` and nothing half-written ever sits at ``--out``; when the run is complete the
folder is renamed into place with:

- ``structures.json``: each model's posterior probability in the last generation, the
  effective sample size of its own particles, its number of calibrated parameters and the
  statistics that separate it from the data most (median |simulated - observed| / error SD
  over its particles);
- ``posteriors/STRUCTURE-HYPOTHESIS-STRAIN.csv``: each surviving model's last population as
  one strain's parameters (natural units) with a ``weight`` column;
- ``structures.db``: the pyabc history.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..config import ScenarioError
from ..config.schema import HYPOTHESES
from .calibration import Hooks, _move_into_place, _prepare_folder, _write_json
from .smc import AbcSettings, default_population_size
from .structures import (STRAIN_PRESETS, STRUCTURES, compare_structures, comparison_summary, model_name,
                         strain_posterior)

__all__ = ["DEFAULT_SUBJECTS", "StructureRequest", "read_summary", "run_structure_comparison", "structure_request",
           "summary_rows"]

DATABASE, RUN_FILE, SUMMARY_FILE = "structures.db", "run.json", "structures.json"
DEFAULT_SUBJECTS = 6
"""Mice of each strain per particle: the comparison of 2026-12-07 used 6 + 6 (docs/calibration.md)."""
SEPARATING = 5
"""Statistics listed per model, those farthest from the data first."""


@dataclass(frozen=True)
class StructureRequest:
    """What ``alsim compare --structures`` fits; every field but the budget must match on ``--resume``."""

    structures: tuple[str, ...]
    budget: int
    population: int
    subjects: int
    seed: int
    command: str = "compare-structures"

    def comparable(self) -> dict:
        fields = asdict(self)
        fields.pop("budget")
        return fields


def structure_request(structures: str, *, budget: int, population: int | None, subjects: int | None,
                      seed: int) -> StructureRequest:
    """The checked request; ScenarioError naming ``--structures`` and the allowed names."""
    names = tuple(dict.fromkeys(s.strip() for s in structures.split(",") if s.strip()))
    unknown = [s for s in names if s not in STRUCTURES]
    if unknown or not names:
        raise ScenarioError(f"--structures: unknown structure(s) {', '.join(unknown) or '(none given)'}; "
                            f"allowed: {', '.join(STRUCTURES)}, comma-separated")
    models = len(names) * len(HYPOTHESES)
    return StructureRequest(names, budget, population or default_population_size(budget, models),
                            subjects or DEFAULT_SUBJECTS, seed)


def run_structure_comparison(request: StructureRequest, out: str | os.PathLike, *, resume: bool = False,
                             overwrite: bool = False, workers: int = 1, hooks: Hooks | None = None) -> dict:
    """Run (or continue) the comparison and write ``--out`` (see the module docstring)."""
    out, hooks = Path(out), hooks or Hooks()
    work = _prepare_folder(out, request, resume, overwrite)
    if hooks.on_start is not None:
        hooks.on_start(work)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if not resume:
        _write_json(work / RUN_FILE, {"request": asdict(request), "started": started, "status": "running"})
    settings = AbcSettings(budget=request.budget, population=request.population, subjects=request.subjects, days=0,
                           seed=request.seed)
    history, models = compare_structures(list(request.structures), list(HYPOTHESES), settings, work / DATABASE,
                                         workers=workers, on_task_done=hooks.on_task_done,
                                         on_generation=hooks.on_generation, resume=resume)
    if history.max_t < 0:
        raise ScenarioError(f"--budget {request.budget}: not one generation of {request.population} particles was "
                            f"accepted within it; continue with --resume and a larger --budget, or lower --population")
    results = comparison_summary(history, models)
    summary = {
        "status": "complete", "request": asdict(request), "started": started,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "strains": STRAIN_PRESETS, "n_simulations": int(history.total_nr_simulations),
        "generations": int(history.max_t + 1),
        "models": [{"model": result.name, "probability": result.probability, "effective_sample_size": result.ess,
                    "parameters": len(model.priors.priors),
                    "farthest_statistics": dict(sorted(result.median_abs_z.items(), key=lambda kv: -kv[1])[:SEPARATING])}
                   for model, result in zip(models, results)],
        "note": ("probabilities of the last generation; their between-run spread needs independent runs "
                 "(--seed), docs/calibration.md asks for SD < 0.05 and an effective sample size >= 100"),
    }
    _write_posteriors(history, models, results, work / "posteriors")
    _write_json(work / SUMMARY_FILE, summary)
    _write_json(work / RUN_FILE, {"request": asdict(request), "started": started, "status": "complete",
                                  "finished": summary["finished"]})
    _move_into_place(work, out, hooks)
    return summary


def _write_posteriors(history, models, results, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for index, (model, result) in enumerate(zip(models, results)):
        if result.probability <= 0:
            continue
        for strain in STRAIN_PRESETS:
            frame, weights = strain_posterior(history, index, model.priors, strain)
            frame = frame.assign(weight=weights / weights.sum())
            name = model_name(model.structure, model.hypothesis).replace("/", "-")
            frame.to_csv(folder / f"{name}-{strain}.csv", index=False)


def summary_rows(summary: dict) -> list[tuple[str, str, str, str]]:
    """(model, probability, ESS, parameters) of a ``structures.json``, for the terminal."""
    return [(m["model"], f"{m['probability']:.3f}", f"{m['effective_sample_size']:.1f}", str(m["parameters"]))
            for m in sorted(summary["models"], key=lambda m: -m["probability"])]


def read_summary(folder: str | os.PathLike) -> dict:
    return json.loads((Path(folder) / SUMMARY_FILE).read_text())

