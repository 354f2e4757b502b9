"""Estimators on constructed pools whose true count is known (fixed seeds).

Tolerances come from the estimators' sampling error; bias tests check the documented
direction with a margin of several standard errors.
"""

from dataclasses import replace

import numpy as np
import pytest

from alsim.readouts.electrophysiology import (MotorUnitPool, VolumeConductor, VoluntaryDrive, calibrate, cmap,
                                              cmap_scan, incremental_mune, multipoint_mune, munix,
                                              recruitment_thresholds, reinnervate, scan_fit_mune,
                                              smup_amplitudes_uV, synthetic_pool)

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
    r = munix(p, calibrate(p, VC, 2.0), np.random.default_rng(0), excitations=[0.0105, 0.013])   # 1 and 2 units
    assert r.icmuc == pytest.approx([20, 20], rel=0.02)


# MUNIX's ideal case: short (0.5 ms phase), 1 mV SMUPs and slight contractions (0.5-10 % of maximal
# force), so that the SIP at the 20 mV·ms reference is sparse and SIA spans it.
SPARSE = VolumeConductor(phase_ms=0.5, window_ms=10.0)
SLIGHT = VoluntaryDrive(force_levels=tuple(np.geomspace(0.005, 0.1, 20)))


def _overlap_share(amp_mV, vc=SPARSE, drive=SLIGHT):
    """Share of discharges whose SMUP (6 phases long) meets another one at SIA = 20 mV·ms (Poisson
    discharges): the most that overlap can move ICMUC, hence MUNIX, off the ideal-case count."""
    area = amp_mV * 2.0 * np.exp(0.5) * vc.phase_ms            # rectified area of one discharge, mV·ms
    per_ms = 20.0 / (drive.epoch_ms * area)
    return 1.0 - np.exp(-per_ms * 6.0 * vc.phase_ms)


def _units(fibres, recruitment=None, depth_mm=2.0):
    """Aligned units of the given sizes (fibres), all at one depth."""
    fibres = np.asarray(fibres)
    return MotorUnitPool(np.concatenate([[0], np.cumsum(fibres)]), np.ones(fibres.sum()),
                         np.full(fibres.sum(), depth_mm), np.geomspace(5, 20, len(fibres)),
                         np.full(len(fibres), 3.0), 0.015, recruitment)


@pytest.mark.parametrize("n", [30, 60])
def test_munix_is_the_count_for_equal_units_in_a_sparse_pattern(n):
    p = _units(np.full(n, 100))
    vc = calibrate(p, SPARSE, n * 1.0)                            # 1 mV per unit
    tolerance = _overlap_share(1.0)                               # 0.07
    for s in range(3):
        r = munix(p, vc, np.random.default_rng(s), drive=SLIGHT)
        assert r.sia_mV_ms.min() < 20 < r.sia_mV_ms.max()
        assert abs(r.munix / n - 1) < tolerance, r.munix


def test_munix_underestimates_when_the_first_recruited_survivors_are_enlarged():
    """60 equal units; the 30 highest-threshold die and the 10 lowest-threshold survivors adopt all their
    fibres (as surviving slow units sprout in ALS). Same CMAP, 30 units, but the slight contractions
    that set MUNIX hold only the 400-fibre units: ICMUC ~ CMAP / their SMUP = 6000 / 400 = 15."""
    rte = VoluntaryDrive().recruit_min * 70 ** (np.arange(30) / 29)   # the survivors keep their thresholds
    equal = _units(np.full(30, 200), rte)                             # the same loss, adopted evenly
    enlarged = _units(np.r_[np.full(10, 400), np.full(20, 100)], rte)
    vc = calibrate(equal, SPARSE, 30.0)                               # 1 mV per 200 fibres
    assert cmap(enlarged, vc).amplitude_mV == pytest.approx(30.0)
    for s in range(3):
        assert abs(munix(equal, vc, np.random.default_rng(s), drive=SLIGHT).munix / 30 - 1) < _overlap_share(1.0)
        low = munix(enlarged, vc, np.random.default_rng(s), drive=SLIGHT)
        assert low.sia_mV_ms.min() < 20
        assert abs(low.munix / 15 - 1) < _overlap_share(2.0), low.munix


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


