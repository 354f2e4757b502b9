"""The calibration verbs: :func:`calibrate` (fit one hypothesis) and :func:`compare`
(posterior probabilities of the three), and the checked request both build.

A mouse preset is fitted to the training rows of its strain, a human preset to the rows
of ``human.csv`` (docs/calibration.md). ``alsim calibrate`` and ``alsim compare`` call
:func:`calibration_request` and :func:`alsim.inference.calibration.run_calibration`
themselves, to show progress and record the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from ..biology.species import species_of
from ..config.loading import ScenarioError
from ..config.schema import HYPOTHESES
from .calibration import CalibrationRequest

__all__ = ["DEFAULT_SUBJECTS", "calibrate", "calibration_request", "compare", "load_preset", "priors_by_hypothesis"]

#: Default cohort sizes per simulated particle: a mouse costs ~0.05 s, a person ~0.5-1 s
#: (docs/calibration.md); 20 people keep a particle near 10-20 s on one core.
DEFAULT_SUBJECTS = {"mouse": 12, "human": 20}


def load_preset(preset: str):
    """The scenario of ``preset`` (a name or TOML file); ScenarioError names ``--preset``."""
    from ..config import load_scenario

    try:
        return load_scenario(preset)[0]
    except ScenarioError as exc:
        raise ScenarioError(f"--preset: {exc}") from None


def priors_by_hypothesis(entries: Sequence[str]) -> dict[str, str]:
    """``["dying_back=FILE", ...]`` -> ``{"dying_back": "FILE"}`` (ScenarioError names the bad entry)."""
    files: dict[str, str] = {}
    for entry in entries:
        name, sep, path = entry.partition("=")
        if not sep or name not in HYPOTHESES or not path:
            raise ScenarioError(f"--priors {entry!r}: expected HYPOTHESIS=FILE with HYPOTHESIS one of {', '.join(HYPOTHESES)}")
        files[name] = path
    return files


def calibration_request(command: str, hypotheses: Sequence[str], priors: Sequence[str | None], *, preset: str,
                        budget: int, population: int | None = None, subjects: int | None = None, draws: int = 30,
                        seed: int = 1, warn: Callable[[str], None] | None = None) -> CalibrationRequest:
    """A checked :class:`CalibrationRequest` (ScenarioError names the field).

    ``command`` is ``"calibrate"`` or ``"compare"``; ``priors`` a priors file (or None:
    the packaged one) per hypothesis. ``population`` defaults to about a tenth of the
    budget, ``subjects`` to :data:`DEFAULT_SUBJECTS` of the preset's species. ``warn`` is
    told when the preset does not describe the population of the training rows.
    """
    from .smc import default_population_size

    base = load_preset(preset)
    if base.species not in DEFAULT_SUBJECTS:
        raise ScenarioError(f"--preset: calibration takes mouse or human presets; '{preset}' is {base.species}")
    if command == "compare" and not species_of(base).compares_hypotheses:
        raise ScenarioError(f"--preset: compare takes mouse presets; '{preset}' is human, and the human priors "
                            "(alsim/inference/priors/human.toml) hold no hypothesis-specific parameter to compare; "
                            "use alsim calibrate")
    if warn is not None and base.spread is not None \
            and base.spread.onset_region_probabilities.get("bulbar", 0.0) > 0.5:
        warn(f"warning: the human.csv rows describe sporadic ALS of every onset site; '{preset}' simulates "
             "mostly bulbar onset, whose survival is shorter (docs/human.md)")
    return CalibrationRequest(command=command, hypotheses=tuple(hypotheses), preset=preset, budget=budget,
                              population=population or default_population_size(budget, len(hypotheses)),
                              subjects=subjects or DEFAULT_SUBJECTS[base.species], days=base.horizon_days,
                              seed=seed, draws=draws, priors_files=tuple(priors))


def calibrate(out: str | os.PathLike, *, hypothesis: str | None = None, preset: str = "sod1-g93a-b6sjl",
              budget: int = 2000, population: int | None = None, subjects: int | None = None, draws: int = 30,
              seed: int = 1, priors: str | None = None, workers: int = 1, scheduler: str | None = None,
              resume: bool = False, overwrite: bool = False) -> dict:
    """Fit one hypothesis (default: the preset's) to the training data by ABC-SMC (pyabc)
    and write the posterior, predictive checks and report into ``out``; returns the
    contents of ``summary.json``.

    ``budget``: simulations to spend; ``population``: particles per generation;
    ``subjects``: animals or people per simulated cohort; ``draws``: posterior draws
    simulated for the predictive checks; ``priors``: a priors TOML file (default: the
    packaged one). The same ``seed`` gives the same posterior, whatever ``workers``.
    """
    from .calibration import run_calibration

    chosen = hypothesis if hypothesis is not None else load_preset(preset).hypothesis.name
    request = calibration_request("calibrate", [chosen], [priors], preset=preset, budget=budget,
                                  population=population, subjects=subjects, draws=draws, seed=seed)
    return run_calibration(request, out, resume=resume, overwrite=overwrite, workers=workers, scheduler=scheduler)


def compare(out: str | os.PathLike, *, preset: str = "sod1-g93a-b6sjl", budget: int = 3000,
            population: int | None = None, subjects: int | None = None, draws: int = 30, seed: int = 1,
            priors: dict[str, str] | None = None, workers: int = 1, scheduler: str | None = None,
            resume: bool = False, overwrite: bool = False) -> dict:
    """Posterior probabilities of dying_back, dying_forward and independent for a mouse
    preset (ABC-SMC model selection), written into ``out``; returns the contents of
    ``summary.json`` (``model_probabilities`` among them).

    ``priors``: ``{hypothesis: priors TOML file}`` replacing packaged priors; the other
    arguments as for :func:`calibrate`.
    """
    from .calibration import run_calibration

    files = dict(priors or {})
    request = calibration_request("compare", list(HYPOTHESES), [files.get(h) for h in HYPOTHESES], preset=preset,
                                  budget=budget, population=population, subjects=subjects, draws=draws, seed=seed)
    return run_calibration(request, out, resume=resume, overwrite=overwrite, workers=workers, scheduler=scheduler)
