"""Single-fibre, motor-unit (SMUP) and compound (CMAP) potentials at a surface electrode.

Physiology and its simplifications:

- A fibre's extracellular potential comes from its transmembrane current, which in the
  line-source (core-conductor) theory of volume conduction scales with the fibre's
  cross-section (radius squared): ``i_m = sigma_i * pi * a**2 * d2Vm/dz2``. So the
  single-fibre contribution scales with ``csa ** csa_exponent`` (default 1: proportional
  to cross-section, i.e. to diameter squared); atrophic fibres contribute less.
- The surface potential of a source falls with its distance from the electrode as a
  power function ('Motor unit potential contribution to surface electromyography',
  Roeleveld et al. 1997: linear log-log magnitude-distance relations):
  ``(1 + depth / depth_scale_mm) ** -depth_exponent``; the exponent is assumed.
- All fibres of a unit fire together, so a unit's SMUP is one negative-first biphasic
  waveform (first derivative of a Gaussian) whose negative-peak amplitude is the sum of
  its fibres' contributions. Units differ in latency (axonal conduction), so the CMAP,
  the sum of all SMUP waveforms, has phase cancellation: its negative peak is smaller
  than the sum of the SMUP negative peaks unless all latencies are equal.

Amplitudes are in µV for single units and mV for the CMAP; times in ms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .pool import MotorUnitPool

# Values from the literature (or marked assumed) used to calibrate and check the model.
LITERATURE = {
    "human_APB_MUNIX": (191.0, "count", "Cao et al. 2020 Muscle Nerve doi:10.1002/mus.26837, abstract: 191.0 +/- 43.6 (n=150)"),
    "human_APB_MUSIX_uV": (60.4, "µV", "Cao et al. 2020 (as above): MUSIX 60.4 +/- 12.5 µV"),
    "human_ADM_MUNIX": (179.1, "count", "Cao et al. 2020 (as above): 179.1 +/- 38.8; MUSIX 59.3 +/- 13.7 µV"),
    "human_APB_CMAP_mV": (11.5, "mV", "derived: MUNIX x MUSIX of Cao et al. 2020 (191 x 60.4 µV); not a measured mean"),
    "human_AH_CMAP_mV": (19.6, "mV", "abductor hallucis, MScanFit study, PMC6246791: 19.6 +/- 0.75 mV (SE), MUNE 127 +/- 5"),
    "human_thenar_MPS_MUNE": (219.4, "count", "Muscle Nerve 1995;18:1412-1416 doi:10.1002/mus.880181211: normal 219.4 +/- 80.8; ALS 43.4 +/- 35.9"),
    "human_MPS_units_sampled": (15, "units", "Doherty & Stashuk 1993 Muscle Nerve ('Determinants of mean motor unit size'): 11-20 S-MUAPs, mean 15"),
    "human_TA_mean_SMUP_uV": ((26, 69), "µV", "McNeil et al. 2005 Clin Neurophysiol 116:1342: S-MUP 26-69 from threshold to 40% MVC (DE-STA)"),
    "mouse_hindlimb_CMAP_mV": (None, "mV", "not found in the searched corpus (Arnold et al. 2015 JoVE 52899 gives the protocol); assumed"),
    "mouse_hindlimb_SMUP_uV": (None, "µV", "not found in the searched corpus; assumed"),
    "depth_exponent": (1.5, "-", "assumed: power-law form from Roeleveld et al. 1997; the exponent depends on montage and parameter"),
    "relative_spread": (0.015, "-", "assumed: Brown & Milner-Brown 1976 JNNP 39:249 show firing probability rising 0-100% over a few volts; value not taken from a table"),
}


@dataclass(frozen=True)
class VolumeConductor:
    """Electrode and tissue: how fibres map to µV at the surface.

    sfap_uV: negative-peak contribution of a normal-size fibre (csa 1) at depth 0, µV.
    csa_exponent: single-fibre amplitude ∝ csa ** csa_exponent (1: ∝ cross-section).
    depth_scale_mm, depth_exponent: attenuation (1 + depth / scale) ** -exponent.
    phase_ms: sd of the Gaussian whose derivative is the SMUP waveform (negative to
      positive peak 2 * phase_ms apart), ms. dt_ms, window_ms: the sampling grid.
    """

    sfap_uV: float = 1.0
    csa_exponent: float = 1.0
    depth_scale_mm: float = 1.0
    depth_exponent: float = 1.5
    phase_ms: float = 1.5
    dt_ms: float = 0.05
    window_ms: float = 40.0

    @property
    def t_ms(self) -> np.ndarray:
        return np.arange(0.0, self.window_ms, self.dt_ms)


@dataclass(frozen=True)
class PotentialMeasures:
    """Clinical measures of one evoked waveform."""

    amplitude_mV: float        # negative-peak amplitude (baseline to negative peak)
    peak_to_peak_mV: float
    negative_area_mV_ms: float  # area of the negative phase(s)
    rectified_area_mV_ms: float  # ∫|v| dt
    power_mV2_ms: float        # ∫v² dt


def biphasic(t_ms: np.ndarray, latency_ms, phase_ms: float) -> np.ndarray:
    """Negative-first biphasic waveform with unit peaks: -1 at latency, +1 at latency + 2 phase."""
    u = (np.asarray(t_ms) - np.asarray(latency_ms)[..., None] - phase_ms) / phase_ms
    return u * np.exp((1.0 - u**2) / 2.0)


def fibre_contributions_uV(pool: MotorUnitPool, vc: VolumeConductor) -> np.ndarray:
    """Negative-peak contribution of every innervated fibre at the electrode, µV."""
    size = np.clip(pool.fibre_csa, 0.0, None) ** vc.csa_exponent
    return vc.sfap_uV * size * (1.0 + pool.fibre_depth_mm / vc.depth_scale_mm) ** -vc.depth_exponent


def smup_amplitudes_uV(pool: MotorUnitPool, vc: VolumeConductor) -> np.ndarray:
    """Negative-peak amplitude of each unit's SMUP, µV (sum over its fibres)."""
    return np.bincount(pool.unit_of_fibre, fibre_contributions_uV(pool, vc), minlength=pool.n_units)


