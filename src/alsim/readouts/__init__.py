"""Readouts a laboratory measures, computed from the engine's daily census."""

from .clinical import clinical_endpoints, hindlimb_force
from .lab import READOUTS, TYPED_READOUTS, Readout, lab_readouts

__all__ = ["READOUTS", "TYPED_READOUTS", "Readout", "clinical_endpoints", "hindlimb_force", "lab_readouts"]
