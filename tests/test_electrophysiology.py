"""Estimators on constructed pools whose true count is known (fixed seeds).

Tolerances come from the estimators' sampling error; bias tests check the documented
direction with a margin of several standard errors.
"""

from dataclasses import replace

import numpy as np
import pytest

from alsim.readouts.electrophysiology import (MotorUnitPool, VolumeConductor, calibrate, cmap, cmap_scan,
                                              incremental_mune, multipoint_mune, munix, reinnervate,
                                              scan_fit_mune, smup_amplitudes_uV, synthetic_pool)

VC = VolumeConductor()


def pool(seed=0, **kw):
    return synthetic_pool(np.random.default_rng(seed), **kw)


def test_single_fibre_scales_with_cross_section_and_falls_with_depth():
    p = MotorUnitPool.from_lists([[1.0], [0.25], [1.0]], [[0.0], [0.0], [3.0]], [1.0, 2.0, 3.0])
    a = smup_amplitudes_uV(p, VC)
    assert a[1] / a[0] == pytest.approx(0.25)
    assert a[2] / a[0] == pytest.approx(4.0**-1.5)


def test_cmap_is_sum_of_smups_without_dispersion_and_smaller_with_it():
    aligned = pool(n_units=50, size_cv=0.4, depth_mm=(1, 8))
    total = smup_amplitudes_uV(aligned, VC).sum() / 1000.0
    assert cmap(aligned, VC).amplitude_mV == pytest.approx(total, rel=1e-9)
    dispersed = replace(aligned, latency_ms=aligned.latency_ms + np.random.default_rng(1).normal(0, 1.0, 50))
    assert cmap(dispersed, VC).amplitude_mV < 0.9 * total


def _ideal(seed=0, n=100):
    """Identical units, thresholds 1.4 % apart with 0.1 % threshold noise: no overlap."""
    return pool(seed, n_units=n, relative_spread=0.001)


def test_incremental_is_exact_on_an_ideal_pool():
    p = _ideal()
    vc = calibrate(p, VC, 10.0)                     # 100 µV units; noise 5 µV on the top level
    r = incremental_mune(p, vc, np.random.default_rng(0))
    assert r.true_units_sampled == 10
    assert r.mune == pytest.approx(100, rel=0.03)   # 3 sd of 5 µV noise on a 1000 µV level is 1.5 %


def test_incremental_alternation_overestimates():
    # sizes vary (cv 0.5) and neighbouring thresholds overlap (spacing ~ one threshold sd)
    p = pool(2, n_units=100, size_cv=0.5, relative_spread=0.015)
    vc = calibrate(pool(n_units=100), VC, 10.0)
    runs = [incremental_mune(p, vc, np.random.default_rng(s)) for s in range(8)]
    est = np.array([r.mune for r in runs])
    assert np.mean([r.true_units_sampled for r in runs]) < 10   # fewer real units than increments
    assert est.mean() - 3 * est.std(ddof=1) / np.sqrt(len(est)) > 100


def test_multipoint_is_exact_on_identical_units():
    p = pool(n_units=100)
    vc = calibrate(p, VC, 10.0)
    r = multipoint_mune(p, vc, np.random.default_rng(0))
    assert len(r.samples_uV) == 15 and r.true_units_sampled == 15
    assert r.mune == pytest.approx(100, rel=0.03)   # 5 µV noise / sqrt(15) on 100 µV


def test_multipoint_within_sampling_error_on_a_varied_pool():
    vc = calibrate(pool(n_units=200), VC, 10.0)
    pools = [pool(s, n_units=200, size_cv=0.3) for s in range(6)]          # a new subject each time
    est = np.array([multipoint_mune(p, vc, np.random.default_rng(s), n_sites=20).mune for s, p in enumerate(pools)])
    assert abs(est.mean() / 200 - 1) < 3 * 0.3 / np.sqrt(20 * 6)          # 3 standard errors of the mean size


def test_multipoint_underestimates_when_large_units_are_most_excitable():
    p = pool(4, n_units=200, size_cv=0.5, threshold_order="large_first")
    vc = calibrate(p, VC, 10.0)
    est = [multipoint_mune(p, vc, np.random.default_rng(s), site_sd=0.1).mune for s in range(4)]
    assert np.mean(est) < 0.8 * 200


def test_scan_fit_near_truth_on_uniform_overlapping_units():
    p = pool(5, n_units=100, threshold_mA=(5.0, 10.0))
    vc = calibrate(p, VC, 10.0)
    est = [scan_fit_mune(cmap_scan(p, vc, np.random.default_rng(s))).mune for s in range(3)]
    assert np.mean(est) == pytest.approx(100, rel=0.2)   # MScan test-retest CV ~12 %


def test_scan_fit_underestimates_unequal_units():
    vc = calibrate(pool(n_units=100), VC, 10.0)
    uneven = pool(6, n_units=100, threshold_mA=(5.0, 10.0), size_cv=0.7)  # e.g. some enlarged by sprouting
    est = [scan_fit_mune(cmap_scan(uneven, vc, np.random.default_rng(s))).mune for s in range(3)]
    assert np.mean(est) < 0.85 * 100                                      # expected ~ 1 / (1 + 0.7**2)


def test_scan_fit_scales_with_assumed_threshold_spread():
    p = pool(5, n_units=100, threshold_mA=(5.0, 10.0))
    scan = cmap_scan(p, calibrate(p, VC, 10.0), np.random.default_rng(0))
    assert scan_fit_mune(scan, relative_spread=0.03).mune > 1.5 * scan_fit_mune(scan, relative_spread=0.015).mune


def test_icmuc_is_the_count_for_identical_non_overlapping_potentials():
    p = pool(n_units=20)
    r = munix(p, calibrate(p, VC, 2.0), np.random.default_rng(0), excitations=[0.0105, 0.011])
    assert r.icmuc[0] == pytest.approx(20, rel=0.02)


@pytest.fixture(scope="module")
def human():
    p = pool(7, n_units=200, size_cv=0.5, depth_mm=(1, 10), territory_sd_mm=1.0, latency_sd_ms=0.5)
    return p, calibrate(p, VC, 11.5)


def _munix(p, vc):
    return np.mean([munix(p, vc, np.random.default_rng(s)).munix for s in range(3)])


def test_munix_falls_monotonically_as_units_are_lost(human):
    p, vc = human
    order = np.random.default_rng(2).permutation(p.n_units)
    values = [_munix(p.subset(np.isin(np.arange(p.n_units), order[k:])), vc) for k in (0, 50, 100, 150)]
    assert np.all(np.diff(values) < 0)


def test_munix_falls_less_than_the_count_after_reinnervation(human):
    p, vc = human
    base = munix(p, vc, np.random.default_rng(0))
    r = reinnervate(p, np.random.default_rng(3), 0.5)
    after = munix(r, vc, np.random.default_rng(0))
    assert after.cmap_mV == pytest.approx(base.cmap_mV, rel=0.05)
    # the count halves; MUNIX follows the (unchanged) CMAP and hardly moves
    assert after.munix / base.munix > r.n_units / p.n_units + 0.3


def test_munix_underestimates_when_fibres_shrink(human):
    p, vc = human                                   # Li et al. 2012: smaller SMUPs, same count
    atrophic = replace(p, fibre_csa=0.5 * p.fibre_csa)
    assert _munix(atrophic, vc) < 0.7 * _munix(p, vc)
