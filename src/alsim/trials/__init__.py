"""In-silico preclinical trials: randomised allocation and survival statistics; parameter sweeps."""

from .allocation import allocate, allocate_per_arm
from .stats import (
    ENDPOINTS, ArmOutcome, HazardRatio, compare_arms, difference_ci, effect_distribution,
    hazard_ratio, logrank_p, median_with_ci, power, power_curve,
)
from .sweep import build_sweep, parse_axis, run_sweep, summarise_sweep

__all__ = [
    "allocate", "allocate_per_arm", "ENDPOINTS", "ArmOutcome", "HazardRatio", "compare_arms",
    "difference_ci", "effect_distribution", "hazard_ratio", "logrank_p", "median_with_ci",
    "power", "power_curve", "build_sweep", "parse_axis", "run_sweep", "summarise_sweep",
]
