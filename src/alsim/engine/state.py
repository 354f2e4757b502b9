"""The state of a block of subjects: a structure of arrays, never an object per cell.

Shapes: ``B`` subjects in the block, ``U`` motor units and ``E`` endplates per subject,
``M`` muscles (see :class:`alsim.biology.motor_units.Layout`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..biology.motor_units import Layout

QUIESCENT, REACTIVE, LOST = 0, 1, 2
NO_OWNER = -1


@dataclass
class BlockState:
    """Everything that changes during a run, for one block of subjects."""

    burden_multiplier: np.ndarray  # (B,) float64, b
    muscle_delay: np.ndarray       # (B, M) float64, days before each muscle carries the burden (spread)
    umn_alive: np.ndarray          # (B,) float64, fraction of upper motor neurons alive
    expression: np.ndarray         # (B, M) float64, S_m: denervation-induced expression, 0-1
    soma_alive: np.ndarray         # (B, U) bool
    axon_intact: np.ndarray        # (B, U) bool
    stress: np.ndarray             # (B, U) float64, M_u, dimensionless
    transport: np.ndarray          # (B, U) float64, T_u, 0-1
    owner: np.ndarray              # (B, E) int32, global unit index or NO_OWNER
    coverage: np.ndarray           # (B, E) int8, 0 denervated / 1 partial / 2 full
    tsc: np.ndarray                # (B, E) int8, QUIESCENT / REACTIVE / LOST
    achr: np.ndarray               # (B, E) float32, AChR-cluster stability, 0-1
    intact: np.ndarray             # (B, E) bool, postsynaptic apparatus exists
    days_denervated: np.ndarray    # (B, E) int32, days
    csa: np.ndarray                # (B, E) float32, cross-section / normal
    fibre_type: np.ndarray         # (B, E) int8, 0=S 1=FR 2=FF


def initial_state(layout: Layout, burden_multiplier: np.ndarray, muscle_delay: np.ndarray | None = None) -> BlockState:
    """Healthy adult state: every endplate fully innervated by its structural unit.

    ``muscle_delay`` (B, M): days before each muscle carries the burden (default none)."""
    n = len(burden_multiplier)
    units = (n, layout.n_units)
    endplates = (n, layout.n_endplates)
    return BlockState(
        burden_multiplier=np.asarray(burden_multiplier, dtype=np.float64).copy(),
        muscle_delay=np.zeros((n, layout.n_muscles)) if muscle_delay is None else np.asarray(muscle_delay, dtype=np.float64),
        umn_alive=np.ones(n),
        expression=np.zeros((n, layout.n_muscles)),
        soma_alive=np.ones(units, dtype=bool),
        axon_intact=np.ones(units, dtype=bool),
        stress=np.zeros(units),
        transport=np.ones(units),
        owner=np.broadcast_to(layout.endplate_unit.astype(np.int32), endplates).copy(),
        coverage=np.full(endplates, 2, dtype=np.int8),
        tsc=np.full(endplates, QUIESCENT, dtype=np.int8),
        achr=np.ones(endplates, dtype=np.float32),
        intact=np.ones(endplates, dtype=bool),
        days_denervated=np.zeros(endplates, dtype=np.int32),
        csa=np.ones(endplates, dtype=np.float32),
        fibre_type=np.broadcast_to(layout.unit_type[layout.endplate_unit], endplates).copy(),
    )
