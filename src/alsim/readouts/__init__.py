"""Readouts a laboratory measures, computed from the engine's daily census."""

from .clinical import clinical_endpoints, hindlimb_force
from .emg.simulated import DEFAULT_MUNE_METHOD, EMG_READOUTS, MUNE_METHODS, emg_readouts
from .lab import READOUTS, TYPED_READOUTS, Readout, lab_readouts

__all__ = ["DEFAULT_MUNE_METHOD", "EMG_READOUTS", "MUNE_METHODS", "READOUTS", "TYPED_READOUTS", "Readout",
           "clinical_endpoints", "emg_readouts", "hindlimb_force", "lab_readouts"]
