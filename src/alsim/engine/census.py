"""What the engine returns: the daily census of a set of subjects and its per-unit snapshots.

The census holds raw counts per (subject, muscle, day); :mod:`alsim.readouts` turns them
into the readouts a laboratory measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..biology.species import MOUSE, species_of

CENSUS_FIELDS: tuple[str, ...] = (
    "endplates_intact", "endplates_covered", "endplates_full",
    "units_alive", "units_axon_intact", "units_functional", "functional_size_sum", "force", "fibre_csa_sum",
)
TYPED_CENSUS_FIELDS: tuple[str, ...] = ("units_alive_by_type", "units_functional_by_type")

SNAPSHOT_EVERY_DAYS = MOUSE.snapshot_every_days
"""Per-unit snapshots (what the electrophysiology readouts need) are taken on every 7th day
of age in mice (every 4 weeks in people, :mod:`alsim.biology.species`), and on the last day
of the run (:func:`snapshot_days`)."""
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


@dataclass
class Census:
    """Daily raw counts for a set of subjects, and sparse per-unit snapshots.

    ``counts[name]`` has shape (subjects, muscles, days + 1), or (subjects, muscles, 3,
    days + 1) for the per-type fields. On the ages ``snapshot_day`` (every 7th day and
    the last, :func:`snapshot_days`) the start-of-day state of
    every unit is kept: ``unit_size`` (subjects, snapshots, units), uint16, its
    innervated fibres ``n_u`` (intact endplates with coverage >= 1 that it owns), and
    ``unit_axon_intact`` (same shape), bool. Units are in layout order (muscle by
    muscle, ``layout.unit_start``). The electrophysiology readouts are computed from
    them (:mod:`alsim.readouts.emg.simulated`); they are ``None`` for a census built
    without them.
    """

    subject: np.ndarray          # (N,) subject indices
    is_female: np.ndarray        # (N,) bool
    litter: np.ndarray           # (N,) int
    burden_multiplier: np.ndarray  # (N,) float
    counts: dict[str, np.ndarray]
    snapshot_day: np.ndarray | None = None       # (K,) ages of the per-unit snapshots
    unit_size: np.ndarray | None = None          # (N, K, U) uint16
    unit_axon_intact: np.ndarray | None = None   # (N, K, U) bool

    @staticmethod
    def concatenate(parts: list["Census"]) -> "Census":
        has_units = all(p.unit_size is not None for p in parts)
        return Census(
            subject=np.concatenate([p.subject for p in parts]),
            is_female=np.concatenate([p.is_female for p in parts]),
            litter=np.concatenate([p.litter for p in parts]),
            burden_multiplier=np.concatenate([p.burden_multiplier for p in parts]),
            counts={k: np.concatenate([p.counts[k] for p in parts]) for k in parts[0].counts},
            snapshot_day=parts[0].snapshot_day if has_units else None,
            unit_size=np.concatenate([p.unit_size for p in parts]) if has_units else None,
            unit_axon_intact=np.concatenate([p.unit_axon_intact for p in parts]) if has_units else None,
        )
