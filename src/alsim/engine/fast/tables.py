"""What the compiled kernel reads: the scenario's constants and the subject's state as plain arrays.

Numba compiles functions of arrays and scalars, not of pydantic models, so the
scenario is flattened once per run into :class:`Params` (rates and per-unit
constants) and the treatments into per-day factor tables. Each subject's state is a
:class:`SubjectState`: a structure of arrays in the smallest dtypes that hold it.

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

from ...biology.interventions import day_factors
from ...config.treatments import TARGETS
from ..context import RunContext

GROUPED, ACTIVE, DEAD, ORPHAN = 0, 1, 2, 3
#: Groups per unit (:mod:`~alsim.engine.fast.groups`): 2 coverages x (fibre of the owner's
#: type or not).
N_GROUPS = 4

#: Treatment targets that act per muscle, in the order of the kernel's factor table.
MUSCLE_TARGETS: tuple[str, ...] = ("soma_death", "soma_starvation", "stress_production", "transport_decline",
                                   "axon_dieback", "retraction", "destabilisation", "sprouting", "disassembly", "tsc_loss")
(F_SOMA_DEATH, F_SOMA_STARVATION, F_STRESS_PRODUCTION, F_TRANSPORT_DECLINE, F_AXON_DIEBACK,
 F_RETRACTION, F_DESTABILISATION, F_SPROUTING, F_DISASSEMBLY, F_TSC_LOSS) = range(len(MUSCLE_TARGETS))
CORTEX_TARGETS: tuple[str, ...] = ("cortical_drive", "umn_loss")
F_CORTICAL_DRIVE, F_UMN_LOSS = 0, 1
if set(MUSCLE_TARGETS) | set(CORTEX_TARGETS) != set(TARGETS):   # a new target must get a place in the kernel
    raise ImportError(f"alsim.engine.fast does not apply treatment target(s) "
                      f"{sorted(set(TARGETS) - set(MUSCLE_TARGETS) - set(CORTEX_TARGETS))}")

Params = namedtuple("Params", [
    # hypothesis weights and subject-level rates
    "w_back", "w_forward", "umn_gain", "umn_loss",
    # unit rules 1-4 (per day)
    "soma_stress", "soma_excitotoxic", "soma_starvation", "soma_ageing", "wallerian_axon", "axon_dieback",
    "stress_tau", "stress_exponent", "transport_decline", "transport_recovery",
    # endplate rules 1-6 (per day)
    "retraction_per_stress", "retraction_baseline", "destabilising_gain", "expansion", "wallerian_terminal",
    "sprouting", "sprouting_gain", "disassembly", "achr_decay", "agrin", "regrowth", "atrophy", "csa_floor",
    "conversion", "tsc_activation", "tsc_quiescence", "tsc_loss", "expression_tau",
    # layout and per-unit constants
    "unit_muscle", "unit_type", "n0", "max_size", "vulnerability", "activity", "mean_baseline_size",
    "competence", "length_factor", "unit_start", "endplate_muscle", "member_start",
    "force_by_type", "transmission", "guidance",
])

SubjectState = namedtuple("SubjectState", [
    # per unit (U)
    "soma", "axon", "stress", "transport", "size", "group_end", "members",
    # per endplate (E)
    "owner", "coverage", "tsc", "achr", "intact", "csa", "fibre_type", "days_denervated", "pool", "entry_day",
    "slot", "active", "n_active", "relax",
    # per muscle (M) and subject; group_n and group_excess are (M, coverage - 1, fibre type)
    "group_n", "group_excess", "expression", "dead_n", "orphan_n", "floor_excess", "disassembly_due", "umn",
    # scratch for one day
    "die_soma", "die_axon", "h_stress", "h_expand", "weight", "capacity", "taken", "cum_weight",
    "requests", "request_donor", "moving",
])


def build_params(ctx: RunContext) -> Params:
    """Flatten the scenario and layout of ``ctx`` into the kernel's constants."""
    s, layout = ctx.scenario, ctx.layout
    r, tsc, umn = s.rates, s.terminal_schwann_cells, s.upper_motor_neuron
    slots = np.maximum(ctx.unit_max_size, layout.unit_baseline_size).astype(np.int64)
    return Params(
        w_back=float(ctx.w_back), w_forward=float(ctx.w_forward),
        umn_gain=umn.hyperexcitability_gain, umn_loss=umn.loss_per_burden_day,
        soma_stress=r.soma_stress_death, soma_excitotoxic=r.soma_excitotoxic_death,
        soma_starvation=r.soma_starvation_death, soma_ageing=r.soma_ageing_death,
        wallerian_axon=r.wallerian_axon, axon_dieback=r.axon_dieback,
        stress_tau=r.stress_time_constant_days, stress_exponent=r.stress_size_exponent,
        transport_decline=r.transport_decline_per_stress, transport_recovery=r.transport_recovery,
        retraction_per_stress=r.terminal_retraction_per_stress, retraction_baseline=r.terminal_retraction_baseline,
        destabilising_gain=s.muscle_feedback.destabilising_gain, expansion=r.terminal_expansion,
        wallerian_terminal=r.wallerian_terminal, sprouting=r.sprouting,
        sprouting_gain=s.muscle_feedback.sprouting_signal_gain, disassembly=r.endplate_disassembly,
        achr_decay=r.achr_decay, agrin=r.agrin_maintenance, regrowth=r.fibre_regrowth, atrophy=r.fibre_atrophy,
        csa_floor=r.fibre_csa_floor, conversion=r.fibre_type_conversion,
        tsc_activation=tsc.activation, tsc_quiescence=tsc.quiescence, tsc_loss=tsc.loss_per_burden,
        expression_tau=s.muscle_feedback.expression_time_constant_days,
        unit_muscle=layout.unit_muscle.astype(np.int64), unit_type=layout.unit_type.astype(np.int8),
        n0=layout.unit_baseline_size.astype(np.float64), max_size=ctx.unit_max_size.astype(np.float64),
        vulnerability=ctx.unit_vulnerability.astype(np.float64), activity=ctx.unit_activity.astype(np.float64),
        mean_baseline_size=ctx.unit_mean_baseline_size.astype(np.float64),
        competence=ctx.unit_competence.astype(np.float64), length_factor=ctx.unit_length_factor.astype(np.float64),
        unit_start=layout.unit_start.astype(np.int64), endplate_muscle=layout.endplate_muscle.astype(np.int16),
        member_start=np.concatenate([[0], np.cumsum(slots)]).astype(np.int64),
        force_by_type=ctx.fibre_force_by_type.astype(np.float64),
        transmission=ctx.transmission_by_coverage.astype(np.float64),
        guidance=ctx.guidance_by_tsc.astype(np.float64),
    )


