"""Electrophysiology readouts of simulated runs: cmap_fraction, mune, munix, musix in the results Dataset.

Tolerances come from the estimators' own sampling error (tests/test_electrophysiology.py)
and from the sampling error between cohorts, never from one lucky run.
"""


import numpy as np
import pytest
from scipy.stats import spearmanr

from alsim.biology.motor_units import build_layout
from alsim.verification.reference import simulate_reference
from alsim.run import simulate_census
from alsim.readouts.emg.simulated import (DEFAULT_MUNE_METHOD, EMG_READOUTS, MUNE_METHODS, emg_readouts,
                                          muscle_conductors, recordable_pool, subject_recordings, unit_properties,
                                          unit_recruitment)
from alsim.readouts.electrophysiology import cmap, smup_amplitudes_uV
from alsim.readouts.emg.simulated import (
    DEFAULT_MUNE_METHOD,
    EMG_READOUTS,
    MUNE_METHODS,
    emg_readouts,
    muscle_conductors,
    recordable_pool,
    unit_properties,
    unit_recruitment,
)
from alsim.run import results_dataset, simulate, simulate_census

from .conftest import small_scenario

EMG = [r.name for r in EMG_READOUTS]
SEED = 21


@pytest.fixture(scope="module")
def course():
    """A dying-back course of the small B6SJL scenario past end stage: the census and its Dataset."""
    scenario = small_scenario()
    census = simulate_census(scenario, subjects=6, days=140, seed=SEED)
    return scenario, census, results_dataset(scenario, census, seed=SEED)


def _true_functional(census, layout):
    """Functional units (axon intact, >= 1 fibre) per (subject, muscle, snapshot), from the snapshots."""
    functional = (census.unit_size >= 1) & census.unit_axon_intact
    return np.add.reduceat(functional, layout.unit_start[:-1], axis=2).transpose(0, 2, 1)


def test_unit_snapshots_are_the_census_definition():
    """The engine keeps n_u and the axon state such that they sum to the census's functional counts."""
    scenario = small_scenario()
    census = simulate_census(scenario, subjects=2, days=100, seed=5)
    layout = build_layout(scenario)
    days = census.snapshot_day
    assert list(days) == [*range(0, 100, 7), 100]
    assert census.unit_size.dtype == np.uint16 and census.unit_axon_intact.dtype == bool
    assert census.unit_size.shape == (2, len(days), layout.n_units)
    functional = (census.unit_size >= 1) & census.unit_axon_intact
    size_sum = np.add.reduceat(np.where(functional, census.unit_size, 0), layout.unit_start[:-1], axis=2)
    np.testing.assert_array_equal(_true_functional(census, layout), census.counts["units_functional"][..., days])
    np.testing.assert_array_equal(size_sum.transpose(0, 2, 1), census.counts["functional_size_sum"][..., days])
    assert (census.counts["units_functional"][..., days[-1]] < census.counts["units_functional"][..., 0]).any()


def test_reference_stepper_keeps_the_same_snapshots():
    scenario = small_scenario()
    out = simulate_reference(scenario, subjects=1, days=8, seed=3)
    layout = build_layout(scenario)
    assert list(out["snapshot_day"]) == [0, 7, 8]
    functional = (out["unit_size"] >= 1) & out["unit_axon_intact"]
    count = np.add.reduceat(functional, layout.unit_start[:-1], axis=2).transpose(0, 2, 1)
    expected = out["motor_units_functional_fraction"][..., out["snapshot_day"]] * np.diff(layout.unit_start)[None, :, None]
    np.testing.assert_allclose(count, expected)


def test_readouts_have_dims_units_and_are_masked_after_end_stage(course):
    _, census, ds = course
    assert ds.attrs["mune_method"] == DEFAULT_MUNE_METHOD == "multipoint"
    np.testing.assert_array_equal(ds["emg_day"].values, [*range(0, 140, 7), 140])
    assert ds["emg_day"].attrs["units"] == "d"
    for name in EMG:
        assert ds[name].dims == ("subject", "muscle", "emg_day")
        assert ds[name].dtype == np.float32
        assert ds[name].attrs["units"] and ds[name].attrs["description"]
    end = ds["end_stage_day"].values
    assert np.isfinite(end).all()                         # every subject reached end stage by day 140
    after = ds["emg_day"].values[None, :] > end[:, None]
    for name in EMG:
        values = ds[name].values
        assert np.isnan(values.transpose(1, 0, 2)[:, after]).all(), name
        assert np.isfinite(values.transpose(1, 0, 2)[:, ~after]).all() or name == "musix", name


