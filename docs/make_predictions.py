"""Write docs/predictions.md: each catalogue treatment's predicted change in onset and end stage, with uncertainty.

For every hypothesis of a posterior (default: the packaged ``sod1-g93a-b6sjl``, which
holds all three) and every treatment of the catalogue, started at a stated age (P60 by
default; a genetic treatment from conception), this runs replicate in-silico trials with
the trial machinery of ``alsim.trials`` (allocation, Kaplan-Meier medians, log-rank
power). Each replicate trial draws ONE parameter set from the hypothesis's posterior
(by weight) for all of its animals: the posterior is uncertainty about the strain's
parameters, which every animal of one colony shares. Over the replicates, the
difference of Kaplan-Meier medians (treated minus control) is the posterior-predictive
distribution of the effect a trial of ``--per-arm`` animals per arm would estimate, and
the fraction of replicates with end-stage log-rank p < 0.05 at n animals per arm is the
power averaged over the posterior (assurance).

    nice -n 10 python docs/make_predictions.py                     # writes docs/predictions.md
    nice -n 10 python docs/make_predictions.py --posterior DIR     # another calibration's posterior
    python docs/make_predictions.py --treatments cntf --per-arm 4 --replicates 3 --out -   # a quick look

No treatment strength is set or changed here: the catalogue is used as shipped.
Everything on the page is computed by this run.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import alsim
from alsim.biology.interventions import hypotheses_acted_under, load_catalogue
from alsim.inference.cohort import PosteriorCohort
from alsim.inference.posterior import POSTERIOR_FILE, Posterior
from alsim.store.provenance import file_sha256
from alsim.trials.analysis import power_over_n
from alsim.trials.design import TrialDesign, parse_arm
from alsim.trials.execute import run_replicates, subjects_needed
from alsim.trials.fast_stats import km_median

DOCS = Path(__file__).resolve().parent
PAGE = DOCS / "predictions.md"
#: Stream of the per-replicate posterior draws (apart from the trial's own streams 0-5).
PARTICLE_STREAM = 0x9E
POWER_TARGET = 0.8


@dataclass(frozen=True)
class Prediction:
    """One treatment under one hypothesis: replicate arrays and the power curve."""

    arm: str
    onset: np.ndarray            # per replicate: KM median onset, treated - control (days; see median_differences)
    end_stage: np.ndarray        # the same for end stage
    power: dict[int, tuple[float, float]]   # n per arm -> (power, Monte Carlo SE)
    acts: bool                   # the treatment acts under this hypothesis at all


@dataclass(frozen=True)
class HypothesisRun:
    hypothesis: str
    probability: float | None
    particles: int
    effective_sample_size: float
    control_onset: np.ndarray    # per replicate: control's KM median onset (days)
    control_end_stage: np.ndarray
    predictions: list[Prediction]
    follow_up: int               # days of age
    seconds: float


def treatment_arms(catalogue: dict, start_day: int, names: list[str] | None) -> list[str]:
    """One arm per treatment at full dose: ``NAME@START`` (a genetic one from conception: ``NAME``)."""
    chosen = names or list(catalogue)
    unknown = sorted(set(chosen) - set(catalogue))
    if unknown:
        raise SystemExit(f"--treatments: unknown {', '.join(unknown)}; allowed: {', '.join(catalogue)}")
    return [name if catalogue[name].kind == "genetic" else f"{name}@{start_day}" for name in chosen]


def replicate_particles(design: TrialDesign, posterior: Posterior, hypothesis: str) -> PosteriorCohort:
    """A cohort in which every animal of replicate r runs with replicate r's particle (drawn by weight)."""
    params, weights = posterior.of(hypothesis)
    rng = np.random.default_rng(np.random.SeedSequence(design.seed, spawn_key=(PARTICLE_STREAM,)))
    per_replicate = rng.choice(len(weights), size=design.replicates + 1, p=weights)
    pool = subjects_needed(design) // (design.replicates + 1)
    return PosteriorCohort(design.scenario, str(posterior.folder), hypothesis, tuple(params.columns),
                           params.to_numpy(dtype=float), np.arange(subjects_needed(design)), np.repeat(per_replicate, pool))


def arm_medians(runs: dict, label: str, endpoint: str) -> np.ndarray:
    """Per replicate: the arm's Kaplan-Meier median age at ``endpoint`` (days; inf: not reached by follow-up)."""
    return np.array([km_median(*runs[r][label].outcome.survival_data(endpoint)) for r in sorted(runs)])


def median_differences(runs: dict, label: str, endpoint: str) -> np.ndarray:
    """Per replicate: treated minus control KM median (days); +inf where only the treated
    median is beyond follow-up, -inf where only the control's is, NaN where both are."""
    with np.errstate(invalid="ignore"):
        return arm_medians(runs, label, endpoint) - arm_medians(runs, "control", endpoint)