def factor_tables(ctx: RunContext, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Treatment factors for days ``0 .. days-1``: per muscle ``(days, len(MUSCLE_TARGETS), M)``
    and for the cortex ``(days, 2)``; all ones without treatments (docs/model.md, *Treatments*)."""
    n_muscles = ctx.layout.n_muscles
    muscle = np.ones((days, len(MUSCLE_TARGETS), n_muscles))
    cortex = np.ones((days, len(CORTEX_TARGETS)))
    if not ctx.scenario.treatments:
        return muscle, cortex
    for day in range(days):
        factors = day_factors(ctx.scenario, day)
        for k, target in enumerate(MUSCLE_TARGETS):
            per_muscle = factors.muscle(target)
            if per_muscle is not None:
                muscle[day, k] = per_muscle
        cortex[day] = [factors.subject(t) for t in CORTEX_TARGETS]
    return muscle, cortex


def owner_dtype(n_units: int) -> type:
    """int16 holds the owner of an endplate when a subject has fewer than 32,767 units."""
    return np.int16 if n_units < np.iinfo(np.int16).max else np.int32


def initial_subject_state(ctx: RunContext, params: Params, days: int) -> SubjectState:
    """A healthy adult: every endplate fully innervated by its structural unit, all in their unit's
    group 0 (coverage 2, quiescent Schwann cell, fibre of the unit's type)."""
    from .groups import relaxation_table

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