def test_day0_cmap_is_one_and_mune_is_the_true_count_within_its_known_bias(course):
    """Multipoint MUNE at day 0 against the true functional count (all units).

    Known errors of the method (docs/electrophysiology.md; tested on constructed pools in
    test_multipoint_within_sampling_error_on_a_varied_pool): the CMAP's phase cancellation
    scales MUNE by c = CMAP / sum of SMUPs; sampling n of N units gives a relative error of
    CV(SMUP) / sqrt(n) (times the finite-population factor), and 1 / mean biases it up by
    about CV**2 / n. Each is computed from the subject's own day-0 pool.
    """
    scenario, census, ds = course
    layout = build_layout(scenario)
    np.testing.assert_array_equal(ds["cmap_fraction"].sel(emg_day=0).values, 1.0)
    conductors = muscle_conductors(layout)
    ratios, variances = [], []
    for i, subject in enumerate(census.subject):
        props = unit_properties(SEED, int(subject), layout.n_units)
        for m in range(layout.n_muscles):
            units = slice(int(layout.unit_start[m]), int(layout.unit_start[m + 1]))
            pool = recordable_pool(census.unit_size[i, 0], census.unit_axon_intact[i, 0], props, units)
            amps = smup_amplitudes_uV(pool, conductors[m])
            n_true = pool.n_units
            assert n_true == units.stop - units.start       # day 0: every unit is functional
            c = cmap(pool, conductors[m]).amplitude_mV * 1000.0 / amps.sum()
            n = min(15, n_true)
            cv2 = amps.var() / amps.mean() ** 2
            fpc = (n_true - n) / max(n_true - 1, 1)
            ratios.append(float(ds["mune"].isel(subject=i, muscle=m).sel(emg_day=0)) / (n_true * c))
            variances.append(cv2 * fpc / n)            # relative variance of the sampled mean SMUP
    ratios = np.asarray(ratios)
    se = np.sqrt(np.mean(variances) / len(ratios))
    jensen = np.mean(variances)                        # E[1 / mean] ~ (1 + CV**2 / n) / mu
    assert abs(ratios.mean() - 1 - jensen) < 3 * se + 0.01   # 0.01: 5 µV noise on SMUPs of ~1 mV


def test_voluntary_recruitment_follows_baseline_size_and_is_kept_for_life():
    """Smaller (slow) units are recruited first; a unit that adopts fibres or outlives others keeps its threshold."""
    layout = build_layout(small_scenario())
    rte = unit_recruitment(layout)
    for m in range(layout.n_muscles):
        units = slice(int(layout.unit_start[m]), int(layout.unit_start[m + 1]))
        order = np.argsort(rte[units])
        assert np.all(np.diff(layout.unit_baseline_size[units][order]) >= 0)
    props = unit_properties(SEED, 0, layout.n_units)
    units = slice(int(layout.unit_start[0]), int(layout.unit_start[1]))
    size = layout.unit_baseline_size.astype(np.int64)
    size[units.start] *= 3                                       # the first unit sprouts
    alive = np.ones(layout.n_units, bool)
    alive[units.start + 1] = False                                # the second dies
    pool = recordable_pool(size, alive, props, units, recruitment=rte)
    assert pool.recruitment[0] == rte[units.start]
    np.testing.assert_array_equal(pool.recruitment[1:], rte[units.start + 2:units.stop])


def test_mune_cmap_and_munix_fall_as_functional_units_are_lost(course):
    scenario, census, ds = course
    layout = build_layout(scenario)
    true = _true_functional(census, layout).astype(float)
    late = ds["emg_day"].values <= np.nanmin(ds["end_stage_day"].values)     # recorded in every subject
    k = np.flatnonzero(late)[-1]
    hind = [m for m, name in enumerate(layout.muscle_names) if scenario.muscles[name].region == "hindlimb"]
    lost = true[:, hind, k] / true[:, hind, 0]
    assert lost.mean() < 0.7                                                   # a real loss by then
    for name in ("mune", "munix"):
        v = ds[name].values[:, hind]
        assert np.nanmean(v[..., k] / v[..., 0]) < 0.8, name
    cmap_late = ds["cmap_fraction"].values[:, hind, k]
    assert cmap_late.mean() < 0.85
    # each follows the true count (CMAP: its fraction of day 0) across subjects, muscles and ages; the
    # CMAP least closely, as sprouting keeps it up while units are lost (seeds 30-35: rho 0.92-0.94,
    # 0.84-0.89, 0.73-0.91)
    ok = np.isfinite(ds["mune"].values)
    for name, truth, floor in (("mune", true, 0.8), ("munix", true, 0.7), ("cmap_fraction", true / true[..., :1], 0.6)):
        rho = spearmanr(ds[name].values[ok], truth[ok]).statistic
        assert rho > floor, (name, rho)


