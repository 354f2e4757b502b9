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

Every kernel releases the GIL (``nogil=True``): a recording touches only its own arrays and
its own generators, so the blocks of a run record on several threads at once.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy", nogil=True)
def waveform_sum(amplitudes: np.ndarray, shapes: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Sum over ``units`` of ``amplitudes[u] * shapes[u]`` (µV), rows added in order, as
    ``(amplitudes[:, None] * shapes).sum(axis=0)`` does: the CMAP waveform of those units."""
    out = np.zeros(shapes.shape[1])
    for u in units:
        a = amplitudes[u]
        for t in range(shapes.shape[1]):
            out[t] += a * shapes[u, t]
    return out


@njit(cache=True, error_model="numpy", nogil=True)
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


@njit(cache=True, error_model="numpy", nogil=True)
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


@njit(cache=True, error_model="numpy", nogil=True)
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


@njit(cache=True, error_model="numpy", nogil=True)
def firing_rates(rte: np.ndarray, excitation: float, min_rate_hz: float, peak_rate_hz: float) -> np.ndarray:
    """Discharge rate (Hz) of each unit at ``excitation`` (0 if not recruited), as
    :func:`alsim.readouts.emg.munix.firing_rates_hz`."""
    out = np.zeros(len(rte))
    for u in range(len(rte)):
        if excitation >= rte[u]:
            gain = (excitation - rte[u]) / max(1.0 - rte[u], 1e-9)
            out[u] = min_rate_hz + (peak_rate_hz - min_rate_hz) * gain
    return out


@njit(cache=True, error_model="numpy", nogil=True)
def discharge_train(rng, rates_hz: np.ndarray, amplitudes_uV: np.ndarray, dt_ms: float, n_t: int,
                    isi_cv: float) -> np.ndarray:
    """One epoch's discharges: each active unit's SMUP amplitude (µV) added at its firing samples.

    Each active unit in turn draws a random phase (a uniform fraction of its mean interval
    before the epoch starts), then Gaussian inter-spike intervals (sd ``isi_cv`` x mean,
    floored at 0.2 x mean) one at a time until its train leaves the epoch, so every train
    covers the whole epoch. (Before 2026-12-07 a fixed number of intervals was drawn, set by
    the fastest unit, which fell short of 500 ms in 14 % of trains at full excitation.)
    """
    train = np.zeros(n_t)
    for u in range(len(rates_hz)):
        if rates_hz[u] <= 0:
            continue
        isi = 1000.0 / rates_hz[u]
        t = -rng.uniform(0.0, 1.0) * isi
        while True:
            t += isi * max(1.0 + isi_cv * rng.standard_normal(), 0.2)
            index = int(np.rint(t / dt_ms))
            if index >= n_t:
                break
            if index >= 0:
                train[index] += amplitudes_uV[u]
    return train


@njit(cache=True, error_model="numpy", nogil=True)
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


@njit(cache=True, error_model="numpy", nogil=True)
def sip_epochs(rng, rte: np.ndarray, amplitudes_uV: np.ndarray, excitations: np.ndarray, shape: np.ndarray,
               dt_ms: float, n_t: int, isi_cv: float, min_rate_hz: float, peak_rate_hz: float) -> tuple:
    """SIP area (mV·ms) and power (mV²·ms) of one epoch at each excitation, in order."""
    area = np.empty(len(excitations))
    power = np.empty(len(excitations))
    for e in range(len(excitations)):
        rates = firing_rates(rte, excitations[e], min_rate_hz, peak_rate_hz)
        train = discharge_train(rng, rates, amplitudes_uV, dt_ms, n_t, isi_cv)
        area[e], power[e] = sip_area_power(train, shape, dt_ms)
    return area, power


@njit(cache=True, error_model="numpy", nogil=True)
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


@njit(cache=True, error_model="numpy", nogil=True)
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


@njit(cache=True, error_model="numpy", nogil=True)
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


@njit(cache=True, error_model="numpy", nogil=True)
def pairwise_sum(a: np.ndarray) -> float:
    """Sum of a 1-d float64 array in NumPy's order (``np.sum`` of a contiguous array: pairwise
    halves down to blocks of at most 128, each summed in 8 running partial sums), so the same bits."""
    n = len(a)
    if n < 8:
        total = 0.0
        for i in range(n):
            total += a[i]
        return total
    if n <= 128:
        r = a[:8].copy()
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += a[i + j]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            total += a[i]
            i += 1
        return total
    half = n // 2
    half -= half % 8
    return pairwise_sum(a[:half]) + pairwise_sum(a[half:])


@njit(cache=True, error_model="numpy", nogil=True)
def recording(mune_rng, munix_rng, size: np.ndarray, intact: np.ndarray, fibre_uV: np.ndarray, shapes: np.ndarray,
              threshold_mA: np.ndarray, recruitment: np.ndarray, dt_ms: float, relative_spread: float,
              noise_uV: float, with_mune: bool, multipoint: tuple, sip_shape: np.ndarray, sip_dt_ms: float,
              n_t: int, drive: tuple, levels: np.ndarray, grid: np.ndarray, sia_ref_mV_ms: float) -> tuple:
    """One recording of a muscle, (CMAP mV, multipoint MUNE, MUNIX, MUSIX µV), in one compiled call.

    The same steps as :func:`alsim.readouts.emg.simulated.record` with the pool estimators
    (functional units: ``intact`` and ``size >= 1``; CMAP measures with NumPy's sums;
    :func:`multipoint_samples` from ``mune_rng`` when ``with_mune``, else MUNE is NaN and
    ``mune_rng`` is not drawn from; MUNIX from ``munix_rng``); NaN where an estimator gets no
    estimate, (0, 0, 0, NaN) without functional units. ``multipoint``: (sites, site sd, units
    a site, separation); ``drive``: (ISI cv, min rate Hz, peak rate Hz).
    """
    kept = np.flatnonzero(intact & (size >= 1))
    if len(kept) == 0:
        return 0.0, 0.0, 0.0, np.nan
    amplitudes = repeated_sums(size, fibre_uV)
    v = waveform_sum(amplitudes, shapes, kept) / 1000.0
    cmap_mV = max(-v.min(), 0.0)
    cmap_area = pairwise_sum(np.abs(v)) * dt_ms
    cmap_power = pairwise_sum(v * v) * dt_ms
    amps = amplitudes[kept]
    mune = np.nan
    if with_mune:
        samples, _ = multipoint_samples(mune_rng, threshold_mA[kept], amps, relative_spread, multipoint[0],
                                        multipoint[1], multipoint[2], noise_uV, multipoint[3])
        if len(samples):
            estimate = cmap_mV * 1000.0 / (pairwise_sum(samples) / len(samples))
            mune = estimate if np.isfinite(estimate) else np.nan
    isi_cv, min_rate_hz, peak_rate_hz = drive
    rte = recruitment[kept]
    excitations = excitations_for_forces(size[kept].astype(np.float64), rte, levels, grid, min_rate_hz, peak_rate_hz)
    sia, power = sip_epochs(munix_rng, rte, amps, excitations, sip_shape, sip_dt_ms, n_t, isi_cv, min_rate_hz,
                            peak_rate_hz)
    ok = power > 0
    sia = sia[ok]
    if len(np.unique(sia)) < 2:
        return cmap_mV, mune, np.nan, np.nan
    icmuc = cmap_power * sia / (cmap_area * power[ok])
    alpha, log_a = line_fit(np.log(sia), np.log(icmuc))
    value = np.exp(log_a) * sia_ref_mV_ms ** alpha
    if not (np.isfinite(value) and value > 0):
        return cmap_mV, mune, np.nan, np.nan
    return cmap_mV, mune, value, cmap_mV * 1000.0 / value
