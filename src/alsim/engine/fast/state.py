"""The state of one subject in the compiled kernel: a structure of arrays in the smallest dtypes.

The scenario's constants are :class:`~alsim.engine.fast.params.Params`; a subject's state
is a :class:`SubjectState`.

Endplates live in one of four *pools* (docs/performance.md, *Event-driven
endplates*):

- ``GROUPED``: innervated (coverage >= 1), owner's axon intact. Its terminal and fibre
  hazards depend only on (owner unit, coverage, fibre type matching the owner's), so
  each such group draws a binomial count of members with an event per day instead of
  stepping them (:mod:`~alsim.engine.fast.groups`). Cross-section and AChR stability
  relax deterministically in a group, and the terminal Schwann cell switches at a
  constant rate that nothing in the group reads; all three are brought up to date only
  when the endplate leaves. Per muscle, coverage and fibre type a count and a running
  sum of ``csa - 1`` feed the census.
- ``ACTIVE``: everything else that is intact (denervated, or owner's axon lost); stepped
  endplate by endplate.
- ``ORPHAN``: denervated with its terminal Schwann cell lost, where lost cells give no
  sprout guidance (``guidance_lost = 0``). Nothing can reach it any more; its only event
  is disassembly, whose hazard follows a deterministic path (AChR decay and the
  treatment factors are known in advance), so its day is drawn once, on entry, as the
  first day the cumulative hazard passes an Exp(1) variate.
- ``DEAD``: disassembled; only the fibre's atrophy goes on. Orphan and dead fibres
  atrophy alike and are kept as per-muscle counts and one per-muscle sum.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..context import RunContext

GROUPED, ACTIVE, DEAD, ORPHAN = 0, 1, 2, 3
#: Groups per unit (:mod:`~alsim.engine.fast.groups`): 2 coverages x (fibre of the owner's
#: type or not).
N_GROUPS = 4

SubjectState = namedtuple("SubjectState", [
    # per unit (U)
    "soma", "axon", "stress", "transport", "size", "group_end", "members", "soma_vulnerable",
    # per endplate (E)
    "owner", "coverage", "tsc", "achr", "intact", "csa", "fibre_type", "days_denervated", "pool", "entry_day",
    "slot", "active", "n_active", "relax",
    # per muscle (M) and subject; group_n and group_excess are (M, coverage - 1, fibre type)
    "group_n", "group_excess", "expression", "dead_n", "orphan_n", "floor_excess", "disassembly_due", "umn",
    # scratch for one day
    "die_soma", "die_axon", "h_stress", "h_expand", "weight", "capacity", "taken", "cum_weight",
    "requests", "request_donor", "moving",
])


def owner_dtype(n_units: int) -> type:
    """int16 holds the owner of an endplate when a subject has fewer than 32,767 units."""
    return np.int16 if n_units < np.iinfo(np.int16).max else np.int32


def initial_subject_state(ctx: RunContext, params, days: int, soma_vulnerable: np.ndarray | None = None) -> SubjectState:
    """A healthy adult: every endplate fully innervated by its structural unit, all in their unit's
    group 0 (coverage 2, quiescent Schwann cell, fibre of the unit's type). ``soma_vulnerable`` (U,
    bool; default all) marks the units whose soma dies after target loss under ``soma_survival =
    orphan`` (read only under it)."""
    layout = ctx.layout
    n_u, n_e, n_m = layout.n_units, layout.n_endplates, layout.n_muscles
    members = np.zeros(int(params.member_start[-1]), dtype=np.int32)
    # each unit's endplates, in increasing order, at the start of its member slots
    by_unit = np.argsort(layout.endplate_unit, kind="stable")
    owned_n = np.bincount(layout.endplate_unit, minlength=n_u)
    first_owned = np.concatenate([[0], np.cumsum(owned_n)[:-1]])
    lo = params.member_start[:-1]
    sorted_unit = layout.endplate_unit[by_unit]
    positions = lo[sorted_unit] + np.arange(n_e) - first_owned[sorted_unit]
    members[positions] = by_unit
    slot = np.zeros(n_e, dtype=np.int32)
    slot[by_unit] = positions
    group_end = np.empty((n_u, N_GROUPS + 1), dtype=np.int32)
    group_end[:, 0] = lo
    group_end[:, 1:] = (lo + owned_n)[:, None]
    group_n = np.zeros((n_m, 2, 3), dtype=np.int64)
    np.add.at(group_n[:, 1, :], (layout.unit_muscle, layout.unit_type), owned_n)
    return SubjectState(
        soma=np.ones(n_u, dtype=np.bool_), axon=np.ones(n_u, dtype=np.bool_),
        stress=np.zeros(n_u), transport=np.ones(n_u),
        size=layout.unit_baseline_size.astype(np.int32), group_end=group_end, members=members,
        soma_vulnerable=np.ones(n_u, dtype=np.bool_) if soma_vulnerable is None else np.asarray(soma_vulnerable, dtype=np.bool_),
        owner=layout.endplate_unit.astype(owner_dtype(n_u)), coverage=np.full(n_e, 2, dtype=np.int8),
        tsc=np.zeros(n_e, dtype=np.int8), achr=np.ones(n_e, dtype=np.float32), intact=np.ones(n_e, dtype=np.bool_),
        csa=np.ones(n_e, dtype=np.float32), fibre_type=layout.unit_type[layout.endplate_unit].astype(np.int8),
        days_denervated=np.zeros(n_e, dtype=np.uint16), pool=np.full(n_e, GROUPED, dtype=np.int8),
        entry_day=np.zeros(n_e, dtype=np.int32), slot=slot, active=np.zeros(n_e, dtype=np.int32),
        n_active=np.zeros(1, dtype=np.int64), relax=relaxation_table(params, days), group_n=group_n, group_excess=np.zeros((n_m, 2, 3)),
        expression=np.zeros(n_m), dead_n=np.zeros(n_m, dtype=np.int64), orphan_n=np.zeros(n_m, dtype=np.int64),
        floor_excess=np.zeros(n_m), disassembly_due=np.zeros((days + 1, n_m), dtype=np.int32), umn=np.ones(1),
        die_soma=np.zeros(n_u, dtype=np.bool_), die_axon=np.zeros(n_u, dtype=np.bool_),
        h_stress=np.zeros(n_u), h_expand=np.zeros(n_u), weight=np.zeros(n_u), capacity=np.zeros(n_u),
        taken=np.zeros(n_u, dtype=np.int32), cum_weight=np.zeros(n_u),
        requests=np.zeros(n_e, dtype=np.int32), request_donor=np.zeros(n_e, dtype=np.int32),
        moving=np.zeros(int(np.diff(params.member_start).max()), dtype=np.int32),
    )


def state_bytes_per_subject(state: SubjectState) -> int:
    """Bytes of one subject's state while it is simulated (scratch included)."""
    return int(sum(a.nbytes for a in state))


def relaxation_table(p, days: int) -> np.ndarray:
    """(5, days + 2) closed forms over ``j - 1`` days (column ``j``): row 0 the relaxation of the
    fibre cross-section's excess (``exp(-fibre_regrowth (j - 1))``), rows 1 and 2 of the AChR
    instability ``1 - A`` at coverage 1 and 2 (``exp(-agrin_maintenance c / 2 (j - 1))``), rows
    ``ACTIVATED_WITHIN`` and ``QUIESCED_WITHIN`` the probability that a Schwann cell switched
    (``1 - exp(-h (j - 1))``, ``h`` the activation or quiescence hazard)."""
    elapsed = np.arange(-1, days + 1, dtype=np.float64)
    within = np.maximum(elapsed, 0.0)
    return np.stack([np.exp(-p.fibre_regrowth * elapsed), np.exp(-p.agrin_maintenance * 0.5 * elapsed), np.exp(-p.agrin_maintenance * elapsed),
                     -np.expm1(-p.tsc_activation * within), -np.expm1(-p.tsc_quiescence * within)])