def predict_hypothesis(args, posterior: Posterior, hypothesis: str, probability: float | None, arms: list[str],
                       catalogue: dict) -> HypothesisRun:
    """Replicates 1..R of a trial with every arm, each replicate under one posterior draw."""
    start = time.perf_counter()
    scenario, _ = alsim.load_scenario(args.scenario, [f"hypothesis.name={hypothesis}"])
    design = TrialDesign(scenario=scenario, arms=tuple(parse_arm(a, catalogue) for a in ["control", *arms]),
                         per_arm=args.per_arm, days=args.days, seed=args.seed,
                         replicates=args.replicates)
    cohort = replicate_particles(design, posterior, hypothesis)
    runs = run_replicates(design, list(range(1, args.replicates + 1)), workers=args.workers, cohort=cohort)
    curves = power_over_n(design, runs)
    predictions = [Prediction(arm.label, median_differences(runs, arm.label, "onset"),
                              median_differences(runs, arm.label, "end_stage"), curves[arm.label],
                              any(hypothesis in hypotheses_acted_under(t.treatment) for t in arm.treatments))
                   for arm in design.arms[1:]]
    seconds = time.perf_counter() - start
    print(f"  {hypothesis}: {seconds:.0f} s", file=sys.stderr)
    return HypothesisRun(hypothesis, probability, len(posterior.of(hypothesis)[1]),
                         posterior.effective_sample_size(hypothesis), arm_medians(runs, "control", "onset"),
                         arm_medians(runs, "control", "end_stage"), predictions, design.days, seconds)


def model_probabilities(folder: Path) -> dict[str, float]:
    """The posterior model probabilities of ``compare.json`` beside the posterior, if any."""
    path = folder / "compare.json"
    return json.loads(path.read_text(encoding="utf-8")).get("model_probabilities", {}) if path.is_file() else {}


# ------------------------------------------------------------------ formatting


def quantiles(values: np.ndarray) -> tuple[float, float, float]:
    """5th, 50th and 95th empirical percentiles (each one of the values: infinities allowed)."""
    return tuple(float(v) for v in np.percentile(values, [5, 50, 95], method="inverted_cdf"))


def signed_days(value: float, beyond: float) -> str:
    """Days with a sign; an effect beyond follow-up as ``> +beyond`` (the least it can be)."""
    if math.isinf(value):
        return f"> {beyond:+.0f}" if value > 0 else "control's median beyond follow-up"
    return f"{value:+.0f}"


def interval(values: np.ndarray, control: np.ndarray, follow_up: int) -> str:
    """Median and 90 % interval over the replicates. A replicate whose treated median is
    beyond follow-up counts as an effect beyond it (at least ``follow_up`` minus its
    control median: the smallest such bound is shown); one with neither median reached is
    left out; both are said."""
    known = ~np.isnan(values)
    if not known.any():
        return "neither median reached"
    over = np.isposinf(values)
    beyond = float(np.min(follow_up - control[over])) if over.any() else math.nan
    low, median, high = quantiles(values[known])
    text = f"{signed_days(median, beyond)} ({signed_days(low, beyond)} to {signed_days(high, beyond)})"
    notes = []
    if over.any():
        notes.append(f"treated median beyond follow-up in {int(over.sum())} of {values.size}")
    if not known.all():
        notes.append(f"neither median reached in {int((~known).sum())} of {values.size}")
    return text + (f" [{'; '.join(notes)}]" if notes else "")


def animals_for_power(curve: dict[int, tuple[float, float]]) -> str:
    """The smallest n on the grid from which on power stays >= 80 %, with its power and Monte Carlo SE."""
    grid = sorted(curve)
    for i, n in enumerate(grid):
        if all(curve[m][0] >= POWER_TARGET for m in grid[i:]):
            value, se = curve[n]
            return f"{n} ({value:.2f} ± {se:.2f})"
    n = grid[-1]
    return f"> {n} ({curve[n][0]:.2f} ± {curve[n][1]:.2f} at {n})"


def days_text(values: np.ndarray) -> str:
    low, median, high = quantiles(values)
    return f"P{median:.0f} (P{low:.0f}-P{high:.0f})".replace("Pinf", "beyond follow-up")


def hypothesis_table(run: HypothesisRun) -> list[str]:
    probability = "" if run.probability is None else f", posterior model probability {run.probability:.3f}"
    few = (" Fewer than 10: the intervals rest on a handful of parameter sets." if run.effective_sample_size < 10
           else "")
    lines = [f"### {run.hypothesis.replace('_', '-')}{probability}", "",
             f"Posterior: {run.particles} particles, effective sample size {run.effective_sample_size:.1f}.{few} "
             f"Control arm, median over replicates (90 % interval): onset {days_text(run.control_onset)}, "
             f"end stage {days_text(run.control_end_stage)}. {run.seconds:.0f} s.", "",
             "| treatment (start) | change in onset, days | change in end stage, days | animals per arm for 80 % power (power ± MC SE) |",
             "| --- | --- | --- | --- |"]
    for p in run.predictions:
        label = p.arm if p.acts else f"{p.arm} (does not act under this hypothesis)"
        onset = interval(p.onset, run.control_onset, run.follow_up)
        end_stage = interval(p.end_stage, run.control_end_stage, run.follow_up)
        lines.append(f"| {label} | {onset} | {end_stage} | {animals_for_power(p.power)} |")
    return lines + [""]


