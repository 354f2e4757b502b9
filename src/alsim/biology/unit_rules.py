"""Motor-unit rules 1-4 of docs/model.md: soma death, axon degeneration, stress, transport.

Each function is one rate or one exact update, per day (``dt = 1``), evaluated on the
start-of-day state of one unit (or on arrays of units through ``.py_func``). Treatment
factors ``F`` are 1 without treatment (docs/model.md, *Treatments*).
"""

from __future__ import annotations

import numpy as np

from .rule import rule


@rule
def terminal_share(size, baseline_size):
    """``min(1, n_u / n0_u)``, dimensionless: the share of its baseline endplates a unit still innervates."""
    return np.minimum(1.0, size / baseline_size)


@rule
def trophic_support(transport, share):
    """``Phi_u = T_u min(1, n_u / n0_u)``, 0 to 1: trophic support from the muscle, which needs the
    terminals that take it up and the retrograde transport that carries it (0 without an intact
    axon: the caller's branch)."""
    return transport * share


@rule
def soma_death_hazard(stress, vulnerability, cortical_drive, trophic, w_forward, stress_death, excitotoxic_death,
                      starvation_death, ageing_death, death_factor=1.0, starvation_factor=1.0):
    """Unit rule 1, per day: ``(w_forward (stress_death M_u + excitotoxic_death v_k C) + starvation) F_death
    + ageing_death`` with ``starvation = starvation_death (1 - Phi_u) F_starvation``.

    The dying-forward pathway (metabolic stress and cortical excitotoxicity) kills the soma,
    so does starvation of trophic support after terminal loss; normal ageing kills at a small
    constant rate that no treatment changes.
    """
    forward = w_forward * (stress_death * stress + excitotoxic_death * vulnerability * cortical_drive)
    starvation = starvation_death * (1.0 - trophic) * starvation_factor
    return (forward + starvation) * death_factor + ageing_death


@rule
def axon_dieback_hazard(share, dieback, factor=1.0):
    """Unit rule 2, per day, soma alive: ``axon_dieback (1 - min(1, n_u / n0_u)) F``: an axon that has
    lost its terminals dies back. (After soma death the hazard is ``rates.wallerian_axon``.)"""
    return dieback * (1.0 - share) * factor


@rule
def stress_size_drive(size, mean_baseline_size, exponent):
    """``(n_u / nbar0_m) ** exponent``, dimensionless: larger units (more terminals to feed) make more
    stress. At exponent 0.5 the correctly rounded square root (the same number as the power)."""
    relative = size / mean_baseline_size
    return np.sqrt(relative) if exponent == 0.5 else relative ** exponent


@rule
def stress_production(burden, vulnerability, activity, size_drive, factor=1.0):
    """Unit rule 3, per day: ``P_u = D(t) v_k a_k (n_u / nbar0_m) ** exponent F``: metabolic stress made by
    the toxic burden, more in vulnerable, active and large units."""
    return burden * vulnerability * activity * size_drive * factor


@rule
def stress_decay(tau_days):
    """``exp(-dt / tau)``: the share of metabolic stress left after a day."""
    return np.exp(-1.0 / tau_days)


@rule
def stress_after_day(stress, production, tau_days, decay):
    """Unit rule 3, exact over a day: ``M <- M exp(-dt/tau) + P tau (1 - exp(-dt/tau))``
    (``decay`` = :func:`stress_decay` of ``tau_days``)."""
    return stress * decay + production * tau_days * (1.0 - decay)


@rule
def transport_decline(stress, length_factor, decline_per_stress, factor=1.0):
    """Unit rule 4, per day: ``k = decline_per_stress (L_m / L_ref) M_u F``: stress impairs axonal
    transport, more in longer axons."""
    return decline_per_stress * length_factor * stress * factor


@rule
def transport_decay(decline, recovery):
    """``exp(-(k + r) dt)``: how much of its distance from equilibrium transport keeps over a day."""
    return np.exp(-(decline + recovery))


@rule
def transport_after_day(transport, decline, recovery, decay):
    """Unit rule 4, exact over a day: ``T <- T_eq + (T - T_eq) exp(-(k + r) dt)``, ``T_eq = r / (k + r)``
    (``T`` unchanged when ``k + r = 0``; ``decay`` = :func:`transport_decay`)."""
    # k, r >= 0: when k + r = 0 then r = 0, T_eq = 0 and the decay is 1, which leaves T as it is
    equilibrium = recovery / np.maximum(decline + recovery, 1e-300)
    return equilibrium + (transport - equilibrium) * decay


@rule
def terminal_stress(stress, early_production, tau_days):
    """Structure ``clock = two_phase``: ``M_u + tau P^e_u``, the stress a unit's terminals see: its
    metabolic stress plus the early terminal burden's production ``P^e_u`` (unit rule 3 with
    ``D_e(t)`` for ``D(t)``) at its steady level. It enters terminal retraction only, not the soma."""
    return stress + early_production * tau_days


@rule
def target_lost(vulnerable, size, axon_intact):
    """Structure ``soma_survival = orphan``: 1.0 when a vulnerable unit has lost its whole target
    (no terminal, ``n_u = 0``, or no intact axon), else 0.0; resilient units never count as lost."""
    return 1.0 * np.logical_and(vulnerable, np.logical_or(size == 0, np.logical_not(axon_intact)))
