"""Compiled inner loops of the EMG estimators (Numba).

Each kernel replaces a NumPy loop of :mod:`alsim.readouts.emg.mune` or
:mod:`alsim.readouts.emg.munix` and draws its noise from the recording's own
:class:`numpy.random.Generator`, passed in: Numba's generator methods consume the bit
stream exactly as NumPy's do (``standard_normal``, ``uniform``), so a recording gets the
same random numbers as before. The arithmetic is the same operations in the same order
as the NumPy code, with two exceptions that change only the last bits of float64 values
(docs/performance.md, *Readouts*): the surface interference pattern is convolved
directly over its discharges instead of by FFT, and the site thresholds of multipoint
MUNE use LLVM's ``exp`` (NumPy's SIMD ``exp`` differs from it by one ulp in ~5 % of
arguments). The oracle that pins both is tests/emg_reference.py.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def waveform_sum(amplitudes: np.ndarray, shapes: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Sum over ``units`` of ``amplitudes[u] * shapes[u]`` (µV), rows added in order, as
    ``(amplitudes[:, None] * shapes).sum(axis=0)`` does: the CMAP waveform of those units."""
    out = np.zeros(shapes.shape[1])
    for u in units:
        a = amplitudes[u]
        for t in range(shapes.shape[1]):
            out[t] += a * shapes[u, t]
    return out


