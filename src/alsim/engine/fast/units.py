"""Compiled motor-unit rules and the units' pools of bulk endplates (docs/model.md, motor-unit rules).

``p`` is :class:`~alsim.engine.fast.tables.Params`, ``s`` a
:class:`~alsim.engine.fast.tables.SubjectState`, ``mf`` the day's per-muscle
treatment factors ``(targets, M)``. Loop functions take the arrays they need out
of ``p`` and ``s`` once, before the loop: Numba pays for every attribute access on
a large tuple inside a loop.
"""

from __future__ import annotations

import math

from numba import njit

from .chance import binomial, happens, index_below
from .day_tables import RETRACT_HAZARD
from .tables import (ACTIVE, BULK, F_AXON_DIEBACK, F_DESTABILISATION, F_RETRACTION, F_SOMA_DEATH,
                     F_SOMA_STARVATION, F_STRESS_PRODUCTION, F_TRANSPORT_DECLINE)


@njit(cache=True)
def unit_phase(gen, p, s, burden, cortical_drive, mf):
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
    for u in range(unit_muscle.shape[0]):
        m = unit_muscle[u]
        n = size[u]
        size_fraction = min(1.0, n / n0[u])
        alive, intact = soma[u], axon[u]
        m_u, t_u = stress[u], transport[u]
        # rule 1: soma death
        die_soma[u] = False
        if alive:
            trophic = t_u * size_fraction if intact else 0.0
            forward = w_forward * (soma_stress * m_u + soma_excitotoxic * vulnerability[u] * cortical_drive)
            starvation = soma_starvation * (1.0 - trophic) * mf[F_SOMA_STARVATION, m]
            die_soma[u] = happens(gen, (forward + starvation) * mf[F_SOMA_DEATH, m] + soma_ageing)
        # rule 2: axon degeneration (Wallerian after soma death, else dying back)
        die_axon[u] = False
        if intact:
            h_axon = axon_dieback * (1.0 - size_fraction) * mf[F_AXON_DIEBACK, m] if alive else wallerian_axon
            die_axon[u] = happens(gen, h_axon)
        # what the unit's endplates and sprouts see today
        h_stress[u] = w_back * retraction_per_stress * m_u
        h_expand[u] = expansion * t_u
        room = max(0.0, max_size[u] - n) if (alive and intact and n >= 1) else 0.0
        capacity[u] = room
        weight[u] = competence[u] * t_u * room
        # rules 3 and 4: metabolic stress and axonal transport
        production = (burden[m] * vulnerability[u] * activity[u] * (n / mean_size[u]) ** exponent
                      * mf[F_STRESS_PRODUCTION, m])
        decline = transport_decline * length_factor[u] * m_u * mf[F_TRANSPORT_DECLINE, m]
        total = decline + recovery
        equilibrium = recovery / total if total > 0.0 else t_u
        transport[u] = equilibrium + (t_u - equilibrium) * math.exp(-total)
        stress[u] = m_u * stress_decay + production * tau * (1.0 - stress_decay)


@njit(cache=True)
def retraction_by_muscle(p, s, mf, out):
    """Endplate rule 1 per muscle: the retraction hazard is ``(h_stress[owner] * out[0, m] + out[1, m]) * out[2, m]``."""
    for m in range(s.expression.shape[0]):
        out[0, m] = 1.0 + p.destabilising_gain * s.expression[m] * mf[F_DESTABILISATION, m]
        out[1, m] = p.retraction_baseline
        out[2, m] = mf[F_RETRACTION, m]


@njit(cache=True, inline="always")
def leave_pool(e, u, day, csa, achr, entry_day, pool_excess, regrowth, agrin):
    """Take bulk endplate ``e`` out of unit ``u``'s sum and bring it to the end of day ``day``.

    In the pool its fibre regrows towards 1 at ``regrowth`` and its AChR stability
    towards 1 at ``agrin`` (coverage 2), in closed form from the day it entered.
    """
    elapsed = day - entry_day[e]
    csa_excess = (csa[e] - 1.0) * math.exp(-regrowth * elapsed)          # start of today
    pool_excess[u] -= csa_excess
    csa[e] = 1.0 + csa_excess * math.exp(-regrowth)                      # end of today
    achr[e] = 1.0 - (1.0 - achr[e]) * math.exp(-agrin * (elapsed + 1))


@njit(cache=True)
def pool_retractions(gen, p, s, day, terminal):
    """Endplate rule 1 for the bulk: each unit's count of retracting terminals is binomial.

    The retracting endplates (chosen uniformly in the pool) go to coverage 1 and join the
    active list; they are not stepped again today. ``terminal`` is the day's
    :func:`~alsim.engine.fast.day_tables.terminal_table`.
    """
    unit_muscle, member_start, members, pool_n = p.unit_muscle, p.member_start, s.members, s.pool_n
    csa, achr, entry_day, pool_excess, coverage = s.csa, s.achr, s.entry_day, s.pool_excess, s.coverage
    active, pool, n_active = s.active, s.pool, s.n_active
    for u in range(unit_muscle.shape[0]):
        if pool_n[u] == 0:
            continue
        k = binomial(gen, pool_n[u], terminal[RETRACT_HAZARD, u])
        for _ in range(k):
            slot = member_start[u] + index_below(gen, pool_n[u])
            last = member_start[u] + pool_n[u] - 1
            e = members[slot]
            members[slot] = members[last]
            pool_n[u] -= 1
            leave_pool(e, u, day, csa, achr, entry_day, pool_excess, p.regrowth, p.agrin)
            coverage[e] = 1
            active[n_active[0]] = e
            n_active[0] += 1
            pool[e] = ACTIVE


@njit(cache=True)
def apply_unit_deaths(p, s, day):
    """Commit today's soma and axon deaths; an axon's bulk endplates become active (Wallerian terminals)."""
    member_start, members, pool_n = p.member_start, s.members, s.pool_n
    csa, achr, entry_day, pool_excess = s.csa, s.achr, s.entry_day, s.pool_excess
    active, pool, n_active = s.active, s.pool, s.n_active
    for u in range(p.unit_muscle.shape[0]):
        if s.die_soma[u]:
            s.soma[u] = False
        if s.die_axon[u]:
            s.axon[u] = False
            for j in range(pool_n[u]):
                e = members[member_start[u] + j]
                leave_pool(e, u, day, csa, achr, entry_day, pool_excess, p.regrowth, p.agrin)
                active[n_active[0]] = e
                n_active[0] += 1
                pool[e] = ACTIVE
            pool_n[u] = 0
            pool_excess[u] = 0.0


@njit(cache=True, inline="always")
def join_pool(e, u, day, member_start, members, pool_n, pool_excess, csa, entry_day, pool):
    """Endplate ``e`` (end of day ``day``) enters the bulk pool of its owner ``u``."""
    members[member_start[u] + pool_n[u]] = e
    pool_n[u] += 1
    pool_excess[u] += csa[e] - 1.0
    entry_day[e] = day + 1
    pool[e] = BULK