def smup_waveforms_uV(pool: MotorUnitPool, vc: VolumeConductor) -> np.ndarray:
    """(n_units, n_t) SMUP waveforms in µV (negative first), on ``vc.t_ms``."""
    return smup_amplitudes_uV(pool, vc)[:, None] * biphasic(vc.t_ms, pool.latency_ms, vc.phase_ms)


def measure(waveform_uV: np.ndarray, dt_ms: float) -> PotentialMeasures:
    """Amplitude, areas and power of a waveform (µV samples at ``dt_ms``), in mV units."""
    v = np.asarray(waveform_uV, float) / 1000.0
    return PotentialMeasures(float(max(-v.min(), 0.0)), float(v.max() - v.min()),
                             float(np.clip(-v, 0, None).sum() * dt_ms), float(np.abs(v).sum() * dt_ms),
                             float((v**2).sum() * dt_ms))


def cmap_waveform_uV(pool: MotorUnitPool, vc: VolumeConductor) -> np.ndarray:
    """Supramaximal CMAP: every unit fires once; the SMUP waveforms sum (µV)."""
    return smup_waveforms_uV(pool, vc).sum(axis=0)


def cmap(pool: MotorUnitPool, vc: VolumeConductor) -> PotentialMeasures:
    """Measures of the supramaximal CMAP (mV, mV·ms, mV²·ms)."""
    return measure(cmap_waveform_uV(pool, vc), vc.dt_ms)


def calibrate(pool: MotorUnitPool, vc: VolumeConductor, cmap_mV: float) -> VolumeConductor:
    """``vc`` with ``sfap_uV`` scaled so that this pool's CMAP negative peak is ``cmap_mV``."""
    current = cmap(pool, vc).amplitude_mV
    return replace(vc, sfap_uV=vc.sfap_uV * cmap_mV / current)
