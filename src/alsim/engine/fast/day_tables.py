"""The day's event probabilities, computed once per unit or per muscle instead of once per endplate.

The hazards are the rules of :mod:`alsim.biology.endplate_rules`; this module tabulates them.

Every hazard of an active endplate depends on the endplate only through a few small
states (coverage, Schwann cell state) and on its owner and muscle, except the
disassembly hazard, which depends on the endplate's own AChR stability. So the
``1 - exp(-h)`` of :func:`~alsim.engine.fast.chance.competing` is computed here per
unit (terminal retraction and expansion) and per muscle and state (Schwann cells,
sprout guidance, AChR decay), with the same floating-point operations in the same
order: the draws and their outcomes are bit for bit those of the per-endplate form.

A *decision* is two numbers ``(p_any, first_below)``, read by
:func:`~alsim.engine.fast.chance.decide`: ``p_any < 0`` means no event is possible
(and no uniform is drawn).
"""

from __future__ import annotations

from numba import njit

from ...biology.endplate_rules import (achr_decay_factor, retraction_hazard, schwann_loss_hazard, schwann_switch_hazard,
                                       sprouting_hazard)
from ...biology.subject_rules import event_probability
from .params import F_DISASSEMBLY, F_SPROUTING, F_TSC_LOSS
#: Rows of the per-unit terminal table.
RETRACT_HAZARD = 0
#: Rows of the per-muscle table.
ACHR_DECAY, SPROUT_QUIESCENT, SPROUT_REACTIVE, SPROUT_LOST = range(4)


@njit(cache=True, error_model="numpy", inline="always")
def decision(first: float, second: float):
    """``(p_any, first_below)`` of two competing hazards, as :func:`~alsim.engine.fast.chance.competing` computes them."""
    total = first + second
    if total <= 0.0:
        return -1.0, 0.0
    p_any = event_probability(total)
    return p_any, p_any * (first / total)


@njit(cache=True, error_model="numpy")
def terminal_table(p, s, retraction, out):
    """Endplate rule 1 per unit ``u`` (its terminals all see the same hazards today):
    ``out[RETRACT_HAZARD, u]``, the retraction hazard (per day) of a terminal of ``u``.

    The decisions of a full terminal (retraction) and of a partial one (retraction or
    expansion) are computed from it where they are needed, by :func:`terminal_decision`:
    the grouped terminals use the hazards, and an active endplate innervated by an intact
    axon is rare (sprouts join their group the day they are granted), so two ``expm1`` per
    unit and day would mostly go unread.
    """
    unit_muscle, h_stress = p.unit_muscle, s.h_stress
    for u in range(unit_muscle.shape[0]):
        m = unit_muscle[u]
        out[RETRACT_HAZARD, u] = retraction_hazard(h_stress[u], retraction[0, m], retraction[1, m], retraction[2, m])


@njit(cache=True, error_model="numpy", inline="always")
def terminal_decision(h_retract: float, h_expand: float, coverage: int):
    """The decision of a terminal of coverage 1 or 2: retraction (first) or, at coverage 1,
    expansion (second); as :func:`~alsim.engine.fast.chance.competing` computes it."""
    if coverage == 2:
        p_any = decision(h_retract, 0.0)[0]
        return p_any, p_any
    return decision(h_retract, h_expand)


@njit(cache=True, error_model="numpy")
def schwann_table(p, burden, early, mf, out):
    """Endplate rule 3 per muscle, Schwann cell state and coverage: ``out[:, m, tsc, coverage]``
    is the decision between a switch (activation or quiescence; first) and loss (second).
    The loss reads ``D(t) + D_e(t)`` (``early`` is 0 except under ``clock = two_phase``)."""
    for m in range(out.shape[1]):
        for tsc_now in range(3):
            for coverage in range(3):
                h_switch = schwann_switch_hazard(tsc_now, coverage, p.tsc_activation, p.tsc_quiescence)
                h_loss = schwann_loss_hazard(tsc_now, coverage, burden[m] + early[m], p.tsc_loss_per_burden, mf[F_TSC_LOSS, m])
                p_any, first_below = decision(h_switch, h_loss)
                out[0, m, tsc_now, coverage] = p_any
                out[1, m, tsc_now, coverage] = first_below


@njit(cache=True, error_model="numpy")
def muscle_table(p, s, mf, out):
    """Per muscle: the day's AChR decay factor of a denervated endplate (rule 4) and the
    sprouting hazard (rule 2) under each Schwann cell state."""
    guidance, sprouting, gain = p.guidance, p.sprouting, p.feedback_sprouting_signal_gain
    for m in range(out.shape[1]):
        out[ACHR_DECAY, m] = achr_decay_factor(p.achr_decay, mf[F_DISASSEMBLY, m])
        for tsc_now in range(3):
            out[SPROUT_QUIESCENT + tsc_now, m] = sprouting_hazard(guidance[tsc_now], s.expression[m], sprouting, gain,
                                                                  mf[F_SPROUTING, m])
