"""Clinical electrophysiology on a motor-unit pool: CMAP, MUNE (incremental, multipoint,
CMAP scan fit) and MUNIX/MUSIX, with the biases of the real methods. See
docs/electrophysiology.md."""

from .mune import MuneResult, fire, incremental_mune, multipoint_mune, responses_uV
from .munix import MunixResult, VoluntaryDrive, munix, recruitment_thresholds, surface_interference_uV
from .pool import MotorUnitPool, reinnervate, synthetic_pool
from .potentials import (LITERATURE, PotentialMeasures, VolumeConductor, biphasic, calibrate, cmap,
                         cmap_waveform_uV, measure, smup_amplitudes_uV, smup_waveforms_uV)
from .scan import CmapScan, ScanFit, cmap_scan, scan_fit_mune

__all__ = ["LITERATURE", "CmapScan", "MotorUnitPool", "MuneResult", "MunixResult", "PotentialMeasures",
           "ScanFit", "VolumeConductor", "VoluntaryDrive", "biphasic", "calibrate", "cmap", "cmap_scan",
           "cmap_waveform_uV", "fire", "incremental_mune", "measure", "multipoint_mune", "munix",
           "recruitment_thresholds", "reinnervate", "responses_uV", "scan_fit_mune", "smup_amplitudes_uV",
           "smup_waveforms_uV", "surface_interference_uV", "synthetic_pool"]
