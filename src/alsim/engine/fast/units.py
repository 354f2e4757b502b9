"""The motor-unit rules (docs/model.md) applied to every unit of a subject, and the commit of unit deaths.

The rules themselves are :mod:`alsim.biology.unit_rules`; this module loops over the units.

``p`` is :class:`~alsim.engine.fast.params.Params`, ``s`` a
:class:`~alsim.engine.fast.state.SubjectState`, ``mf`` the day's per-muscle
treatment factors ``(targets, M)``. Loop functions take the arrays they need out
of ``p`` and ``s`` once, before the loop: Numba pays for every attribute access on
a large tuple inside a loop.
"""

from __future__ import annotations

from numba import njit

from ...biology.endplate_rules import (destabilisation, donor_weight, expansion_hazard, sprout_capacity,
                                       stress_limited_competence, stress_retraction_hazard)
from ...biology.unit_rules import (axon_dieback_hazard, soma_death_hazard, stress_after_day, stress_decay, stress_production,
                                   stress_size_drive, target_lost, terminal_share, terminal_stress, transport_after_day,
                                   transport_decay, transport_decline, trophic_support)
from .chance import happens
from .groups import release_unit
from .params import (F_AXON_DIEBACK, F_DESTABILISATION, F_RETRACTION, F_SOMA_DEATH, F_SOMA_STARVATION,
                     F_STRESS_PRODUCTION, F_TRANSPORT_DECLINE)


@njit(cache=True, error_model="numpy")
def unit_phase(rng, p, s, burden, early, cortical_drive, mf):
    """Unit rules 1-4 for every unit, from the start-of-day state.

    Deaths are only decided here (``s.die_soma``, ``s.die_axon``) and applied after the
    endplates have been stepped; what the endplates need from their owner (stress- and
    transport-dependent hazards) and the sprouting donors' weights are kept in scratch.
    Stress ``M`` and transport ``T`` are then advanced (exact over one day). ``burden``
    (M,) is the day's D(t - delay_m) of each muscle (docs/human.md, *Spread*), ``early`` (M,) the
    early terminal burden D_e (structure ``clock = two_phase``; read only under it).

    Structural alternatives (docs/model.md): under ``soma_survival = orphan`` the soma's
    starvation term is ``orphan_death`` on a vulnerable unit that lost its whole target; under
    ``sprouting = stress_limited`` a donor's weight is multiplied by ``exp(-M_u / m_s)``.
    """
    unit_muscle, n0, max_size, vulnerability, activity = p.unit_muscle, p.n0, p.max_size, p.unit_vulnerability, p.unit_activity
    mean_size, competence, length_factor = p.mean_baseline_size, p.unit_sprouting_competence, p.length_factor
    soma, axon, stress, transport, size = s.soma, s.axon, s.stress, s.transport, s.size
    die_soma, die_axon, h_stress, h_expand, weight, capacity = s.die_soma, s.die_axon, s.h_stress, s.h_expand, s.weight, s.capacity
    w_forward, w_back = p.w_forward, p.w_back
    soma_stress, soma_excitotoxic = p.soma_stress_death, p.soma_excitotoxic_death
    soma_starvation, soma_ageing = p.soma_starvation_death, p.soma_ageing_death
    axon_dieback, wallerian_axon, exponent = p.axon_dieback, p.wallerian_axon, p.stress_size_exponent
    retraction_per_stress, expansion, decline_per_stress = p.terminal_retraction_per_stress, p.terminal_expansion, p.transport_decline_per_stress
    tau, recovery = p.stress_time_constant_days, p.transport_recovery
    two_phase, orphan, stress_limited = p.two_phase_clock, p.orphan_survival, p.stress_limited_sprouting
    # under soma_survival = orphan the starvation term is the orphan hazard on a 0/1 "target lost"
    starvation_rate = p.orphan_death if orphan else soma_starvation
    vulnerable, stress_scale = s.soma_vulnerable, p.sprouting_stress_scale
    decay = stress_decay(tau)
    recovery_decay = transport_decay(0.0, recovery)
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
        share = terminal_share(n, n0[u])
        m_u, t_u = stress[u], transport[u]
        # rule 1: soma death
        if alive:
            if orphan:
                trophic = 1.0 - target_lost(vulnerable[u], n, intact)
            else:
                trophic = trophic_support(t_u, share) if intact else 0.0
            die_soma[u] = happens(rng, soma_death_hazard(m_u, vulnerability[u], cortical_drive, trophic, w_forward,
                                                         soma_stress, soma_excitotoxic, starvation_rate, soma_ageing,
                                                         mf[F_SOMA_DEATH, m], mf[F_SOMA_STARVATION, m]))
        # rule 2: axon degeneration (Wallerian after soma death, else dying back)
        if intact:
            h_axon = axon_dieback_hazard(share, axon_dieback, mf[F_AXON_DIEBACK, m]) if alive else wallerian_axon
            die_axon[u] = happens(rng, h_axon)
        # what the unit's endplates and sprouts see today
        size_drive = stress_size_drive(n, mean_size[u], exponent)
        if two_phase:
            early_production = stress_production(early[m], vulnerability[u], activity[u], size_drive, mf[F_STRESS_PRODUCTION, m])
            h_stress[u] = stress_retraction_hazard(terminal_stress(m_u, early_production, tau), w_back, retraction_per_stress)
        else:
            h_stress[u] = stress_retraction_hazard(m_u, w_back, retraction_per_stress)
        h_expand[u] = expansion_hazard(t_u, expansion)
        room = sprout_capacity(max_size[u], n) if (alive and intact and n >= 1) else 0.0
        capacity[u] = room
        weight[u] = donor_weight(competence[u], t_u, room)
        if stress_limited:
            weight[u] *= stress_limited_competence(m_u, stress_scale)
        # rules 3 and 4: metabolic stress and axonal transport
        production = stress_production(burden[m], vulnerability[u], activity[u], size_drive, mf[F_STRESS_PRODUCTION, m])
        decline = transport_decline(m_u, length_factor[u], decline_per_stress, mf[F_TRANSPORT_DECLINE, m])
        # no stress yet (or no decline): the same decay every day, computed once
        day_decay = recovery_decay if decline == 0.0 else transport_decay(decline, recovery)
        transport[u] = transport_after_day(t_u, decline, recovery, day_decay)
        stress[u] = stress_after_day(m_u, production, tau, decay)


@njit(cache=True, error_model="numpy")
def retraction_by_muscle(p, s, mf, out):
    """Endplate rule 1 per muscle: the retraction hazard is ``(h_stress[owner] * out[0, m] + out[1, m]) * out[2, m]``."""
    for m in range(s.expression.shape[0]):
        out[0, m] = destabilisation(s.expression[m], p.feedback_destabilising_gain, mf[F_DESTABILISATION, m])
        out[1, m] = p.terminal_retraction_baseline
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
