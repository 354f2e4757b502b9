"""Calibrating the human presets: the human.csv rows as statistics, the summaries read from a
cohort's clinical events, and ``alsim calibrate`` on a human preset end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from alsim.cli import main
from alsim.config import load_scenario
from alsim.inference.human_observations import DAYS_PER_MONTH, human_statistics
from alsim.inference.human_summaries import HumanEvents, human_summaries, kaplan_meier, km_quantile, km_survival_at
from alsim.inference.model import scenario_with
from alsim.inference.priors import load_priors


def _by_kind() -> dict:
    return {s.kind: s for s in human_statistics()}


def test_human_rows_become_statistics_with_errors_from_the_data():
    stats = _by_kind()
    assert set(stats) == {"human_median_survival_months", "human_median_diagnostic_delay_months",
                          "human_one_year_mortality"}
    survival = stats["human_median_survival_months"]
    assert survival.observed == 34.0 and survival.offset == (-14.0, 14.0) and survival.gaussian_sd == 0.0
    assert survival.error_sd == pytest.approx(14.0 / math.sqrt(3))            # SD of a uniform over 20-48
    delay = stats["human_median_diagnostic_delay_months"]
    assert delay.observed == 14.0 and delay.offset == (0.0, 14.0)             # an upper bound: + unsimulated lag
    assert delay.gaussian_sd == pytest.approx(2.8)                            # assumed 20 % tolerance of "~14"
    assert "assumed" in delay.error_basis
    mortality = stats["human_one_year_mortality"]
    se = math.sqrt(0.341 * 0.659 / 176)
    assert mortality.observed == 0.341 and mortality.spec["n"] == 176
    assert mortality.spec["binomial_se"] == pytest.approx(se) == pytest.approx(0.03573, abs=1e-5)
    assert mortality.error_sd == pytest.approx(math.hypot(se, 0.05)) and mortality.sampling_topup
    assert all(s.fitted for s in stats.values())


def test_noise_follows_each_rule():
    stats = _by_kind()
    rng = np.random.default_rng(4)
    survival = np.array([stats["human_median_survival_months"].noise(rng) for _ in range(4000)])
    assert survival.min() >= -14 and survival.max() <= 14 and abs(survival.std() - 14 / math.sqrt(3)) < 0.3
    delay = np.array([stats["human_median_diagnostic_delay_months"].noise(rng) for _ in range(4000)])
    assert abs(delay.mean() - 7.0) < 0.3                                       # U(0, 14) + N(0, 2.8)
    mortality = stats["human_one_year_mortality"]
    assert mortality.noise(rng, sampling_se=0.2) == 0.0                        # the cohort already noisier
    topped = np.array([mortality.noise(rng, sampling_se=0.04) for _ in range(4000)])
    assert topped.std() == pytest.approx(math.sqrt(mortality.error_sd ** 2 - 0.04 ** 2), rel=0.05)


def test_kaplan_meier_by_hand():
    time = np.array([1, 2, 2, 3, 4, 5.0])
    event = np.array([1, 1, 0, 1, 0, 1], dtype=bool)
    t, survival, _ = kaplan_meier(time, event)
    np.testing.assert_allclose(t, [1, 2, 3, 5])
    np.testing.assert_allclose(survival, [5 / 6, 4 / 6, 4 / 6 * 2 / 3, 0.0])   # the censored 2 is at risk at 2
    assert km_quantile(time, event) == 3.0
    assert km_survival_at(time, event, 2.5)[0] == pytest.approx(4 / 6)
    assert km_survival_at(time, event, 0.5) == (1.0, 0.0)
    assert math.isnan(km_quantile(time, np.zeros(6, bool)))


def test_human_summaries_of_a_constructed_cohort():
    """Eight people, last simulated day 1000: the answers are worked out by hand."""
    nan = np.nan
    onset = np.array([100, 100, 100, 100, 200, 300, 500, nan])
    diagnosis = np.array([60, 120, 200, 300, nan, 100, nan, nan])             # days from onset
    end = np.array([300, 400, 900, nan, 250, nan, nan, nan])                   # days from onset
    events = HumanEvents(onset, diagnosis, end, last_sim_day=1000)
    values, sampling, details = human_summaries(events)
    assert details == {"people": 8, "with_onset": 7, "reached_end_stage": 4, "diagnosed": 5,
                       "end_stage_undiagnosed": 1, "censored_in_first_year_after_diagnosis": 0}
    # Survival from onset: deaths at 250, 300, 400, 900; censored at 500, 700 and 900 (follow-up ends).
    # S = 6/7, 5/7, 4/7 after 400 (> 0.5); at 900 two are at risk (the tied censored one counts): 2/7.
    assert values["human_median_survival_months"] == pytest.approx(900 / DAYS_PER_MONTH)
    # Delay: the person who died undiagnosed (250) is left out; the undiagnosed alive one (follow-up 500)
    # is censored. Times 60, 100, 120, 200, 300 (events), 500 (censored): S < 0.5 at the third event.
    assert values["human_median_diagnostic_delay_months"] == pytest.approx(120 / DAYS_PER_MONTH)
    # After diagnosis: 240, 280, 700 (deaths), 600, 600 (censored at 1000 - onset - diagnosis), all past a year
    # except two deaths: 1 - KM(365.25) = 2/5, as the simple proportion.
    assert values["human_one_year_mortality"] == pytest.approx(0.4)
    assert sampling["human_one_year_mortality"] == pytest.approx(math.sqrt(0.6 * 0.4 / 5))  # Greenwood = binomial
    assert math.isnan(sampling["human_median_survival_months"])


def test_censoring_in_the_first_year_uses_kaplan_meier():
    """Four diagnosed people; one is followed only 200 days after diagnosis, between two deaths."""
    events = HumanEvents(np.array([0.0, 0, 0, 700]), np.array([100.0, 100, 100, 100]),
                         np.array([200.0, 400, 700, np.nan]), last_sim_day=1000)
    values, _, details = human_summaries(events)
    assert details["censored_in_first_year_after_diagnosis"] == 1
    # Deaths 100 and 300 days after diagnosis, censored at 200: S = 3/4 * 1/2 = 3/8. Neither naive
    # proportion (2/4 counting the censored as alive, 2/3 leaving them out) gives 5/8.
    assert values["human_one_year_mortality"] == pytest.approx(5 / 8)
    never = HumanEvents(np.array([0.0, 0]), np.array([np.nan, np.nan]), np.array([np.nan, np.nan]), 50)
    values, _, _ = human_summaries(never)
    assert values["human_median_survival_months"] == pytest.approx(50 / DAYS_PER_MONTH)  # lower bound
    assert math.isnan(values["human_one_year_mortality"])


def test_human_priors_and_the_tied_weakness_threshold():
    priors = load_priors("dying_back", species="human")
    assert priors.paths == ["disease.burden_scale_days", "disease.burden_exponent", "human.weakness_force_fraction"]
    base, _ = load_scenario("human-sals-limb")
    for p in priors.priors:
        node = base.model_dump()
        for part in p.path.split("."):
            node = node[part]
        assert p.low <= node <= p.high, p.path                                # the preset lies inside its prior
    moved = scenario_with(base, {"human.weakness_force_fraction": 0.5})
    assert moved.human.functional_rating.full_score_force_fraction == 0.5


TINY_PRESET = """extends = "human-sals-limb"
name = "tiny-human"
description = "test only: human-sals-limb with 6 units and 60 fibres per muscle, 4 years"
horizon_days = { value = 1400, source = "test: long enough for the fast disease of FAST_PRIORS" }
""" + "".join(f"""[muscles.{m}]
n_motor_units = {{ value = 6, source = "test" }}
n_fibres = {{ value = 60, source = "test" }}
""" for m in ("genioglossus", "abductor_pollicis_brevis", "first_dorsal_interosseous", "abductor_digiti_minimi",
              "biceps_brachii", "diaphragm", "external_intercostal", "tibialis_anterior"))


FAST_PRIORS = """# test only: a fast disease, so that 1400 days hold onset to end stage
[parameters."disease.burden_scale_days"]
low = 250.0
high = 350.0
source = "test"
[parameters."disease.burden_exponent"]
low = 2.5
high = 4.0
source = "test"
[parameters."human.weakness_force_fraction"]
low = 0.5
high = 0.7
source = "test"
"""


def test_calibrate_a_human_preset_through_the_cli(tmp_path):
    """The real preset's people cost ~0.5 s each over 8 years; this one extends it with 6 units per
    muscle and 4 years, with priors of a fast disease (the numbers mean nothing: the plumbing is tested)."""
    preset = tmp_path / "tiny-human.toml"
    preset.write_text(TINY_PRESET)
    priors = tmp_path / "fast.toml"
    priors.write_text(FAST_PRIORS)
    out = tmp_path / "out"
    args = ["calibrate", "--preset", str(preset), "--priors", str(priors), "--budget", "30", "--population", "5",
            "--subjects", "3", "--draws", "2", "--workers", "1", "--seed", "3", "--out", str(out)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["species"] == "human" and summary["request"]["hypotheses"] == ["dying_back"]  # the preset's
    assert 0 < summary["n_simulations"] <= 30      # the prior sample and generation 0 share the budget
    assert [s["kind"] for s in summary["statistics"]] == ["human_median_survival_months",
                                                          "human_median_diagnostic_delay_months",
                                                          "human_one_year_mortality"]
    posterior = pd.read_csv(out / "posterior.csv")
    assert posterior["weight"].sum() == pytest.approx(1.0)
    assert posterior["human.weakness_force_fraction"].between(0.5, 0.7).all()
    predictive = json.loads((out / "predictive.json").read_text())
    assert [c["simulated"] for c in predictive["checks"]["dying_back"]] == [True, True, True]
    assert predictive["cohort_counts"]["dying_back"]["people"] == 3
    calibrated, sources = load_scenario(out / "preset-dying_back.toml")
    assert calibrated.human.functional_rating.full_score_force_fraction == calibrated.human.weakness_force_fraction
    assert "posterior median" in sources["human.weakness_force_fraction"]
    assert "clinical events" in (out / "report.html").read_text()


def test_the_budget_counts_the_prior_sample_too(tmp_path, capsys):
    """The prior sample that calibrates the distance (8) and generation 0 share --budget 20:
    generation 0 cannot accept 8 particles in the 12 left, so nothing is stored (exit 2),
    rather than 24 simulations against a budget of 20."""
    preset, priors = tmp_path / "tiny-human.toml", tmp_path / "fast.toml"
    preset.write_text(TINY_PRESET)
    priors.write_text(FAST_PRIORS)
    args = ["calibrate", "--preset", str(preset), "--priors", str(priors), "--budget", "20", "--population", "8",
            "--subjects", "3", "--draws", "2", "--workers", "1", "--seed", "3", "--out", str(tmp_path / "out")]
    assert main(args) == 2
    assert "not one generation of 8 particles was accepted within it" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["calibrate", "--preset", "human-sals-limb", "--subjects", "1"], "--subjects"),
    (["calibrate", "--preset", "human-sals-limb", "--people", "5"], "--people"),
    (["compare", "--preset", "human-sals-limb"], "compare takes mouse presets"),
    (["calibrate", "--preset", "human-sals-limp"], "--preset"),
])
def test_bad_human_calibration_input_exits_2_naming_the_field(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert main([*args, "--budget", "20", "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_the_limb_preset_cites_its_calibration():
    _, sources = load_scenario("human-sals-limb")
    for path in ("disease.burden_scale_days", "disease.burden_exponent", "human.weakness_force_fraction"):
        assert "alsim calibrate --preset human-sals-limb" in sources[path], path
