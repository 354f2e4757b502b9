"""The structure of a muscle's motor-unit pool: unit types and baseline sizes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.schema import UNIT_TYPES, Muscle, Scenario

TYPE_INDEX = {name: index for index, name in enumerate(UNIT_TYPES)}


def unit_type_counts(muscle: Muscle) -> tuple[int, int, int]:
    """Number of S, FR and FF units: the first round(fraction_S n) are S, then FR, the rest FF."""
    n = muscle.n_motor_units
    n_s = min(n, round(muscle.fraction_S * n))
    n_fr = min(n - n_s, round(muscle.fraction_FR * n))
    return n_s, n_fr, n - n_s - n_fr


def baseline_sizes(n_fibres: int, weights: np.ndarray) -> np.ndarray:
    """Share ``n_fibres`` endplates between units in proportion to ``weights``.

    Largest-remainder rounding (ties to the lower index); every unit gets at least
    one endplate, taken from the largest unit. Returns integer sizes summing to
    ``n_fibres``.
    """
    exact = n_fibres * weights / weights.sum()
    sizes = np.floor(exact).astype(np.int64)
    leftover = n_fibres - int(sizes.sum())
    order = np.lexsort((np.arange(len(weights)), -(exact - sizes)))
    sizes[order[:leftover]] += 1
    for unit in np.flatnonzero(sizes == 0):
        sizes[np.argmax(sizes)] -= 1
        sizes[unit] = 1
    return sizes


@dataclass(frozen=True)
class Layout:
    """Where each muscle's units and endplates sit in the flat per-subject arrays.

    Units of muscle ``m`` are ``unit_start[m]:unit_start[m+1]``, its endplates
    ``endplate_start[m]:endplate_start[m+1]``; every subject has the same layout.
    """

    muscle_names: tuple[str, ...]
    unit_start: np.ndarray        # (M+1,) int64
    endplate_start: np.ndarray    # (M+1,) int64
    unit_type: np.ndarray         # (U,) int8, 0=S 1=FR 2=FF
    unit_muscle: np.ndarray       # (U,) int64
    unit_baseline_size: np.ndarray  # (U,) int64, n0_u
    endplate_unit: np.ndarray     # (E,) int64, structural owner (global unit index)
    endplate_muscle: np.ndarray   # (E,) int64
    muscle_mean_size: np.ndarray  # (M,) float64, nbar0_m = n_fibres / n_units
    muscle_axon_length_mm: np.ndarray  # (M,) float64
    muscle_is_hindlimb: np.ndarray     # (M,) bool
    units_per_type: np.ndarray    # (M, 3) int64

    @property
    def n_units(self) -> int:
        return int(self.unit_start[-1])

    @property
    def n_endplates(self) -> int:
        return int(self.endplate_start[-1])

    @property
    def n_muscles(self) -> int:
        return len(self.muscle_names)


def build_layout(scenario: Scenario) -> Layout:
    """The motor-unit pools and endplates of every muscle of the scenario (docs/model.md, Structure)."""
    unit_types, unit_muscle, sizes, per_type = [], [], [], []
    for m, muscle in enumerate(scenario.muscles.values()):
        counts = unit_type_counts(muscle)
        types = np.repeat(np.arange(3, dtype=np.int8), counts)
        weights = np.array([scenario.unit_types[UNIT_TYPES[k]].innervation_ratio_relative for k in types])
        unit_types.append(types)
        unit_muscle.append(np.full(len(types), m, dtype=np.int64))
        sizes.append(baseline_sizes(muscle.n_fibres, weights))
        per_type.append(counts)
    unit_type = np.concatenate(unit_types)
    baseline = np.concatenate(sizes)
    muscles = list(scenario.muscles.values())
    unit_start = np.concatenate([[0], np.cumsum([m.n_motor_units for m in muscles])]).astype(np.int64)
    endplate_start = np.concatenate([[0], np.cumsum([m.n_fibres for m in muscles])]).astype(np.int64)
    return Layout(
        muscle_names=tuple(scenario.muscles),
        unit_start=unit_start,
        endplate_start=endplate_start,
        unit_type=unit_type,
        unit_muscle=np.concatenate(unit_muscle),
        unit_baseline_size=baseline,
        endplate_unit=np.repeat(np.arange(len(baseline), dtype=np.int64), baseline),
        endplate_muscle=np.repeat(np.arange(len(muscles), dtype=np.int64), [m.n_fibres for m in muscles]),
        muscle_mean_size=np.array([m.n_fibres / m.n_motor_units for m in muscles]),
        muscle_axon_length_mm=np.array([m.axon_length_mm for m in muscles]),
        muscle_is_hindlimb=np.array([m.region == "hindlimb" for m in muscles]),
        units_per_type=np.array(per_type, dtype=np.int64),
    )
