"""The EMG estimators as they were before they were compiled (alsim 0.x, commit bba6cd8): the oracle.

One change since: the MUNIX discharge trains draw each unit's intervals until its train
leaves the epoch (the compiled code and this oracle alike, 2026-12-07), instead of a fixed
number set by the fastest unit that sometimes fell short of the epoch's end.

tests/test_emg_readouts.py and tests/test_electrophysiology.py compare the compiled
estimators (:mod:`alsim.readouts.emg.kernels`) with these NumPy loops: the same random
draws, the same law. The SIP was convolved by FFT here and directly over the discharges
now, and the multipoint site thresholds used NumPy's ``exp``, so float64 values may differ
in their last bits; the results Dataset (float32) is checked to be the same.
Not part of the package: reference only.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.fft import next_fast_len

from alsim.biology.motor_units import Layout
from alsim.engine.streams import emg_generator
from alsim.readouts.emg.mune import MuneResult, fire, responses_uV
from alsim.readouts.emg.munix import (MunixResult, VoluntaryDrive, _smup_shape, excitations_for_forces,
                                      firing_rates_hz, recruitment_thresholds, sip_step_ms)
from alsim.readouts.emg.pool import MotorUnitPool
from alsim.readouts.emg.potentials import VolumeConductor, cmap, smup_amplitudes_uV, smup_waveforms_uV
from alsim.readouts.emg.simulated import (DEFAULT_MUNE_METHOD, MOUSE, MUNE_STREAM, MUNIX_STREAM, RecordingSetup, estimate_mune,
                                          recordable_pool, unit_properties, unit_recruitment)


def incremental_mune(pool: MotorUnitPool, vc: VolumeConductor, rng: np.random.Generator,
                     n_increments: int = 10, step: float = 0.002, repeats: int = 3,
                     noise_uV: float = 5.0, min_step_uV: float | None = None) -> MuneResult:
    """McComas et al. (1971) incremental stimulation.

    The stimulus rises in steps of ``step`` (relative) with ``repeats`` shocks each; every
    response exceeding the highest level so far by ``min_step_uV`` (default 5 x noise) is
    taken as one more unit. After ``n_increments`` levels, mean SMUP = top level /
    n_increments and MUNE = CMAP / mean SMUP. Alternation: when thresholds overlap, units
    fire alone or together in different combinations, so several levels come from fewer
    units, the mean increment is too small and MUNE is too large (Brown & Milner-Brown 1976:
    units isolated otherwise were > 2x the mean incremental step; Milner-Brown & Brown 1976
    JNNP 39:258: earlier estimates 'erroneously high').
    """
    min_step = 5.0 * noise_uV if min_step_uV is None else min_step_uV
    order = np.sort(pool.threshold_mA)
    top = order[min(3 * n_increments, pool.n_units - 1)] * (1 + 5 * pool.relative_spread)
    start = order[0] * (1 - 5 * pool.relative_spread)
    ladder = np.repeat(start * (1 + step) ** np.arange(int(np.log(top / start) / np.log1p(step)) + 2), repeats)
    fired = fire(pool.threshold_mA, pool.relative_spread, ladder, rng)
    amps = responses_uV(fired, smup_waveforms_uV(pool, vc), noise_uV, rng)
    levels, units = [], np.zeros(pool.n_units, bool)
    for a, f in zip(amps, fired):
        if a > (levels[-1] if levels else 0.0) + min_step:
            levels.append(a)
            units |= f
            if len(levels) == n_increments:
                break
    mean = levels[-1] / len(levels)
    amp = cmap(pool, vc).amplitude_mV * 1000.0
    return MuneResult(amp / mean, mean, amp, np.diff(np.r_[0.0, levels]), int(units.sum()))


def multipoint_mune(pool: MotorUnitPool, vc: VolumeConductor, rng: np.random.Generator,
                    n_sites: int = 15, site_sd: float = 0.3, units_per_site: int = 1,
                    noise_uV: float = 5.0, separation: float = 3.0) -> MuneResult:
    """Multiple point stimulation (Doherty & Brown; Brown & Milner-Brown 1976).

    At each stimulation point along the nerve an axon's threshold is its pool threshold
    times a site factor ``exp(site_sd * z)``, so different units are the most excitable at
    different points. The lowest-threshold unit(s) at a point are recorded as all-or-none
    SMUPs; a point is rejected when the next unit's threshold is within ``separation``
    threshold-sds (alternation) and, with one unit per point, a unit already sampled is
    rejected (same morphology; the multipoint incremental variant tolerates repeats).
    ``units_per_site`` > 1 gives the multipoint incremental variant (first k increments).
    MUNE = CMAP / mean sampled SMUP. Bias: the sample is the most excitable units; if
    excitability goes with unit size (large axons, large units), MUNE is too low.
    """
    amps = smup_amplitudes_uV(pool, vc)
    seen, samples = np.zeros(pool.n_units, bool), []
    for _ in range(20 * n_sites):
        site = pool.threshold_mA * np.exp(site_sd * rng.standard_normal(pool.n_units))
        order = np.argsort(site)[: units_per_site + 1]
        gaps = np.diff(site[order]) / (pool.relative_spread * site[order[:-1]])
        first = order[:units_per_site]
        if np.any(gaps < separation) or (units_per_site == 1 and seen[first].any()):
            continue
        seen[first] = True
        samples.extend(amps[first] + noise_uV * rng.standard_normal(units_per_site))
        if len(samples) >= n_sites * units_per_site or (units_per_site == 1 and seen.all()):
            break                          # enough samples, or no unit left to find (small pools)
    if not samples:                        # every point rejected: no estimate
        return MuneResult(float("nan"), float("nan"), cmap(pool, vc).amplitude_mV * 1000.0, np.empty(0), 0)
    mean = float(np.mean(samples))
    amp = cmap(pool, vc).amplitude_mV * 1000.0
    return MuneResult(amp / mean, mean, amp, np.asarray(samples), int(seen.sum()))


def _train(rates: np.ndarray, amps_uV: np.ndarray, dt: float, rng: np.random.Generator,
           drive: VoluntaryDrive) -> np.ndarray:
    """Discharge train of units firing at ``rates`` (Hz; 0: silent): each active unit in turn draws a
    random phase, then Gaussian ISIs one at a time until its train leaves the epoch."""
    n_t = int(drive.epoch_ms / dt)
    train = np.zeros(n_t)
    for unit in np.flatnonzero(rates > 0):
        isi = 1000.0 / rates[unit]
        t = -rng.uniform(0.0, 1.0) * isi
        while True:
            t += isi * max(1.0 + drive.isi_cv * rng.standard_normal(), 0.2)
            index = int(np.rint(t / dt))
            if index >= n_t:
                break
            if index >= 0:
                train[index] += amps_uV[unit]
    return train


def _convolve_rows(rows: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Each row convolved with ``kernel``, truncated to the row length (one real FFT for all rows)."""
    n = next_fast_len(rows.shape[1] + len(kernel) - 1, real=True)
    out = np.fft.irfft(np.fft.rfft(rows, n, axis=1) * np.fft.rfft(kernel, n), n, axis=1)
    return out[:, :rows.shape[1]]


