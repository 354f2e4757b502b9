"""What the engine sees at the start of a day: derived quantities and the daily census.

The census holds raw counts per (subject, muscle); :mod:`alsim.readouts` turns them
into the readouts a laboratory measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..biology.species import HUMAN, MOUSE, species_of
from .context import RunContext
from .state import BlockState

CENSUS_FIELDS: tuple[str, ...] = (
    "endplates_intact", "endplates_covered", "endplates_full",
    "units_alive", "units_axon_intact", "units_functional", "functional_size_sum", "force", "fibre_csa_sum",
)
TYPED_CENSUS_FIELDS: tuple[str, ...] = ("units_alive_by_type", "units_functional_by_type")

SNAPSHOT_EVERY_DAYS = MOUSE.snapshot_every_days
"""Per-unit snapshots (what the electrophysiology readouts need) are taken on every 7th day
of age, and on the last day of the run (:func:`snapshot_days`)."""
SNAPSHOT_EVERY_DAYS_HUMAN = HUMAN.snapshot_every_days
"""In people the course takes years: a snapshot every 4 weeks (clinics record every few months)."""
SNAPSHOT_SIZE_DTYPE = np.uint16
"""Unit sizes in a snapshot: fibres per unit fit in 16 bits (a mouse unit has tens to hundreds)."""


def snapshot_days(days: int, every: int = SNAPSHOT_EVERY_DAYS) -> np.ndarray:
    """The ages (0 .. ``days``) of the per-unit snapshots: 0, 7, 14, ... and ``days``."""
    return np.unique(np.r_[np.arange(0, days + 1, every), days]).astype(np.int64)


def snapshot_interval(scenario) -> int:
    """Days between per-unit snapshots: 7 in mice, 28 in people."""
    return species_of(scenario).snapshot_every_days


def snapshot_slots(days: int, every: int = SNAPSHOT_EVERY_DAYS) -> np.ndarray:
    """(days + 1,) int64: the snapshot index of each day, -1 on days without one."""
    slot = np.full(days + 1, -1, dtype=np.int64)
    snap = snapshot_days(days, every)
    slot[snap] = np.arange(len(snap))
    return slot


def snapshot_sizes(size: np.ndarray) -> np.ndarray:
    """Unit sizes as stored in a snapshot (clipped to the dtype's range)."""
    return np.minimum(size, np.iinfo(SNAPSHOT_SIZE_DTYPE).max).astype(SNAPSHOT_SIZE_DTYPE)


@dataclass
class Observation:
    """Start-of-day quantities shared by the census and the step."""

    unit_size: np.ndarray          # (B, U) n_u: intact endplates with coverage >= 1 owned
    denervated_fraction: np.ndarray  # (B, M) delta_m
    census: dict[str, np.ndarray]  # name -> (B, M) or (B, M, 3)


def _per_muscle(ctx: RunContext, per_endplate: np.ndarray) -> np.ndarray:
    return np.add.reduceat(per_endplate, ctx.layout.endplate_start[:-1], axis=1)


def _per_muscle_units(ctx: RunContext, per_unit: np.ndarray) -> np.ndarray:
    return np.add.reduceat(per_unit, ctx.layout.unit_start[:-1], axis=1)


def _per_muscle_and_type(ctx: RunContext, per_unit: np.ndarray) -> np.ndarray:
    return (per_unit @ ctx.unit_muscle_type_onehot).reshape(per_unit.shape[0], ctx.layout.n_muscles, 3)


def unit_sizes(state: BlockState, n_units: int) -> np.ndarray:
    """n_u for every unit: a bincount over (subject, owner) of covered intact endplates."""
    n_subjects = state.owner.shape[0]
    covered = state.intact & (state.coverage >= 1)
    flat = (np.arange(n_subjects, dtype=np.int64)[:, None] * n_units + state.owner)[covered]
    return np.bincount(flat, minlength=n_subjects * n_units).reshape(n_subjects, n_units).astype(np.float64)


def observe(state: BlockState, ctx: RunContext) -> Observation:
    layout = ctx.layout
    size = unit_sizes(state, layout.n_units)
    intact = state.intact
    covered = intact & (state.coverage >= 1)
    n_intact = _per_muscle(ctx, intact.astype(np.float64))
    n_covered = _per_muscle(ctx, covered.astype(np.float64))
    owner_axon = np.take_along_axis(state.axon_intact, np.maximum(state.owner, 0), axis=1)
    contributing = covered & owner_axon
    per_fibre = state.csa * ctx.fibre_force_by_type[state.fibre_type] * ctx.transmission_by_coverage[state.coverage]
    functional = state.axon_intact & (size >= 1)
    census = {
        "endplates_intact": n_intact,
        "endplates_covered": n_covered,
        "endplates_full": _per_muscle(ctx, (intact & (state.coverage == 2)).astype(np.float64)),
        "units_alive": _per_muscle_units(ctx, state.soma_alive.astype(np.float64)),
        "units_axon_intact": _per_muscle_units(ctx, state.axon_intact.astype(np.float64)),
        "units_functional": _per_muscle_units(ctx, functional.astype(np.float64)),
        "functional_size_sum": _per_muscle_units(ctx, np.where(functional, size, 0.0)),
        "force": _per_muscle(ctx, np.where(contributing, per_fibre, 0.0)),
        "fibre_csa_sum": _per_muscle(ctx, state.csa.astype(np.float64)),
        "units_alive_by_type": _per_muscle_and_type(ctx, state.soma_alive.astype(np.float64)),
        "units_functional_by_type": _per_muscle_and_type(ctx, functional.astype(np.float64)),
    }
    denervated = np.divide(n_intact - n_covered, n_intact, out=np.zeros_like(n_intact), where=n_intact > 0)
    return Observation(unit_size=size, denervated_fraction=denervated, census=census)
