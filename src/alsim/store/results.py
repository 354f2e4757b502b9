"""Writing and reading a run's results.

A run's folder holds ``results.zarr`` (the Dataset), ``summary.json`` and
``report.html``. Everything is written into a hidden temporary folder beside the
target and moved into place only when complete, so a failed or killed run leaves no
half-written result and never damages an earlier one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import xarray as xr

from ..readouts.clinical import first_true

FORMAT_VERSION = 1
FORMAT_NOTE = ("alsim results store, format 1: an xarray Dataset in Zarr with dims subject, muscle, day "
               "(age in days), unit_type; units and descriptions in variable attributes; the resolved "
               "scenario (JSON), seed and alsim version in the root attributes.")


class OutputExistsError(FileExistsError):
    """The output folder exists and overwriting was not asked for."""


@contextlib.contextmanager
def atomic_output_dir(target: str | os.PathLike, *, overwrite: bool = False,
                      scratch: str | os.PathLike | None = None) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``target``, on failure it is removed.

    The temporary folder is ``.NAME.partial-*`` beside ``target``, or ``final-*`` in
    ``scratch`` (a command's work folder, on the same file system, which ``--resume``
    clears of a result that was being written when the command was killed).
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise OutputExistsError(f"output folder {target} already exists; choose another --out or pass --overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    if scratch is None:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    else:
        tmp = Path(tempfile.mkdtemp(prefix="final-", dir=scratch))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_results(ds: xr.Dataset, folder: str | os.PathLike) -> Path:
    """Write ``ds`` to ``folder/results.zarr`` (the folder should come from :func:`atomic_output_dir`).

    A Dataset streamed to a store block by block (:mod:`alsim.store.streaming`) is not
    written again: that store is put there (hard links to its files).
    """
    from .streaming import publish_store, streamed_from

    path = Path(folder) / "results.zarr"
    source = streamed_from(ds)
    if source is not None:
        publish_store(source, path)
        return path
    out = ds.copy()
    out.attrs = {**ds.attrs, "alsim_format_version": FORMAT_VERSION, "alsim_format_note": FORMAT_NOTE}
    out.to_zarr(path, mode="w", consolidated=False, zarr_format=2)
    return path


def read_results(path: str | os.PathLike) -> xr.Dataset:
    """Open a results store written by :func:`write_results` (loaded into memory)."""
    path = Path(path)
    if path.is_dir() and (path / "results.zarr").exists():
        path = path / "results.zarr"
    ds = xr.open_zarr(path, consolidated=False).load()
    version = ds.attrs.get("alsim_format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{path}: results format {version!r} is not supported (this alsim reads {FORMAT_VERSION})")
    return ds


def _finite(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 3)


def _distribution(values: np.ndarray) -> dict[str, float | int | None]:
    reached = values[np.isfinite(values)]
    if reached.size == 0:
        return {"n_reached": 0, "median": None, "q25": None, "q75": None, "mean": None, "sd": None}
    return {
        "n_reached": int(reached.size),
        "median": _finite(np.median(reached)),
        "q25": _finite(np.quantile(reached, 0.25)),
        "q75": _finite(np.quantile(reached, 0.75)),
        "mean": _finite(reached.mean()),
        "sd": _finite(reached.std(ddof=1)) if reached.size > 1 else None,
    }


def median_event_day(event_days: np.ndarray) -> float | None:
    """Median day of an event over all subjects, counting those that never reach it as later
    than any day (so that animals censored at end stage do not bias it); None if fewer than
    half the subjects reach it."""
    ordered = np.sort(np.where(np.isfinite(event_days), event_days, np.inf))
    middle = ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2]
    return None if not np.isfinite(middle[1]) else float(np.mean(middle))


SUMMARY_ROWS = 4096
"""Subjects read at a time by :func:`summarise` (a streamed Dataset is read from disk)."""


def summarise(ds: xr.Dataset) -> dict:
    """A JSON-ready summary: what was run, onset and end stage, and per-muscle milestones.

    A milestone is the median over subjects of the first day the subject crosses it;
    subjects that reach end stage first count as crossing later than any day. The
    time courses are read :data:`SUMMARY_ROWS` subjects at a time.
    """
    half_denervated, half_mn = _milestone_days(ds)
    muscles = {}
    for index, m in enumerate(ds.muscle.values):
        muscles[str(m)] = {
            "median_day_half_endplates_denervated": median_event_day(half_denervated[:, index]),
            "median_day_half_motor_neurons_lost": median_event_day(half_mn[:, index]),
        }
    run = {
        "scenario": ds.attrs["scenario_name"],
        "hypothesis": ds.attrs["hypothesis"],
        "strain": ds.attrs["strain"],
        "seed": int(ds.attrs["seed"]),
        "alsim_version": ds.attrs["alsim_version"],
        "subjects": int(ds.sizes["subject"]),
    }
    if ds.attrs.get("species") == "human":     # events in days from symptom onset (alsim.simulation_human)
        events = {"day_coordinate": ds.attrs["day_coordinate"],
                  **{name: _distribution(ds[name].values)
                     for name in ("onset_sim_day", "diagnosis_day", "ventilation_day", "end_stage_day")}}
    else:
        events = {"days": int(ds.sizes["day"]) - 1, "onset_day": _distribution(ds.onset_day.values),
                  "end_stage_day": _distribution(ds.end_stage_day.values)}
    return {**run, **events,
            "onset_definition": ds.attrs["onset_definition"],
            "end_stage_definition": ds.attrs["end_stage_definition"],
            "muscles": muscles}


def _milestone_days(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(subject, muscle) days at which half the endplates are denervated and half the motor
    neurons lost (NaN: never), read a few thousand subjects at a time."""
    if ds.sizes["day"] == 0:          # a human run in which nobody reached onset: no time courses
        never = np.full((ds.sizes["subject"], ds.sizes["muscle"]), np.nan)
        return never, never
    parts = []
    for start in range(0, ds.sizes["subject"], SUMMARY_ROWS):
        rows = ds.isel(subject=slice(start, start + SUMMARY_ROWS))
        denervated = rows.endplates_denervated_fraction.transpose("subject", "muscle", "day").values
        alive = rows.motor_neurons_alive_fraction.transpose("subject", "muscle", "day").values
        parts.append((_day_of(ds, first_true(denervated >= 0.5)), _day_of(ds, first_true(alive <= 0.5))))
    return tuple(np.concatenate(p) for p in zip(*parts))


def _day_of(ds: xr.Dataset, index: np.ndarray) -> np.ndarray:
    """The ``day`` coordinate at indices along it (NaN stays NaN): ages in mice, days from onset in people."""
    day = ds.day.values.astype(np.float64)
    out = np.full(index.shape, np.nan)
    ok = np.isfinite(index)
    out[ok] = day[index[ok].astype(np.int64)]
    return out


def write_summary(summary: dict, folder: str | os.PathLike) -> Path:
    path = Path(folder) / "summary.json"
    path.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
