"""CMAP scan and a simplified model fit in the spirit of MScanFit (Bostock 2016).

A CMAP scan is a detailed stimulus-response curve: several hundred shocks from below
the lowest axon threshold to supramaximal, each response a noisy sum of the units that
happened to fire. Where many units share a stimulus range the curve is smooth and its
shock-to-shock scatter is small; where few large units do, it steps and scatters widely.

The fit (simplification, documented): a model of ``N`` equal units, thresholds at the
quantiles of the monotone smoothed curve (so the model's mean curve follows the data),
each with the same known relative threshold spread. Its mean and variance at stimulus
``s`` are ``a * sum_i p_i(s)`` and ``a**2 * sum_i p_i(1 - p_i) + noise**2`` with
``a = CMAP / N``; ``N`` maximises the Gaussian likelihood of the scan. This uses the
slope and the variance of the scan, like MScanFit's first stage (MScan protocol, JoVE 2018;(136):56805, doi:10.3791/56805:
'a preliminary model is generated based on the slope and variance of the points'), but
not its second stage that refines each unit's amplitude, threshold and spread.
Consequences: (1) the variance gives ``a * relative_spread``, so a wrong assumed spread
scales the estimate (N is roughly proportional to the assumed spread); (2) unequal unit
sizes raise the variance by ``1 + cv**2`` for the same mean, so heterogeneous or
reinnervated pools are underestimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from .mune import fire, responses_uV
from .pool import MotorUnitPool
from .potentials import VolumeConductor, smup_waveforms_uV


@dataclass(frozen=True)
class CmapScan:
    """Stimuli (mA, ascending) and response negative-peak amplitudes (µV)."""

    stimuli_mA: np.ndarray
    responses_uV: np.ndarray


@dataclass(frozen=True)
class ScanFit:
    mune: float                  # fitted number of units
    cmap_uV: float               # maximal response (median of the top 5 % of stimuli), µV
    candidates: np.ndarray       # N values tried
    neg_log_likelihood: np.ndarray  # for each candidate


def cmap_scan(pool: MotorUnitPool, vc: VolumeConductor, rng: np.random.Generator,
              n_stimuli: int = 500, noise_uV: float = 5.0) -> CmapScan:
    """Record a scan: ``n_stimuli`` shocks log-spaced from below threshold to supramaximal."""
    lo = pool.threshold_mA.min() * (1 - 5 * pool.relative_spread)
    hi = pool.threshold_mA.max() * (1 + 5 * pool.relative_spread) * 1.05
    stimuli = np.geomspace(lo, hi, n_stimuli)
    fired = fire(pool.threshold_mA, pool.relative_spread, stimuli, rng)
    return CmapScan(stimuli, responses_uV(fired, smup_waveforms_uV(pool, vc), noise_uV, rng))


def _smooth_fraction(responses: np.ndarray, cmap_uV: float, window: int) -> np.ndarray:
    """Monotone, running-mean smoothed response as a fraction of the CMAP."""
    kernel = np.ones(window) / window
    padded = np.pad(responses, window // 2, mode="edge")
    smooth = np.convolve(padded, kernel, mode="valid")[: len(responses)]
    return np.clip(np.maximum.accumulate(smooth / cmap_uV), 0.0, 1.0)


def _nll(n: int, s: np.ndarray, r: np.ndarray, frac: np.ndarray, cmap_uV: float,
         relative_spread: float, noise_uV: float) -> float:
    ramp = frac + np.linspace(0.0, 1e-9, len(frac))        # strictly increasing for interp
    theta = np.interp((np.arange(n) + 0.5) / n, ramp, s)
    p = ndtr((s[:, None] - theta[None, :]) / (relative_spread * theta[None, :]))
    a = cmap_uV / n
    mean = a * p.sum(axis=1)
    var = a**2 * (p * (1 - p)).sum(axis=1) + noise_uV**2
    return float(0.5 * np.sum((r - mean) ** 2 / var + np.log(var)))


def scan_fit_mune(scan: CmapScan, relative_spread: float = 0.015, noise_uV: float = 5.0,
                  n_max: int = 2000, window: int = 9) -> ScanFit:
    """Fit the number of equal units to a CMAP scan by maximum likelihood (see module doc)."""
    order = np.argsort(scan.stimuli_mA)
    s, r = scan.stimuli_mA[order], scan.responses_uV[order]
    cmap_uV = float(np.median(r[-max(3, len(r) // 20):]))
    frac = _smooth_fraction(r, cmap_uV, window)
    coarse = np.unique(np.round(np.geomspace(1, n_max, 48)).astype(int))
    nll = [_nll(n, s, r, frac, cmap_uV, relative_spread, noise_uV) for n in coarse]
    best = coarse[int(np.argmin(nll))]
    fine = np.unique(np.round(np.linspace(best / 1.15, best * 1.15, 15)).astype(int))
    fine = fine[fine >= 1]
    nll_fine = [_nll(n, s, r, frac, cmap_uV, relative_spread, noise_uV) for n in fine]
    cand = np.concatenate([coarse, fine])
    vals = np.concatenate([nll, nll_fine])
    return ScanFit(float(cand[int(np.argmin(vals))]), cmap_uV, cand, vals)
