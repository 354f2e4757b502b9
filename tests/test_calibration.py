"""Calibration: training rows as statistics, priors, the ABC wiring, determinism, resumption,
and recovery of known parameters and hypotheses from data simulated by alsim itself."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from alsim.config.loading import ScenarioError
from alsim.data import load_training
from alsim.inference.model import CohortModel, check_paths
from alsim.inference.observations import (FLOOR_FRACTION, NO_N_ERROR_FRACTION, RECALLED_WIDENING, Statistic,
                                          fitted_statistics, observed_statistics)
from alsim.inference.posterior import weighted_quantile
from alsim.inference.priors import load_priors
from alsim.inference.smc import AbcSettings, model_probabilities, run_abc
from alsim.inference.summaries import compute
from tests.test_verification import tiny_scenario


# --- training rows as statistics -------------------------------------------------------

@pytest.mark.parametrize("strain", ["B6SJL", "C57BL6"])
def test_every_applicable_training_row_becomes_a_statistic(strain):
    stats = observed_statistics(strain)
    rows = [r for r in load_training() if r.strain in (strain, "G93A") and r.value is not None]
    sources = {s.source for s in stats}
    assert all(r.source in sources for r in rows)
    assert len({s.key for s in stats}) == len(stats)
    for s in stats:
        if s.fitted:
            assert math.isfinite(s.error_sd) and s.error_sd > 0, s.key
        else:
            assert s.not_fitted_reason, s.key


def test_recalled_rows_get_a_wider_error():
    fischer = next(s for s in observed_statistics("B6SJL") if "fischer" in s.key and "denervated" in s.key)
    assert fischer.status == "recalled_check_primary"
    assert fischer.error_sd == pytest.approx(RECALLED_WIDENING * math.hypot(NO_N_ERROR_FRACTION, FLOOR_FRACTION))


def test_end_stage_error_comes_from_sd_and_n():
    solomon = next(s for s in fitted_statistics("B6SJL") if s.kind == "endpoint_mean" and "solomon" in s.key)
    assert solomon.observed == 123.9
    assert solomon.error_sd == pytest.approx(math.hypot(10.3 / math.sqrt(162), 3.7))


# --- reading statistics from a cohort ----------------------------------------------------

def _cohort() -> xr.Dataset:
    """Two subjects, one muscle, 6 days; subject 1 reaches end stage on day 3."""
    alive = np.array([[[1.0, 1.0, 0.8, 0.6, 0.4, 0.3]], [[1.0, 0.9, 0.5, 0.2, np.nan, np.nan]]])
    return xr.Dataset(
        {"motor_neurons_alive_fraction": (("subject", "muscle", "day"), alive),
         "end_stage_day": ("subject", np.array([np.nan, 3.0])),
         "onset_day": ("subject", np.array([2.0, 1.0])),
         "sex": ("subject", np.array(["F", "M"]))},
        coords={"subject": [0, 1], "muscle": ["gastrocnemius"], "day": np.arange(6)})


def _statistic(kind: str, spec: dict) -> Statistic:
    return Statistic("k", "k", 0.0, 1.0, "", "", kind, spec, "", "")


def test_statistics_are_read_as_the_experimenters_read_them():
    ds = _cohort()
    mn = {"var": "motor_neurons_alive_fraction", "muscles": ["gastrocnemius"]}
    # After end stage the subject's last value is carried forward: (0.3 + 0.2) / 2 on day 5.
    assert compute(ds, _statistic("readout_at_day", {**mn, "day": 5})) == pytest.approx(0.25)
    assert compute(ds, _statistic("readout_at_day", {**mn, "day": 5, "complement": True})) == pytest.approx(0.75)
    # End stage not reached: censored at the last day (5) -> (0.3 + 0.2) / 2 again.
    assert compute(ds, _statistic("readout_at_end_stage", mn)) == pytest.approx(0.25)
    # Never-reached end stage counts as the last day: mean (5 + 3) / 2, SD of (5, 3).
    assert compute(ds, _statistic("endpoint_mean", {"var": "end_stage_day"})) == pytest.approx(4.0)
    assert compute(ds, _statistic("endpoint_sd", {"var": "end_stage_day"})) == pytest.approx(math.sqrt(2))
    assert compute(ds, _statistic("endpoint_mean", {"var": "onset_day", "sex": "M"})) == pytest.approx(1.0)
    # Below 0.5: subject 0 on day 4, subject 1 on day 3 -> median 3.5.
    assert compute(ds, _statistic("crossing_day", {**mn, "threshold": 0.5})) == pytest.approx(3.5)
    lag = {"earlier": {**mn, "threshold": 0.95}, "later": {**mn, "threshold": 0.5}}
    assert compute(ds, _statistic("crossing_lag", lag)) == pytest.approx(3.5 - 1.5)


def test_weighted_quantile_matches_repetition():
    values, weights = np.array([3.0, 1.0, 2.0]), np.array([1.0, 2.0, 1.0])
    assert weighted_quantile(values, weights, 0.5)[0] == np.median([1.0, 1.0, 2.0, 3.0][:3])


# --- priors ------------------------------------------------------------------------------

@pytest.mark.parametrize("hypothesis", ["dying_back", "dying_forward", "independent"])
def test_packaged_priors_fit_the_presets(hypothesis):
    priors = load_priors(hypothesis)
    assert all(p.source for p in priors.priors)
    check_paths(tiny_scenario(), priors)


@pytest.mark.parametrize("body, message", [
    ('[parameters."rates.sprouting"]\nlow = 1.0\nhigh = 0.5\nsource = "x"', "low < high"),
    ('[parameters."rates.sprouting"]\nlow = 0.1\nhigh = 0.5', "needs a source"),
    ('[parameters."rates.sprouting"]\nlow = 0.0\nhigh = 0.5\nscale = "log"\nsource = "x"', "low > 0"),
    ('[parameters."rates.sprouting"]\nlow = 0.1\nhigh = 0.5\nshape = 2\nsource = "x"', "unknown key"),
    ('[parameters."rates.sprouting"]\nlow = 0.1\nhigh = nan\nsource = "x"', "finite"),
    ('hypothesis = "dying_forward"\n[parameters."rates.sprouting"]\nlow = 0.1\nhigh = 0.5\nsource = "x"', "not 'dying_back'"),
])
def test_bad_priors_name_the_problem(tmp_path, body, message):
    path = tmp_path / "priors.toml"
    path.write_text(body)
    with pytest.raises(ScenarioError, match=message):
        load_priors("dying_back", path)


def test_a_prior_on_a_missing_field_is_named(tmp_path):
    path = tmp_path / "priors.toml"
    path.write_text('[parameters."rates.not_a_rate"]\nlow = 0.1\nhigh = 0.5\nsource = "x"')
    with pytest.raises(ScenarioError, match="rates.not_a_rate"):
        check_paths(tiny_scenario(), load_priors("dying_back", path))


# --- recovery on data simulated by alsim ---------------------------------------------------

DAYS = 90
TINY_STATISTICS = [
    Statistic("end_stage", "end stage mean", 0.0, 2.0, "test", "days", "endpoint_mean", {"var": "end_stage_day"}, "", ""),
    Statistic("onset", "onset mean", 0.0, 2.0, "test", "days", "endpoint_mean", {"var": "onset_day"}, "", ""),
    Statistic("mn_end", "MN alive at end stage", 0.0, 0.05, "test", "fraction", "readout_at_end_stage",
              {"var": "motor_neurons_alive_fraction", "muscles": ["gastrocnemius"]}, "", ""),
    Statistic("denervated_30", "denervated at P30", 0.0, 0.05, "test", "fraction", "readout_at_day",
              {"var": "endplates_denervated_fraction", "muscles": ["gastrocnemius"], "day": 30}, "", ""),
]


def _priors(tmp_path, hypothesis: str, pathway: str):
    path = tmp_path / f"{hypothesis}.toml"
    path.write_text(f'hypothesis = "{hypothesis}"\n'
                    '[parameters."disease.burden_scale_days"]\nlow = 15.0\nhigh = 40.0\nsource = "assumed: test"\n'
                    f'[parameters."{pathway}"]\nlow = 0.002\nhigh = 0.1\nscale = "log"\nsource = "assumed: test"\n')
    return load_priors(hypothesis, path)


def _observed(base, priors, truth: dict, seed: int) -> list[Statistic]:
    """Statistics of one cohort simulated at ``truth``, with observation noise (as the ABC assumes)."""
    model = CohortModel(base, priors, TINY_STATISTICS, subjects=8, days=DAYS)
    values = model.simulate_statistics(truth, seed)
    return [Statistic(s.key, s.label, values[s.key], s.error_sd, "", s.unit, s.kind, s.spec, "", "") for s in TINY_STATISTICS]


def _back_data(tmp_path):
    """Dying-back priors, the tiny scenario, and statistics simulated at known values."""
    priors = _priors(tmp_path, "dying_back", "rates.terminal_retraction_per_stress")
    base = tiny_scenario("dying_back")
    stats = _observed(base, priors, {"disease.burden_scale_days": 25.0, "rates.terminal_retraction_per_stress": 0.02}, 3)
    return priors, base, stats


def _same_particles(first, second) -> None:
    a, wa = first.get_distribution(m=0, t=first.max_t)
    b, wb = second.get_distribution(m=0, t=second.max_t)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(wa, wb)


def test_same_seed_same_posterior_and_resume_continues_bit_for_bit(tmp_path):
    priors, base, stats = _back_data(tmp_path)
    settings = AbcSettings(budget=200, population=20, subjects=6, days=DAYS, seed=4)
    whole = run_abc(base, [priors], stats, settings, tmp_path / "whole.db", resume=False)
    run_abc(base, [priors], stats, settings, tmp_path / "cut.db", resume=False, stop_after_generations=1)
    resumed = run_abc(base, [priors], stats, settings, tmp_path / "cut.db", resume=True)
    assert whole.max_t >= 2 and resumed.max_t == whole.max_t
    _same_particles(whole, resumed)


def test_posterior_does_not_depend_on_workers(tmp_path):
    """The same seed on a LocalCluster of 2 workers gives the same particles as in-process."""
    priors, base, stats = _back_data(tmp_path)
    settings = AbcSettings(budget=60, population=20, subjects=6, days=DAYS, seed=9)
    serial = run_abc(base, [priors], stats, settings, tmp_path / "serial.db", resume=False)
    cluster = run_abc(base, [priors], stats, settings, tmp_path / "cluster.db", resume=False, workers=2)
    _same_particles(serial, cluster)
    assert serial.total_nr_simulations == cluster.total_nr_simulations


def _coverage(tmp_path, datasets: int, level: float = 0.9) -> tuple[int, int]:
    """Credible intervals at ``level`` that cover the generating value, over synthetic datasets."""
    priors = _priors(tmp_path, "dying_back", "rates.soma_starvation_death")
    base = tiny_scenario("dying_back")
    rng = np.random.default_rng(2024)
    covered = total = 0
    for d in range(datasets):
        coordinates = {p.path: rng.uniform(*p.coordinate_bounds) for p in priors.priors}
        truth = priors.to_natural(coordinates)
        stats = _observed(base, priors, truth, 1000 + d)
        settings = AbcSettings(budget=300, population=40, subjects=8, days=DAYS, seed=d)
        history = run_abc(base, [priors], stats, settings, tmp_path / f"coverage-{d}.db", resume=False)
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        for p in priors.priors:
            low, high = weighted_quantile(frame[p.path].to_numpy(), weights, [(1 - level) / 2, (1 + level) / 2])
            covered += int(low <= coordinates[p.path] <= high)
            total += 1
    return covered, total


def _assert_nominal(covered: int, total: int, level: float = 0.9) -> None:
    # ABC with a finite epsilon is conservative (intervals too wide), so only under-coverage
    # fails: more than 3 binomial SDs below the nominal count.
    floor = level * total - 3 * math.sqrt(total * level * (1 - level))
    assert covered >= floor, f"{covered}/{total} intervals covered the truth; nominal {level:.0%}, floor {floor:.1f}"


def test_posterior_covers_the_truth_at_the_nominal_rate(tmp_path):
    covered, total = _coverage(tmp_path, datasets=6)
    print(f"coverage of 90 % intervals: {covered}/{total}")
    _assert_nominal(covered, total)


@pytest.mark.slow
def test_posterior_covers_the_truth_at_the_nominal_rate_many_datasets(tmp_path):
    covered, total = _coverage(tmp_path, datasets=40)
    print(f"coverage of 90 % intervals: {covered}/{total}")
    _assert_nominal(covered, total)


@pytest.mark.parametrize("truth", ["dying_back", "dying_forward"])
def test_model_comparison_picks_the_generating_hypothesis(tmp_path, truth):
    back = _priors(tmp_path, "dying_back", "rates.terminal_retraction_per_stress")
    forward = _priors(tmp_path, "dying_forward", "rates.soma_stress_death")
    generating = back if truth == "dying_back" else forward
    base = tiny_scenario(truth)
    values = {"disease.burden_scale_days": 25.0, generating.paths[1]: 0.03}
    stats = _observed(base.model_copy(), generating, values, 17)
    settings = AbcSettings(budget=500, population=60, subjects=8, days=DAYS, seed=5)
    history = run_abc(base, [back, forward], stats, settings, tmp_path / "compare.db", resume=False)
    probabilities = model_probabilities(history, ["dying_back", "dying_forward"])
    p, se = probabilities[truth]["probability"], probabilities[truth]["monte_carlo_se"]
    print(f"P({truth}) = {p:.3f} +- {se:.3f}")
    assert p - 3 * se > 0.5
