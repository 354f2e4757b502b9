"""Reading the training data's quantities from a simulated cohort.

:func:`compute` turns a results Dataset (:func:`alsim.simulate`) into the value of each
:class:`~alsim.inference.observations.Statistic`, the same way the experimenters read
theirs: a mean over animals at an age, an age at which a fraction crosses a level, the
mean and spread of an endpoint. Subjects are followed to their end stage; a readout
asked for after it takes the subject's last measured value (the animals a lab still has
are the ones with later end stages, and a late count stands in for them). Endpoints not
reached within the simulated days count as the last simulated day (censored).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .observations import Statistic

__all__ = ["compute", "compute_all", "crossing_days"]


def _subjects(ds: xr.Dataset, spec: dict) -> xr.Dataset:
    sex = spec.get("sex")
    if sex is None:
        return ds
    chosen = ds.sex.values == sex
    return ds.isel(subject=np.flatnonzero(chosen)) if chosen.any() else ds


def _censored(values: np.ndarray, last_day: int) -> np.ndarray:
    return np.where(np.isfinite(values), values, float(last_day))


def _carried_forward(series: xr.DataArray) -> xr.DataArray:
    """Each NaN replaced by the last finite value before it along ``day``."""
    values = series.values
    valid = np.isfinite(values)
    last = np.maximum.accumulate(np.where(valid, np.arange(values.shape[-1]), 0), axis=-1)
    return series.copy(data=np.take_along_axis(values, last, axis=-1))


def _muscle_mean(ds: xr.Dataset, spec: dict) -> xr.DataArray:
    """(subject, day) mean over the spec's muscles (and unit type) of its readout."""
    series = ds[spec["var"]].sel(muscle=[m for m in spec["muscles"] if m in ds.muscle.values])
    if "unit_type" in spec:
        series = series.sel(unit_type=spec["unit_type"])
    # Muscles without units of a type give NaN fractions; they do not count in the mean.
    mean = series.mean("muscle", skipna=True)
    return 1.0 - mean if spec.get("complement") else mean


def crossing_days(ds: xr.Dataset, spec: dict) -> np.ndarray:
    """Per subject: first day the muscle mean falls below the threshold; end stage or the
    last day where it never does."""
    series = _muscle_mean(ds, spec).values
    below = np.where(np.isnan(series), False, series < spec["threshold"])
    first = np.where(below.any(axis=1), np.argmax(below, axis=1), np.nan).astype(np.float64)
    last_day = int(ds.day.values[-1])
    return np.where(np.isfinite(first), first, _censored(ds.end_stage_day.values, last_day))


def compute(ds: xr.Dataset, statistic: Statistic) -> float:
    """The value of ``statistic`` in the simulated cohort ``ds`` (NaN if it cannot be read)."""
    spec, kind = statistic.spec, statistic.kind
    last_day = int(ds.day.values[-1])
    if kind in ("endpoint_mean", "endpoint_sd"):
        values = _censored(_subjects(ds, spec)[spec["var"]].values.astype(np.float64), last_day)
        if kind == "endpoint_mean":
            return float(values.mean())
        return float(values.std(ddof=1)) if values.size > 1 else float("nan")
    if kind == "readout_at_day":
        cohort = _subjects(ds, spec)
        day = min(int(spec["day"]), last_day)
        return float(np.nanmean(_carried_forward(_muscle_mean(cohort, spec)).sel(day=day).values))
    if kind == "readout_at_end_stage":
        cohort = _subjects(ds, spec)
        filled = _carried_forward(_muscle_mean(cohort, spec)).values
        end = _censored(cohort.end_stage_day.values, last_day).astype(int)
        return float(np.nanmean(filled[np.arange(filled.shape[0]), np.minimum(end, last_day)]))
    if kind == "crossing_day":
        return float(np.median(crossing_days(ds, spec)))
    if kind == "crossing_lag":
        return float(np.median(crossing_days(ds, spec["later"])) - np.median(crossing_days(ds, spec["earlier"])))
    return float("nan")


def compute_all(ds: xr.Dataset, statistics: list[Statistic]) -> dict[str, float]:
    """``{key: value}`` for every statistic."""
    return {s.key: compute(ds, s) for s in statistics}
