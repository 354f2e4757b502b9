"""The vectorised stochastic day step over a block of subjects (docs/model.md).

All hazards are evaluated on the start-of-day state (``obs`` and ``state`` as they
enter :func:`step`); then all updates are applied at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..biology import hazards as hz
from ..biology.interventions import DayFactors, day_factors
from ..biology.spread import regional_burden
from ..biology.variability import disease_burden
from .context import RunContext
from .observe import Observation
from .state import LOST, NO_OWNER, QUIESCENT, REACTIVE, BlockState


@dataclass
class DayDraws:
    """Uniform variates for one day: two per unit, three per endplate, per subject."""

    units: np.ndarray       # (B, 2, U): soma death, axon degeneration
    endplates: np.ndarray   # (B, 3, E): terminal/sprout/disassembly event, TSC, fibre-type conversion


def draw_day(generators: list[np.random.Generator], n_units: int, n_endplates: int) -> DayDraws:
    return DayDraws(
        units=np.stack([g.random((2, n_units)) for g in generators]),
        endplates=np.stack([g.random((3, n_endplates)) for g in generators]),
    )


def _competing(u: np.ndarray, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of two competing events happens, from one uniform: (first happened, second happened)."""
    total = first + second
    p_any = hz.probability(total)
    happened = u < p_any
    share = np.divide(first, total, out=np.zeros_like(total), where=total > 0)
    is_first = happened & (u < p_any * share)
    return is_first, happened & ~is_first


