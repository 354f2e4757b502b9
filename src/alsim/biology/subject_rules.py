"""Subject-level rules of docs/model.md: disease burden, upper motor neurons, chance per day."""

from __future__ import annotations

import numpy as np

from .rule import rule


@rule
def disease_burden(b, age_days, burden_scale_days, burden_exponent):
    """``D(t) = b (t / burden_scale_days) ** burden_exponent``, dimensionless: the toxic load of the
    mutant protein, growing with age (``b = 0`` in the wild type)."""
    return b * (age_days / burden_scale_days) ** burden_exponent


@rule
def cortical_drive(umn, hyperexcitability_gain, burden, factor=1.0):
    """``C = umn hyperexcitability_gain D(t) F``: excitotoxic drive of the upper motor neurons onto the
    lower ones (hyperexcitability, glutamate)."""
    return umn * hyperexcitability_gain * burden * factor


@rule
def umn_survival(w_forward, loss_per_burden_day, burden, factor=1.0):
    """``exp(-w_forward loss_per_burden_day D(t) F dt)``: the share of upper motor neurons alive today
    that are alive tomorrow (dying-forward pathway)."""
    return np.exp(-w_forward * loss_per_burden_day * burden * factor)


@rule
def event_probability(hazard):
    """``1 - exp(-h dt)``: the probability that an event of hazard ``h`` (per day) happens within a day
    (docs/model.md, *Time*)."""
    return -np.expm1(-hazard)


@rule
def early_burden(b, age_days, start_day, time_constant_days, amplitude):
    """Structure ``clock = two_phase``: ``D_e(t) = b A_e (1 - exp(-(t - t_e) / tau_e))`` for ``t > t_e``,
    else 0; dimensionless, in the units of ``D``. An early burden that acts on the nerve terminal
    and its Schwann cell only (FF axons pruned long before symptoms, Pun 2006; 40 % of fast-muscle
    endplates lost at P30 with P14 intact, Vinsant 2013; terminal Schwann cells abnormal at P30,
    Carrasco 2016)."""
    return b * amplitude * -np.expm1(-np.maximum(age_days - start_day, 0.0) / time_constant_days)
