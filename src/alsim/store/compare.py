"""Bit-for-bit comparison of two result folders (``alsim rerun``).

What is compared, in this order, wherever the original folder has it:

- every ``*.zarr`` store (``results.zarr`` of a run, of each demo hypothesis and each
  trial arm; ``predictive.zarr`` of a calibration): the same variables and coordinates
  with the same dtype, shape and bytes (so NaNs must match bit for bit too), and the
  same attributes;
- ``posterior.csv`` (calibrate, compare) and ``endpoints.csv`` (sweep): the same bytes;
- ``trial.json``, ``window.json`` and ``sweep.json``: the same numbers and strings.

Files that record when or how fast a run went (``summary.json`` of a calibration,
``calibration.db``, ``report.html``, ``provenance.json``) are not compared.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["compare_outputs"]

BYTE_FILES = ("posterior.csv", "endpoints.csv")
JSON_FILES = ("trial.json", "window.json", "sweep.json")


def compare_outputs(original: str | os.PathLike, new: str | os.PathLike) -> tuple[str | None, int]:
    """``(None, n)`` when the ``n`` compared items of ``new`` equal those of ``original``
    bit for bit; otherwise ``(first difference, n)``, the difference in words."""
    original, new = Path(original), Path(new)
    compared = 0
    for path in sorted(original.rglob("*")):
        relative = path.relative_to(original)
        other = new / relative
        if path.is_dir() and path.name.endswith(".zarr"):
            if not other.is_dir():
                return f"{relative}: missing from {new}", compared
            difference = _compare_zarr(path, other)
            compared += 1
        elif path.is_file() and path.name in BYTE_FILES:
            if not other.is_file():
                return f"{relative}: missing from {new}", compared
            difference = None if path.read_bytes() == other.read_bytes() else "the bytes differ"
            compared += 1
        elif path.is_file() and path.name in JSON_FILES:
            if not other.is_file():
                return f"{relative}: missing from {new}", compared
            difference = _compare_json(json.loads(path.read_text()), json.loads(other.read_text()), "")
            compared += 1
        else:
            continue
        if difference is not None:
            return f"{relative}: {difference}", compared
    return None, compared


def _compare_zarr(a_path: Path, b_path: Path) -> str | None:
    with xr.open_zarr(a_path, consolidated=False) as a, xr.open_zarr(b_path, consolidated=False) as b:
        names_a, names_b = sorted(a.variables), sorted(b.variables)
        if names_a != names_b:
            return f"variables differ: {sorted(set(names_a) ^ set(names_b))}"
        for name in names_a:
            x, y = a[name].values, b[name].values
            if x.dtype != y.dtype or x.shape != y.shape:
                return f"variable {name}: {x.dtype}{x.shape} versus {y.dtype}{y.shape}"
            same = (x.tolist() == y.tolist()) if x.dtype.kind == "O" else (x.tobytes() == y.tobytes())
            if not same:
                return f"variable {name}"
            if a[name].attrs != b[name].attrs:
                return f"attributes of variable {name}"
        for key in sorted(set(a.attrs) | set(b.attrs)):
            if a.attrs.get(key) != b.attrs.get(key):
                return f"attribute {key}"
    return None


def _compare_json(x, y, where: str) -> str | None:
    if isinstance(x, dict) and isinstance(y, dict):
        for key in list(x) + [k for k in y if k not in x]:
            if key not in x or key not in y:
                return f"{where}{key}: present in only one"
            difference = _compare_json(x[key], y[key], f"{where}{key}.")
            if difference is not None:
                return difference
        return None
    if isinstance(x, list) and isinstance(y, list):
        if len(x) != len(y):
            return f"{where.rstrip('.')}: {len(x)} versus {len(y)} items"
        for i, (u, v) in enumerate(zip(x, y)):
            difference = _compare_json(u, v, f"{where}{i}.")
            if difference is not None:
                return difference
        return None
    if type(x) is not type(y) or (x != y and not _both_nan(x, y)):
        return f"{where.rstrip('.')}: {x!r} versus {y!r}"
    return None


def _both_nan(x, y) -> bool:
    return isinstance(x, float) and isinstance(y, float) and np.isnan(x) and np.isnan(y)