def munix(pool: MotorUnitPool, vc: VolumeConductor, rng: np.random.Generator, force_levels=None,
          drive: VoluntaryDrive = VoluntaryDrive(), sia_ref_mV_ms: float = 20.0,
          excitations=None) -> MunixResult:
    """MUNIX, MUSIX and the ICMUC-SIA regression from simulated CMAP and SIP epochs.

    Epochs are recorded at ``force_levels`` (fractions of the pool's current maximal force;
    default ``drive.force_levels``), or at explicit ``excitations`` (0-1) when given.
    """
    c = cmap(pool, vc)
    rte = recruitment_thresholds(pool, drive)
    if excitations is None:
        force_proxy = np.bincount(pool.unit_of_fibre, pool.fibre_csa, minlength=pool.n_units)
        levels = drive.force_levels if force_levels is None else force_levels
        excitations = excitations_for_forces(force_proxy, rte, levels, drive)
    amps, dt = smup_amplitudes_uV(pool, vc), sip_step_ms(vc)
    n_t = int(drive.epoch_ms / dt)
    trains = np.empty((len(excitations), n_t))
    for row, e in zip(trains, excitations):
        row[:] = _train(firing_rates_hz(rte, float(e), drive), amps, dt, rng, drive)
    sip = _convolve_rows(trains, _smup_shape(vc)) / 1000.0
    sia, power = np.abs(sip).sum(axis=1) * dt, (sip**2).sum(axis=1) * dt      # mV·ms, mV²·ms
    ok = power > 0
    sia = sia[ok]
    if len(np.unique(sia)) < 2:
        raise ValueError("MUNIX needs SIP epochs of at least two different areas")
    icmuc = c.power_mV2_ms * sia / (c.rectified_area_mV_ms * power[ok])
    alpha, log_a = np.polyfit(np.log(sia), np.log(icmuc), 1)
    value = float(np.exp(log_a) * sia_ref_mV_ms**alpha)
    return MunixResult(value, c.amplitude_mV * 1000.0 / value, c.amplitude_mV, sia, icmuc, float(alpha),
                       float(np.exp(log_a)))


