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

__all__ = ["EVENT_STATISTICS", "SUMMARY_ROWS", "event_day_quantile", "km_quantile", "median_event_day", "summarise"]


EVENT_STATISTICS = (
    "Kaplan-Meier medians and quartiles over all subjects, censored at the end of the run: the median is the "
    "first day by which at least half of the subjects have had the event (quartiles: a quarter, three quarters); "
    "subjects that never reach it count as later than any day, so a quantile that fewer subjects reach is 'not "
    "reached' (null). Mean and SD are over the subjects that reach the event. In human runs, events after onset "
    "are in days from onset over the people with onset, censored at each person's end stage or end of follow-up, "
    "as in the human report.")
"""The one convention for event days (onset, end stage, milestones) in the terminal, ``summary.json``
and the reports. Kaplan-Meier is the survival-analysis standard; with every subject followed to
the end of the run it equals the empirical lower quantile over all subjects, and it does not bias
the median early by leaving out subjects that never reach the event."""


def _finite(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 3)


def km_quantile(durations: np.ndarray, observed: np.ndarray, fraction: float) -> float:
    """The Kaplan-Meier (product-limit) quantile: the first time at which the estimated fraction
    of subjects without the event falls to ``1 - fraction`` or below.

    ``durations`` (days, one per subject) is the event time where ``observed`` and the
    censoring time otherwise (``inf``: followed for ever). A subject censored on the day of
    an event is still at risk on it (the usual convention, and lifelines'). Returns ``inf``
    when the curve stays above ``1 - fraction``, NaN for no subjects.
    """
    durations = np.asarray(durations, dtype=float).ravel()
    observed = np.asarray(observed, dtype=bool).ravel()
    if durations.size == 0:
        return math.nan
    event_times = np.unique(durations[observed])
    surviving = 1.0
    for t in event_times:
        at_risk = np.sum(durations >= t)
        surviving *= 1.0 - np.sum(durations[observed] == t) / at_risk
        if surviving <= 1.0 - fraction + 1e-9:    # the product of (1 - d/n) rounds: (n - k)/n may come out a hair high
            return float(t)
    return math.inf


def event_day_quantile(event_days: np.ndarray, fraction: float) -> float:
    """:func:`km_quantile` with every subject followed to the end of the run: the first day by
    which at least ``fraction`` (0-1) of all subjects have had the event.

    ``event_days`` (days, one per subject) is NaN for subjects that do not reach the event
    within the run; they are censored at its end, i.e. count as later than any day. Returns
    ``inf`` when fewer than ``fraction`` of the subjects reach the event, NaN for no subjects.
    Equals lifelines' ``qth_survival_time(1 - fraction, kmf.survival_function_)`` for such data.
    """
    t = np.asarray(event_days, dtype=float).ravel()
    return km_quantile(np.where(np.isnan(t), np.inf, t), ~np.isnan(t), fraction)


def _distribution(values: np.ndarray, censored_at: np.ndarray | None = None) -> dict[str, float | int | None]:
    """Kaplan-Meier median and quartiles (:data:`EVENT_STATISTICS`); mean and SD of those reaching.

    ``censored_at`` (one per subject, days) is where a subject without the event stops being
    followed; None: at the end of the run, later than any event.
    """
    values = np.asarray(values, dtype=float)
    reached = values[np.isfinite(values)]
    follow = np.full(values.shape, np.inf) if censored_at is None else np.asarray(censored_at, dtype=float)
    durations, observed = np.where(np.isfinite(values), values, follow), np.isfinite(values)
    quantiles = {name: _finite(km_quantile(durations, observed, q)) if values.size else None
                 for name, q in (("median", 0.5), ("q25", 0.25), ("q75", 0.75))}
    return {
        "n_reached": int(reached.size),
        **quantiles,
        "mean": _finite(reached.mean()) if reached.size else None,
        "sd": _finite(reached.std(ddof=1)) if reached.size > 1 else None,
    }


def _human_events(ds: xr.Dataset, names: tuple[str, ...]) -> dict[str, dict]:
    """Distributions of a human run's events, as the human report computes them: onset over
    everybody (simulation days); the others in days from onset over the people with onset, an
    event after the end stage not counting, and people without it censored at their end stage
    or at the end of their follow-up (the simulation's last day, in days from their onset)."""
    onset = np.asarray(ds["onset_sim_day"].values, dtype=float)
    with_onset = np.isfinite(onset)
    last_sim_day = (float(ds["day"].values[-1]) + float(np.nanmin(onset))) if ds.sizes["day"] and with_onset.any() \
        else math.inf
    end = np.asarray(ds["end_stage_day"].values, dtype=float)
    follow_up = last_sim_day - onset
    out = {}
    for name in names:
        t = np.asarray(ds[name].values, dtype=float)
        if name == "onset_sim_day":
            out[name] = _distribution(t)
            continue
        censor = follow_up if name == "end_stage_day" else np.fmin(np.where(np.isfinite(end), end, np.inf), follow_up)
        counted = np.where(t > end, np.nan, t)
        out[name] = _distribution(counted[with_onset], censor[with_onset])
    return out


def median_event_day(event_days: np.ndarray) -> float | None:
    """Kaplan-Meier median day of an event over all subjects (:func:`event_day_quantile` at 0.5):
    those that never reach it count as later than any day, so that animals censored at end
    stage do not bias it; None if fewer than half the subjects reach it."""
    return _finite(event_day_quantile(event_days, 0.5)) if np.size(event_days) else None


SUMMARY_ROWS = 4096
"""Subjects read at a time by :func:`summarise` (a streamed Dataset is read from disk)."""


def summarise(ds: xr.Dataset) -> dict:
    """A JSON-ready summary: what was run, onset and end stage, and per-muscle milestones.

    Event days and milestones follow :data:`EVENT_STATISTICS` (stated in the summary as
    ``event_statistics``). A milestone is the median over subjects of the first day the subject
    crosses it; subjects that reach end stage first count as crossing later than any day. The
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
    if species.onset_aligned:
        events.update(_human_events(ds, species.summary_events))
    else:
        events.update({name: _distribution(ds[name].values) for name in species.summary_events})
    return {**run, **events, "event_statistics": EVENT_STATISTICS,
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
