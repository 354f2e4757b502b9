"""Groups of innervated endplates that share all their hazards (docs/performance.md, *Event-driven endplates*).

An intact endplate with coverage >= 1 whose owner's axon is intact has terminal and
fibre hazards that depend only on its owner unit ``u``, its coverage ``c`` (1 or 2) and
whether its fibre is of the owner's type (docs/model.md, endplate rules 1 and 5):

- rule 1: retraction (per unit, :func:`~alsim.engine.fast.day_tables.terminal_table`)
  and, at coverage 1, expansion (per unit);
- rule 5: conversion of the fibre to the owner's type (constant hazard), only when the
  types differ.

Such endplates are therefore exchangeable within a group ``(u, c, type match)``: each
day a group draws how many of its members have at least one event (a binomial), picks
them uniformly without replacement and draws, for each, which events it has,
conditional on at least one. This has the law of drawing every member every day.
Members that have an event leave the group: to their new group once all the unit's
groups have drawn, or to the active list when the terminal retracts to coverage 0; the
others do nothing. Endplates that become innervated elsewhere (sprouts) join their
group at the end of the day (:func:`join_group`).

The terminal Schwann cell (rule 3) is left out of the group: at coverage 1 a quiescent
cell activates, at coverage 2 a reactive one calms down, each at a constant hazard and
independently of the terminal's and fibre's events, and nothing a grouped endplate does
depends on it (loss needs coverage 0). So ``tsc[e]`` of a grouped endplate is its state
on entry, and on leaving, whether the one possible switch happened within its ``j``
days in the group is drawn once, with probability ``1 - exp(-h j)``: the law of
drawing it every day, without the ~80 group moves a mouse-day that switches alone
used to cost.

In a group the fibre cross-section regrows towards 1 at ``rates.fibre_regrowth`` and the
AChR stability towards 1 at ``rates.agrin_maintenance * c / 2`` (rules 4 and 5), the
same every day, so both are kept in closed form from the day the endplate entered
(``entry_day``) and brought up to date only when it leaves. The force census needs
their sum: per muscle, coverage and fibre type, a count and the sum of ``csa - 1``
(relaxed every day by ``exp(-fibre_regrowth)``) are kept as members come and go.

Layout: the members of unit ``u`` occupy ``members[member_start[u]:...]`` sorted by
group, group ``k`` in ``members[group_end[u, k]:group_end[u, k + 1]]`` (``group_end[u, 0]
== member_start[u]``); ``slot[e]`` is endplate ``e``'s position. Moving one endplate in
or out shifts the later groups of its unit by one place (one move per non-empty group).
Group 0 is the former bulk pool: coverage 2, fibre of the owner's type.
"""

from __future__ import annotations

from numba import njit

from ...biology.endplate_rules import QUIESCENT, REACTIVE
from ...biology.subject_rules import event_probability
from .chance import binomial, index_below, uniform
from .day_tables import RETRACT_HAZARD
from .state import ACTIVE, GROUPED, N_GROUPS



#: Rows of the relaxation table (:func:`relaxation_table`) with the probability that the
#: Schwann cell of a grouped endplate switched within ``j - 1`` days (column ``j``).
ACTIVATED_WITHIN, QUIESCED_WITHIN = 3, 4


@njit(cache=True, error_model="numpy", inline="always")
def group_of(coverage, mismatch):
    """The group index of coverage 1 or 2 and a type mismatch (0 or 1)."""
    return (2 - coverage) * 2 + mismatch


@njit(cache=True, error_model="numpy", inline="always")
def _settle_schwann_cell(rng, e, c, days, tsc, relax):
    """Endplate ``e``'s terminal Schwann cell after ``days`` days at coverage ``c`` in a group
    (rule 3): a quiescent cell at coverage 1 has activated, or a reactive one at coverage 2
    has calmed down, with the probability of at least one switch in that many daily draws;
    other states cannot switch there. Draws only when a switch is possible."""
    t = tsc[e]
    if days <= 0:
        return
    if c == 1 and t == QUIESCENT:
        if uniform(rng) < relax[ACTIVATED_WITHIN, days + 1]:
            tsc[e] = REACTIVE
    elif c == 2 and t == REACTIVE:
        if uniform(rng) < relax[QUIESCED_WITHIN, days + 1]:
            tsc[e] = QUIESCENT


