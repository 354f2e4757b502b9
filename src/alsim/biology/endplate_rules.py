"""Endplate rules 1-5 of docs/model.md: terminals, sprouting, terminal Schwann cells, AChR, fibres.

Each function is one rate (per day) or one factor of an exact update over a day, for one
endplate (or arrays of endplates through ``.py_func``). Treatment factors ``F`` are 1
without treatment.
"""

from __future__ import annotations

import numpy as np

from .rule import rule

QUIESCENT, REACTIVE, LOST = 0, 1, 2
"""Terminal Schwann cell states."""


@rule
def stress_retraction_hazard(stress, w_back, retraction_per_stress):
    """Endplate rule 1, dying-back part, per day: ``w_back terminal_retraction_per_stress M_o``:
    the owner's metabolic stress makes its terminals retract."""
    return w_back * retraction_per_stress * stress


@rule
def destabilisation(expression, destabilising_gain, factor=1.0):
    """``1 + destabilising_gain S_m F``: the denervated muscle's destabilising signals on the
    terminals that remain (a multiplier)."""
    return 1.0 + destabilising_gain * expression * factor


@rule
def retraction_hazard(stress_hazard, destabilisation, baseline, factor=1.0):
    """Endplate rule 1, per day: ``(w_back rate M_o (1 + gain S_m) + baseline) F``, from
    :func:`stress_retraction_hazard` and :func:`destabilisation`; normal remodelling adds
    ``terminal_retraction_baseline``."""
    return (stress_hazard * destabilisation + baseline) * factor


@rule
def sprout_capacity(max_size, size):
    """``cap_v = max(0, floor(max_enlargement_k n0_v) - n_v)``, endplates: how many more a donor can take
    (``max_size`` is the floor already; 0 for a unit that cannot sprout: the caller's branch)."""
    return np.maximum(0.0, max_size - size)


@rule
def donor_weight(competence, transport, capacity):
    """Endplate rule 2: ``sprouting_competence_k T_v cap_v``, a donor's share of the sprouts of its muscle."""
    return competence * transport * capacity


@rule
def expansion_hazard(transport, expansion):
    """Endplate rule 1, per day: ``terminal_expansion T_o``: a partial terminal or sprout covers the whole
    endplate, as fast as its unit's transport supplies it."""
    return expansion * transport


@rule
def sprouting_hazard(guidance, expression, sprouting, signal_gain, factor=1.0):
    """Endplate rule 2, per day: ``sprouting g(tsc) (1 + sprouting_signal_gain S_m) F``: a denervated
    endplate attracts a sprout, guided by its terminal Schwann cell and helped by the trophic
    signals of a denervated muscle."""
    return sprouting * guidance * (1.0 + signal_gain * expression) * factor


@rule
def schwann_switch_hazard(tsc, coverage, activation, quiescence):
    """Endplate rule 3, per day: a quiescent cell becomes reactive at ``activation`` when coverage < 2;
    a reactive one calms at ``quiescence`` when coverage is 2; otherwise 0."""
    return activation * ((tsc == QUIESCENT) & (coverage < 2)) + quiescence * ((tsc == REACTIVE) & (coverage == 2))


@rule
def schwann_loss_hazard(tsc, coverage, burden, loss_per_burden, factor=1.0):
    """Endplate rule 3, per day: ``loss_per_burden D(t) F`` for a quiescent or reactive cell at a
    denervated endplate (SOD1 Schwann cells lose their phenotype after denervation), else 0."""
    return loss_per_burden * burden * factor * ((tsc != LOST) & (coverage == 0))


@rule
def disassembly_hazard(achr, disassembly, factor=1.0):
    """Endplate rule 4, per day: ``endplate_disassembly (1 - A) F``: a denervated endplate whose AChR
    clusters have lost their stability is taken apart."""
    return disassembly * (1.0 - achr) * factor


@rule
def achr_decay_factor(achr_decay, factor=1.0):
    """Endplate rule 4: ``exp(-achr_decay F dt)``, the share of AChR-cluster stability a denervated
    endplate keeps over a day."""
    return np.exp(-achr_decay * factor)


@rule
def agrin_factor(agrin_maintenance, coverage):
    """Endplate rule 4: ``exp(-agrin_maintenance coverage / 2 dt)``, the share of AChR instability
    ``1 - A`` left after a day under a terminal of ``coverage`` 1 or 2 (agrin-LRP4-MuSK signalling)."""
    return np.exp(-agrin_maintenance * (coverage / 2.0))


@rule
def relax_towards(value, target, decay):
    """Exact relaxation over a day: ``target + (value - target) decay``, ``decay = exp(-rate dt)``
    (fibre cross-section, endplate rule 5; AChR stability, rule 4; muscle expression ``S_m``)."""
    return target + (value - target) * decay


@rule
def decay_factor(rate_per_day):
    """``exp(-rate dt)``: the share of a distance from equilibrium left after a day."""
    return np.exp(-rate_per_day)


@rule
def stress_limited_competence(stress, stress_scale):
    """Structure ``sprouting = stress_limited``: ``exp(-M_v / m_s)``, the share of its healthy sprouting
    weight a stressed donor keeps (little compensation by sprouting in SOD1 fast muscles, Hegedus
    2007; a sprouting deficit by MUNE, Mancuso 2011); 1 for an unstressed (wild-type) unit."""
    return np.exp(-stress / stress_scale)