def _choose_donors(ctx: RunContext, weight: np.ndarray, subj: np.ndarray, endplate: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Global unit index of the donor picked for each requesting endplate (-1 if none can give).

    Donors are picked within the endplate's muscle with probability proportional to ``weight``.
    """
    layout = ctx.layout
    donor = np.full(len(subj), NO_OWNER, dtype=np.int64)
    muscle = layout.endplate_muscle[endplate]
    for m in range(layout.n_muscles):
        here = np.flatnonzero(muscle == m)
        if here.size == 0:
            continue
        lo, hi = layout.unit_start[m], layout.unit_start[m + 1]
        w = weight[subj[here], lo:hi]
        cum = np.cumsum(w, axis=1)
        total = cum[:, -1]
        can = total > 0
        x = u[here] * total
        index = (cum <= x[:, None]).sum(axis=1)
        last_positive = w.shape[1] - 1 - np.argmax((w > 0)[:, ::-1], axis=1)
        index = np.minimum(index, last_positive)
        donor[here[can]] = lo + index[can]
    return donor


def _within_capacity(subj: np.ndarray, donor: np.ndarray, priority: np.ndarray, capacity: np.ndarray, n_units: int) -> np.ndarray:
    """Accept at most ``capacity`` requests per donor per day, in random (priority) order."""
    key = subj * n_units + donor
    order = np.lexsort((priority, key))
    sorted_key = key[order]
    group_start = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    group_size = np.diff(np.r_[group_start, len(sorted_key)])
    rank = np.arange(len(sorted_key)) - np.repeat(group_start, group_size)
    accepted = np.empty(len(key), dtype=bool)
    accepted[order] = rank < capacity[subj[order], donor[order]]
    return accepted


def _expand(factors: DayFactors, target: str, index_to_muscle: np.ndarray) -> np.ndarray | float:
    """A treatment factor per unit or per endplate (1.0 when no treatment touches ``target``)."""
    per_muscle = factors.muscle(target)
    return 1.0 if per_muscle is None else per_muscle[index_to_muscle]


def _regional_burden(state: BlockState, ctx: RunContext, age_days: int, burden: np.ndarray):
    """D(t - delay_m) per unit (B, U) and per endplate (B, E); (B, 1) when no muscle is delayed."""
    if not state.muscle_delay.any():
        return burden[:, None], burden[:, None]
    per_muscle = regional_burden(state.burden_multiplier[:, None], float(age_days), state.muscle_delay, ctx.scenario)
    return per_muscle[:, ctx.layout.unit_muscle], per_muscle[:, ctx.layout.endplate_muscle]


def step(state: BlockState, obs: Observation, ctx: RunContext, age_days: int, draws: DayDraws,
         generators: list[np.random.Generator]) -> None:
    """Advance ``state`` by one day in place."""
    s, layout = ctx.scenario, ctx.layout
    rates = s.rates
    burden = disease_burden(state.burden_multiplier, float(age_days), s)          # (B,) the cortex's D(t)
    unit_burden, endplate_burden = _regional_burden(state, ctx, age_days, burden)
    factors = day_factors(s, age_days)

    def per_unit(target: str):
        return _expand(factors, target, layout.unit_muscle)

    def per_endplate(target: str):
        return _expand(factors, target, layout.endplate_muscle)
    size = obs.unit_size
    n0 = layout.unit_baseline_size
    coverage, owner = state.coverage, state.owner
    owner_index = np.maximum(owner, 0)
    expression_e = state.expression[:, layout.endplate_muscle]                    # (B, E)

    # --- motor units (docs/model.md, motor-unit rules 1-2)
    cortical_drive = state.umn_alive * s.upper_motor_neuron.hyperexcitability_gain * burden * factors.subject("cortical_drive")
    trophic = hz.trophic_support(state.transport, size, n0, state.axon_intact)
    h_soma = hz.soma_death_hazard(s, ctx.w_forward, state.stress, ctx.unit_vulnerability, cortical_drive[:, None], trophic,
                                  per_unit("soma_death"), per_unit("soma_starvation"))
    h_axon = hz.axon_degeneration_hazard(s, state.soma_alive, size, n0, per_unit("axon_dieback"))
    soma_dies = state.soma_alive & (draws.units[:, 0] < hz.probability(h_soma))
    axon_dies = state.axon_intact & (draws.units[:, 1] < hz.probability(h_axon))

    # --- terminals (endplate rule 1)
    u_event = draws.endplates[:, 0]
    terminal = state.intact & (coverage >= 1)
    owner_axon = np.take_along_axis(state.axon_intact, owner_index, axis=1)
    owner_stress = np.take_along_axis(state.stress, owner_index, axis=1)
    owner_transport = np.take_along_axis(state.transport, owner_index, axis=1)
    wallerian = terminal & ~owner_axon
    lose_terminal = wallerian & (u_event < hz.probability(rates.wallerian_terminal))
    h_retract = np.where(terminal & owner_axon, hz.retraction_hazard(s, ctx.w_back, owner_stress, expression_e,
                                                                     per_endplate("retraction"), per_endplate("destabilisation")), 0.0)
    h_expand = np.where(terminal & owner_axon & (coverage == 1), rates.terminal_expansion * owner_transport, 0.0)
    retract, expand = _competing(u_event, h_retract, h_expand)

    # --- denervated endplates: sprouting competes with disassembly (rules 2 and 4)
    denervated = state.intact & (coverage == 0)
    guidance = ctx.guidance_by_tsc[state.tsc]
    h_sprout = np.where(denervated, hz.sprouting_hazard(s, guidance, expression_e, per_endplate("sprouting")), 0.0)
    disassembly_factor = per_endplate("disassembly")
    h_disassemble = np.where(denervated, hz.disassembly_hazard(s, state.achr.astype(np.float64), disassembly_factor), 0.0)
    request, disassemble = _competing(u_event, h_sprout, h_disassemble)

    # --- sprout donors (rule 2)
    donor_ok = state.soma_alive & state.axon_intact & (size >= 1)
    capacity = np.where(donor_ok, np.maximum(0.0, ctx.unit_max_size - size), 0.0)
    weight = ctx.unit_competence * state.transport * capacity
    subj, endplate = np.nonzero(request)
    counts = np.bincount(subj, minlength=len(generators))
    extra = [g.random((2, c)) for g, c in zip(generators, counts)]
    u_donor = np.concatenate([e[0] for e in extra]) if len(subj) else np.empty(0)
    u_priority = np.concatenate([e[1] for e in extra]) if len(subj) else np.empty(0)
    donor = _choose_donors(ctx, weight, subj, endplate, u_donor)
    chosen = donor >= 0
    accepted = np.zeros(len(subj), dtype=bool)
    accepted[chosen] = _within_capacity(subj[chosen], donor[chosen], u_priority[chosen], capacity, layout.n_units)

    # --- terminal Schwann cells (rule 3)
    tsc = state.tsc
    h_switch = np.where(tsc == QUIESCENT, s.terminal_schwann_cells.activation * (coverage < 2),
                        np.where(tsc == REACTIVE, s.terminal_schwann_cells.quiescence * (coverage == 2), 0.0))
    h_lost = np.where((tsc != LOST) & (coverage == 0),
                      s.terminal_schwann_cells.loss_per_burden * endplate_burden * per_endplate("tsc_loss"), 0.0)
    h_switch = np.where(state.intact, h_switch, 0.0)
    h_lost = np.where(state.intact, h_lost, 0.0)
    switch, lost = _competing(draws.endplates[:, 1], h_switch, h_lost)

    # --- fibre-type conversion (rule 5)
    owner_type = layout.unit_type[owner_index]
    convert = terminal & (state.fibre_type != owner_type) & (draws.endplates[:, 2] < hz.probability(rates.fibre_type_conversion))

    # ---------------- apply: continuous updates from start-of-day values
    production = hz.stress_production(unit_burden, ctx.unit_vulnerability, ctx.unit_activity, size,
                                      ctx.unit_mean_baseline_size, rates.stress_size_exponent) * per_unit("stress_production")
    decline = rates.transport_decline_per_stress * ctx.unit_length_factor * state.stress * per_unit("transport_decline")
    state.transport = hz.update_transport(state.transport, decline, rates.transport_recovery)
    state.stress = hz.relax_stress(state.stress, production, rates.stress_time_constant_days)

    achr = state.achr.astype(np.float64)
    maintained = 1.0 - (1.0 - achr) * np.exp(-rates.agrin_maintenance * coverage / 2.0)
    state.achr = np.where(coverage >= 1, maintained, achr * np.exp(-rates.achr_decay * disassembly_factor)).astype(np.float32)
    csa = state.csa.astype(np.float64)
    state.csa = np.where(coverage >= 1, hz.relax_towards(csa, 1.0, rates.fibre_regrowth),
                         hz.relax_towards(csa, rates.fibre_csa_floor, rates.fibre_atrophy)).astype(np.float32)
    state.days_denervated = np.where(coverage == 0, state.days_denervated + 1, 0).astype(np.int32)
    state.fibre_type = np.where(convert, owner_type, state.fibre_type).astype(np.int8)

    # ---------------- apply: discrete events
    new_coverage = coverage.copy()
    new_coverage[lose_terminal] = 0
    new_coverage[retract] -= 1
    new_coverage[expand] = 2
    new_owner = np.where(new_coverage == 0, NO_OWNER, owner).astype(np.int32)
    got = subj[accepted], endplate[accepted]
    new_coverage[got] = 1
    new_owner[got] = donor[accepted]
    state.coverage, state.owner = new_coverage, new_owner
    state.intact = state.intact & ~disassemble
    state.tsc = np.where(lost, LOST, np.where(switch, np.where(tsc == QUIESCENT, REACTIVE, QUIESCENT), tsc)).astype(np.int8)
    state.soma_alive = state.soma_alive & ~soma_dies
    state.axon_intact = state.axon_intact & ~axon_dies

    # ---------------- subject and muscle (muscle and subject rules; upper motor neurons)
    tau = s.muscle_feedback.expression_time_constant_days
    state.expression = hz.relax_towards(state.expression, obs.denervated_fraction, 1.0 / tau)
    umn_loss = ctx.w_forward * s.upper_motor_neuron.loss_per_burden_day * burden * factors.subject("umn_loss")
    state.umn_alive = state.umn_alive * np.exp(-umn_loss)