def _emg_of(census, scenario, **kw):
    ds = results_dataset(scenario, census, seed=SEED, **kw)
    return {name: ds[name].values for name in EMG}


def test_same_bits_whatever_the_block_size_and_for_a_subject_alone():
    scenario = small_scenario()
    kw = dict(days=28, seed=SEED)
    census = simulate_census(scenario, subjects=3, block_size=8, **kw)
    whole = _emg_of(census, scenario)
    split = _emg_of(simulate_census(scenario, subjects=3, block_size=1, **kw), scenario)
    alone = _emg_of(simulate_census(scenario, subjects=np.array([2]), **kw), scenario)
    by_one = emg_readouts(census, build_layout(scenario), seed=SEED, block_size=1)   # the readouts' own blocks
    for name in EMG:
        np.testing.assert_array_equal(whole[name], split[name], err_msg=name)
        np.testing.assert_array_equal(whole[name][2:], alone[name], err_msg=name)
        np.testing.assert_array_equal(whole[name], by_one[name].astype(np.float32), err_msg=name)
    # MUNIX has its own stream: the MUNE method does not change it
    other = _emg_of(simulate_census(scenario, subjects=3, **kw), scenario, mune_method="incremental")
    np.testing.assert_array_equal(whole["munix"], other["munix"])
    assert not np.array_equal(whole["mune"], other["mune"])


def test_recordings_match_the_numpy_oracle():
    """Each recording of a simulated course, compiled, against the NumPy loops it replaced
    (tests/emg_reference.py, same streams): CMAP and multipoint MUNE the same bits; MUNIX, MUSIX
    (direct instead of FFT convolution) and incremental MUNE (responses summed in order instead
    of by a matrix product) within float64 rounding; so the float32 Dataset values are the same."""
    from .emg_reference import subject_recordings_reference

    scenario = small_scenario()
    layout = build_layout(scenario)
    conductors = muscle_conductors(layout)
    census = simulate_census(scenario, subjects=3, days=120, seed=SEED)
    for i in range(3):
        for method in ("multipoint", "incremental"):
            args = (SEED, i, census.unit_size[i], census.unit_axon_intact[i], census.snapshot_day, layout, conductors,
                    method)
            new, old = subject_recordings(*args), subject_recordings_reference(*args)
            exact = ("cmap_mV", "mune") if method == "multipoint" else ("cmap_mV",)
            for name in exact:
                np.testing.assert_array_equal(new[name], old[name], err_msg=name)
            for name in {"mune", "munix", "musix"} - set(exact):
                np.testing.assert_allclose(new[name], old[name], rtol=1e-12, err_msg=name)
                np.testing.assert_array_equal(new[name].astype(np.float32), old[name].astype(np.float32))


def test_mune_methods_and_their_validation():
    scenario = small_scenario()
    census = simulate_census(scenario, subjects=1, days=7, seed=SEED)
    for method in MUNE_METHODS:
        ds = results_dataset(scenario, census, seed=SEED, mune_method=method)
        assert ds.attrs["mune_method"] == method
        assert np.isfinite(ds["mune"].values).all() and (ds["mune"].values > 0).all(), method
    with pytest.raises(ValueError, match="mune_method"):
        results_dataset(scenario, census, seed=SEED, mune_method="guess")
    ds = results_dataset(scenario, census, seed=SEED, electrophysiology=False)
    assert "mune" not in ds and "emg_day" not in ds.coords


def test_simulate_passes_the_mune_method():
    ds = simulate(small_scenario(), subjects=1, days=7, seed=SEED, mune_method="incremental")
    assert ds.attrs["mune_method"] == "incremental" and ds["mune"].sizes["emg_day"] == 2


@pytest.mark.slow
def test_engine_and_reference_agree_in_distribution():
    """The compiled engine's and the reference stepper's courses give the same distribution of the
    readouts at day 84 (different seeds, so the two samples are independent); KS with a family-wise
    alpha of 0.001. Slow tier: the reference takes about 3 s a mouse here."""
    scenario = small_scenario()
    layout = build_layout(scenario)
    engine = simulate_census(scenario, subjects=30, days=84, seed=101)
    reference = simulate_reference(scenario, subjects=30, days=84, seed=202)
    reference = replace(engine, subject=np.arange(30), counts={}, snapshot_day=reference["snapshot_day"],
                        unit_size=reference["unit_size"], unit_axon_intact=reference["unit_axon_intact"])
    samples = {}
    for name, census, seed in (("engine", engine, 101), ("reference", reference, 202)):
        keep = [0, len(census.snapshot_day) - 1]                          # day 0 and day 84 only
        census = replace(census, snapshot_day=census.snapshot_day[keep], unit_size=census.unit_size[:, keep],
                         unit_axon_intact=census.unit_axon_intact[:, keep])
        assert census.snapshot_day[-1] == 84
        samples[name] = {**emg_readouts(census, layout, seed=seed), "true": _true_functional(census, layout).astype(float)}
    checks = [(name, m, ks_2samp(samples["engine"][name][:, m, -1], samples["reference"][name][:, m, -1]).pvalue)
              for name in ("true", "cmap_fraction", "mune", "munix") for m in range(layout.n_muscles)]
    worst = min(checks, key=lambda c: c[2])
    assert worst[2] > 0.001 / len(checks), worst
    # the test has power: the readouts do vary between animals at day 84
    assert np.std(samples["engine"]["mune"][:, 0, -1]) > 0