def page(args, runs: list[HypothesisRun], posterior: Posterior, arms: list[str], seconds: float, argv: list[str]) -> str:
    csv = Path(posterior.folder) / POSTERIOR_FILE
    command = "python docs/make_predictions.py" + "".join(" " + shlex.quote(a) for a in argv)
    genetic = [a for a in arms if "@" not in a]
    start = (f"every treatment starts at P{args.start_day} (age, days) at full dose (1)"
             + (f"; {', '.join(genetic)} is genetic, present from conception (start day 0)" if genetic else ""))
    lines = [
        "# Predicted treatment effects, with uncertainty",
        "",
        "**These are predictions for labs to test.** No treatment strength was set or tuned to a",
        "treated-animal outcome: each strength in the catalogue was set from mechanism-level data or",
        "is marked `assumed` with its reason (most are; docs/treatments.md, *The catalogue, and what",
        "set each strength*), and is used here as shipped. The predictions are not compared with",
        "published treated-animal outcomes.",
        "",
        f"Generated by [make_predictions.py](make_predictions.py): `{command}`, alsim {alsim.__version__}, "
        f"{seconds / 60:.1f} min on this machine (workers: {args.workers}).",
        "",
        "## How they were made",
        "",
        f"- Scenario `{args.scenario}`; posterior `{args.posterior}` (`{csv.name}`, SHA-256 "
        f"`{file_sha256(csv)}`), each hypothesis at its own posterior.",
        f"- Start: {start}. Follow-up to P{args.days}; "
        "animals without the event by then are censored.",
        f"- {args.replicates} replicate trials per hypothesis, each with a control arm and one arm per treatment, "
        f"{args.per_arm} animals per arm (randomised, sex-balanced, littermates split: `alsim trial`'s allocation), "
        f"seed {args.seed}. Each replicate draws one parameter set from the hypothesis's posterior, by weight, for all "
        "its animals (the posterior is uncertainty about the strain's parameters, which one colony shares); the "
        "animals vary within a replicate by the scenario's own variability (burden, copy number, sex, litter). "
        "(`alsim trial --posterior` instead draws one parameter set per animal, so there the posterior's "
        "spread acts as extra between-animal variation.)",
        "- *Change in onset / end stage*: Kaplan-Meier median of the treated arm minus that of the control arm, "
        "days; the median and the 90 % interval (empirical 5th-95th percentiles) over the replicates. This is "
        f"the posterior-predictive distribution of the effect a trial of {args.per_arm} per arm would estimate: "
        "it holds the posterior's uncertainty and the sampling error of that many animals. Where the treated "
        "arm's median is not reached by the end of follow-up the effect is counted as beyond it (and said); "
        "a replicate in which neither median is reached is left out (and said).",
        "- *Animals per arm for 80 % power*: the smallest n on the grid "
        f"({', '.join(str(n) for n in sorted(runs[0].predictions[0].power))}) from which on at least 80 % of "
        "the replicates give end-stage log-rank p < 0.05 (two-sided), the first n animals of each arm of each "
        "replicate (`power_over_n` in `alsim.trials.analysis`); averaged over the posterior, so it is the "
        "probability a study of that size succeeds given what the data say of the parameters. The Monte Carlo "
        f"SE is binomial over {args.replicates} replicates. `> n`: not reached on the grid; rerun with a larger "
        "`--per-arm` to find it.",
        "- A treatment that does not act under a hypothesis (its compartment is not in that hypothesis's "
        "pathway, e.g. riluzole's cortical drive under dying-back) is marked; its row shows the null effect "
        "and the false-positive rate as power.",
        "",
        "## Predictions",
        "",
    ]
    for run in runs:
        lines += hypothesis_table(run)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posterior", default="sod1-g93a-b6sjl", help="calibration folder or packaged posterior name")
    parser.add_argument("--scenario", default="sod1-g93a-b6sjl", help="preset or TOML the posterior was calibrated on")
    parser.add_argument("--start-day", type=int, default=60, help="age (days) at which non-genetic treatments start")
    parser.add_argument("--per-arm", type=int, default=20, help="animals per arm (power is estimated from 3 up to this)")
    parser.add_argument("--replicates", type=int, default=24, help="replicate trials per hypothesis, each under one posterior draw")
    parser.add_argument("--days", type=int, default=None, help="follow-up (default: the scenario's horizon)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--treatments", default=None, help="comma-separated subset of the catalogue (default: all)")
    parser.add_argument("--out", default=str(PAGE), help="page to write, or - to print it")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.days is None:
        args.days = alsim.load_scenario(args.scenario)[0].horizon_days
    posterior = Posterior.read(args.posterior)
    catalogue = load_catalogue()
    arms = treatment_arms(catalogue, args.start_day, args.treatments.split(",") if args.treatments else None)
    probabilities = model_probabilities(Path(posterior.folder))
    runs = [predict_hypothesis(args, posterior, hypothesis, probabilities.get(hypothesis), arms, catalogue)
            for hypothesis in posterior.hypotheses]
    text = page(args, runs, posterior, arms, time.perf_counter() - start, argv)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
