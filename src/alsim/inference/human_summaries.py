"""The human statistics, read from the clinical events of a simulated cohort of people.

Input is :class:`HumanEvents`: per person the simulation day of symptom onset, and the
days from onset to diagnosis and to the end stage (death or permanent ventilation), with
the days of follow-up from onset to the end of the simulation. People without onset in
the simulated years are not patients and are left out (counted in ``details``).

Every statistic is a Kaplan-Meier estimate, so that people still alive (or not yet
diagnosed) when the simulation ends are *censored* at the end of their follow-up, not
counted as events nor dropped:

- **median survival from onset**, months: KM median of onset -> end stage;
- **median diagnostic delay**, months: KM median of onset -> diagnosis among people who
  are diagnosed or still alive and undiagnosed at the end (censored). People who reach
  the end stage undiagnosed never enter a clinical series and are left out;
- **1-year mortality after diagnosis**: 1 - KM survival at 365.25 days after diagnosis,
  among the diagnosed. Without censoring in the first year (the usual case with an
  8-year horizon) this equals the simple proportion who die within the year.

A median that the KM curve does not reach is reported as the longest follow-up (a lower
bound, as the mouse summaries count an endpoint not reached at the last simulated day).
Each statistic also gets its sampling SE in the simulated cohort (Greenwood for the
mortality, used by ``Statistic.sampling_topup``; NaN for the medians).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .human_observations import DAYS_PER_MONTH, ONE_YEAR_DAYS
from .observations import Statistic

__all__ = ["HumanEvents", "kaplan_meier", "km_quantile", "km_survival_at", "human_summaries", "compute_human"]


@dataclass(frozen=True)
class HumanEvents:
    """Clinical events of a cohort, one entry per person (NaN: the event did not happen).

    ``onset_sim_day``: simulation day of symptom onset; ``diagnosis_day`` and
    ``end_stage_day``: days from onset; ``last_sim_day``: the last simulated day.
    """

    onset_sim_day: np.ndarray
    diagnosis_day: np.ndarray
    end_stage_day: np.ndarray
    last_sim_day: int

    @property
    def follow_up_days(self) -> np.ndarray:
        """Days from each person's onset to the end of the simulation (NaN without onset)."""
        return self.last_sim_day - np.asarray(self.onset_sim_day, dtype=np.float64)

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> "HumanEvents":
        """The events of a human results Dataset (:func:`alsim.simulate`)."""
        onset = ds.onset_sim_day.values.astype(np.float64)
        reached = onset[np.isfinite(onset)]
        # The day grid runs from -max(onset) to last_sim_day - min(onset) (alsim.readouts.human.onset_grid).
        last = int(ds.day.values[-1] + reached.min()) if reached.size else int(ds.day.values[-1])
        return cls(onset, ds.diagnosis_day.values.astype(np.float64), ds.end_stage_day.values.astype(np.float64), last)


def kaplan_meier(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(t, S, greenwood_var)`` at each distinct event time ``t`` (same unit as ``time``).

    ``event`` is True for an event and False for a censored time; censored times tied
    with an event time count as still at risk at it (the usual convention)."""
    time, event = np.asarray(time, dtype=np.float64), np.asarray(event, dtype=bool)
    t = np.unique(time[event])
    at_risk = np.array([(time >= x).sum() for x in t], dtype=np.float64)
    deaths = np.array([((time == x) & event).sum() for x in t], dtype=np.float64)
    survival = np.cumprod(1.0 - deaths / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > deaths, deaths / (at_risk * (at_risk - deaths)), np.inf)
        variance = np.where(survival > 0, survival ** 2 * np.cumsum(terms), 0.0)  # S = 0: no spread left
    return t, survival, variance


def km_quantile(time: np.ndarray, event: np.ndarray, q: float = 0.5) -> float:
    """The smallest event time at which KM survival is at or below ``1 - q`` (NaN if never)."""
    t, survival, _ = kaplan_meier(time, event)
    below = np.flatnonzero(survival <= 1.0 - q + 1e-12)
    return float(t[below[0]]) if below.size else float("nan")


def km_survival_at(time: np.ndarray, event: np.ndarray, at: float) -> tuple[float, float]:
    """``(S(at), Greenwood SE)``: KM survival just after ``at`` (events at ``at`` count)."""
    t, survival, variance = kaplan_meier(time, event)
    upto = np.flatnonzero(t <= at)
    if not upto.size:
        return 1.0, 0.0
    return float(survival[upto[-1]]), float(np.sqrt(variance[upto[-1]]))


def _median_or_bound(time: np.ndarray, event: np.ndarray) -> float:
    """KM median; the longest time observed when the curve never reaches 0.5 (NaN if empty)."""
    if time.size == 0:
        return float("nan")
    median = km_quantile(time, event)
    return median if np.isfinite(median) else float(time.max())


def human_summaries(events: HumanEvents) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    """``(values, sampling_se, details)`` of the three human statistics, keyed by statistic kind.

    Medians are in months (days / 30.4375), the mortality a fraction; ``details`` counts
    the people behind each (with onset, diagnosed, censored before their event)."""
    onset = np.isfinite(events.onset_sim_day)
    follow = events.follow_up_days[onset]
    end = events.end_stage_day[onset]
    diagnosis = events.diagnosis_day[onset]
    died = np.isfinite(end)
    survival = _median_or_bound(np.where(died, end, follow), died)
    diagnosed = np.isfinite(diagnosis)
    eligible = diagnosed | ~died                  # diagnosed, or alive and undiagnosed at the end (censored)
    delay = _median_or_bound(np.where(diagnosed, diagnosis, follow)[eligible], diagnosed[eligible])
    after = np.where(died, end, follow)[diagnosed] - diagnosis[diagnosed]
    if after.size:
        alive, se = km_survival_at(after, died[diagnosed], ONE_YEAR_DAYS)
        mortality = 1.0 - alive
    else:
        mortality, se = float("nan"), float("nan")
    values = {"human_median_survival_months": survival / DAYS_PER_MONTH,
              "human_median_diagnostic_delay_months": delay / DAYS_PER_MONTH,
              "human_one_year_mortality": mortality}
    sampling = {"human_median_survival_months": float("nan"), "human_median_diagnostic_delay_months": float("nan"),
                "human_one_year_mortality": se}
    details = {"people": int(onset.size), "with_onset": int(onset.sum()), "reached_end_stage": int(died.sum()),
               "diagnosed": int(diagnosed.sum()), "end_stage_undiagnosed": int((died & ~diagnosed).sum()),
               "censored_in_first_year_after_diagnosis": int(((after < ONE_YEAR_DAYS) & ~died[diagnosed]).sum())}
    return values, sampling, details


def compute_human(events: HumanEvents, statistics: list[Statistic]) -> tuple[dict[str, float], dict[str, float]]:
    """``({key: value}, {key: sampling SE})`` for each statistic (NaN for kinds that are not human)."""
    values, sampling, _ = human_summaries(events)
    return ({s.key: values.get(s.kind, float("nan")) for s in statistics},
            {s.key: sampling.get(s.kind, float("nan")) for s in statistics})