@njit(cache=True, error_model="numpy")
def repeated_sums(counts: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``value[u]`` added ``counts[u]`` times from 0, as ``np.bincount`` sums a unit's equal
    fibre contributions (µV): the SMUP amplitude of units whose fibres are alike."""
    out = np.zeros(len(counts))
    for u in range(len(counts)):
        acc = 0.0
        for _ in range(counts[u]):
            acc += value[u]
        out[u] = acc
    return out


@njit(cache=True, error_model="numpy")
def _lowest(site: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` smallest values of ``site``, ascending (partial insertion sort)."""
    best = np.empty(k, np.int64)
    n_best = 0
    for i in range(len(site)):
        v = site[i]
        if n_best == k and v >= site[best[k - 1]]:
            continue
        j = n_best if n_best < k else k - 1
        while j > 0 and site[best[j - 1]] > v:
            best[j] = best[j - 1]
            j -= 1
        best[j] = i
        if n_best < k:
            n_best += 1
    return best[:n_best]


@njit(cache=True, error_model="numpy")
def multipoint_samples(rng, thresholds_mA: np.ndarray, amplitudes_uV: np.ndarray, relative_spread: float,
                       n_sites: int, site_sd: float, units_per_site: int, noise_uV: float,
                       separation: float) -> tuple:
    """The SMUP samples (µV) of multiple point stimulation and the units they came from.

    The loop of :func:`alsim.readouts.emg.mune.multipoint_mune`: at each of at most
    ``20 * n_sites`` points every axon's threshold is scaled by ``exp(site_sd * z)``; the
    point is kept when its ``units_per_site`` lowest thresholds are separated from the next
    by ``separation`` threshold-sds (and, with one unit a point, the unit is new).
    Returns (samples, seen) with ``seen`` (n_units,) bool.
    """
    n = len(thresholds_mA)
    seen = np.zeros(n, np.bool_)
    samples = np.empty(n_sites * units_per_site + units_per_site)
    n_samples = 0
    n_seen = 0
    for _ in range(20 * n_sites):
        z = rng.standard_normal(n)
        site = np.empty(n)
        for i in range(n):
            site[i] = thresholds_mA[i] * np.exp(site_sd * z[i])
        order = _lowest(site, units_per_site + 1)
        rejected = False
        for i in range(len(order) - 1):
            gap = (site[order[i + 1]] - site[order[i]]) / (relative_spread * site[order[i]])
            if gap < separation:
                rejected = True
        first = order[:units_per_site]
        if units_per_site == 1:
            for u in first:
                if seen[u]:
                    rejected = True
        if rejected:
            continue
        for u in first:
            if not seen[u]:
                n_seen += 1
            seen[u] = True
        noise = rng.standard_normal(units_per_site)
        for i in range(len(first)):
            samples[n_samples] = amplitudes_uV[first[i]] + noise_uV * noise[i]
            n_samples += 1
        if n_samples >= n_sites * units_per_site or (units_per_site == 1 and n_seen == n):
            break
    return samples[:n_samples], seen


@njit(cache=True, error_model="numpy")
def firing_rates(rte: np.ndarray, excitation: float, min_rate_hz: float, peak_rate_hz: float) -> np.ndarray:
    """Discharge rate (Hz) of each unit at ``excitation`` (0 if not recruited), as
    :func:`alsim.readouts.emg.munix.firing_rates_hz`."""
    out = np.zeros(len(rte))
    for u in range(len(rte)):
        if excitation >= rte[u]:
            gain = (excitation - rte[u]) / max(1.0 - rte[u], 1e-9)
            out[u] = min_rate_hz + (peak_rate_hz - min_rate_hz) * gain
    return out


@njit(cache=True, error_model="numpy")
def discharge_train(rng, rates_hz: np.ndarray, amplitudes_uV: np.ndarray, dt_ms: float, n_t: int,
                    epoch_ms: float, isi_cv: float) -> np.ndarray:
    """One epoch's discharges: each active unit's SMUP amplitude (µV) added at its firing samples.

    Inter-spike intervals are Gaussian (sd ``isi_cv`` x mean, floored at 0.2 x mean) from a
    random phase; the draws are those of :func:`alsim.readouts.emg.munix._train`
    (``standard_normal((active, n_max))`` then ``uniform(0, 1, (active, 1))``).
    """
    train = np.zeros(n_t)
    active = np.flatnonzero(rates_hz > 0)
    n_active = len(active)
    if n_active == 0:
        return train
    isi = 1000.0 / rates_hz[active]
    n_max = int(epoch_ms / isi.min()) + 2
    z = rng.standard_normal((n_active, n_max))
    phase = rng.uniform(0.0, 1.0, (n_active, 1))
    for a in range(n_active):
        shift = phase[a, 0] * isi[a]
        t = 0.0
        for j in range(n_max):
            t += isi[a] * max(1.0 + isi_cv * z[a, j], 0.2)
            index = int(np.rint((t - shift) / dt_ms))
            if 0 <= index < n_t:
                train[index] += amplitudes_uV[active[a]]
    return train


@njit(cache=True, error_model="numpy")
def sip_area_power(train: np.ndarray, shape: np.ndarray, dt_ms: float) -> tuple:
    """Rectified area (mV·ms) and power (mV²·ms) of the SIP: ``train`` (µV at each discharge
    sample) convolved with the unit-peak SMUP ``shape`` and cut to the epoch, in mV."""
    n_t = len(train)
    sip = np.zeros(n_t)
    for s in range(n_t):
        v = train[s]
        if v != 0.0:
            for j in range(min(len(shape), n_t - s)):
                sip[s + j] += v * shape[j]
    area = 0.0
    power = 0.0
    for s in range(n_t):
        mv = sip[s] / 1000.0
        area += abs(mv)
        power += mv * mv
    return area * dt_ms, power * dt_ms


@njit(cache=True, error_model="numpy")
def sip_epochs(rng, rte: np.ndarray, amplitudes_uV: np.ndarray, excitations: np.ndarray, shape: np.ndarray,
               dt_ms: float, n_t: int, epoch_ms: float, isi_cv: float, min_rate_hz: float,
               peak_rate_hz: float) -> tuple:
    """SIP area (mV·ms) and power (mV²·ms) of one epoch at each excitation, in order."""
    area = np.empty(len(excitations))
    power = np.empty(len(excitations))
    for e in range(len(excitations)):
        rates = firing_rates(rte, excitations[e], min_rate_hz, peak_rate_hz)
        train = discharge_train(rng, rates, amplitudes_uV, dt_ms, n_t, epoch_ms, isi_cv)
        area[e], power[e] = sip_area_power(train, shape, dt_ms)
    return area, power


@njit(cache=True, error_model="numpy")
def excitations_for_forces(force_proxy: np.ndarray, rte: np.ndarray, levels: np.ndarray, grid: np.ndarray,
                           min_rate_hz: float, peak_rate_hz: float) -> np.ndarray:
    """Excitation (0-1) at which the pool's force (sum of size x rate / peak, on ``grid``) is each
    fraction in ``levels``, as :func:`alsim.readouts.emg.munix.excitations_for_forces`."""
    force = np.empty(len(grid))
    for g in range(len(grid)):
        rates = firing_rates(rte, grid[g], min_rate_hz, peak_rate_hz)
        acc = 0.0
        for u in range(len(rte)):
            acc += rates[u] * force_proxy[u]
        force[g] = acc
    if force[-1] <= 0:
        return np.zeros(len(levels))
    top = force[-1]
    running = 0.0
    for g in range(len(grid)):
        running = max(running, force[g] / top) if g else force[g] / top
        force[g] = running
    return np.interp(levels, force, grid)


@njit(cache=True, error_model="numpy")
def line_fit(x: np.ndarray, y: np.ndarray) -> tuple:
    """(slope, intercept) of the least-squares line through (x, y), as ``np.polyfit(x, y, 1)``."""
    mx = x.mean()
    my = y.mean()
    sxy = 0.0
    sxx = 0.0
    for i in range(len(x)):
        sxy += (x[i] - mx) * (y[i] - my)
        sxx += (x[i] - mx) ** 2
    slope = sxy / sxx
    return slope, my - slope * mx


@njit(cache=True, error_model="numpy")
def incremental_levels(rng, thresholds_mA: np.ndarray, relative_spread: float, ladder_mA: np.ndarray,
                       waveforms_uV: np.ndarray, noise_uV: float, min_step_uV: float, n_increments: int) -> tuple:
    """The response levels (µV) taken as increments by incremental stimulation, and the units behind them.

    The loop of :func:`alsim.readouts.emg.mune.incremental_mune`: all draws first, as there
    (threshold noise for every shock and unit, then the baseline noise of every response), then
    each response, the negative peak of the summed waveforms of the units that fired, is
    computed only until ``n_increments`` levels are found. Returns (levels, units) with
    ``units`` (n_units,) bool.
    """
    n_stimuli, n_units = len(ladder_mA), len(thresholds_mA)
    z = rng.standard_normal((n_stimuli, n_units))
    noise = rng.standard_normal(n_stimuli)
    levels = np.empty(n_increments)
    units = np.zeros(n_units, np.bool_)
    n_levels = 0
    summed = np.empty(waveforms_uV.shape[1])
    for s in range(n_stimuli):
        summed[:] = 0.0
        for u in range(n_units):
            if ladder_mA[s] >= thresholds_mA[u] * (1.0 + relative_spread * z[s, u]):
                summed += waveforms_uV[u]
        amplitude = max(-summed.min(), 0.0) + noise_uV * noise[s]
        if amplitude > (levels[n_levels - 1] if n_levels else 0.0) + min_step_uV:
            levels[n_levels] = amplitude
            n_levels += 1
            for u in range(n_units):
                if ladder_mA[s] >= thresholds_mA[u] * (1.0 + relative_spread * z[s, u]):
                    units[u] = True
            if n_levels == n_increments:
                break
    return levels[:n_levels], units
