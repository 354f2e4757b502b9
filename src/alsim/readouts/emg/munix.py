"""MUNIX and MUSIX (Nandedkar et al. 2004 IEEE Trans Biomed Eng 51:2209; 2010 Muscle Nerve 42:798).

Inputs a clinic records: the supramaximal CMAP and surface interference patterns (SIP)
during voluntary contractions of graded strength. For each SIP epoch,

    ICMUC = (CMAP power x SIP area) / (CMAP area x SIP power)

the 'ideal case motor unit count': exactly N if the CMAP were N identical, aligned SMUPs
and the SIP their non-overlapping discharges. Overlap in the SIP and dispersion in the
CMAP make it depend on force, so ICMUC is regressed on SIP area (SIA) as
``ICMUC = A * SIA ** alpha`` (log-log least squares) and MUNIX is its value at
SIA = 20 mV·ms (the fixed reference of standard MUNIX; Li et al. 2016 Med Eng Phys,
doi:10.1016/j.medengphy.2015.11.002). MUSIX = CMAP amplitude / MUNIX (µV).

Voluntary drive (simulation, assumed values): units are recruited in order of size
(size principle: by summed fibre cross-section, a force proxy) with recruitment thresholds spread exponentially up to
``recruit_max`` of maximal excitation; each fires from ``min_rate_hz`` at recruitment
to ``peak_rate_hz`` at full excitation with Gaussian inter-spike intervals (CV
``isi_cv``), each discharge adding the unit's SMUP waveform. CMAP area and power here
are the rectified area and the power of the whole waveform, the same operations as for
the SIP, so that ICMUC = N holds in the ideal case (a simplification of the published
window conventions, which were not available here). Epoch length 300 ms is assumed.

Known behaviour: MUNIX tracks motor unit loss with stable muscle fibre potentials
(Li, Rymer & Zhou 2012 IEEE TNSRE 20:297), but underestimates the count when SMUP
amplitudes shrink without loss (same paper); ALS patients with a stable CMAP show a
falling MUNIX and a rising MUSIX (reinnervation; Nandedkar et al. 2010).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pool import MotorUnitPool
from .potentials import VolumeConductor, biphasic, cmap, measure, smup_amplitudes_uV


@dataclass(frozen=True)
class VoluntaryDrive:
    """Recruitment and rate coding (assumed human-like values)."""

    min_rate_hz: float = 8.0
    peak_rate_hz: float = 35.0
    recruit_min: float = 0.01
    recruit_max: float = 0.7
    isi_cv: float = 0.2
    epoch_ms: float = 300.0


@dataclass(frozen=True)
class MunixResult:
    munix: float               # index of the number of units (not a count)
    musix_uV: float            # CMAP amplitude / MUNIX, µV
    cmap_mV: float             # CMAP negative-peak amplitude, mV
    sia_mV_ms: np.ndarray      # SIP area per epoch
    icmuc: np.ndarray          # ideal case motor unit count per epoch
    alpha: float               # fitted exponent of ICMUC = A * SIA ** alpha
    a: float


def recruitment_thresholds(pool: MotorUnitPool, vc: VolumeConductor, drive: VoluntaryDrive) -> np.ndarray:
    """Excitation (0-1) at which each unit is recruited: smallest (summed fibre csa) first."""
    force = np.bincount(pool.unit_of_fibre, pool.fibre_csa, minlength=pool.n_units)
    rank = np.argsort(np.argsort(force, kind="stable"))
    return drive.recruit_min * (drive.recruit_max / drive.recruit_min) ** (rank / max(pool.n_units - 1, 1))


def surface_interference_uV(pool: MotorUnitPool, vc: VolumeConductor, excitation: float,
                            rng: np.random.Generator, drive: VoluntaryDrive = VoluntaryDrive()) -> np.ndarray:
    """One SIP epoch (µV samples at ``vc.dt_ms``) at ``excitation`` (0-1) of maximal drive."""
    rte = recruitment_thresholds(pool, vc, drive)
    active = np.flatnonzero(excitation >= rte)
    n_t = int(drive.epoch_ms / vc.dt_ms)
    train = np.zeros(n_t)
    if len(active):
        gain = (excitation - rte[active]) / np.maximum(1.0 - rte[active], 1e-9)
        isi = 1000.0 / (drive.min_rate_hz + (drive.peak_rate_hz - drive.min_rate_hz) * gain)
        n_max = int(drive.epoch_ms / isi.min()) + 2
        gaps = isi[:, None] * np.maximum(1.0 + drive.isi_cv * rng.standard_normal((len(active), n_max)), 0.2)
        times = np.cumsum(gaps, axis=1) - rng.uniform(0, 1, (len(active), 1)) * isi[:, None]
        idx = np.round(times / vc.dt_ms).astype(int)
        ok = (idx >= 0) & (idx < n_t)
        amps = np.broadcast_to(smup_amplitudes_uV(pool, vc)[active][:, None], idx.shape)
        np.add.at(train, idx[ok], amps[ok])
    half = 5.0 * vc.phase_ms
    kernel = biphasic(np.arange(0.0, 2 * half + 2 * vc.phase_ms, vc.dt_ms), np.array(half), vc.phase_ms)
    return np.convolve(train, kernel, mode="full")[:n_t]


def munix(pool: MotorUnitPool, vc: VolumeConductor, rng: np.random.Generator,
          excitations=np.linspace(0.1, 1.0, 10), drive: VoluntaryDrive = VoluntaryDrive(),
          sia_ref_mV_ms: float = 20.0) -> MunixResult:
    """MUNIX, MUSIX and the ICMUC-SIA regression from simulated CMAP and SIP epochs."""
    c = cmap(pool, vc)
    sia, icmuc = [], []
    for e in excitations:
        m = measure(surface_interference_uV(pool, vc, float(e), rng, drive), vc.dt_ms)
        if m.power_mV2_ms > 0:
            sia.append(m.rectified_area_mV_ms)
            icmuc.append(c.power_mV2_ms * m.rectified_area_mV_ms / (c.rectified_area_mV_ms * m.power_mV2_ms))
    sia, icmuc = np.asarray(sia), np.asarray(icmuc)
    alpha, log_a = np.polyfit(np.log(sia), np.log(icmuc), 1)
    value = float(np.exp(log_a) * sia_ref_mV_ms**alpha)
    return MunixResult(value, c.amplitude_mV * 1000.0 / value, c.amplitude_mV, sia, icmuc, float(alpha),
                       float(np.exp(log_a)))
