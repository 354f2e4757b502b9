"""Where each training-data row lands on the simulated readouts.

The mapping from a published measurement (``alsim.data``) to a readout of the results
Dataset: which variable, which muscle, and whether the value is drawn as ``1 - x``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alsim.data import TrainingRow, load_training

HINDLIMB_MUSCLES: tuple[str, ...] = ("gastrocnemius", "tibialis_anterior", "soleus")
_POINT_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "p", "h", "*")

#: Training measures deliberately not drawn, and why (shown in captions).
SKIPPED_MEASURES: dict[str, str] = {
    "motor_neurons_degenerating_fraction": (
        "degenerating motor neurons are not lost ones (a degenerating soma is still alive), "
        "so this fraction is not compared with 'motor neurons alive'"
    ),
}

# training measure -> (readout, value is 1 - x)
_NMJ_MEASURES: dict[str, tuple[str, bool]] = {
    "fully_innervated_fraction": ("endplates_fully_innervated_fraction", False),
    "fully_denervated_fraction": ("endplates_denervated_fraction", False),
    "denervated_fraction": ("endplates_denervated_fraction", False),
    "innervation_loss_vs_wildtype_fraction": ("endplates_innervated_fraction", True),
}
_MN_MEASURES: dict[str, tuple[str, bool]] = {
    "motor_neurons_lost_fraction": ("motor_neurons_alive_fraction", True),
}
_MUSCLE_GROUPS: dict[str, tuple[str, ...]] = {
    "fast_fatigable_muscles": ("tibialis_anterior", "gastrocnemius"),
    "lumbar_spinal_cord": HINDLIMB_MUSCLES,
}
ENDPOINT_VARS = {"onset": "onset_day", "end_stage": "end_stage_day", "survival": "end_stage_day"}
#: Strain of rows whose genetic background is not given: drawn for every strain, hollow.
UNSPECIFIED_STRAIN = "G93A"


@dataclass(frozen=True)
class TrainingPoint:
    """A training row placed on a readout: ``value`` is already in the readout's terms."""

    var: str
    muscle: str | None
    day: float
    value: float
    sd: float | None
    label: str
    hollow: bool
    row: TrainingRow


def map_training_row(row: TrainingRow) -> list[tuple[str, str, float]]:
    """``(readout, muscle, value)`` for each place a time-course row is drawn; ``[]`` if none.

    ``innervation_loss_vs_wildtype_fraction`` and ``motor_neurons_lost_fraction`` become
    ``1 - x``; ``fast_fatigable_muscles`` is drawn on tibialis anterior and gastrocnemius,
    the lumbar spinal cord on the three hindlimb muscles.
    """
    if row.value is None or row.age_days is None or row.measure in SKIPPED_MEASURES:
        return []
    if row.file == "nmj_innervation.csv":
        mapping = _NMJ_MEASURES.get(row.measure)
        muscles = _MUSCLE_GROUPS.get(row.muscle_or_region or "", (row.muscle_or_region,))
    elif row.file == "motor_neurons.csv":
        mapping = _MN_MEASURES.get(row.measure)
        muscles = _MUSCLE_GROUPS.get(row.muscle_or_region or "", ())  # regions map onto muscles
    else:
        return []
    if mapping is None:
        return []
    var, complement = mapping
    value = 1.0 - row.value if complement else row.value
    return [(var, str(m), value) for m in muscles if m]


def training_markers(rows: Iterable[TrainingRow] | None) -> dict[tuple[str, str, str], str]:
    """A marker per (source, sex, strain), assigned in the order of ``rows``, so that one
    source keeps its marker across the panels of a figure and is told apart from others."""
    rows = load_training() if rows is None else rows
    markers: dict[tuple[str, str, str], str] = {}
    for row in rows:
        key = marker_key(row)
        if key not in markers:
            markers[key] = _POINT_MARKERS[len(markers) % len(_POINT_MARKERS)]
    return markers


def marker_key(row: TrainingRow) -> tuple[str, str, str]:
    return (row.short_source, row.sex, row.strain)


def is_complement(measure: str) -> bool:
    """Whether a training measure is drawn as ``1 - x``."""
    mapping = _NMJ_MEASURES.get(measure) or _MN_MEASURES.get(measure)
    return bool(mapping and mapping[1])


def strain_matches(row: TrainingRow, strains: str | Iterable[str]) -> bool:
    wanted = {strains} if isinstance(strains, str) else set(strains)
    return row.strain in wanted or row.strain == UNSPECIFIED_STRAIN


def point_label(row: TrainingRow, *, with_strain: bool = False) -> str:
    label = row.short_source
    extras = []
    if row.sex in ("F", "M"):
        extras.append(row.sex)
    if row.strain == UNSPECIFIED_STRAIN:
        extras.append("G93A, background n/s")
    elif with_strain:
        extras.append(row.strain)
    return f"{label} ({', '.join(extras)})" if extras else label


def training_points(rows: Iterable[TrainingRow] | None, var: str, muscle: str | None,
                    strains: str | Iterable[str]) -> list[TrainingPoint]:
    """The training rows drawn on ``var`` for ``muscle``, for results of ``strains``.

    Rows of another strain are left out; rows of unspecified background (``G93A``) are
    kept and marked ``hollow``.
    """
    rows = load_training() if rows is None else rows
    strains = {strains} if isinstance(strains, str) else set(strains)
    points = []
    for row in rows:
        if not strain_matches(row, strains):
            continue
        for target, m, value in map_training_row(row):
            if target == var and m == muscle:
                points.append(TrainingPoint(var, m, float(row.age_days), value, row.sd,
                                            point_label(row, with_strain=len(strains) > 1),
                                            row.strain == UNSPECIFIED_STRAIN, row))
    return points


def endpoint_rows(rows: Iterable[TrainingRow] | None, strains: str | Iterable[str]) -> list[TrainingRow]:
    """Onset / end-stage / survival rows of the given strains (and of unspecified background)."""
    rows = load_training() if rows is None else rows
    return [r for r in rows if r.file == "onset_survival.csv" and r.value is not None and strain_matches(r, strains)]
