"""The one place where a scenario becomes the flat numbers the compiled kernel reads.

Numba compiles functions of arrays and scalars, not of pydantic models, so the scenario
is flattened once per run into :class:`Params`, and its treatments into per-day factor
tables. The rate sections of the schema are copied field by field, systematically: a
field added to ``rates`` (or to ``terminal_schwann_cells``, ``upper_motor_neuron``,
``muscle_feedback``) reaches the kernel as ``p.<prefix><field>`` with no edit here. The
per-unit constants are the unit types' fields spread over the layout, and a few derived
quantities of docs/model.md (*Structure*; endplate rule 2's ``floor(max_enlargement n0)``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ...biology.interventions import day_factors
from ...config.schema import UNIT_TYPES, MuscleFeedback, Rates, TerminalSchwannCells, UnitType, UpperMotorNeuron
from ...config.treatments import SUBJECT_TARGETS, TARGETS
from ..context import RunContext

#: Scenario sections copied into :class:`Params`, with the prefix of their fields' names there.
RATE_SECTIONS = {"rates": ("", Rates), "terminal_schwann_cells": ("tsc_", TerminalSchwannCells),
                 "upper_motor_neuron": ("umn_", UpperMotorNeuron), "muscle_feedback": ("feedback_", MuscleFeedback)}
_RATE_FIELDS = [(section, name, prefix + name) for section, (prefix, model) in RATE_SECTIONS.items()
                for name in model.model_fields]
#: Unit-type fields spread over the units, as ``unit_<field>`` (U,).
_UNIT_TYPE_FIELDS = [name for name in UnitType.model_fields]

#: Treatment targets that act per muscle, in the order of the kernel's factor table, and the cortex's.
MUSCLE_TARGETS: tuple[str, ...] = tuple(t for t in TARGETS if t not in SUBJECT_TARGETS)
CORTEX_TARGETS: tuple[str, ...] = tuple(t for t in TARGETS if t in SUBJECT_TARGETS)
(F_SOMA_DEATH, F_SOMA_STARVATION, F_STRESS_PRODUCTION, F_TRANSPORT_DECLINE, F_AXON_DIEBACK, F_RETRACTION,
 F_DESTABILISATION, F_SPROUTING, F_DISASSEMBLY, F_TSC_LOSS) = (MUSCLE_TARGETS.index(t) for t in (
    "soma_death", "soma_starvation", "stress_production", "transport_decline", "axon_dieback", "retraction",
    "destabilisation", "sprouting", "disassembly", "tsc_loss"))
F_CORTICAL_DRIVE, F_UMN_LOSS = CORTEX_TARGETS.index("cortical_drive"), CORTEX_TARGETS.index("umn_loss")

_DERIVED = [
    "w_back", "w_forward",                      # hypothesis weights (docs/model.md, *Hypotheses*)
    "unit_muscle", "unit_type", "unit_start", "endplate_muscle", "member_start",  # layout
    "n0", "max_size", "mean_baseline_size", "length_factor",  # n0_u, floor(max_enlargement n0_u), nbar0_m, L_m / L_ref
    "force_by_type", "transmission", "guidance",  # per fibre type, per coverage, per Schwann cell state
    # structural alternatives (docs/model.md, *Structural alternatives*); the defaults switch them off
    "two_phase_clock", "orphan_survival", "orphan_death", "stress_limited_sprouting", "sprouting_stress_scale",
]
Params = namedtuple("Params", [*_DERIVED, *(field for _, _, field in _RATE_FIELDS),
                               *(f"unit_{name}" for name in _UNIT_TYPE_FIELDS)])


def build_params(ctx: RunContext) -> Params:
    """Flatten the scenario and layout of ``ctx`` into the kernel's constants."""
    s, layout = ctx.scenario, ctx.layout
    types = [s.unit_types[name] for name in UNIT_TYPES]
    n0 = layout.unit_baseline_size.astype(np.float64)
    per_unit = {f"unit_{name}": np.array([float(getattr(t, name)) for t in types])[layout.unit_type]
                for name in _UNIT_TYPE_FIELDS}
    max_size = np.floor(per_unit["unit_max_enlargement"] * layout.unit_baseline_size)
    slots = np.maximum(max_size, layout.unit_baseline_size).astype(np.int64)
    w_back, w_forward = s.hypothesis.weights
    tsc = s.terminal_schwann_cells
    return Params(
        w_back=float(w_back), w_forward=float(w_forward),
        unit_muscle=layout.unit_muscle.astype(np.int64), unit_type=layout.unit_type.astype(np.int8),
        unit_start=layout.unit_start.astype(np.int64), endplate_muscle=layout.endplate_muscle.astype(np.int16),
        member_start=np.concatenate([[0], np.cumsum(slots)]).astype(np.int64),
        n0=n0, max_size=max_size.astype(np.float64),
        mean_baseline_size=layout.muscle_mean_size[layout.unit_muscle].astype(np.float64),
        length_factor=(layout.muscle_axon_length_mm[layout.unit_muscle] / s.rates.reference_axon_length_mm).astype(np.float64),
        force_by_type=np.array([t.fibre_specific_force for t in types], dtype=np.float64),
        transmission=np.array([0.0, s.neuromuscular.partial_transmission, 1.0]),
        guidance=np.array([tsc.guidance_quiescent, 1.0, tsc.guidance_lost]),
        two_phase_clock=s.structure.clock == "two_phase", orphan_survival=s.structure.soma_survival == "orphan",
        orphan_death=float(s.structure.orphan_death), stress_limited_sprouting=s.structure.sprouting == "stress_limited",
        sprouting_stress_scale=float(s.structure.sprouting_stress_scale),
        **{field: float(getattr(getattr(s, section), name)) for section, name, field in _RATE_FIELDS},
        **per_unit,
    )


def factor_tables(ctx: RunContext, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Treatment factors for days ``0 .. days-1``: per muscle ``(days, len(MUSCLE_TARGETS), M)``
    and for the cortex ``(days, len(CORTEX_TARGETS))``; all ones without treatments (docs/model.md,
    *Treatments*)."""
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
