"""Survival statistics for in-silico SOD1-G93A trials (Scott et al. 2008 design).

Times are ages in days. An animal whose event (onset or end stage) has not
happened by ``follow_up_days`` is right-censored at ``follow_up_days``; NaN
marks such an animal, and a recorded time later than follow-up is censored
too. Kaplan-Meier curves, medians, log-rank tests and Cox fits come from
``lifelines``; this module only shapes the data and handles degenerate cases.

Degenerate inputs never raise: the statistic is NaN and, when a ``notes`` list
is passed, the reason is appended to it. Warnings emitted by lifelines are
caught (the test suite turns warnings into errors) and numpy floating-point
errors inside lifelines are silenced; a ``ConvergenceWarning`` or
``ConvergenceError`` of the Cox fit makes the hazard ratio NaN (non-unique
maximum likelihood, e.g. complete separation), any other warning is recorded
in ``notes`` and the value is kept.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times

from .fast_stats import km_median
from scipy import stats

__all__ = ["ENDPOINTS", "ArmOutcome", "HazardRatio", "median_with_ci", "difference_ci", "logrank_p",
           "hazard_ratio", "compare_arms", "power", "power_curve", "effect_distribution", "quiet_lifelines"]

ENDPOINTS = {"end_stage": ("end_stage_day", "end stage"), "onset": ("onset_day", "onset")}


@dataclass(frozen=True)
class ArmOutcome:
    """Outcomes of one trial arm, one entry per animal.

    end_stage_day, onset_day : age (days) at the event, NaN = no event by follow-up.
    follow_up_days : age (days) at which follow-up ends (administrative censoring).
    count_at_day : optional NMJ or motor-unit count at the chosen day (NaN = not measured).
    """

    end_stage_day: np.ndarray
    onset_day: np.ndarray
    follow_up_days: float
    count_at_day: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("end_stage_day", "onset_day", "count_at_day"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, np.asarray(value, dtype=float).ravel())
        sizes = {v.size for v in (self.end_stage_day, self.onset_day, self.count_at_day) if v is not None}
        if len(sizes) > 1:
            raise ValueError("end_stage_day, onset_day and count_at_day need one entry per animal")

    @property
    def n(self) -> int:
        return int(self.end_stage_day.size)

    def survival_data(self, endpoint: str) -> tuple[np.ndarray, np.ndarray]:
        """(durations in days, event observed) for ``endpoint`` ('end_stage' or 'onset')."""
        return _censor(getattr(self, ENDPOINTS[endpoint][0]), self.follow_up_days)


class HazardRatio(NamedTuple):
    """Cox hazard ratio of treated vs control (< 1: treatment slows the event)."""

    hr: float
    lo: float
    hi: float
    p: float


def _censor(times: np.ndarray, follow_up: float) -> tuple[np.ndarray, np.ndarray]:
    times = np.asarray(times, dtype=float).ravel()
    observed = np.isfinite(times) & (times <= follow_up)
    if np.any(times[observed] < 0):
        raise ValueError("event ages must be >= 0 days")
    return np.where(observed, times, float(follow_up)), observed


@contextlib.contextmanager
def quiet_lifelines() -> Iterator[list[warnings.WarningMessage]]:
    """Record (not raise) warnings and ignore numpy FP errors inside lifelines (the tests turn
    warnings into errors); yields the list of warnings caught."""
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        yield caught


def _note(notes: list[str] | None, message: str) -> None:
    if notes is not None:
        notes.append(message)


def _finite(x: float) -> float:
    x = float(x)
    return x if np.isfinite(x) else float("nan")


def _km_median(fitter: KaplanMeierFitter, durations: np.ndarray, observed: np.ndarray) -> float:
    """The KM median for bootstrap loops (NumPy; equal to lifelines', see fast_stats); ``fitter`` unused."""
    return _finite(km_median(durations, observed))


def median_with_ci(times: np.ndarray, follow_up: float) -> tuple[float, float, float]:
    """Kaplan-Meier median event age (days) and its 95% CI, (median, lo, hi).

    The CI is lifelines' ``median_survival_times(kmf.confidence_interval_)``:
    the ages at which the pointwise 95% bands of S(t) cross 0.5. Any of the
    three is NaN when the curve (or band) stays above 0.5 until follow-up.
    """
    return km_median_with_ci(*_censor(times, follow_up))


def km_median_with_ci(durations: np.ndarray, observed: np.ndarray) -> tuple[float, float, float]:
    """:func:`median_with_ci` of right-censored ``durations`` (``observed``: the event was seen;
    otherwise the duration is the censoring time)."""
    if durations.size == 0:
        return (float("nan"),) * 3
    with quiet_lifelines():
        kmf = KaplanMeierFitter().fit(durations, observed)
        ci = median_survival_times(kmf.confidence_interval_)
    return _finite(kmf.median_survival_time_), _finite(ci.iloc[0, 0]), _finite(ci.iloc[0, 1])


def difference_ci(
    treated: ArmOutcome,
    control: ArmOutcome,
    endpoint: str = "end_stage",
    rng: np.random.Generator | int | None = None,
    n_boot: int = 1000,
    max_undefined: float = 0.05,
    notes: list[str] | None = None,
) -> tuple[float, float, float]:
    """Difference in KM median event age, treated - control (days), with a 95% CI.

    Method: nonparametric bootstrap (Efron 1981, "Censored data and the
    bootstrap"). Each of ``n_boot`` replicates resamples the animals of each
    arm with replacement (arm sizes fixed), keeping each animal's censored
    (duration, event) pair, and recomputes both KM medians with lifelines.
    The CI is the 2.5th-97.5th percentile of the replicate differences.
    A replicate is undefined when a median is not reached (NaN); undefined
    replicates are dropped, and if more than ``max_undefined`` (5%) of them are
    undefined the percentile interval is not trustworthy and lo, hi are NaN.
    The value is NaN when either observed median is not reached.
    Cost: 2 * n_boot lifelines KM fits (about 2-4 ms each).
    """
    rng = np.random.default_rng(rng)
    data = [arm.survival_data(endpoint) for arm in (treated, control)]
    if min(d.size for d, _ in data) == 0:
        _note(notes, f"{endpoint} difference: an arm is empty")
        return (float("nan"),) * 3
    kmf = KaplanMeierFitter()
    value = _km_median(kmf, *data[0]) - _km_median(kmf, *data[1])
    if not np.isfinite(value):
        _note(notes, f"{endpoint} difference: median not reached by follow-up in an arm")
        return (float("nan"),) * 3
    boot = np.empty(n_boot)
    for b in range(n_boot):
        medians = []
        for durations, observed in data:
            pick = rng.integers(0, durations.size, durations.size)
            medians.append(_km_median(kmf, durations[pick], observed[pick]))
        boot[b] = medians[0] - medians[1]
    defined = boot[np.isfinite(boot)]
    if defined.size < (1 - max_undefined) * n_boot:
        _note(notes, f"{endpoint} difference: median not reached in {n_boot - defined.size}/{n_boot} bootstrap replicates")
        return float(value), float("nan"), float("nan")
    lo, hi = np.percentile(defined, [2.5, 97.5])
    return float(value), float(lo), float(hi)


def _degenerate(treated: ArmOutcome, control: ArmOutcome, endpoint: str, need_both: bool) -> str | None:
    """Why a two-arm test of ``endpoint`` is undefined, or None if it is defined."""
    (dt, et), (dc, ec) = treated.survival_data(endpoint), control.survival_data(endpoint)
    if dt.size == 0 or dc.size == 0:
        return "an arm is empty"
    if not (et.any() or ec.any()):
        return "no events in either arm"
    if need_both and not (et.any() and ec.any()):
        which = "treated" if not et.any() else "control"
        return f"no events in the {which} arm: Cox partial likelihood is monotone, HR not estimable"
    if np.unique(np.r_[dt, dc]).size == 1:
        return "all times identical: nothing orders the arms"
    return None


def logrank_p(
    treated: ArmOutcome, control: ArmOutcome, endpoint: str = "end_stage", notes: list[str] | None = None
) -> float:
    """Two-sided log-rank p-value (lifelines ``logrank_test``) for ``endpoint``.

    Defined as long as at least one arm has an event (no events in one arm is
    strong evidence, not a degenerate case); NaN otherwise or when all times
    are identical.
    """
    reason = _degenerate(treated, control, endpoint, need_both=False)
    if reason is not None:
        _note(notes, f"{endpoint} log-rank: {reason}")
        return float("nan")
    (dt, et), (dc, ec) = treated.survival_data(endpoint), control.survival_data(endpoint)
    with quiet_lifelines() as caught:
        p = _finite(logrank_test(dt, dc, event_observed_A=et, event_observed_B=ec).p_value)
    for w in caught:
        _note(notes, f"{endpoint} log-rank: lifelines warned: {w.message}")
    return p


def hazard_ratio(
    treated: ArmOutcome, control: ArmOutcome, endpoint: str = "end_stage", notes: list[str] | None = None
) -> HazardRatio:
    """Cox proportional-hazards HR of treated vs control, with 95% CI and Wald p.

    Fitted with lifelines ``CoxPHFitter`` (Efron ties) on a single 0/1 arm
    indicator. HR < 1 means the treatment slows the event. NaN when an arm has
    no events, all times are identical, or the fit does not converge.
    """
    nan = HazardRatio(*(float("nan"),) * 4)
    reason = _degenerate(treated, control, endpoint, need_both=True)
    if reason is not None:
        _note(notes, f"{endpoint} hazard ratio: {reason}")
        return nan
    (dt, et), (dc, ec) = treated.survival_data(endpoint), control.survival_data(endpoint)
    frame = pd.DataFrame({"days": np.r_[dt, dc], "event": np.r_[et, ec].astype(int),
                          "treated": np.r_[np.ones(dt.size), np.zeros(dc.size)]})
    with quiet_lifelines() as caught:
        try:
            row = CoxPHFitter().fit(frame, "days", "event").summary.loc["treated"]
        except ConvergenceError as exc:
            _note(notes, f"{endpoint} hazard ratio: Cox fit failed: {str(exc).splitlines()[0]}")
            return nan
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        _note(notes, f"{endpoint} hazard ratio: Cox fit did not converge (complete separation?)")
        return nan
    for w in caught:
        _note(notes, f"{endpoint} hazard ratio: lifelines warned: {w.message}")
    return HazardRatio(*(_finite(row[k]) for k in ("exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%", "p")))


def _json(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _interval(value: float, lo: float, hi: float) -> dict[str, float | None]:
    return {"value": _json(value), "lo": _json(lo), "hi": _json(hi)}


def compare_arms(
    arms: Mapping[str, ArmOutcome],
    control: str,
    rng: np.random.Generator | int | None = None,
    n_boot: int = 1000,
    endpoint: str = "end_stage",
) -> dict[str, dict]:
    """Summarise every arm and compare each non-control arm with ``control``.

    Per arm: ``n``, ``events`` ({end_stage, onset} counts), ``median_end_stage_day``
    and ``median_onset_day`` ({value, lo, hi}, days). Non-control arms also get
    ``difference_end_stage_day`` / ``difference_onset_day`` (treated - control,
    bootstrap CI, days), ``hazard_ratio`` ({value, lo, hi, p}) and ``logrank_p``
    for ``endpoint``, and ``notes`` (reasons for any None). If both arms carry
    ``count_at_day``: ``mean_count_at_day`` (t CI) and ``difference_count_at_day``
    (Welch t CI, among animals with a count, i.e. survivors to that day).
    Values are plain floats, None for NaN, so the result is JSON-serialisable.
    """
    rng = np.random.default_rng(rng)
    result: dict[str, dict] = {}
    for name, arm in arms.items():
        entry: dict = {"n": arm.n, "events": {e: int(arm.survival_data(e)[1].sum()) for e in ENDPOINTS}}
        for e, (field, _) in ENDPOINTS.items():
            entry[f"median_{field}"] = _interval(*median_with_ci(getattr(arm, field), arm.follow_up_days))
        if arm.count_at_day is not None:
            entry["mean_count_at_day"] = _interval(*_t_ci(arm.count_at_day))
        if name != control:
            entry.update(_versus(arm, arms[control], rng, n_boot, endpoint))
        result[name] = entry
    return result


def _versus(arm: ArmOutcome, ctrl: ArmOutcome, rng: np.random.Generator, n_boot: int, endpoint: str) -> dict:
    notes: list[str] = []
    entry: dict = {}
    for e, (field, _) in ENDPOINTS.items():
        entry[f"difference_{field}"] = _interval(*difference_ci(arm, ctrl, e, rng, n_boot, notes=notes))
    hr = hazard_ratio(arm, ctrl, endpoint, notes)
    entry["hazard_ratio"] = {**_interval(hr.hr, hr.lo, hr.hi), "p": _json(hr.p)}
    entry["logrank_p"] = _json(logrank_p(arm, ctrl, endpoint, notes))
    if arm.count_at_day is not None and ctrl.count_at_day is not None:
        entry["difference_count_at_day"] = _interval(*_t_ci(arm.count_at_day, ctrl.count_at_day))
    entry["notes"] = notes
    return entry


def _t_ci(a: np.ndarray, b: np.ndarray | None = None) -> tuple[float, float, float]:
    """Mean of ``a`` (or Welch difference a - b) with a 95% t CI; finite values only, NaN below 2."""
    a = a[np.isfinite(a)]
    b = None if b is None else b[np.isfinite(b)]
    if a.size < 2 or (b is not None and b.size < 2):
        return (float("nan"),) * 3
    with quiet_lifelines():
        test = stats.ttest_1samp(a, 0.0) if b is None else stats.ttest_ind(a, b, equal_var=False)
        ci = test.confidence_interval(0.95)
    return float(a.mean() - (0.0 if b is None else b.mean())), _finite(ci.low), _finite(ci.high)


def power(p_values: np.ndarray, alpha: float = 0.05) -> tuple[float, float]:
    """Fraction of replicate p-values below ``alpha`` and its binomial SE.

    SE = sqrt(P(1-P)/R) over R replicates (Monte-Carlo error of the power
    estimate). NaN p-values (degenerate replicates) count as not rejecting.
    Under a null treatment the result estimates the type I error rate.
    """
    p = np.asarray(p_values, dtype=float).ravel()
    if p.size == 0:
        return float("nan"), float("nan")
    rate = float(np.mean(np.nan_to_num(p, nan=1.0) < alpha))
    return rate, float(np.sqrt(rate * (1 - rate) / p.size))


def power_curve(
    p_values: Mapping[int, np.ndarray] | Callable[[int], np.ndarray],
    ns: list[int] | None = None,
    alpha: float = 0.05,
) -> dict[int, tuple[float, float]]:
    """Power and binomial SE per animals-per-arm n.

    ``p_values`` is either a table {n: replicate p-values} or a callable
    ``f(n) -> replicate p-values`` evaluated at each of ``ns``.
    """
    if callable(p_values):
        if ns is None:
            raise ValueError("ns is required when p_values is a callable")
        table = {n: p_values(n) for n in ns}
    else:
        table = {n: p_values[n] for n in (ns if ns is not None else sorted(p_values))}
    return {int(n): power(p, alpha) for n, p in table.items()}


def effect_distribution(
    estimates: np.ndarray,
    p_values: np.ndarray | None = None,
    alpha: float = 0.05,
    favourable: str = "greater",
    null: float = 0.0,
) -> dict[str, float]:
    """Spread of a replicate effect estimate and how often it looks beneficial.

    ``favourable`` is 'greater' for differences in days (null 0) and 'less'
    for hazard ratios (pass null=1). Returns the median and 2.5-97.5%
    quantiles of the finite estimates, the fraction on the favourable side of
    ``null`` and, with p-values, the fraction both favourable and p < alpha
    (for a null treatment: how often it looks positive; about alpha/2 expected).
    """
    est = np.asarray(estimates, dtype=float).ravel()
    good = est > null if favourable == "greater" else est < null
    finite = est[np.isfinite(est)]
    q = np.percentile(finite, [50, 2.5, 97.5]) if finite.size else [float("nan")] * 3
    out = {"median": float(q[0]), "lo": float(q[1]), "hi": float(q[2]),
           "fraction_favourable": float(np.mean(good)) if est.size else float("nan")}
    if p_values is not None:
        p = np.nan_to_num(np.asarray(p_values, dtype=float).ravel(), nan=1.0)
        out["fraction_favourable_significant"] = float(np.mean(good & (p < alpha)))
    return out
