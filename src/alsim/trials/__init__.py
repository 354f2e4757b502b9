"""In-silico preclinical trials: randomised allocation and survival statistics; parameter sweeps.

Logic only: the pages are drawn by :mod:`alsim.report.trial` and :mod:`alsim.report.sweep`."""

from .allocation import allocate, allocate_per_arm
from .stats import (
    ENDPOINTS, ArmOutcome, HazardRatio, compare_arms, difference_ci, effect_distribution,
    hazard_ratio, logrank_p, median_with_ci, power, power_curve,
)
from .sweep import build_sweep, parse_axis, run_sweep, summarise_sweep
from .trial import TrialResult, run_trial

__all__ = [
    "allocate", "allocate_per_arm", "ENDPOINTS", "ArmOutcome", "HazardRatio", "compare_arms",
    "difference_ci", "effect_distribution", "hazard_ratio", "logrank_p", "median_with_ci",
    "power", "power_curve", "build_sweep", "parse_axis", "run_sweep", "summarise_sweep", "TrialResult", "run_trial",
]
