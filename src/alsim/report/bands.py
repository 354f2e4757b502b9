"""Across-subject bands of a results Dataset, read in blocks of days so that memory stays bounded.

The report's time courses are quantiles over subjects per day (10 %, median, 90 %). A
stored run is read from disk lazily; a quantile over subjects needs every subject of a
day, so a variable is read a block of whole days at a time (:func:`day_blocks`) and each
day's quantiles are computed on their own: the same bits as reading the whole variable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = ["BAND_BLOCK_VALUES", "band", "band_on_day", "day_blocks", "nanquantile_columns"]


BAND_BLOCK_VALUES = 1 << 22
"""Values (subjects x days, float64: 32 MiB) that :func:`band` reads at a time. A quantile over
subjects needs every subject of a day, so a variable is read in blocks of whole days, as many
days as fit: the report's memory stays within this block whatever the cohort (a stored run
is read from disk, block by block)."""


def day_blocks(n_subjects: int, n_days: int, block_values: int = BAND_BLOCK_VALUES) -> list[slice]:
    """Consecutive slices of ``range(n_days)``, each of at most ``block_values // n_subjects``
    days (at least one day), covering every day once."""
    step = max(1, block_values // max(n_subjects, 1))
    return [slice(start, min(start + step, n_days)) for start in range(0, n_days, step)]


def _subject_matrix(ds: xr.Dataset, var: str, muscle: str | None, unit_type: str | None,
                    subjects: np.ndarray | None, days: slice | list[int] = slice(None)) -> np.ndarray:
    """(subject, day) float64 values of ``var`` on the day indices ``days`` (all by default),
    of the subjects in the boolean mask ``subjects`` (all by default); only those days are read."""
    da = ds[var]
    if "muscle" in da.dims:
        if muscle is None:
            raise ValueError(f"{var} is per muscle: give a muscle")
        da = da.sel(muscle=muscle)
    if "unit_type" in da.dims:
        if unit_type is None:
            raise ValueError(f"{var} is per unit type: give a unit_type")
        da = da.sel(unit_type=unit_type)
    da = da.isel(day=days).transpose("subject", "day")
    values = np.asarray(da.values, dtype=float)
    if subjects is not None:
        values = values[np.asarray(subjects, dtype=bool)]
    return values


def nanquantile_columns(values: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """``np.nanquantile(values, quantiles, axis=0)``, the same bits, in a few vectorised calls.

    Once a column holds a NaN, NumPy computes each column in a Python loop (a human report's
    bands: 130,000 columns, 4 s). Here each column is sorted (NaN last) and the columns with
    the same number of values are done together by ``np.quantile`` over their first rows:
    for a column that is NumPy's own computation on its values without the NaN
    (``tests/test_report.py`` compares the two bit for bit). All-NaN columns give NaN.
    """
    values = np.asarray(values)
    q = np.asarray(quantiles, dtype=float)
    out = np.full((len(q), values.shape[1]), np.nan)
    present = values.shape[0] - np.count_nonzero(np.isnan(values), axis=0)
    ordered = np.sort(values, axis=0)
    with np.errstate(invalid="ignore"):           # inf - inf between two infinite values: NaN, as NumPy's
        for count in np.unique(present):
            if count:
                columns = present == count
                out[:, columns] = np.quantile(ordered[:count][:, columns], q, axis=0)
    return out


def _quantiles_of_days(values: np.ndarray, quantiles: Sequence[float], min_subjects: int) -> np.ndarray:
    """(quantile, day) NaN-ignoring quantiles over the rows of ``values``; NaN on days with fewer
    than ``min_subjects`` values. Each day (column) is computed on its own, so any split of
    the days gives the same bits."""
    count = np.sum(~np.isnan(values), axis=0)
    out = np.full((len(quantiles), values.shape[1]), np.nan)
    ok = count >= max(min_subjects, 1)
    if ok.any():
        out[:, ok] = nanquantile_columns(values[:, ok], quantiles)
    return out


def band(ds: xr.Dataset, var: str, muscle: str | None = None, quantiles: Sequence[float] = (0.1, 0.5, 0.9), *,
         unit_type: str | None = None, subjects: np.ndarray | None = None,
         min_subjects: int = 1, block_values: int = BAND_BLOCK_VALUES) -> tuple[np.ndarray, ...]:
    """Across-subject quantiles of ``var`` per day, ignoring NaN (exact: NumPy's ``nanquantile``).

    Returns ``(days, q0, q1, ...)``; with the default quantiles ``(days, lo, median, hi)``.
    Days on which fewer than ``min_subjects`` subjects have data are NaN. ``muscle`` is
    needed for per-muscle readouts and ignored otherwise (``hindlimb_force_fraction``);
    ``unit_type`` for the by-type readouts; ``subjects`` is an optional boolean mask.
    The variable is read in blocks of days of at most ``block_values`` values
    (:func:`day_blocks`); the result does not depend on the blocks.
    """
    days = np.asarray(ds["day"].values)
    out = np.full((len(quantiles), len(days)), np.nan)
    for block in day_blocks(ds.sizes["subject"], len(days), block_values):
        values = _subject_matrix(ds, var, muscle, unit_type, subjects, block)
        out[:, block] = _quantiles_of_days(values, quantiles, min_subjects)
    return (days, *out)


def band_on_day(ds: xr.Dataset, var: str, muscle: str | None, day_index: int,
                quantiles: Sequence[float] = (0.1, 0.5, 0.9), *,
                subjects: np.ndarray | None = None) -> tuple[np.ndarray, int, int]:
    """:func:`band`'s quantiles on the one day ``day_index`` (only that day is read), the number of
    subjects with data that day and the number of subjects (in ``subjects``, a boolean mask)."""
    values = _subject_matrix(ds, var, muscle, None, subjects, [day_index])
    return _quantiles_of_days(values, quantiles, 1)[:, 0], int(np.sum(~np.isnan(values))), int(values.size)