@njit(cache=True, error_model="numpy", inline="always")
def _insert(e, k, ends, members, slot):
    """Put endplate ``e`` at the end of group ``k`` of a unit whose group ends are ``ends`` (N_GROUPS + 1)."""
    hole = ends[N_GROUPS]
    for kk in range(N_GROUPS - 1, k, -1):
        first = ends[kk]
        if first < hole:                 # move the group's first member to its end
            x = members[first]
            members[hole] = x
            slot[x] = hole
        hole = first
        ends[kk + 1] += 1
    members[hole] = e
    slot[e] = hole
    ends[k + 1] += 1


@njit(cache=True, error_model="numpy", inline="always")
def _remove(e, k, ends, members, slot):
    """Take endplate ``e`` out of group ``k`` of a unit whose group ends are ``ends``."""
    hole = ends[k + 1] - 1
    x = members[hole]                    # the group's last member fills e's place
    members[slot[e]] = x
    slot[x] = slot[e]
    for kk in range(k + 1, N_GROUPS):
        last = ends[kk + 1] - 1
        if last >= ends[kk]:             # move the group's last member to its new first place
            y = members[last]
            members[hole] = y
            slot[y] = hole
        hole = last
        ends[kk] -= 1
    ends[N_GROUPS] -= 1


@njit(cache=True, error_model="numpy", inline="always")
def join_group(e, u, day, p, s):
    """Endplate ``e`` (state at the end of day ``day``, intact, coverage >= 1, owner ``u`` with an
    intact axon) enters its group; called after the day's relaxation of the census sums."""
    m, c, ft = p.unit_muscle[u], s.coverage[e], s.fibre_type[e]          # a unit's endplates are in its muscle
    k = group_of(c, 1 if ft != p.unit_type[u] else 0)
    _insert(e, k, s.group_end[u], s.members, s.slot)
    s.group_n[m, c - 1, ft] += 1
    s.group_excess[m, c - 1, ft] += s.csa[e] - 1.0
    s.entry_day[e] = day + 1
    s.pool[e] = GROUPED


@njit(cache=True, error_model="numpy", inline="always")
def _leave(e, m, c, ft, day, csa, achr, entry_day, group_n, group_excess, relax):
    """Endplate ``e`` (muscle ``m``, coverage ``c``, fibre type ``ft`` at the start of day ``day``)
    leaves the census sums; its cross-section and AChR stability are brought to the end of
    the day in closed form (rules 4 and 5, coverage ``c`` every day since it entered;
    ``relax`` is :func:`relaxation_table`). Returns its cross-section excess ``csa - 1`` at
    the start of the day."""
    elapsed = day - entry_day[e]                                    # -1: it moved in today
    excess = (csa[e] - 1.0) * relax[0, elapsed + 1]                 # start of today
    group_n[m, c - 1, ft] -= 1
    group_excess[m, c - 1, ft] -= excess
    csa[e] = 1.0 + excess * relax[0, 2]                             # end of today
    achr[e] = 1.0 - (1.0 - achr[e]) * relax[c, elapsed + 2]
    return excess