def test_streamed_census_keeps_the_unit_snapshots(tmp_path):
    import zarr

    from alsim.run import stream_census_to_zarr

    scenario = small_scenario()
    stream_census_to_zarr(scenario, tmp_path / "census.zarr", subjects=3, days=9, seed=SEED, block_size=2)
    group = zarr.open_group(str(tmp_path / "census.zarr"), mode="r")
    census = simulate_census(scenario, subjects=3, days=9, seed=SEED)
    np.testing.assert_array_equal(group["snapshot_day"][:], census.snapshot_day)
    np.testing.assert_array_equal(group["unit_size"][:], census.unit_size)
    np.testing.assert_array_equal(group["unit_axon_intact"][:], census.unit_axon_intact)


@pytest.mark.slow
def test_workers_do_not_change_the_readouts():
    scenario = small_scenario()
    one = simulate(scenario, subjects=10, days=21, seed=SEED)
    two = simulate(scenario, subjects=10, days=21, seed=SEED, workers=2)
    for name in EMG:
        np.testing.assert_array_equal(one[name].values, two[name].values, err_msg=name)


def test_a_selection_records_only_its_muscles_and_days_with_the_same_bits():
    from alsim.readouts.selection import ReadoutSelection

    scenario = small_scenario()
    census = simulate_census(scenario, subjects=2, days=60, seed=SEED)
    every = results_dataset(scenario, census, seed=SEED)
    chosen = ReadoutSelection(emg_muscles=("soleus",), emg_every_days=28)
    some = results_dataset(scenario, census, seed=SEED, readouts=chosen)
    muscles = list(some["muscle"].values)
    recorded = chosen.recorded(muscles, census.snapshot_day)
    assert recorded.sum() == 4 and list(census.snapshot_day[recorded[muscles.index("soleus")]]) == [0, 28, 56, 60]
    for name in EMG:
        mask = np.broadcast_to(recorded, some[name].shape)
        np.testing.assert_array_equal(some[name].values[mask], every[name].values[mask], err_msg=name)
        assert np.isnan(some[name].values[~mask]).all(), name
    assert some.attrs["readouts"] == "lab,clinical,emg" and some.attrs["emg_muscles"] == "soleus"
    assert every.attrs["emg_days"] == "every snapshot day" and "multiples of 28" in some.attrs["emg_days"]
    none = results_dataset(scenario, census, seed=SEED, readouts=ReadoutSelection(emg=False))
    assert none.attrs["readouts"] == "lab,clinical" and "mune" not in none and "emg_muscles" not in none.attrs


@pytest.mark.parametrize("groups, muscles, every, message", [
    ("lab,clinical,emgg", None, None, "unknown group"), ("lab,emg", None, None, "must include lab and clinical"),
    ("lab,clinical,emg", "calf", None, "unknown muscle"), ("lab,clinical,emg", None, 0, "positive")])
def test_a_bad_selection_names_the_field_and_the_allowed_values(groups, muscles, every, message):
    from alsim.readouts.selection import ReadoutSelection

    with pytest.raises(ValueError, match=message):
        ReadoutSelection.parse(groups, emg_muscles=muscles, emg_every_days=every).check_muscles(["soleus"])


def test_run_readouts_option(tmp_path):
    """`alsim run --readouts lab,clinical` leaves the EMG out and says so; bad choices exit 2 writing nothing."""
    from alsim.cli import main
    from alsim.store import read_results

    from .conftest import write_small_preset

    toml = write_small_preset(tmp_path / "small.toml")
    base = ["run", str(toml), "--subjects", "1", "--days", "8", "--seed", "3"]
    assert main([*base, "--out", str(tmp_path / "lab"), "--readouts", "lab,clinical"]) == 0
    ds = read_results(tmp_path / "lab")
    assert ds.attrs["readouts"] == "lab,clinical" and "mune" not in ds
    for bad in (["--readouts", "emg"], ["--emg-muscles", "calf"]):
        assert main([*base, "--out", str(tmp_path / "bad"), *bad]) == 2
        assert not (tmp_path / "bad").exists()