def test_munix_falls_and_musix_rises_after_reinnervation(human):
    """Half the units lost, all their fibres adopted: the CMAP holds, MUNIX falls and MUSIX rises
    (Nandedkar et al. 2010), by less than the count: larger SMUPs reach 20 mV·ms at a sparser SIP."""
    p, vc = human
    fixed = replace(p, recruitment=recruitment_thresholds(p))        # survivors keep their thresholds
    base = [munix(fixed, vc, np.random.default_rng(s)) for s in range(3)]
    r = reinnervate(fixed, np.random.default_rng(3), 0.5)
    after = [munix(r, vc, np.random.default_rng(s)) for s in range(3)]
    assert after[0].cmap_mV == pytest.approx(base[0].cmap_mV, rel=0.05)
    ratio = np.mean([a.munix for a in after]) / np.mean([b.munix for b in base])
    assert r.n_units / p.n_units < ratio < 0.9                     # measured 0.77
    assert np.mean([a.musix_uV for a in after]) > 1.2 * np.mean([b.musix_uV for b in base])


def test_munix_underestimates_when_fibres_shrink(human):
    p, vc = human                                   # Li et al. 2012: smaller SMUPs, same count
    atrophic = replace(p, fibre_csa=0.5 * p.fibre_csa)
    assert _munix(atrophic, vc) < 0.7 * _munix(p, vc)


@pytest.mark.parametrize("seed", range(6))
def test_compiled_estimators_match_the_numpy_oracle(seed):
    """The compiled estimators draw the same random numbers as the NumPy loops they replaced
    (tests/emg_reference.py): multipoint MUNE gives the same bits, MUNIX the same value to
    float64 rounding (its SIP is convolved directly, not by FFT: relative error ~1e-14), and so
    does incremental MUNE (its responses are summed in order, not by a matrix product)."""
    from .emg_reference import incremental_mune as incremental_reference
    from .emg_reference import multipoint_mune as multipoint_reference
    from .emg_reference import munix as munix_reference

    p = pool(seed, n_units=40 + 30 * seed, size_cv=0.5, depth_mm=(0.5, 6), latency_sd_ms=0.2)
    vc = calibrate(p, VC, 5.0)
    for units_per_site in (1, 3):
        new = multipoint_mune(p, vc, np.random.default_rng(seed), units_per_site=units_per_site)
        old = multipoint_reference(p, vc, np.random.default_rng(seed), units_per_site=units_per_site)
        np.testing.assert_array_equal(new.samples_uV, old.samples_uV)
        assert new.mune == old.mune and new.true_units_sampled == old.true_units_sampled
    new = incremental_mune(p, vc, np.random.default_rng(seed), n_increments=5 + seed)
    old = incremental_reference(p, vc, np.random.default_rng(seed), n_increments=5 + seed)
    np.testing.assert_allclose(new.samples_uV, old.samples_uV, rtol=1e-12)
    assert new.mune == pytest.approx(old.mune, rel=1e-12) and new.true_units_sampled == old.true_units_sampled
    new, old = munix(p, vc, np.random.default_rng(seed)), munix_reference(p, vc, np.random.default_rng(seed))
    np.testing.assert_allclose(new.sia_mV_ms, old.sia_mV_ms, rtol=1e-12)
    np.testing.assert_allclose(new.icmuc, old.icmuc, rtol=1e-12)
    assert new.munix == pytest.approx(old.munix, rel=1e-12) and new.alpha == pytest.approx(old.alpha, rel=1e-9)


def test_every_discharge_train_covers_the_whole_epoch():
    """Each unit draws intervals until its train leaves the 500 ms epoch: at full excitation
    (35 Hz, interval 28.6 ms, sd 20 %) a train's last discharge is within two mean intervals of
    the end (a longer interval is a 5-sd event), and a unit fires about epoch x rate = 17.5 times
    (within 4 standard errors over 2,000 trains, plus 0.1: the phase is uniform over the mean
    interval, not the stationary law of the first interval; 17.43 over 20,000 trains). The old
    fixed 19 intervals fell short of the end in about 14 % of such trains."""
    from alsim.readouts.emg.kernels import discharge_train

    drive, dt = VoluntaryDrive(), 0.1
    n_t = int(drive.epoch_ms / dt)
    rng = np.random.default_rng(5)
    last, counts = [], []
    for _ in range(2000):
        train = discharge_train(rng, np.array([drive.peak_rate_hz]), np.array([1.0]), dt, n_t, drive.isi_cv)
        last.append(np.flatnonzero(train)[-1] * dt)
        counts.append(train.sum())
    isi = 1000.0 / drive.peak_rate_hz
    assert min(last) > drive.epoch_ms - 2 * isi
    expected = drive.epoch_ms / isi
    assert abs(np.mean(counts) - expected) < 4 * np.std(counts) / np.sqrt(len(counts)) + 0.1
