"""NMJ innervation, motor-neuron and axon counts, motor units and force (docs/model.md, Readouts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.census import Census


@dataclass(frozen=True)
class Readout:
    """A readout's variable name and attributes (CF conventions): ``units`` a UDUNITS
    string (``1`` for a fraction or a count), ``long_name`` what it is in words, with
    what a fraction is of, ``description`` how it is measured."""

    name: str
    units: str
    description: str
    long_name: str = ""

    @property
    def attrs(self) -> dict[str, str]:
        """The variable's attributes: units, long_name, description."""
        return {"units": self.units, "long_name": self.long_name or self.name.replace("_", " "),
                "description": self.description}


READOUTS: tuple[Readout, ...] = (
    Readout("endplates_innervated_fraction", "1",
            "Innervated share of the intact (bungarotoxin-labelled) endplates: those fully or partially overlapped by a nerve terminal.",
            long_name="innervated endplates / intact endplates"),
    Readout("endplates_fully_innervated_fraction", "1",
            "Fully innervated share of the intact endplates: those whose nerve terminal covers the whole endplate.",
            long_name="fully innervated endplates / intact endplates"),
    Readout("endplates_denervated_fraction", "1",
            "Denervated share of the intact endplates: those with no nerve terminal (vacant); 0 = all innervated.",
            long_name="denervated endplates / intact endplates"),
    Readout("motor_neurons_alive_fraction", "1",
            "Motor-neuron cell bodies alive (spinal-cord counts of the muscle's pool).",
            long_name="motor neurons alive, fraction of the muscle's motor pool"),
    Readout("axons_intact_fraction", "1",
            "Motor axons not degenerated (ventral-root counts).",
            long_name="axons intact, fraction of the muscle's motor pool"),
    Readout("motor_units_functional_fraction", "1",
            "Motor units with an intact axon and at least one innervated endplate (what EMG counts).",
            long_name="functional motor units, fraction of the muscle's motor pool"),
    Readout("mean_motor_unit_size", "1",
            "Innervated endplates per functional motor unit (grows with collateral sprouting).",
            long_name="mean motor unit size, fibres per functional unit"),
    Readout("fibre_cross_section_fraction", "1",
            "Mean cross-section of all the muscle's fibres (atrophy of denervated fibres, recovery on reinnervation).",
            long_name="fibre cross-section, fraction of normal"),
    Readout("force_fraction", "1",
            "Maximal muscle force from innervated fibres: cross-section x specific force x transmission.",
            long_name="muscle force, fraction of the subject's own day-0 force"),
)

TYPED_READOUTS: tuple[Readout, ...] = (
    Readout("motor_units_functional_by_type_fraction", "1",
            "Functional motor units of each type (S, FR, FF).",
            long_name="functional motor units by type, fraction of the muscle's units of that type"),
    Readout("motor_neurons_alive_by_type_fraction", "1",
            "Motor neurons alive, by type (S, FR, FF).",
            long_name="motor neurons alive by type, fraction of the muscle's units of that type"),
)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.full(numerator.shape, np.nan), where=denominator > 0)


def lab_readouts(census: Census, units_per_muscle: np.ndarray, units_per_type: np.ndarray,
                 fibres_per_muscle: np.ndarray) -> dict[str, np.ndarray]:
    """Readouts per (subject, muscle, day), and per (subject, muscle, type, day) for the typed ones.

    ``units_per_muscle`` is (M,), ``units_per_type`` (M, 3), ``fibres_per_muscle`` (M,): the denominators.
    """
    c = census.counts
    pool = units_per_muscle[None, :, None].astype(np.float64)
    typed_pool = np.broadcast_to(units_per_type[None, :, :, None].astype(np.float64), c["units_alive_by_type"].shape)
    return {
        "endplates_innervated_fraction": _ratio(c["endplates_covered"], c["endplates_intact"]),
        "endplates_fully_innervated_fraction": _ratio(c["endplates_full"], c["endplates_intact"]),
        "endplates_denervated_fraction": _ratio(c["endplates_intact"] - c["endplates_covered"], c["endplates_intact"]),
        "motor_neurons_alive_fraction": c["units_alive"] / pool,
        "axons_intact_fraction": c["units_axon_intact"] / pool,
        "motor_units_functional_fraction": c["units_functional"] / pool,
        "mean_motor_unit_size": _ratio(c["functional_size_sum"], c["units_functional"]),
        "fibre_cross_section_fraction": c["fibre_csa_sum"] / fibres_per_muscle[None, :, None],
        "force_fraction": _ratio(c["force"], c["force"][..., :1]),
        "motor_units_functional_by_type_fraction": _ratio(c["units_functional_by_type"], typed_pool),
        "motor_neurons_alive_by_type_fraction": _ratio(c["units_alive_by_type"], typed_pool),
    }
