"""Differences between animals: copy number, sex and litter (docs/model.md, Variability)."""

from __future__ import annotations

import numpy as np

from ..config.schema import Scenario


def lognormal_factor(z: float, log_sd: float) -> float:
    """exp(s z - s^2/2): a multiplier with mean 1 whose log has SD ``log_sd``."""
    return float(np.exp(log_sd * z - 0.5 * log_sd**2))


def burden_multiplier(scenario: Scenario, *, is_female: bool, z_copy: float, z_litter: float) -> float:
    """A subject's lifelong disease-burden multiplier ``b``."""
    var = scenario.variability
    sex = 1.0 if is_female else var.male_burden_ratio
    return (
        scenario.disease.burden_multiplier
        * lognormal_factor(z_copy, var.copy_number_log_sd)
        * lognormal_factor(z_litter, var.litter_log_sd)
        * sex
    )
