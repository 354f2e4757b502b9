"""Hazards (per day) of the discrete events, and the exact updates of the continuous state.

Every function works on NumPy arrays or floats alike, and follows docs/model.md
rule by rule. ``w_back`` and ``w_forward`` are the hypothesis weights.
"""

from __future__ import annotations

import numpy as np

from ..config.schema import Scenario


def probability(hazard_per_day, dt: float = 1.0):
    """Probability that an event with the given hazard happens within ``dt`` days."""
    return -np.expm1(-np.asarray(hazard_per_day) * dt)


def trophic_support(transport, size, baseline_size, axon_intact):
    """Phi_u = T_u min(1, n_u / n0_u), zero without an intact axon."""
    return np.where(axon_intact, transport * np.minimum(1.0, size / baseline_size), 0.0)


def soma_death_hazard(s: Scenario, w_forward, stress, vulnerability, cortical_drive, trophic,
                      disease_factor=1.0, starvation_factor=1.0):
    """Soma death hazard; the factors are treatments' (docs/model.md, *Treatments*)."""
    r = s.rates
    forward = w_forward * (r.soma_stress_death * stress + r.soma_excitotoxic_death * vulnerability * cortical_drive)
    starvation = r.soma_starvation_death * (1.0 - trophic) * starvation_factor
    return (forward + starvation) * disease_factor + r.soma_ageing_death


def axon_degeneration_hazard(s: Scenario, soma_alive, size, baseline_size, dieback_factor=1.0):
    r = s.rates
    dieback = r.axon_dieback * (1.0 - np.minimum(1.0, size / baseline_size)) * dieback_factor
    return np.where(soma_alive, dieback, r.wallerian_axon)


def stress_production(disease_burden, vulnerability, activity, size, mean_baseline_size, exponent):
    """P_u per day: grows with the burden, the unit's type and its current size."""
    return disease_burden * vulnerability * activity * (size / mean_baseline_size) ** exponent


def relax_stress(stress, production, tau_days, dt: float = 1.0):
    decay = np.exp(-dt / tau_days)
    return stress * decay + production * tau_days * (1.0 - decay)


def update_transport(transport, decline, recovery, dt: float = 1.0):
    """Exact solution over dt of dT/dt = -decline T + recovery (1 - T)."""
    total = decline + recovery
    equilibrium = np.where(total > 0, recovery / np.where(total > 0, total, 1.0), transport)
    return equilibrium + (transport - equilibrium) * np.exp(-total * dt)


def retraction_hazard(s: Scenario, w_back, stress, expression, factor=1.0, destabilisation_factor=1.0):
    r = s.rates
    destabilised = 1.0 + s.muscle_feedback.destabilising_gain * expression * destabilisation_factor
    return (w_back * r.terminal_retraction_per_stress * stress * destabilised + r.terminal_retraction_baseline) * factor


def sprouting_hazard(s: Scenario, guidance, expression, factor=1.0):
    return s.rates.sprouting * guidance * (1.0 + s.muscle_feedback.sprouting_signal_gain * expression) * factor


def disassembly_hazard(s: Scenario, achr_stability, factor=1.0):
    return s.rates.endplate_disassembly * (1.0 - achr_stability) * factor


def relax_towards(value, target, rate, dt: float = 1.0):
    """value -> target exponentially at ``rate`` per day (exact over dt)."""
    return target + (value - target) * np.exp(-rate * dt)
