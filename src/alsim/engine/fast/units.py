"""Compiled motor-unit rules (docs/model.md, motor-unit rules) and the commit of unit deaths.

``p`` is :class:`~alsim.engine.fast.tables.Params`, ``s`` a
:class:`~alsim.engine.fast.tables.SubjectState`, ``mf`` the day's per-muscle
treatment factors ``(targets, M)``. Loop functions take the arrays they need out
of ``p`` and ``s`` once, before the loop: Numba pays for every attribute access on
a large tuple inside a loop.
"""

from __future__ import annotations

import math

from numba import njit

from .chance import happens
from .groups import release_unit
from .tables import (F_AXON_DIEBACK, F_DESTABILISATION, F_RETRACTION, F_SOMA_DEATH, F_SOMA_STARVATION,
                     F_STRESS_PRODUCTION, F_TRANSPORT_DECLINE)


@njit(cache=True, error_model="numpy")
def unit_phase(rng, p, s, burden, cortical_drive, mf):
    """Unit rules 1-4 for every unit, from the start-of-day state.

    Deaths are only decided here (``s.die_soma``, ``s.die_axon``) and applied after the
    endplates have been stepped; what the endplates need from their owner (stress- and
    transport-dependent hazards) and the sprouting donors' weights are kept in scratch.
    Stress ``M`` and transport ``T`` are then advanced (exact over one day). ``burden``
    (M,) is the day's D(t - delay_m) of each muscle (docs/human.md, *Spread*).
    """
    unit_muscle, n0, max_size, vulnerability, activity = p.unit_muscle, p.n0, p.max_size, p.vulnerability, p.activity
    mean_size, competence, length_factor = p.mean_baseline_size, p.competence, p.length_factor
    soma, axon, stress, transport, size = s.soma, s.axon, s.stress, s.transport, s.size
    die_soma, die_axon, h_stress, h_expand, weight, capacity = s.die_soma, s.die_axon, s.h_stress, s.h_expand, s.weight, s.capacity
    w_forward, w_back = p.w_forward, p.w_back
    soma_stress, soma_excitotoxic, soma_starvation, soma_ageing = p.soma_stress, p.soma_excitotoxic, p.soma_starvation, p.soma_ageing
    axon_dieback, wallerian_axon, exponent = p.axon_dieback, p.wallerian_axon, p.stress_exponent
    retraction_per_stress, expansion, transport_decline = p.retraction_per_stress, p.expansion, p.transport_decline
    stress_decay, tau, recovery = math.exp(-1.0 / p.stress_tau), p.stress_tau, p.transport_recovery
    square_root = exponent == 0.5
    recovery_factor = math.exp(-recovery)
    for u in range(unit_muscle.shape[0]):
        alive, intact = soma[u], axon[u]
        die_soma[u] = False
        die_axon[u] = False
        if not alive and not intact:
            # nothing reads a unit whose soma and axon are gone (no rule, no terminal, no sprout),
            # so its stress and transport are no longer advanced
            capacity[u] = 0.0
            weight[u] = 0.0
            continue
        m = unit_muscle[u]
        n = size[u]
        size_fraction = min(1.0, n / n0[u])
        m_u, t_u = stress[u], transport[u]
        # rule 1: soma death
        if alive:
            trophic = t_u * size_fraction if intact else 0.0
            forward = w_forward * (soma_stress * m_u + soma_excitotoxic * vulnerability[u] * cortical_drive)
            starvation = soma_starvation * (1.0 - trophic) * mf[F_SOMA_STARVATION, m]
            die_soma[u] = happens(rng, (forward + starvation) * mf[F_SOMA_DEATH, m] + soma_ageing)
        # rule 2: axon degeneration (Wallerian after soma death, else dying back)
        if intact:
            h_axon = axon_dieback * (1.0 - size_fraction) * mf[F_AXON_DIEBACK, m] if alive else wallerian_axon
            die_axon[u] = happens(rng, h_axon)
        # what the unit's endplates and sprouts see today
        h_stress[u] = w_back * retraction_per_stress * m_u
        h_expand[u] = expansion * t_u
        room = max(0.0, max_size[u] - n) if (alive and intact and n >= 1) else 0.0
        capacity[u] = room
        weight[u] = competence[u] * t_u * room
        # rules 3 and 4: metabolic stress and axonal transport
        relative_size = n / mean_size[u]
        # sqrt is pow(x, 0.5) correctly rounded, and several times cheaper
        scaled = math.sqrt(relative_size) if square_root else relative_size ** exponent
        production = burden[m] * vulnerability[u] * activity[u] * scaled * mf[F_STRESS_PRODUCTION, m]
        decline = transport_decline * length_factor[u] * m_u * mf[F_TRANSPORT_DECLINE, m]
        total = decline + recovery
        equilibrium = recovery / total if total > 0.0 else t_u
        # no stress yet (or no decline): the same exp every day, computed once
        transport[u] = equilibrium + (t_u - equilibrium) * (recovery_factor if decline == 0.0 else math.exp(-total))
        stress[u] = m_u * stress_decay + production * tau * (1.0 - stress_decay)


@njit(cache=True, error_model="numpy")
def retraction_by_muscle(p, s, mf, out):
    """Endplate rule 1 per muscle: the retraction hazard is ``(h_stress[owner] * out[0, m] + out[1, m]) * out[2, m]``."""
    for m in range(s.expression.shape[0]):
        out[0, m] = 1.0 + p.destabilising_gain * s.expression[m] * mf[F_DESTABILISATION, m]
        out[1, m] = p.retraction_baseline
        out[2, m] = mf[F_RETRACTION, m]


@njit(cache=True, error_model="numpy")
def apply_unit_deaths(rng, p, s, day):
    """Commit today's soma and axon deaths; an axon's grouped endplates become active (Wallerian terminals)."""
    for u in range(p.unit_muscle.shape[0]):
        if s.die_soma[u]:
            s.soma[u] = False
        if s.die_axon[u]:
            s.axon[u] = False
            release_unit(rng, p, s, u, day)
