"""How well each model reproduces every training row: predictive intervals and bands.

A *model* here is a preset, a hypothesis and, optionally, a packaged posterior
(:class:`ModelSpec`). For each model, :func:`fit_model` simulates one small cohort
(or, with a posterior, a few parameter draws with a few mice each) and returns, for
every training statistic of the strain (:func:`alsim.inference.observations.observed_statistics`):

- the model value (the statistic read from the simulated cohort, no noise);
- the 90 % predictive interval of a *published* value: the statistic over bootstrap
  resamples of the simulated mice (the simulator's own sampling error; with a posterior,
  pooled over parameter draws) plus one draw of the row's observation noise
  (:meth:`Statistic.noise`, the same error model the calibration uses);
- whether the observed value lies inside it;

and, per muscle, the 5-95 % band of the cohort-mean time course of the main readouts
over the same resamples, for the figures. Readouts past a subject's end stage carry its
last value forward, as :mod:`alsim.inference.summaries` reads them.

The interval is for a fixed structure: it says whether a row is reachable by the model
as set, not whether some other parameter set would reach it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from ..config.loading import load_scenario
from ..run import simulate
from .model import scenario_with
from .observations import Statistic, observed_statistics
from .posterior import Posterior, packaged_posteriors
from .summaries import compute_all

__all__ = ["BAND_VARS", "LEVEL", "ModelFit", "ModelSpec", "RowFit", "fit_model", "models_for", "posterior_folder"]

#: The predictive interval's coverage.
LEVEL = 0.90
#: Readouts whose cohort-mean time course is banded per muscle.
BAND_VARS: tuple[str, ...] = (
    "endplates_innervated_fraction", "endplates_fully_innervated_fraction", "endplates_denervated_fraction",
    "motor_units_functional_fraction", "motor_neurons_alive_fraction",
)
HYPOTHESES: tuple[str, ...] = ("dying_back", "dying_forward", "independent")
_PRESETS = {"B6SJL": ("sod1-g93a-b6sjl-handset", "sod1-g93a-b6sjl"), "C57BL6": ("sod1-g93a-c57bl6",)}


@dataclass(frozen=True)
class ModelSpec:
    """A preset under one hypothesis; with ``posterior`` (a packaged posterior's name),
    the preset's parameters named in the posterior are drawn from it."""

    variant: str  # "hand-set" (the values before the structure comparison), "preset" or "posterior"
    preset: str
    hypothesis: str
    posterior: str | None = None

    @property
    def label(self) -> str:
        return f"{self.variant} / {self.hypothesis}"


@dataclass(frozen=True)
class RowFit:
    """One training statistic under one model."""

    statistic: Statistic
    model_value: float
    low: float
    median: float
    high: float

    @property
    def simulated(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def inside(self) -> bool | None:
        if not self.simulated:
            return None
        return bool(self.low <= self.statistic.observed <= self.high)


@dataclass
class ModelFit:
    """The fit of one model: one :class:`RowFit` per statistic and per-muscle bands.

    ``bands[var]`` has shape (3, muscle, day): the 5 %, 50 % and 95 % quantiles of the
    cohort-mean readout over resamples."""

    model: ModelSpec
    strain: str
    subjects: int
    draws: int
    rows: list[RowFit]
    muscles: list[str]
    day: np.ndarray
    bands: dict[str, np.ndarray] = field(repr=False)

    def count_inside(self) -> tuple[int, int]:
        """(rows inside their interval, rows simulated)."""
        done = [r for r in self.rows if r.simulated]
        return sum(bool(r.inside) for r in done), len(done)


def posterior_folder(preset: str) -> str | None:
    """The packaged posterior fitted to ``preset``, if there is one."""
    return preset if preset in packaged_posteriors() else None


def models_for(strain: str) -> list[ModelSpec]:
    """Every model to check for ``strain``: each preset of the strain under each
    hypothesis, and each packaged posterior of those presets under each hypothesis it holds."""
    if strain not in _PRESETS:
        raise ValueError(f"strain must be one of {', '.join(_PRESETS)}, got {strain!r}")
    models = []
    for preset in _PRESETS[strain]:
        variant = "hand-set" if preset.endswith("-handset") else "preset"
        models.extend(ModelSpec(variant, preset, h) for h in HYPOTHESES)
    for preset in _PRESETS[strain]:
        folder = posterior_folder(preset)
        if folder is not None:
            held = Posterior.read(folder).hypotheses
            models.extend(ModelSpec("posterior", preset, h, folder) for h in HYPOTHESES if h in held)
    return models


def _parameter_sets(model: ModelSpec, draws: int, rng: np.random.Generator) -> list[dict[str, float]]:
    if model.posterior is None:
        return [{}]
    return Posterior.read(model.posterior).draw(model.hypothesis, draws, rng)


def _carried_forward(values: np.ndarray) -> np.ndarray:
    """Along the last axis, each NaN replaced by the last finite value before it."""
    valid = np.isfinite(values)
    last = np.maximum.accumulate(np.where(valid, np.arange(values.shape[-1]), 0), axis=-1)
    return np.take_along_axis(values, last, axis=-1)


def _resample_indices(n_subjects: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples, n_subjects) bootstrap indices; the first row is the cohort itself."""
    index = rng.integers(0, n_subjects, size=(resamples, n_subjects))
    index[0] = np.arange(n_subjects)
    return index


def _cohort_samples(ds: xr.Dataset, statistics: list[Statistic], resamples: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(model values, noisy resampled values (resamples, stats), band means per var (resamples, muscle, day))."""
    whole = compute_all(ds, statistics)
    model_values = np.array([whole[s.key] for s in statistics])
    noisy = np.empty((resamples, len(statistics)))
    filled = {var: _carried_forward(ds[var].values.astype(np.float64)) for var in BAND_VARS}
    means = {var: np.empty((resamples,) + filled[var].shape[1:]) for var in BAND_VARS}
    for r, index in enumerate(_resample_indices(ds.sizes["subject"], resamples, rng)):
        cohort = ds.isel(subject=index)
        values = compute_all(cohort, statistics)
        noisy[r] = [values[s.key] + s.noise(rng) if s.kind != "none" else math.nan for s in statistics]
        for var in BAND_VARS:
            means[var][r] = np.nanmean(filled[var][index], axis=0)
    return model_values, noisy, means


def fit_model(model: ModelSpec, strain: str, *, subjects: int = 32, draws: int = 8, resamples: int = 200,
              seed: int = 1, days: int | None = None, workers: int = 1) -> ModelFit:
    """Simulate ``model`` and read every training statistic of ``strain`` from it.

    Without a posterior: one cohort of ``subjects`` mice. With one: ``draws`` parameter
    sets, ``subjects // draws`` mice each (at least 2). ``resamples`` bootstrap resamples
    in all (split over the draws). Same arguments, same numbers."""
    import warnings

    statistics = observed_statistics(strain)
    base, _ = load_scenario(model.preset, [f"hypothesis.name={model.hypothesis}"])
    # One stream per (seed, hypothesis, variant); the variant names differ in length.
    rng = np.random.default_rng([seed, HYPOTHESES.index(model.hypothesis), len(model.variant)])
    parameter_sets = _parameter_sets(model, draws, rng)
    per_draw = subjects if model.posterior is None else max(2, subjects // len(parameter_sets))
    per_draw_resamples = max(1, resamples // len(parameter_sets))
    model_values, noisy, means = [], [], {var: [] for var in BAND_VARS}
    day, muscles = None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all mice past end stage: NaN is right
        for values in parameter_sets:
            scenario = scenario_with(base, values, model.hypothesis) if values else base
            ds = simulate(scenario, subjects=per_draw, days=days, seed=int(rng.integers(0, 2**31 - 1)),
                          electrophysiology=False, workers=workers)
            day, muscles = ds.day.values, [str(m) for m in ds.muscle.values]
            value, sample, mean = _cohort_samples(ds, statistics, per_draw_resamples, rng)
            model_values.append(value)
            noisy.append(sample)
            for var in BAND_VARS:
                means[var].append(mean[var])
        pooled = np.concatenate(noisy)
        model_value = np.nanmedian(np.stack(model_values), axis=0)
        tail = (1.0 - LEVEL) / 2
        rows = []
        for i, statistic in enumerate(statistics):
            finite = pooled[np.isfinite(pooled[:, i]), i]
            low, median, high = np.quantile(finite, [tail, 0.5, 1 - tail]) if finite.size else (math.nan,) * 3
            rows.append(RowFit(statistic, float(model_value[i]), float(low), float(median), float(high)))
        bands = {var: np.nanquantile(np.concatenate(means[var]), [0.05, 0.5, 0.95], axis=0) for var in BAND_VARS}
    return ModelFit(model, strain, per_draw * len(parameter_sets), len(parameter_sets) if model.posterior else 0,
                    rows, muscles, day, bands)