@njit(cache=True, error_model="numpy")
def group_events(rng, p, s, day, terminal):
    """The day's events of every group (rules 1 and 5), from the start-of-day state.

    Members with an event get their new coverage, owner and fibre type, their Schwann
    cell is settled (rule 3, :func:`_settle_schwann_cell`), and they are brought to the
    end of the day. Those still innervated move to their new group once all the unit's
    groups have drawn (so nobody draws twice in a day); their start-of-day cross-section
    excess moves with them in the census sums, which relax to the end of the day with
    everyone else's. A terminal that retracts to coverage 0 loses its owner and joins the
    active list after its first entries (it is not stepped again today). ``terminal`` is
    the day's :func:`~alsim.engine.fast.day_tables.terminal_table`.
    """
    unit_type, unit_muscle, axon, h_expand = p.unit_type, p.unit_muscle, s.axon, s.h_expand
    group_end, members, slot, size, moving = s.group_end, s.members, s.slot, s.size, s.moving
    coverage, owner, tsc, fibre_type = s.coverage, s.owner, s.tsc, s.fibre_type
    csa, achr, entry_day, group_n, group_excess = s.csa, s.achr, s.entry_day, s.group_n, s.group_excess
    active, pool, n_active = s.active, s.pool, s.n_active
    relax = s.relax
    h_conversion = p.fibre_type_conversion
    p_convert = event_probability(h_conversion)
    for u in range(unit_type.shape[0]):
        ends = group_end[u]
        if ends[0] == ends[N_GROUPS] or not axon[u]:
            continue
        h_r, h_e = terminal[RETRACT_HAZARD, u], h_expand[u]
        u_type, m = unit_type[u], unit_muscle[u]                     # a unit's endplates are in its muscle
        n_moving = 0
        for k in range(N_GROUPS):
            n = ends[k + 1] - ends[k]
            if n == 0:
                continue
            c, mismatch = 2 - k // 2, k % 2
            h_t = h_r + (h_e if c == 1 else 0.0)                     # rule 1
            h_c = h_conversion if mismatch == 1 else 0.0             # rule 5
            total = h_t + h_c
            hits = binomial(rng, n, total)
            if hits == 0:
                continue
            p_terminal_given_any = event_probability(h_t) / event_probability(total) if h_c > 0.0 and h_t > 0.0 else 1.0
            for _ in range(hits):
                e = members[ends[k] + index_below(rng, ends[k + 1] - ends[k])]
                ft = fibre_type[e]
                _remove(e, k, ends, members, slot)
                _settle_schwann_cell(rng, e, c, day - entry_day[e] + 1, tsc, relax)
                excess = _leave(e, m, c, ft, day, csa, achr, entry_day, group_n, group_excess, relax)
                # which events, given at least one (they are independent within the day)
                if h_c <= 0.0:
                    retract_or_expand, converts = True, False
                elif h_t <= 0.0:
                    retract_or_expand, converts = False, True
                else:
                    retract_or_expand = uniform(rng) < p_terminal_given_any
                    converts = uniform(rng) < p_convert if retract_or_expand else True
                if converts:
                    ft = u_type
                    fibre_type[e] = ft
                new = c
                if retract_or_expand:
                    if c == 2 or h_e <= 0.0:
                        retracts = True
                    elif h_r <= 0.0:
                        retracts = False
                    else:
                        retracts = uniform(rng) * h_t < h_r
                    new = c - 1 if retracts else 2
                    coverage[e] = new
                if new == 0:                   # denervated: to the active list
                    owner[e] = -1
                    size[u] -= 1
                    active[n_active[0]] = e
                    n_active[0] += 1
                    pool[e] = ACTIVE
                else:                          # to its new group, after the unit's draws
                    group_n[m, new - 1, ft] += 1
                    group_excess[m, new - 1, ft] += excess
                    entry_day[e] = day + 1
                    moving[n_moving] = e
                    n_moving += 1
        for j in range(n_moving):
            e = moving[j]
            _insert(e, group_of(coverage[e], 1 if fibre_type[e] != u_type else 0), ends, members, slot)


@njit(cache=True, error_model="numpy")
def release_unit(rng, p, s, u, day):
    """Unit ``u``'s axon died today: all its grouped endplates, brought to the end of the day
    (Schwann cells settled), join the active list (their terminals now face Wallerian
    degeneration, rule 1).

    Endplates that moved group today (``entry_day == day + 1``) are already at the end of
    the day: the closed form leaves them as they are and takes out what they put in.
    """
    ends, members, m = s.group_end[u], s.members, p.unit_muscle[u]
    for k in range(N_GROUPS):
        c = 2 - k // 2
        for j in range(ends[k], ends[k + 1]):
            e = members[j]
            _settle_schwann_cell(rng, e, c, day - s.entry_day[e] + 1, s.tsc, s.relax)
            _leave(e, m, c, s.fibre_type[e], day, s.csa, s.achr, s.entry_day, s.group_n,
                   s.group_excess, s.relax)
            s.active[s.n_active[0]] = e
            s.n_active[0] += 1
            s.pool[e] = ACTIVE
    for k in range(1, N_GROUPS + 1):
        ends[k] = ends[0]
