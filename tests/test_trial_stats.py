"""Tests of trial allocation (alsim.trials.allocation) and statistics (alsim.trials.stats).

Statistical tolerances are derived from sampling error and stated where used;
all data are synthetic (numpy, fixed seeds), so every test is deterministic.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times
from matplotlib.figure import Figure

from alsim.trials import (
    ArmOutcome, allocate, allocate_per_arm, compare_arms, difference_ci, effect_distribution,
    hazard_ratio, logrank_p, median_with_ci, power, power_curve,
)
from alsim.report.trial import plot_km

FOLLOW_UP = 200.0  # days
OFFSET = 60.0  # days: no events before this age


def weibull_arm(rng, n, scale, shape=1.0, follow_up=FOLLOW_UP) -> ArmOutcome:
    """End stage at OFFSET + Weibull(shape, scale) days; onset 80% of the way there."""
    end = OFFSET + scale * rng.weibull(shape, n)
    onset = OFFSET + 0.8 * (end - OFFSET)
    end[end > follow_up] = np.nan
    onset[onset > follow_up] = np.nan
    return ArmOutcome(end, onset, follow_up, count_at_day=rng.normal(100, 10, n))


def constant_arm(end_day: float, n: int = 6) -> ArmOutcome:
    return ArmOutcome(np.full(n, end_day), np.full(n, end_day), FOLLOW_UP, count_at_day=np.full(n, 50.0))


# ---------------------------------------------------------------- allocation

pools = st.integers(0, 60).flatmap(lambda n: st.tuples(
    st.lists(st.booleans(), min_size=n, max_size=n),
    st.lists(st.integers(0, 7), min_size=n, max_size=n),
))


def _spread(values: np.ndarray, arms: int) -> int:
    counts = np.bincount(values, minlength=arms)
    return int(counts.max() - counts.min())


@settings(max_examples=150, deadline=None)
@given(pool=pools, arms=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_allocate_balances_arms_sexes_and_litters(pool, arms, seed):
    is_female, litter = np.array(pool[0], dtype=bool), np.array(pool[1], dtype=int)
    arm = allocate(is_female, litter, arms, np.random.default_rng(seed))
    assert arm.shape == is_female.shape and np.all((arm >= 0) & (arm < arms))
    assert _spread(arm, arms) <= 1
    for sex in (True, False):
        assert _spread(arm[is_female == sex], arms) <= 1
        for lit in np.unique(litter):
            assert _spread(arm[(is_female == sex) & (litter == lit)], arms) <= 1


def test_allocate_is_deterministic_for_a_seed():
    rng = np.random.default_rng(0)
    is_female, litter = rng.random(40) < 0.5, rng.integers(0, 6, 40)
    first = allocate(is_female, litter, 3, np.random.default_rng(7))
    assert np.array_equal(first, allocate(is_female, litter, 3, np.random.default_rng(7)))
    assert not np.array_equal(first, allocate(is_female, litter, 3, np.random.default_rng(8)))


def test_allocate_gives_each_animal_each_arm_with_probability_one_over_arms():
    is_female, litter = np.array([True, True, False, False, True]), np.array([0, 0, 0, 1, 1])
    arms, runs = 3, 3000
    hits = np.array([allocate(is_female, litter, arms, np.random.default_rng(s)) for s in range(runs)])
    freq = np.stack([np.mean(hits == a, axis=0) for a in range(arms)])
    # binomial SE of a frequency near 1/3 over 3000 runs is 0.0086; allow 4 SE
    assert np.all(np.abs(freq - 1 / arms) < 4 * np.sqrt((1 / 3) * (2 / 3) / runs))


@settings(max_examples=100, deadline=None)
@given(pool=pools, arms=st.integers(1, 4), per_arm=st.integers(0, 12), seed=st.integers(0, 2**32 - 1))
def test_allocate_per_arm_selects_balanced_arms(pool, arms, per_arm, seed):
    is_female, litter = np.array(pool[0], dtype=bool), np.array(pool[1], dtype=int)
    if per_arm * arms > is_female.size:
        with pytest.raises(ValueError):
            allocate_per_arm(is_female, litter, per_arm, arms, np.random.default_rng(seed))
        return
    groups = allocate_per_arm(is_female, litter, per_arm, arms, np.random.default_rng(seed))
    chosen = np.concatenate(groups).astype(int)
    assert [g.size for g in groups] == [per_arm] * arms
    assert all(np.array_equal(g, np.sort(g)) for g in groups)
    assert np.unique(chosen).size == chosen.size
    arm = np.concatenate([np.full(per_arm, a) for a in range(arms)]).astype(int)
    n_f, total = int(is_female[chosen].sum()), per_arm * arms
    # as close to half female as the pool allows
    assert np.clip(total // 2, total - (~is_female).sum(), is_female.sum()) <= n_f
    assert n_f <= np.clip((total + 1) // 2, total - (~is_female).sum(), is_female.sum())
    for sex in (True, False):
        sel = is_female[chosen] == sex
        assert _spread(arm[sel], arms) <= 1
        picked = np.bincount(litter[chosen][sel], minlength=8)
        available = np.bincount(litter[is_female == sex], minlength=8)
        for a in range(8):  # litters are picked round-robin: no litter over-represented
            assert np.all((picked[a] <= picked + 1) | (picked == available))


# ------------------------------------------------------------ survival stats

def test_event_after_follow_up_is_censored_at_follow_up():
    arm = ArmOutcome([100.0, np.nan, 250.0], [90.0, 120.0, np.nan], 200.0)
    event_ages_days, observed = arm.survival_data("end_stage")  # ages of the animals, not run times
    assert event_ages_days.tolist() == [100.0, 200.0, 200.0] and observed.tolist() == [True, False, False]
    assert arm.survival_data("onset")[1].tolist() == [True, True, False]


def test_median_ci_and_logrank_match_lifelines():
    rng = np.random.default_rng(1)
    # censoring at 200 d in one arm precedes events in the other (followed to 260 d): the log-rank
    # statistic then depends on the censoring indicators, which it would not if all arms ended together
    arm, other = weibull_arm(rng, 30, 80.0), weibull_arm(rng, 30, 160.0, follow_up=260.0)
    durations, observed = arm.survival_data("end_stage")
    assert 5 < (~observed).sum() < 25  # the data are censored at follow-up
    kmf = KaplanMeierFitter().fit(durations, observed)
    ci = median_survival_times(kmf.confidence_interval_).to_numpy()[0]
    got = median_with_ci(arm.end_stage_day, FOLLOW_UP)
    assert got == pytest.approx((kmf.median_survival_time_, ci[0], ci[1]), rel=1e-12)
    assert got[1] < got[0] < got[2]
    d2, o2 = other.survival_data("end_stage")
    expected = logrank_test(durations, d2, event_observed_A=observed, event_observed_B=o2).p_value
    assert logrank_p(arm, other) == pytest.approx(expected, rel=1e-12)


def test_median_of_uncensored_sample_is_the_order_statistic():
    times = np.random.default_rng(2).uniform(70, 150, 21)
    assert median_with_ci(times, FOLLOW_UP)[0] == pytest.approx(np.median(times))


def test_median_not_reached_is_nan():
    times = np.r_[np.full(12, np.nan), np.linspace(100, 150, 8)]  # 8/20 events: S never <= 0.5
    median, lo, hi = median_with_ci(times, FOLLOW_UP)
    assert np.isnan(median) and np.isnan(hi)
    assert 100 <= lo <= 150  # the lower 95% band of S(t) does cross 0.5: the CI is [lo, not reached)
    assert all(np.isnan(median_with_ci(np.array([]), FOLLOW_UP)))


@pytest.fixture(scope="module")
def null_replicates():
    """400 null trials (n=20 per arm, exponential scale 80 d): log-rank p and median difference."""
    rng = np.random.default_rng(2024)
    p, diff = np.empty(400), np.empty(400)
    for i in range(400):
        treated, control = weibull_arm(rng, 20, 80.0), weibull_arm(rng, 20, 80.0)
        p[i] = logrank_p(treated, control)
        diff[i] = np.median(treated.survival_data("end_stage")[0]) - np.median(control.survival_data("end_stage")[0])
    return p, diff


def test_logrank_p_is_uniform_under_the_null(null_replicates):
    p, _ = null_replicates
    rate, se = power(p, 0.05)
    # binomial SE of the rejection rate at alpha=0.05 over 400 replicates: sqrt(.05*.95/400) = 0.011
    assert se == pytest.approx(np.sqrt(rate * (1 - rate) / 400))
    assert abs(rate - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 400)
    # mean of Uniform(0,1) is 1/2 with SE sqrt(1/12/400) = 0.014
    assert abs(p.mean() - 0.5) < 3 * np.sqrt(1 / 12 / 400)
    # each decile holds 10% of p-values, binomial SE sqrt(.1*.9/400) = 0.015
    deciles = np.histogram(p, bins=10, range=(0, 1))[0] / 400
    assert np.all(np.abs(deciles - 0.1) < 4 * np.sqrt(0.1 * 0.9 / 400))


def test_null_treatment_looks_positive_about_alpha_over_2(null_replicates):
    p, diff = null_replicates
    summary = effect_distribution(diff, p, alpha=0.05, favourable="greater")
    # favourable direction: 50% +- 3 SE (SE = 0.025); favourable and significant: alpha/2 +- 3 SE (SE = 0.0078)
    assert abs(summary["fraction_favourable"] - 0.5) < 3 * np.sqrt(0.25 / 400)
    assert abs(summary["fraction_favourable_significant"] - 0.025) < 3 * np.sqrt(0.025 * 0.975 / 400)
    assert summary["lo"] < summary["median"] < summary["hi"]


@pytest.mark.parametrize("shape", [1.0, 3.0])
def test_cox_recovers_a_known_hazard_ratio(shape):
    rng = np.random.default_rng(11)
    scale = 100.0
    # Weibull hazard scales as scale**-shape, so HR 0.5 means the treated scale is 2**(1/shape) larger
    treated = weibull_arm(rng, 400, scale * 2 ** (1 / shape), shape, follow_up=OFFSET + 2 * scale)
    control = weibull_arm(rng, 400, scale, shape, follow_up=OFFSET + 2 * scale)
    hr, lo, hi, p = hazard_ratio(treated, control)
    se_log = (np.log(hi) - np.log(lo)) / (2 * 1.959964)  # SE of log HR from the Wald CI
    assert se_log < 0.12  # about sqrt(1/d1 + 1/d2) with 500-700 events
    assert abs(np.log(hr) - np.log(0.5)) < 3 * se_log
    assert p < 1e-6
    assert logrank_p(treated, control) < 1e-6


def test_difference_ci_covers_the_true_median_difference():
    rng = np.random.default_rng(5)
    treated, control = weibull_arm(rng, 150, 90.0), weibull_arm(rng, 150, 50.0)
    value, lo, hi = difference_ci(treated, control, "end_stage", rng=3, n_boot=100)
    truth = np.log(2) * (90.0 - 50.0)  # exponential medians: OFFSET + scale*ln 2
    assert lo < truth < hi and lo < value < hi
    assert hi - lo < 45  # SE of the difference ~ sqrt(7.3**2 + 4.1**2) = 8.4 d at n=150: 95% CI ~ 33 d wide


def test_difference_ci_undefined_bootstrap_gives_nan_interval():
    times = np.r_[np.full(9, np.nan), np.linspace(100, 150, 11)]  # 11/20 events: median often not reached
    arm = ArmOutcome(times, times, FOLLOW_UP)
    notes: list[str] = []
    value, lo, hi = difference_ci(arm, arm, "onset", rng=0, n_boot=60, notes=notes)
    assert value == 0.0 and np.isnan(lo) and np.isnan(hi)
    assert "bootstrap replicates" in notes[0]


DEGENERATE = {
    "no events in either arm": (constant_arm(np.nan), constant_arm(np.nan)),
    "all times identical": (constant_arm(120.0), constant_arm(120.0)),
    "an arm is empty": (ArmOutcome([], [], FOLLOW_UP), constant_arm(120.0)),
}


@pytest.mark.parametrize("reason", DEGENERATE)
def test_degenerate_inputs_give_nan_with_a_reason(reason):
    treated, control = DEGENERATE[reason]
    notes: list[str] = []
    assert np.isnan(logrank_p(treated, control, notes=notes))
    assert all(np.isnan(hazard_ratio(treated, control, notes=notes)))
    assert len(notes) == 2 and all(reason in n for n in notes)
    out = compare_arms({"c": control, "t": treated}, "c", rng=0, n_boot=10)
    json.dumps(out, allow_nan=False)
    assert out["t"]["hazard_ratio"]["value"] is None and out["t"]["logrank_p"] is None
    assert out["c"]["mean_count_at_day"] == {"value": 50.0, "lo": 50.0, "hi": 50.0}  # zero variance


def test_no_events_in_treated_arm_keeps_logrank_but_not_hazard_ratio():
    treated, control = constant_arm(np.nan, 10), weibull_arm(np.random.default_rng(3), 10, 40.0)
    notes: list[str] = []
    assert logrank_p(treated, control, notes=notes) < 0.01
    assert all(np.isnan(hazard_ratio(treated, control, notes=notes)))
    assert notes == ["end_stage hazard ratio: no events in the treated arm: Cox partial likelihood is monotone, HR not estimable"]


def test_complete_separation_gives_nan_hazard_ratio():
    rng = np.random.default_rng(4)
    early = ArmOutcome(rng.uniform(70, 90, 8), rng.uniform(60, 70, 8), FOLLOW_UP)
    late = ArmOutcome(rng.uniform(150, 190, 8), rng.uniform(100, 140, 8), FOLLOW_UP)
    notes: list[str] = []
    assert all(np.isnan(hazard_ratio(late, early, notes=notes)))
    assert "did not converge" in notes[0] or "failed" in notes[0]
    assert logrank_p(late, early) < 0.001


def test_compare_arms_is_json_and_consistent_with_the_parts():
    rng = np.random.default_rng(8)
    arms = {"vehicle": weibull_arm(rng, 20, 50.0), "drug": weibull_arm(rng, 20, 90.0)}
    out = compare_arms(arms, "vehicle", rng=1, n_boot=20)
    json.dumps(out, allow_nan=False)
    assert out == compare_arms(arms, "vehicle", rng=1, n_boot=20)
    assert "hazard_ratio" not in out["vehicle"]
    drug = out["drug"]
    assert drug["n"] == 20 and drug["events"]["end_stage"] == int(np.isfinite(arms["drug"].end_stage_day).sum())
    hr = hazard_ratio(arms["drug"], arms["vehicle"])
    assert drug["hazard_ratio"] == pytest.approx({"value": hr.hr, "lo": hr.lo, "hi": hr.hi, "p": hr.p})
    assert drug["logrank_p"] == pytest.approx(logrank_p(arms["drug"], arms["vehicle"]))
    med = median_with_ci(arms["drug"].onset_day, FOLLOW_UP)
    assert drug["median_onset_day"] == pytest.approx(dict(zip(("value", "lo", "hi"), med)))
    diff = drug["difference_end_stage_day"]
    assert diff["value"] == pytest.approx(drug["median_end_stage_day"]["value"] - out["vehicle"]["median_end_stage_day"]["value"])
    count = drug["difference_count_at_day"]
    assert count["lo"] < count["value"] < count["hi"] and drug["notes"] == []


def test_power_and_its_binomial_se():
    assert power(np.array([0.01, 0.2, np.nan, 0.04]), alpha=0.05) == pytest.approx((0.5, 0.25))
    assert all(np.isnan(power(np.array([]))))
    table = {10: np.array([0.5, 0.01]), 5: np.array([0.5, 0.5])}
    assert power_curve(table) == {5: (0.0, 0.0), 10: (0.5, np.sqrt(0.25 / 2))}
    with pytest.raises(ValueError):
        power_curve(lambda n: np.zeros(3))


def test_power_rises_with_n_and_with_effect_size():
    def replicate_p(n: int, hr: float, seed: int, reps: int = 50) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return np.array([logrank_p(weibull_arm(rng, n, 60.0 / hr), weibull_arm(rng, n, 60.0)) for _ in range(reps)])

    def rises(low: tuple[float, float], high: tuple[float, float]) -> bool:
        return high[0] - low[0] > 3 * np.hypot(low[1], high[1])  # 3 SE of the difference

    by_n = power_curve(lambda n: replicate_p(n, 0.5, seed=n), ns=[6, 40])
    assert rises(by_n[6], by_n[40])
    by_effect = [power(replicate_p(20, hr, seed=1)) for hr in (0.8, 0.35)]
    assert rises(*by_effect)


def test_plot_km_draws_one_banded_curve_per_arm():
    rng = np.random.default_rng(9)
    ax = Figure().subplots()
    plot_km({"vehicle": weibull_arm(rng, 15, 50.0), "drug": weibull_arm(rng, 15, 90.0)}, "onset", ax)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "vehicle (n=15)" in labels and "drug (n=15)" in labels
    assert len(ax.collections) == 2  # one 95% confidence band per arm
    assert ax.get_xlabel() == "age (days)" and ax.get_ylabel() == "fraction without onset"


def test_numpy_km_median_and_logrank_equal_lifelines_with_ties_and_censoring():
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    from alsim.trials.fast_stats import km_median, logrank_pvalue

    rng = np.random.default_rng(12)
    for _ in range(60):
        n_a, n_b = rng.integers(3, 25, size=2)
        da, db = np.round(rng.weibull(3, n_a) * 100), np.round(rng.weibull(3, n_b) * 110)  # whole days: ties
        ea, eb = rng.random(n_a) < 0.8, rng.random(n_b) < 0.8
        kmf = KaplanMeierFitter().fit(da, ea)
        assert km_median(da, ea) == kmf.median_survival_time_
        expected = logrank_test(da, db, event_observed_A=ea, event_observed_B=eb).p_value
        assert logrank_pvalue(da, ea, db, eb) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_power_grid_covers_small_arms():
    """Two animals per arm get a power estimate at n = 2 (this crashed summarise_trial); one gets none."""
    from alsim.trials.analysis import power_grid

    assert power_grid(2) == [2]
    assert power_grid(1) == []
    assert power_grid(3) == [3]
    assert power_grid(40)[0] == 3 and power_grid(40)[-1] == 40
