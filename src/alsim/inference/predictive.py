"""Posterior predictive checks with the stochastic engine.

For each hypothesis, ``draws`` parameter sets are drawn from the posterior by weight and
a cohort is simulated for each (new seeds). From each cohort:

- every statistic of the strain (fitted or not), with and without observation noise:
  the predictive interval *with* noise is what an observed row should fall in;
- the cohort-mean time course of the main readouts per muscle, and the fraction of the
  cohort not yet at end stage, for the report's credible bands.

The final posterior is thus always checked with the engine it was fitted with.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

from ..config.schema import Scenario
from ..run import simulate
from .model import scenario_with
from .observations import Statistic
from .posterior import Posterior
from .summaries import compute_all

__all__ = ["BAND_READOUTS", "predictive_checks"]

BAND_READOUTS: tuple[str, ...] = (
    "endplates_innervated_fraction", "endplates_fully_innervated_fraction", "endplates_denervated_fraction",
    "motor_neurons_alive_fraction", "motor_units_functional_fraction", "force_fraction",
)


def _cohort_means(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """(muscle, day) cohort means of the band readouts, and (day,) fraction not at end stage."""
    import warnings

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all subjects past end stage: NaN is right
        for name in BAND_READOUTS:
            out[name] = np.nanmean(ds[name].values, axis=0)
    end = ds.end_stage_day.values
    day = ds.day.values
    out["surviving_fraction"] = (np.nan_to_num(end, nan=np.inf)[:, None] >= day[None, :]).mean(axis=0)
    return out


def predictive_checks(base: Scenario, posterior: Posterior, statistics: list[Statistic], *, draws: int,
                      subjects: int, days: int, seed: int,
                      on_draw: Callable[[], None] | None = None) -> tuple[dict, xr.Dataset]:
    """``(checks, bands)``: per-hypothesis statistic checks (JSON-ready) and a Dataset of
    cohort-mean time courses with dims (hypothesis, draw, muscle, day)."""
    checks: dict[str, list[dict]] = {}
    band_arrays: dict[str, list] = {name: [] for name in (*BAND_READOUTS, "surviving_fraction")}
    hypotheses = posterior.hypotheses
    muscles = list(base.muscles)
    day = None
    for h_index, hypothesis in enumerate(hypotheses):
        rng = np.random.default_rng([seed, 101, h_index])
        parameter_sets = posterior.draw(hypothesis, draws, rng)
        clean = np.empty((draws, len(statistics)))
        noisy = np.empty_like(clean)
        per_draw = {name: [] for name in band_arrays}
        for d, values in enumerate(parameter_sets):
            cohort_seed = int(rng.integers(0, 2**31 - 1))
            ds = simulate(scenario_with(base, values, hypothesis), subjects=subjects, days=days, seed=cohort_seed,
                          electrophysiology=False)
            day = ds.day.values
            stats = compute_all(ds, statistics)
            clean[d] = [stats[s.key] for s in statistics]
            errors = np.array([s.error_sd if np.isfinite(s.error_sd) else 0.0 for s in statistics])
            noisy[d] = clean[d] + rng.normal(0.0, 1.0, len(statistics)) * errors
            for name, array in _cohort_means(ds).items():
                per_draw[name].append(array)
            if on_draw is not None:
                on_draw()
        for name in band_arrays:
            band_arrays[name].append(np.stack(per_draw[name]))
        checks[hypothesis] = [_check(s, clean[:, i], noisy[:, i]) for i, s in enumerate(statistics)]
    data_vars = {name: (("hypothesis", "draw", "muscle", "day"), np.stack(band_arrays[name]).astype(np.float32))
                 for name in BAND_READOUTS}
    data_vars["surviving_fraction"] = (("hypothesis", "draw", "day"),
                                       np.stack(band_arrays["surviving_fraction"]).astype(np.float32))
    bands = xr.Dataset(data_vars, coords={"hypothesis": hypotheses, "draw": np.arange(draws), "muscle": muscles,
                                          "day": day},
                       attrs={"description": "cohort means of posterior predictive cohorts (one per draw)",
                              "subjects_per_cohort": subjects, "seed": seed})
    return checks, bands


def _check(statistic: Statistic, clean: np.ndarray, noisy: np.ndarray) -> dict:
    finite = noisy[np.isfinite(noisy)]
    model = clean[np.isfinite(clean)]
    entry = {"key": statistic.key, "label": statistic.label, "observed": statistic.observed, "unit": statistic.unit,
             "error_sd": statistic.error_sd if np.isfinite(statistic.error_sd) else None,
             "fitted": statistic.fitted, "not_fitted_reason": statistic.not_fitted_reason,
             "source": statistic.short_source, "status": statistic.status}
    if statistic.kind == "none" or finite.size == 0:
        entry.update({"simulated": False})
        return entry
    low, median, high = np.quantile(finite, [0.025, 0.5, 0.975])
    m_low, m_median, m_high = np.quantile(model, [0.025, 0.5, 0.975])
    entry.update({
        "simulated": True,
        "predictive_median": float(median), "predictive_low": float(low), "predictive_high": float(high),
        "model_median": float(m_median), "model_low": float(m_low), "model_high": float(m_high),
        "covered_95": bool(low <= statistic.observed <= high),
        "z": float((m_median - statistic.observed) / statistic.error_sd) if statistic.error_sd else None,
    })
    return entry