def estimate_munix(pool: MotorUnitPool, vc: VolumeConductor, rng: np.random.Generator) -> tuple[float, float]:
    """(MUNIX, MUSIX µV) of ``pool``; (0, NaN) without units, NaN when the regression fails."""
    if pool.n_units == 0:
        return 0.0, float("nan")
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = munix(pool, vc, rng)
    except (ValueError, TypeError, FloatingPointError, np.linalg.LinAlgError):
        return float("nan"), float("nan")
    if not (np.isfinite(r.munix) and r.munix > 0):
        return float("nan"), float("nan")
    return float(r.munix), float(r.musix_uV)


def subject_recordings_reference(seed: int, subject: int, unit_size: np.ndarray, unit_axon_intact: np.ndarray,
                       snapshot_day: np.ndarray, layout: Layout, conductors: list[VolumeConductor],
                       method: str = DEFAULT_MUNE_METHOD, until_day: float = np.inf,
                       setup: RecordingSetup = MOUSE) -> dict[str, np.ndarray]:
    """One subject's recordings, each (muscles, snapshots); ages after ``until_day`` are skipped (NaN).

    ``unit_size`` and ``unit_axon_intact`` are the subject's (snapshots, U) census snapshots.
    Keys: ``cmap_mV``, ``mune``, ``munix``, ``musix``.
    """
    n_m, n_k = layout.n_muscles, len(snapshot_day)
    out = {name: np.full((n_m, n_k), np.nan) for name in ("cmap_mV", "mune", "munix", "musix")}
    props = unit_properties(seed, subject, layout.n_units, setup)
    recruitment = unit_recruitment(layout)
    for m in range(n_m):
        units = slice(int(layout.unit_start[m]), int(layout.unit_start[m + 1]))
        vc = conductors[m]
        for k, day in enumerate(snapshot_day):
            if day > until_day and k > 0:
                break
            pool = recordable_pool(unit_size[k], unit_axon_intact[k], props, units, setup, recruitment)
            out["cmap_mV"][m, k] = cmap(pool, vc).amplitude_mV if pool.n_units else 0.0
            mune_rng, munix_rng = (emg_generator(seed, subject, m, day, key) for key in (MUNE_STREAM, MUNIX_STREAM))
            out["mune"][m, k] = _mune(pool, vc, mune_rng, method, setup)
            out["munix"][m, k], out["musix"][m, k] = estimate_munix(pool, vc, munix_rng)
    return out


def _mune(pool, vc, rng, method, setup) -> float:
    """The old MUNE of a recording (0 without units, NaN without an estimate); the scan is today's."""
    if method == "scan":
        return estimate_mune(pool, vc, rng, method, setup)
    if pool.n_units == 0:
        return 0.0
    estimator = multipoint_mune if method == "multipoint" else incremental_mune
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = estimator(pool, vc, rng, noise_uV=setup.noise_uV).mune
    except (IndexError, FloatingPointError, ZeroDivisionError):
        return float("nan")
    return float(value) if np.isfinite(value) else float("nan")
