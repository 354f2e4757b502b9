"""From simulated arms to what a lab reads: effects with intervals, power, false positives.

The reported trial (replicate 0) is analysed as a lab would analyse its one study:
Kaplan-Meier medians, log-rank test, Cox hazard ratio, bootstrap intervals
(:mod:`alsim.trials.stats`). Replicates ``1..R`` give, per treated arm, the power of the
design (fraction of replicates with log-rank p < alpha on end stage, with its binomial
Monte Carlo error), the distribution of the estimated effect, and, for an untreated
``placebo`` arm, how often a null treatment looks positive. Power over n comes from
the same replicates: for each n, the first n animals of a random order within each arm.
"""

from __future__ import annotations

import numpy as np

from .._version import __version__
from .design import TrialDesign
from .execute import ArmRun, pool_size
from .fast_stats import km_median, logrank_pvalue
from .stats import ArmOutcome, compare_arms, effect_distribution, power

SUBSAMPLE_STREAM = 4
BOOTSTRAP_STREAM = 5


def _median_difference(arm: ArmOutcome, control: ArmOutcome, endpoint: str) -> float:
    """Difference of Kaplan-Meier medians, treated - control (days; NaN if either is not reached)."""
    difference = km_median(*arm.survival_data(endpoint)) - km_median(*control.survival_data(endpoint))
    return difference if np.isfinite(difference) else float("nan")


def _logrank(arm: ArmOutcome, control: ArmOutcome) -> float:
    return logrank_pvalue(*arm.survival_data("end_stage"), *control.survival_data("end_stage"))


def replicate_effects(design: TrialDesign, runs: dict[int, dict[str, ArmRun]]) -> dict[str, dict[str, np.ndarray]]:
    """Per treated arm, arrays over replicates: end-stage log-rank p and median differences (days).

    NumPy log-rank and KM medians (:mod:`alsim.trials.fast_stats`, equal to lifelines');
    no Cox fit per replicate, which would cost 20 ms each."""
    effects: dict[str, dict[str, list[float]]] = {}
    for r in sorted(runs):
        if r == 0:
            continue
        control = runs[r]["control"].outcome
        for label, run in runs[r].items():
            if label == "control":
                continue
            row = effects.setdefault(label, {"logrank_p": [], "difference_end_stage_day": [], "difference_onset_day": []})
            row["logrank_p"].append(_logrank(run.outcome, control))
            row["difference_end_stage_day"].append(_median_difference(run.outcome, control, "end_stage"))
            row["difference_onset_day"].append(_median_difference(run.outcome, control, "onset"))
    return {label: {k: np.asarray(v, dtype=float) for k, v in row.items()} for label, row in effects.items()}


def _subsample(outcome: ArmOutcome, order: np.ndarray, n: int) -> ArmOutcome:
    keep = order[:n]
    count = None if outcome.count_at_day is None else outcome.count_at_day[keep]
    return ArmOutcome(outcome.end_stage_day[keep], outcome.onset_day[keep], outcome.follow_up_days, count)


def power_grid(per_arm: int) -> list[int]:
    """Animals per arm at which power is estimated: up to 8 values from 3 (or ``per_arm``, if smaller) to
    ``per_arm``; none below 2 animals per arm, where a log-rank test means nothing."""
    grid = np.unique(np.round(np.geomspace(min(3, per_arm), per_arm, num=min(8, max(per_arm - 2, 1)))).astype(int))
    return [int(n) for n in grid if 2 <= n <= per_arm]


def power_over_n(design: TrialDesign, runs: dict[int, dict[str, ArmRun]]) -> dict[str, dict[int, tuple[float, float]]]:
    """Per treated arm: ``{n: (power, Monte Carlo SE)}`` of the end-stage log-rank test."""
    grid = power_grid(design.per_arm)
    p_values: dict[str, dict[int, list[float]]] = {}
    for r in sorted(runs):
        if r == 0:
            continue
        rng = np.random.default_rng(np.random.SeedSequence(design.seed, spawn_key=(SUBSAMPLE_STREAM, r)))
        orders = {label: rng.permutation(design.per_arm) for label in design.labels}
        control = runs[r]["control"].outcome
        for label, run in runs[r].items():
            if label == "control":
                continue
            for n in grid:
                p = _logrank(_subsample(run.outcome, orders[label], n), _subsample(control, orders["control"], n))
                p_values.setdefault(label, {}).setdefault(n, []).append(p)
    return {label: {n: power(np.asarray(p), design.alpha) for n, p in by_n.items()} for label, by_n in p_values.items()}


def summarise_trial(design: TrialDesign, runs: dict[int, dict[str, ArmRun]]) -> dict:
    """Everything ``trial.json`` holds (plain JSON types)."""
    reported = {label: runs[0][label].outcome for label in design.labels}
    rng = np.random.default_rng(np.random.SeedSequence(design.seed, spawn_key=(BOOTSTRAP_STREAM,)))
    arms = compare_arms(reported, "control", rng, n_boot=500)
    for label in design.labels:
        arms[label]["treatments"] = [t.model_dump(mode="json", include={"start_day", "end_day", "dose"}) | {"name": t.treatment.name}
                                     for t in next(a for a in design.arms if a.label == label).treatments]
    n_replicates = len(runs) - 1
    if n_replicates > 0:
        effects = replicate_effects(design, runs)
        curves = power_over_n(design, runs)
        for label, effect in effects.items():
            value, se = power(effect["logrank_p"], design.alpha)
            arms[label]["power"] = {"value": value, "monte_carlo_se": se, "replicates": n_replicates, "alpha": design.alpha,
                                    "test": "log-rank on end stage, two-sided"}
            arms[label]["effect_distribution"] = {
                "difference_end_stage_day": effect_distribution(effect["difference_end_stage_day"], effect["logrank_p"], design.alpha),
                "difference_onset_day": effect_distribution(effect["difference_onset_day"], effect["logrank_p"], design.alpha),
            }
            arms[label]["power_over_n"] = {str(n): {"value": p, "monte_carlo_se": s} for n, (p, s) in curves.get(label, {}).items()}
    return {
        "alsim_version": __version__,
        "scenario": design.scenario.name,
        "hypothesis": design.scenario.hypothesis.name,
        "seed": design.seed,
        "per_arm": design.per_arm,
        "follow_up_days": design.days,
        "replicates": n_replicates,
        "alpha": design.alpha,
        "control": "control",
        "allocation": (f"pool of {pool_size(design)} animals per replicate; per_arm x arms selected half female, round-robin "
                       "over litters, then randomised within (litter, sex) strata (Scott et al. 2008)"),
        "count_endpoint": None if design.count_day is None else {
            "day": design.count_day, "readout": design.count_readout, "muscle": design.muscle_for_count},
        "arms": arms,
    }
