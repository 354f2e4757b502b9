"""``summary.json``: what was run, the distribution of its clinical events, per-muscle milestones.

Read from a results Dataset (in memory or streamed: its time courses are read a few
thousand subjects at a time). Which events are summarised, and in which days, is the
species' (:attr:`alsim.biology.species.Species.summary_events`).
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..biology.species import MOUSE, species_of
from ..readouts.clinical import first_true

__all__ = ["SUMMARY_ROWS", "median_event_day", "summarise"]


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
    species = species_of(ds.attrs.get("species", MOUSE.name))
    if species.onset_aligned:       # events in days from symptom onset (alsim.run.human)
        events = {"day_coordinate": ds.attrs["day_coordinate"]}
    else:
        events = {"days": int(ds.sizes["day"]) - 1}
    events.update({name: _distribution(ds[name].values) for name in species.summary_events})
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
