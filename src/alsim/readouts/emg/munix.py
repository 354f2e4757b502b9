"""MUNIX and MUSIX (Nandedkar et al. 2004 IEEE Trans Biomed Eng 51:2209; 2010 Muscle Nerve 42:798).

Inputs a clinic records: the supramaximal CMAP and surface interference patterns (SIP)
during voluntary contractions from slight to maximal force. For each SIP epoch,

    ICMUC = (CMAP power x SIP area) / (CMAP area x SIP power)

the 'ideal case motor unit count': exactly N if the CMAP were N identical, aligned SMUPs
and the SIP their non-overlapping discharges. Without overlap, ICMUC is the CMAP over the
amplitude-weighted mean SMUP of the units active in the epoch (sum a^2 / sum a): units
that vary independently of their recruitment order (here: depth) bias it low by about
1 / (1 + CV^2); small units recruited first raise it at slight force. Overlap cancels SIP
area but not power, so ICMUC falls with force; when the SIP is dense, ICMUC x SIA tends to
a constant set by the CMAP alone and the count is lost (Bostock et al. 2019 Clin
Neurophysiol 130:1734). ICMUC is regressed on SIP area (SIA) as ``ICMUC = A * SIA ** alpha``
(log-log least squares) and MUNIX is its value at SIA = 20 mV·ms (standard MUNIX; Li et al.
2016 Med Eng Phys, doi:10.1016/j.medengphy.2015.11.002). Because the reference area is
fixed, MUNIX at a given count rises and falls with SMUP amplitude (smaller SMUPs: 20 mV·ms
is reached at a denser SIP, lower ICMUC; Li et al. 2016). MUSIX = CMAP amplitude / MUNIX (µV).

Voluntary contraction (simulation; values assumed unless cited): each unit has a fixed
recruitment threshold (fraction of maximal excitation). With ``pool.recruitment`` set
(simulated runs: by the unit's original size, i.e. its motor neuron, kept for life, so a
small low-threshold unit that has adopted fibres by sprouting is still recruited early),
otherwise by the unit's current size (size principle). Thresholds are spread
exponentially (Fuglevand et al. 1993 J Neurophysiol 70:2470 pool model). Each active unit
fires from ``min_rate_hz`` at recruitment to ``peak_rate_hz`` at full excitation with
Gaussian inter-spike intervals, each discharge adding its SMUP. The SIP epochs are
recorded at ``force_levels``: fractions of the muscle's *current* maximal voluntary force
(what the patient can do on that day), reached by solving for the excitation; unit force
is its fibre cross-section times rate / peak rate. Twenty epochs of 500 ms from slight to
maximal force follow the recording guidelines (Nandedkar et al. 2018 Muscle Nerve 58:374).
Each unit's train starts at a random phase and draws intervals until it leaves the epoch.
CMAP area and power are the rectified area and the power of the whole waveform, the same
operations as for the SIP, so that ICMUC = N holds in the ideal case (the published
window conventions were not available here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels
from .pool import MotorUnitPool
from .potentials import PotentialMeasures, VolumeConductor, biphasic, cmap, smup_amplitudes_uV

FORCE_LEVELS = tuple(float(f) for f in np.geomspace(0.02, 1.0, 20))
"""Target forces of the SIP epochs, fraction of current maximal force: 20 levels, 2 % to 100 %, spaced
geometrically so that slight contractions are sampled as densely as strong ones (levels **assumed**;
'twenty or more ... from slight to maximum', Nandedkar et al. 2018)."""


@dataclass(frozen=True)
class VoluntaryDrive:
    """Recruitment, rate coding and SIP epochs (human-like values, **assumed** unless cited).

    min_rate_hz, peak_rate_hz: discharge rate at recruitment and at full excitation, Hz.
    recruit_min, recruit_max: excitation (0-1) of the first and the last recruited unit.
    isi_cv: coefficient of variation of inter-spike intervals.
    epoch_ms: SIP epoch length, ms (500 ms: Nandedkar et al. 2018 guidelines).
    force_levels: target forces of the epochs, fractions of the current maximal force.
    """

    min_rate_hz: float = 8.0
    peak_rate_hz: float = 35.0
    recruit_min: float = 0.01
    recruit_max: float = 0.7
    isi_cv: float = 0.2
    epoch_ms: float = 500.0
    force_levels: tuple[float, ...] = FORCE_LEVELS


@dataclass(frozen=True)
class MunixResult:
    munix: float               # index of the number of units (not a count)
    musix_uV: float            # CMAP amplitude / MUNIX, µV
    cmap_mV: float             # CMAP negative-peak amplitude, mV
    sia_mV_ms: np.ndarray      # SIP area per epoch
    icmuc: np.ndarray          # ideal case motor unit count per epoch
    alpha: float               # fitted exponent of ICMUC = A * SIA ** alpha
    a: float


def size_principle_thresholds(size: np.ndarray, drive: VoluntaryDrive = VoluntaryDrive()) -> np.ndarray:
    """Recruitment excitation (0-1) of units of the given sizes: smallest first, exponentially spread."""
    size = np.asarray(size)
    rank = np.argsort(np.argsort(size, kind="stable"), kind="stable")
    return drive.recruit_min * (drive.recruit_max / drive.recruit_min) ** (rank / max(len(size) - 1, 1))


def recruitment_thresholds(pool: MotorUnitPool, drive: VoluntaryDrive = VoluntaryDrive()) -> np.ndarray:
    """Each unit's recruitment excitation: ``pool.recruitment`` if set, else by current summed fibre csa."""
    if pool.recruitment is not None:
        return np.asarray(pool.recruitment, float)
    return size_principle_thresholds(np.bincount(pool.unit_of_fibre, pool.fibre_csa, minlength=pool.n_units), drive)


