"""Compiled endplate rules for the active endplates, collateral sprouting and the census.

docs/model.md, *Endplate rules*. Every hazard is evaluated on the start-of-day
state; an endplate's own new state is written as soon as it is known, because no
endplate rule reads another endplate (sprouts are only requested here and granted
after the pass, from the start-of-day donor weights).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ...biology.endplate_rules import (LOST, QUIESCENT, REACTIVE, achr_decay_factor, agrin_factor, decay_factor,
                                       disassembly_hazard, relax_towards)
from ...biology.subject_rules import event_probability
from .chance import FIRST, NONE, SECOND, competing, decide, uniform
from .day_tables import ACHR_DECAY, RETRACT_HAZARD, SPROUT_QUIESCENT, terminal_decision
from .params import F_DISASSEMBLY
from .state import DEAD, ORPHAN
from .groups import join_group

(ENDPLATES_INTACT, ENDPLATES_COVERED, ENDPLATES_FULL, UNITS_ALIVE, UNITS_AXON_INTACT, UNITS_FUNCTIONAL,
 FUNCTIONAL_SIZE_SUM, FORCE, FIBRE_CSA_SUM) = range(9)
MAX_DAYS_DENERVATED = 65535


@njit(cache=True, error_model="numpy", inline="always")
def census_add(cen, m, coverage, intact, owner_axon, csa, force_per_csa):
    """Add one active endplate of muscle ``m`` (start of day) to the census ``cen`` (fields, M).

    Scalars only: Numba pays for every array passed to a function called in a hot loop.
    """
    if intact:
        cen[ENDPLATES_INTACT, m] += 1.0
        if coverage >= 1:
            cen[ENDPLATES_COVERED, m] += 1.0
            if coverage == 2:
                cen[ENDPLATES_FULL, m] += 1.0
            if owner_axon:
                cen[FORCE, m] += csa * force_per_csa
    cen[FIBRE_CSA_SUM, m] += csa


@njit(cache=True, error_model="numpy")
def census_active_all(p, s, cen):
    """The census of every active endplate (the last day of a run, when no step follows)."""
    endplate_muscle, force_by_type, transmission = p.endplate_muscle, p.force_by_type, p.transmission
    active, coverage, intact, axon, owner, csa, fibre_type = s.active, s.coverage, s.intact, s.axon, s.owner, s.csa, s.fibre_type
    for i in range(s.n_active[0]):
        e = active[i]
        c = coverage[e]
        census_add(cen, endplate_muscle[e], c, intact[e], c >= 1 and axon[owner[e]], csa[e],
                   force_by_type[fibre_type[e]] * transmission[c])


@njit(cache=True, error_model="numpy")
def census_units_and_pools(p, s, cen, typed):
    """The census of the units, of the grouped endplates (from their per-muscle sums) and of dead fibres."""
    cen[:] = 0.0
    typed[:] = 0.0
    unit_muscle, unit_type, force_by_type, transmission = p.unit_muscle, p.unit_type, p.force_by_type, p.transmission
    soma, axon, size, group_n, group_excess = s.soma, s.axon, s.size, s.group_n, s.group_excess
    for u in range(unit_muscle.shape[0]):
        m, k = unit_muscle[u], unit_type[u]
        if soma[u]:
            cen[UNITS_ALIVE, m] += 1.0
            typed[0, m, k] += 1.0
        if axon[u]:
            cen[UNITS_AXON_INTACT, m] += 1.0
            if size[u] >= 1:
                cen[UNITS_FUNCTIONAL, m] += 1.0
                cen[FUNCTIONAL_SIZE_SUM, m] += size[u]
                typed[1, m, k] += 1.0
    for m in range(cen.shape[1]):
        for c in range(1, 3):
            for ft in range(3):
                n = group_n[m, c - 1, ft]
                if n > 0:
                    fibres = n + group_excess[m, c - 1, ft]       # sum of csa over these endplates
                    cen[ENDPLATES_INTACT, m] += n
                    cen[ENDPLATES_COVERED, m] += n
                    if c == 2:
                        cen[ENDPLATES_FULL, m] += n
                    cen[FORCE, m] += fibres * force_by_type[ft] * transmission[c]
                    cen[FIBRE_CSA_SUM, m] += fibres
        cen[ENDPLATES_INTACT, m] += s.orphan_n[m]
        cen[FIBRE_CSA_SUM, m] += (s.dead_n[m] + s.orphan_n[m]) * p.fibre_csa_floor + s.floor_excess[m]


@njit(cache=True, error_model="numpy", inline="always")
def _schwann_cell(rng, tsc_now, coverage, m, schwann):
    """Endplate rule 3: the new terminal Schwann cell state (activation, quiescence or loss)."""
    event = decide(rng, schwann[0, m, tsc_now, coverage], schwann[1, m, tsc_now, coverage])
    if event == FIRST:
        return REACTIVE if tsc_now == QUIESCENT else QUIESCENT
    if event == SECOND:
        return LOST
    return tsc_now


@njit(cache=True, error_model="numpy")
def active_pass(rng, p, s, n_old, mf, terminal, schwann, muscle, cen):
    """Census and endplate rules 1-6 for the first ``n_old`` active endplates; returns the sprout requests.

    The day's event probabilities come from the tables of :mod:`~alsim.engine.fast.day_tables`:
    ``terminal`` (per owner unit), ``schwann`` (per muscle, Schwann cell state and coverage)
    and ``muscle`` (AChR decay and sprouting hazards per muscle).
    """
    endplate_muscle, unit_type = p.endplate_muscle, p.unit_type
    force_by_type, transmission = p.force_by_type, p.transmission
    coverage, owner, intact, tsc, achr, csa = s.coverage, s.owner, s.intact, s.tsc, s.achr, s.csa
    fibre_type, days_denervated, axon, size, active = s.fibre_type, s.days_denervated, s.axon, s.size, s.active
    requests, h_expand = s.requests, s.h_expand
    floor, disassembly = p.fibre_csa_floor, p.endplate_disassembly
    p_wallerian = event_probability(p.wallerian_terminal) if p.wallerian_terminal > 0.0 else -1.0
    p_conversion = event_probability(p.fibre_type_conversion) if p.fibre_type_conversion > 0.0 else -1.0
    regrow, atrophy = decay_factor(p.fibre_regrowth), decay_factor(p.fibre_atrophy)
    agrin_partial, agrin_full = agrin_factor(p.agrin_maintenance, 1), agrin_factor(p.agrin_maintenance, 2)
    # rules 2 and 4 of a denervated endplate compete with hazards h_s (sprouting, per muscle and
    # Schwann cell) and h_d = disassembly (1 - A) F in [0, disassembly F]: the uniform is compared
    # with the exact thresholds only when it falls between their bounds over that range
    n_muscles = mf.shape[1]
    none_above = np.empty((3, n_muscles))
    first_below = np.empty((3, n_muscles))
    for m in range(n_muscles):
        h_d = disassembly_hazard(0.0, disassembly, mf[F_DISASSEMBLY, m])
        for t in range(3):
            h_s = muscle[SPROUT_QUIESCENT + t, m]
            p_most = event_probability(h_s + h_d) if h_s > 0.0 else 0.0
            none_above[t, m] = p_most * (1.0 + 1e-12)                          # p_any <= p_most
            first_below[t, m] = p_most * (h_s / (h_s + h_d)) * (1.0 - 1e-12) if h_s > 0.0 else 0.0
    n_requests = 0
    for i in range(n_old):
        e = active[i]
        m = endplate_muscle[e]
        c, o = coverage[e], owner[e]
        census_add(cen, m, c, intact[e], c >= 1 and axon[o], csa[e], force_by_type[fibre_type[e]] * transmission[c])
        new = c
        a_e, csa_e = np.float64(achr[e]), np.float64(csa[e])
        if intact[e]:
            if c >= 1:                     # rule 1: the terminal (and rule 5's fibre-type conversion)
                if not axon[o]:
                    if p_wallerian >= 0.0 and uniform(rng) < p_wallerian:
                        new = 0
                else:
                    p_terminal, retract_below = terminal_decision(terminal[RETRACT_HAZARD, o], h_expand[o], c)
                    event = decide(rng, p_terminal, retract_below)
                    if event == FIRST:
                        new = c - 1
                    elif event == SECOND:
                        new = 2
                if fibre_type[e] != unit_type[o] and p_conversion >= 0.0 and uniform(rng) < p_conversion:
                    fibre_type[e] = unit_type[o]
            else:                          # rules 2 and 4: a sprout is requested, or the endplate is disassembled
                t = tsc[e]
                h_sprout = muscle[SPROUT_QUIESCENT + t, m]
                if h_sprout > 0.0:         # competing(rng, h_sprout, h_d), comparing exactly only near a bound
                    x = uniform(rng)
                    if x >= none_above[t, m]:
                        event = NONE
                    elif x < first_below[t, m]:
                        event = FIRST
                    else:
                        total = h_sprout + disassembly_hazard(a_e, disassembly, mf[F_DISASSEMBLY, m])
                        p_any = event_probability(total)
                        event = NONE if x >= p_any else (FIRST if x < p_any * (h_sprout / total) else SECOND)
                else:
                    event = competing(rng, h_sprout, disassembly_hazard(a_e, disassembly, mf[F_DISASSEMBLY, m]))
                if event == FIRST:
                    requests[n_requests] = e
                    n_requests += 1
                elif event == SECOND:
                    intact[e] = False
            tsc[e] = _schwann_cell(rng, tsc[e], c, m, schwann)
        if c >= 1:                         # rules 4-6: AChR stability, cross-section, days denervated
            achr[e] = relax_towards(a_e, 1.0, agrin_full if c == 2 else agrin_partial)
            csa[e] = relax_towards(csa_e, 1.0, regrow)
            days_denervated[e] = 0
        else:
            achr[e] = a_e * muscle[ACHR_DECAY, m]
            csa[e] = relax_towards(csa_e, floor, atrophy)
            days_denervated[e] = min(days_denervated[e] + 1, MAX_DAYS_DENERVATED)
        if new != c:
            coverage[e] = new
            if new == 0:
                size[o] -= 1
                owner[e] = -1
    return n_requests


@njit(cache=True, error_model="numpy", inline="always")
def _pick_donor(lo, hi, x, cum_weight, weight):
    """The unit in ``lo:hi`` whose cumulative-weight interval holds ``x`` (last positive weight at the top)."""
    a, b = lo, hi                       # first index with cum_weight > x
    while a < b:
        mid = (a + b) // 2
        if cum_weight[mid] <= x:
            a = mid + 1
        else:
            b = mid
    donor = min(a, hi - 1)
    while donor > lo and weight[donor] <= 0.0:
        donor -= 1
    return donor


@njit(cache=True, error_model="numpy")
def grant_sprouts(rng, p, s, n_requests):
    """Endplate rule 2: each request picks a donor in proportion to its weight; a donor takes at
    most its capacity of requests, a uniformly random subset of them when more ask; granted
    endplates get coverage 1.

    The subset is drawn by selection sampling (each of a donor's requests, in turn, is taken
    with probability places left / requests left), so only over-subscribed donors draw.
    """
    if n_requests == 0:
        return
    unit_start, endplate_muscle = p.unit_start, p.endplate_muscle
    weight, cum_weight, capacity, demand, size = s.weight, s.cum_weight, s.capacity, s.taken, s.size
    requests, donors, coverage, owner = s.requests, s.request_donor, s.coverage, s.owner
    for m in range(unit_start.shape[0] - 1):
        total = 0.0
        for u in range(unit_start[m], unit_start[m + 1]):
            total += weight[u]
            cum_weight[u] = total
    for r in range(n_requests):
        m = endplate_muscle[requests[r]]
        lo, hi = unit_start[m], unit_start[m + 1]
        total = cum_weight[hi - 1]
        donor = -1
        if total > 0.0:
            donor = _pick_donor(lo, hi, uniform(rng) * total, cum_weight, weight)
            demand[donor] += 1
        donors[r] = donor
    for r in range(n_requests):
        donor = donors[r]
        if donor < 0:
            continue
        left = demand[donor]
        demand[donor] = left - 1
        if left > capacity[donor] and uniform(rng) * left >= capacity[donor]:
            continue                       # over-subscribed donor: this request is not among the taken
        capacity[donor] -= 1.0
        e = requests[r]
        coverage[e] = 1
        owner[e] = donor
        size[donor] += 1


@njit(cache=True, error_model="numpy", inline="always")
def _disassembly_day(rng, first_day, achr, m, disassembly, achr_decay, muscle_factors):
    """The day an orphan endplate (AChR stability ``achr`` at the start of ``first_day``) is
    disassembled: the first day its cumulative hazard (endplate rule 4) passes an Exp(1)
    variate; ``muscle_factors.shape[0]`` (the end of the run) if not within the run."""
    threshold = -math.log1p(-uniform(rng))
    cumulative = 0.0
    day = first_day
    last_factor, decay = -1.0, 1.0
    while day < muscle_factors.shape[0]:
        factor = muscle_factors[day, F_DISASSEMBLY, m]
        cumulative += disassembly_hazard(achr, disassembly, factor)
        if cumulative >= threshold:
            return day
        if factor != last_factor:       # the day's AChR decay, computed again only when the factor changes
            last_factor, decay = factor, achr_decay_factor(achr_decay, factor)
        achr *= decay
        day += 1
    return day


@njit(cache=True, error_model="numpy")
def sort_active(rng, p, s, day, muscle_factors):
    """End of day: disassembled endplates join the dead fibres, orphans are scheduled, innervated
    ones whose owner's axon is intact join their group; the rest (denervated, or owner's axon
    lost) stay active."""
    endplate_muscle, floor = p.endplate_muscle, p.fibre_csa_floor
    active, intact, owner, coverage, tsc, axon = s.active, s.intact, s.owner, s.coverage, s.tsc, s.axon
    csa, entry_day, pool = s.csa, s.entry_day, s.pool
    orphans_allowed = p.guidance[LOST] == 0.0
    kept = 0
    for i in range(s.n_active[0]):
        e = active[i]
        m = endplate_muscle[e]
        if not intact[e]:
            s.dead_n[m] += 1
            s.floor_excess[m] += csa[e] - floor
            pool[e] = DEAD
            continue
        if coverage[e] == 0 and tsc[e] == LOST and orphans_allowed:
            due = _disassembly_day(rng, day + 1, np.float64(s.achr[e]), m, p.endplate_disassembly, p.achr_decay, muscle_factors)
            s.disassembly_due[due, m] += 1
            s.orphan_n[m] += 1
            s.floor_excess[m] += csa[e] - floor
            entry_day[e] = due
            pool[e] = ORPHAN
            continue
        o = owner[e]
        if coverage[e] >= 1 and axon[o]:
            join_group(e, o, day, p, s)
            continue
        active[kept] = e
        kept += 1
    s.n_active[0] = kept
