"""Motor unit number estimation (MUNE) from evoked responses, with the methods' biases.

All three estimators see only what a clinic records (stimulus intensities and response
amplitudes), never the pool's true count. Responses are the negative-peak amplitude
(µV) of the summed waveform of the units that fired, plus Gaussian measurement noise.
A unit fires when the stimulus exceeds its threshold, which fluctuates from shock to
shock with sd ``relative_spread * threshold`` (Brown & Milner-Brown 1976 JNNP 39:249).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels import incremental_levels, multipoint_samples
from .pool import MotorUnitPool
from .potentials import VolumeConductor, cmap, smup_amplitudes_uV, smup_waveforms_uV


@dataclass(frozen=True)
class MuneResult:
    """An estimate and the quantities it was computed from."""

    mune: float                  # estimated number of motor units
    mean_smup_uV: float          # estimated mean single-unit amplitude, µV
    cmap_uV: float               # CMAP negative-peak amplitude used, µV
    samples_uV: np.ndarray       # increments / sampled SMUP sizes, µV
    true_units_sampled: int      # distinct real units behind the samples (diagnostic only)


def fire(thresholds_mA: np.ndarray, relative_spread: float, stimuli_mA: np.ndarray,
         rng: np.random.Generator) -> np.ndarray:
    """(n_stimuli, n_units) bool: which axons fire at each shock (threshold noise)."""
    noise = 1.0 + relative_spread * rng.standard_normal((len(stimuli_mA), len(thresholds_mA)))
    return np.asarray(stimuli_mA)[:, None] >= thresholds_mA[None, :] * noise


def responses_uV(fired: np.ndarray, waveforms_uV: np.ndarray, noise_uV: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Negative-peak amplitude (µV) of the summed response to each shock, with noise."""
    summed = fired.astype(float) @ waveforms_uV
    return np.maximum(-summed.min(axis=1), 0.0) + noise_uV * rng.standard_normal(len(fired))


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
    return incremental_of_units(pool.threshold_mA, pool.relative_spread, smup_waveforms_uV(pool, vc),
                                cmap(pool, vc).amplitude_mV * 1000.0, rng, n_increments, step, repeats, noise_uV,
                                min_step_uV)


def incremental_of_units(thresholds_mA: np.ndarray, relative_spread: float, waveforms_uV: np.ndarray, cmap_uV: float,
                         rng: np.random.Generator, n_increments: int = 10, step: float = 0.002, repeats: int = 3,
                         noise_uV: float = 5.0, min_step_uV: float | None = None) -> MuneResult:
    """:func:`incremental_mune` from each unit's threshold (mA) and SMUP waveform (µV) and the CMAP (µV)."""
    min_step = 5.0 * noise_uV if min_step_uV is None else min_step_uV
    order = np.sort(thresholds_mA)
    top = order[min(3 * n_increments, len(order) - 1)] * (1 + 5 * relative_spread)
    start = order[0] * (1 - 5 * relative_spread)
    ladder = np.repeat(start * (1 + step) ** np.arange(int(np.log(top / start) / np.log1p(step)) + 2), repeats)
    levels, units = incremental_levels(rng, np.asarray(thresholds_mA, float), relative_spread, ladder,
                                       np.ascontiguousarray(waveforms_uV, dtype=float), noise_uV, min_step, n_increments)
    mean = levels[-1] / len(levels)          # IndexError without a level: no estimate
    return MuneResult(cmap_uV / mean, mean, cmap_uV, np.diff(np.r_[0.0, levels]), int(units.sum()))


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
    return multipoint_of_units(pool.threshold_mA, smup_amplitudes_uV(pool, vc), pool.relative_spread,
                               cmap(pool, vc).amplitude_mV * 1000.0, rng, n_sites, site_sd, units_per_site,
                               noise_uV, separation)


def multipoint_of_units(thresholds_mA: np.ndarray, amplitudes_uV: np.ndarray, relative_spread: float,
                        cmap_uV: float, rng: np.random.Generator, n_sites: int = 15, site_sd: float = 0.3,
                        units_per_site: int = 1, noise_uV: float = 5.0, separation: float = 3.0) -> MuneResult:
    """:func:`multipoint_mune` from each unit's threshold (mA) and SMUP amplitude (µV) and the CMAP (µV)."""
    samples, seen = multipoint_samples(rng, np.asarray(thresholds_mA, float), np.asarray(amplitudes_uV, float),
                                       relative_spread, n_sites, site_sd, units_per_site, noise_uV, separation)
    if not len(samples):                   # every point rejected: no estimate
        return MuneResult(float("nan"), float("nan"), cmap_uV, np.empty(0), 0)
    mean = float(np.mean(samples))
    return MuneResult(cmap_uV / mean, mean, cmap_uV, samples, int(seen.sum()))