def firing_rates_hz(rte: np.ndarray, excitation, drive: VoluntaryDrive) -> np.ndarray:
    """Discharge rate (Hz) of each unit at ``excitation`` (scalar, or a column for several); 0 if not recruited."""
    gain = (excitation - rte) / np.maximum(1.0 - rte, 1e-9)
    rate = drive.min_rate_hz + (drive.peak_rate_hz - drive.min_rate_hz) * gain
    return np.where(excitation >= rte, rate, 0.0)


FORCE_GRID = np.linspace(0.0, 1.0, 201)
"""Excitations (0-1) at which the pool's force is tabulated to find the excitation of each force level."""


def excitations_for_forces(force_proxy: np.ndarray, rte: np.ndarray, levels, drive: VoluntaryDrive) -> np.ndarray:
    """Excitation (0-1) at which the pool's force (sum of size x rate / peak) is each fraction in ``levels``."""
    return kernels.excitations_for_forces(np.asarray(force_proxy, float), np.asarray(rte, float),
                                          np.asarray(levels, float), FORCE_GRID, drive.min_rate_hz, drive.peak_rate_hz)


def sip_step_ms(vc: VolumeConductor) -> float:
    """Sampling step of the SIP, ms: the conductor's, or a fifth of the SMUP phase if coarser (a
    discharge's rectified area is then within 0.2 % and its power exact to 5 digits)."""
    return max(vc.dt_ms, vc.phase_ms / 5.0)


def discharge_train_uV(pool: MotorUnitPool, vc: VolumeConductor, excitation: float, rng: np.random.Generator,
                       drive: VoluntaryDrive = VoluntaryDrive()) -> np.ndarray:
    """One epoch of discharges at ``excitation``: each unit's SMUP amplitude (µV) at its firing samples."""
    rates = firing_rates_hz(recruitment_thresholds(pool, drive), excitation, drive)
    dt = sip_step_ms(vc)
    return kernels.discharge_train(rng, np.asarray(rates, float), smup_amplitudes_uV(pool, vc), dt,
                                   int(drive.epoch_ms / dt), drive.isi_cv)


def _smup_shape(vc: VolumeConductor) -> np.ndarray:
    """The SMUP waveform with unit negative peak, sampled every :func:`sip_step_ms`."""
    dt, half = sip_step_ms(vc), 5.0 * vc.phase_ms
    return biphasic(np.arange(0.0, 2 * half + 2 * vc.phase_ms, dt), np.array(half), vc.phase_ms)


def surface_interference_uV(pool: MotorUnitPool, vc: VolumeConductor, excitation: float,
                            rng: np.random.Generator, drive: VoluntaryDrive = VoluntaryDrive()) -> np.ndarray:
    """One SIP epoch (µV samples every :func:`sip_step_ms`) at ``excitation`` (0-1) of maximal drive."""
    train = discharge_train_uV(pool, vc, excitation, rng, drive)
    return np.convolve(train, _smup_shape(vc))[:len(train)]


def munix(pool: MotorUnitPool, vc: VolumeConductor, rng: np.random.Generator, force_levels=None,
          drive: VoluntaryDrive = VoluntaryDrive(), sia_ref_mV_ms: float = 20.0,
          excitations=None) -> MunixResult:
    """MUNIX, MUSIX and the ICMUC-SIA regression from simulated CMAP and SIP epochs.

    Epochs are recorded at ``force_levels`` (fractions of the pool's current maximal force;
    default ``drive.force_levels``), or at explicit ``excitations`` (0-1) when given.
    """
    force_proxy = np.bincount(pool.unit_of_fibre, pool.fibre_csa, minlength=pool.n_units)
    return munix_of_units(cmap(pool, vc), smup_amplitudes_uV(pool, vc), recruitment_thresholds(pool, drive),
                          force_proxy, vc, rng, force_levels, drive, sia_ref_mV_ms, excitations)


def munix_of_units(c: PotentialMeasures, amplitudes_uV: np.ndarray, rte: np.ndarray, force_proxy: np.ndarray,
                   vc: VolumeConductor, rng: np.random.Generator, force_levels=None,
                   drive: VoluntaryDrive = VoluntaryDrive(), sia_ref_mV_ms: float = 20.0,
                   excitations=None) -> MunixResult:
    """:func:`munix` from what it needs of the pool: the CMAP measures, each unit's SMUP amplitude (µV),
    recruitment threshold (0-1) and force proxy (summed fibre cross-section)."""
    if excitations is None:
        levels = np.asarray(drive.force_levels if force_levels is None else force_levels, float)
        excitations = excitations_for_forces(force_proxy, rte, levels, drive)
    dt = sip_step_ms(vc)
    sia, power = kernels.sip_epochs(rng, np.asarray(rte, float), np.asarray(amplitudes_uV, float),
                            np.asarray(excitations, float), _smup_shape(vc), dt, int(drive.epoch_ms / dt),
                            drive.isi_cv, drive.min_rate_hz, drive.peak_rate_hz)
    ok = power > 0
    sia = sia[ok]
    if len(np.unique(sia)) < 2:
        raise ValueError("MUNIX needs SIP epochs of at least two different areas")
    icmuc = c.power_mV2_ms * sia / (c.rectified_area_mV_ms * power[ok])
    alpha, log_a = kernels.line_fit(np.log(sia), np.log(icmuc))
    value = float(np.exp(log_a) * sia_ref_mV_ms**alpha)
    return MunixResult(value, c.amplitude_mV * 1000.0 / value, c.amplitude_mV, sia, icmuc, float(alpha),
                       float(np.exp(log_a)))
