"""Constants of a run, gathered once from the scenario so the day step only does arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..biology.motor_units import Layout, build_layout
from ..config.schema import UNIT_TYPES, Scenario


@dataclass(frozen=True)
class RunContext:
    """Per-unit and per-endplate parameters of a scenario, as arrays over the layout."""

    scenario: Scenario
    layout: Layout
    w_back: float
    w_forward: float
    unit_vulnerability: np.ndarray    # (U,) v_k
    unit_activity: np.ndarray         # (U,) a_k
    unit_mean_baseline_size: np.ndarray  # (U,) nbar0_m of the unit's muscle
    unit_competence: np.ndarray       # (U,)
    unit_max_size: np.ndarray         # (U,) floor(max_enlargement_k n0_u)
    unit_length_factor: np.ndarray   # (U,) L_m / L_ref
    fibre_force_by_type: np.ndarray   # (3,)
    transmission_by_coverage: np.ndarray  # (3,) force factor for coverage 0, 1, 2
    guidance_by_tsc: np.ndarray       # (3,) sprout guidance for quiescent, reactive, lost
    unit_muscle_type_onehot: np.ndarray  # (U, 3M) indicator of each unit's (muscle, type) group


def build_context(scenario: Scenario) -> RunContext:
    layout = build_layout(scenario)
    types = [scenario.unit_types[name] for name in UNIT_TYPES]
    per_type = lambda attr: np.array([getattr(t, attr) for t in types])[layout.unit_type]  # noqa: E731
    w_back, w_forward = scenario.hypothesis.weights
    tsc = scenario.terminal_schwann_cells
    return RunContext(
        scenario=scenario,
        layout=layout,
        w_back=w_back,
        w_forward=w_forward,
        unit_vulnerability=per_type("vulnerability"),
        unit_activity=per_type("activity"),
        unit_mean_baseline_size=layout.muscle_mean_size[layout.unit_muscle],
        unit_competence=per_type("sprouting_competence"),
        unit_max_size=np.floor(per_type("max_enlargement") * layout.unit_baseline_size),
        unit_length_factor=layout.muscle_axon_length_mm[layout.unit_muscle] / scenario.rates.reference_axon_length_mm,
        fibre_force_by_type=np.array([t.fibre_specific_force for t in types]),
        transmission_by_coverage=np.array([0.0, scenario.neuromuscular.partial_transmission, 1.0]),
        guidance_by_tsc=np.array([tsc.guidance_quiescent, 1.0, tsc.guidance_lost]),
        unit_muscle_type_onehot=np.eye(layout.n_muscles * 3)[layout.unit_muscle * 3 + layout.unit_type],
    )
