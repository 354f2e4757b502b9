"""The human training rows (``alsim/data/training/human.csv``) as summary statistics.

The three rows of sporadic ALS are compared with a simulated cohort of people
(:mod:`alsim.inference.human_summaries`), each with an observation error built from what
the row reports, in the style of the mouse rules (:mod:`alsim.inference.observations`):

- **a published range** ("20-48" months of median survival, a range of estimates from
  different populations) is an *interval*: the population's median lies anywhere in it.
  The comparison adds a uniform term over the interval's half-width to the simulated value
  and compares with the midpoint (noisy ABC with a uniform error, Wilkinson 2013), so that
  every median inside the range fits equally well and none outside does;
- **an approximate value** ("~14" months of diagnostic delay): an assumed Gaussian
  tolerance ``APPROX_TOLERANCE_FRACTION`` of the value (the "~" marks a rounded review
  figure). The model's diagnosis is the day the El Escorial criteria are met; the
  published delay also holds the patient's way to a neurologist and the investigations
  (docs/human.md), which the model does not simulate. The row is therefore used as an
  *upper bound*: simulated delay + an unsimulated lag, uniform on 0 to the whole delay,
  + the tolerance. The predictive check still shows the model's own delay against 14;
- **a proportion with n** (1-year mortality 0.341, n = 176): its binomial standard error
  sqrt(p(1-p)/n), with the model-discrepancy floor for fractions of the mouse rules
  (``FLOOR_FRACTION``) added in quadrature. The simulated cohort's own binomial error is
  counted against it (``sampling_topup``): only the part of the error the simulated
  cohort does not already carry is added as noise.
"""

from __future__ import annotations

import math
import re

from ..data.training import _read, short_source
from .observations import FLOOR_FRACTION, Statistic

__all__ = ["HUMAN_POPULATION", "HUMAN_ERROR_RULES", "human_statistics", "human_fitted_statistics",
           "DAYS_PER_MONTH", "ONE_YEAR_DAYS"]

#: The population of human.csv that the sporadic presets represent.
HUMAN_POPULATION = "sporadic ALS"
#: Days per month when a published number of months is compared with simulated days (365.25 / 12).
DAYS_PER_MONTH = 365.25 / 12
#: One year, days: the horizon of "1-year mortality from diagnosis".
ONE_YEAR_DAYS = 365.25
#: Tolerance (SD) of an approximate value, as a fraction of it.
APPROX_TOLERANCE_FRACTION = 0.2

HUMAN_ERROR_RULES: dict[str, str] = {
    "RANGE": "a published range lo-hi is an interval: uniform error over (hi - lo)/2 about the midpoint",
    "APPROX_TOLERANCE_FRACTION": (f"{APPROX_TOLERANCE_FRACTION}: assumed SD of an approximate ('~') value, as a "
                                  "fraction of it (a rounded review figure)"),
    "DIAGNOSIS_UPPER_BOUND": ("the model's diagnosis (criteria met) cannot come after the clinical one: simulated "
                              "delay + an unsimulated lag uniform on 0 to the published delay"),
    "BINOMIAL": "a proportion p with n: SE sqrt(p(1-p)/n), floor FLOOR_FRACTION in quadrature",
}


def _range(text: str) -> tuple[float, float] | None:
    """``"20-48"`` -> (20.0, 48.0); None if the text is not a range."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*", text)
    return (float(match.group(1)), float(match.group(2))) if match else None


def _approximate(text: str) -> float | None:
    """``"~14"`` -> 14.0; None if the text does not start with '~'."""
    match = re.fullmatch(r"\s*~\s*(\d+(?:\.\d+)?)\s*", text)
    return float(match.group(1)) if match else None


def _n_from_source(source: str) -> int | None:
    match = re.search(r"\bn\s*=\s*(\d+)", source)
    return int(match.group(1)) if match else None


def _survival(record: dict, label_tail: str) -> Statistic:
    """Median survival from onset (months) against a published range (an interval)."""
    low, high = _range(record["value"])
    half = (high - low) / 2
    return Statistic(
        "human_median_survival_from_onset_months", f"median survival from symptom onset, months{label_tail}",
        (low + high) / 2, half / math.sqrt(3),
        f"range {low:g}-{high:g} months of published estimates read as an interval: uniform error +-{half:g} "
        f"about the midpoint (SD {half / math.sqrt(3):.3g})", "months", "human_median_survival_months",
        {"interval": [low, high]}, record["source"], record["status"].strip(),
        offset=(-half, half), gaussian_sd=0.0)


def _diagnosis(record: dict, label_tail: str) -> Statistic:
    """Median delay from onset to diagnosis (months) against an approximate value, as an upper bound."""
    value = _approximate(record["value"])
    tolerance = APPROX_TOLERANCE_FRACTION * value
    total = math.sqrt(tolerance ** 2 + value ** 2 / 12)
    return Statistic(
        "human_median_diagnostic_delay_months", f"median delay from symptom onset to diagnosis, months{label_tail}",
        value, total,
        f"'~{value:g}': assumed tolerance SD {tolerance:.3g} ({APPROX_TOLERANCE_FRACTION:g} of the value: a rounded "
        f"review figure); used as an upper bound: the model's criteria-met delay + an unsimulated referral and "
        f"investigation lag, uniform on 0-{value:g} months (assumed: anything from none to the whole delay; "
        f"docs/human.md); total SD {total:.3g}", "months", "human_median_diagnostic_delay_months",
        {"upper_bound": value}, record["source"], record["status"].strip(),
        offset=(0.0, value), gaussian_sd=tolerance)


def _mortality(record: dict, label_tail: str) -> Statistic:
    """1-year mortality after diagnosis (a proportion) with its binomial SE."""
    p, n = float(record["value"]), _n_from_source(record["source"])
    if n is None:
        raise ValueError(f"human.csv: the 1-year mortality row gives no n in its source: {record['source']!r}")
    se = math.sqrt(p * (1 - p) / n)
    error = math.hypot(se, FLOOR_FRACTION)
    return Statistic(
        "human_one_year_mortality_after_diagnosis", f"1-year mortality after diagnosis{label_tail}", p, error,
        f"binomial SE sqrt({p:g}(1-{p:g})/{n}) = {se:.4f}; sqrt({se:.3g}^2 + floor {FLOOR_FRACTION:g}^2) = "
        f"{error:.4f}; only the part beyond the simulated cohort's own binomial SE is added as noise",
        "fraction", "human_one_year_mortality", {"n": n, "binomial_se": se}, record["source"],
        record["status"].strip(), gaussian_sd=error, sampling_topup=True)


_RULES = (("survival from symptom onset", _survival), ("diagnostic delay", _diagnosis),
          ("1-year mortality from diagnosis", _mortality))


def human_statistics(population: str = HUMAN_POPULATION) -> list[Statistic]:
    """Every row of human.csv for ``population`` as a statistic (in the file's order)."""
    stats = []
    for record in _read("human.csv"):
        if record["population"].strip() != population:
            continue
        quantity = record["quantity"]
        rule = next((make for phrase, make in _RULES if phrase in quantity), None)
        if rule is None:
            raise ValueError(f"human.csv: no observation rule for the quantity {quantity!r}; "
                             f"known: {', '.join(p for p, _ in _RULES)}")
        stats.append(rule(record, f" ({short_source(record['source'])})"))
    return stats


def human_fitted_statistics(population: str = HUMAN_POPULATION) -> list[Statistic]:
    """The human statistics a calibration is fitted to (all three rows)."""
    return [s for s in human_statistics(population) if s.fitted]
