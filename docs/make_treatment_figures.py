"""The discriminating experiment: a soma-only rescue against a terminal-side treatment,
under dying-back and under dying-forward (docs/treatments.md).

For each hypothesis, B6SJL mice are simulated untreated, with ``bax_knockout`` (soma
apoptosis blocked from birth) and with ``musk_agonist@0`` (postsynaptic stabiliser from
birth), through the public API with the same seed (the same animals in every arm).
Writes docs/figures/discriminating_experiment.png and prints the Markdown table that
docs/treatments.md shows.

    python docs/make_treatment_figures.py        # about a minute
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import alsim
from alsim.biology.interventions import builtin_catalogue, parse_treatment, with_treatments

ARMS = ("control", "bax_knockout", "cntf@0", "musk_agonist@0")
TABLE_DAY = 90
HYPOTHESES = ("dying_back", "dying_forward")
SUBJECTS = 16
SEED = 7
MUSCLE = "gastrocnemius"
DOCS = Path(__file__).resolve().parent


def simulate_arm(hypothesis: str, arm: str):
    scenario, _ = alsim.load_scenario("sod1-g93a-b6sjl", [f"hypothesis.name={hypothesis}"])
    if arm != "control":
        scenario = with_treatments(scenario, [parse_treatment(arm, builtin_catalogue())])
    return alsim.simulate(scenario, subjects=SUBJECTS, days=200, seed=SEED)


def median_over_subjects(ds, var: str, muscle: str | None = MUSCLE) -> np.ndarray:
    values = ds[var].sel(muscle=muscle).values if muscle else ds[var].values
    counts = np.sum(np.isfinite(values), axis=0)
    median = np.full(values.shape[1], np.nan)
    enough = counts >= 4  # animals leave at end stage; a median of fewer is noise
    median[enough] = np.nanmedian(values[:, enough], axis=0)
    return median


def _median(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else math.nan


def main() -> None:
    results = {(h, a): simulate_arm(h, a) for h in HYPOTHESES for a in ARMS}
    fig = Figure(figsize=(13, 6.5), layout="constrained")
    axes = fig.subplots(len(HYPOTHESES), 3, sharex=True)
    panels = (("motor_neurons_alive_fraction", MUSCLE, "motor neurons alive"),
              ("endplates_innervated_fraction", MUSCLE, "endplates innervated"),
              ("hindlimb_force_fraction", None, "hindlimb force"))
    for row, hypothesis in zip(axes, HYPOTHESES):
        for ax, (var, muscle, title) in zip(row, panels):
            for i, arm in enumerate(ARMS):
                ds = results[(hypothesis, arm)]
                ax.plot(ds["day"].values, median_over_subjects(ds, var, muscle), color=f"C{i}", label=arm)
            ax.set_title(f"{hypothesis}: {title}" + (f", {muscle}" if muscle else ""), fontsize=10)
            ax.set_ylim(0, 1.05)
        row[0].set_ylabel("median across animals")
    for ax in axes[-1]:
        ax.set_xlabel("age (days)")
    axes[0][0].legend(fontsize=8)
    out = DOCS / "figures" / "discriminating_experiment.png"
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"| hypothesis | arm | median onset (d) | median end stage (d) | MN alive at P{TABLE_DAY}, {MUSCLE} | endplates innervated at P{TABLE_DAY} |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (hypothesis, arm), ds in results.items():
        onset, end = (_median(ds[v].values) for v in ("onset_day", "end_stage_day"))
        mn = _median(ds["motor_neurons_alive_fraction"].sel(muscle=MUSCLE, day=TABLE_DAY).values)
        nmj = _median(ds["endplates_innervated_fraction"].sel(muscle=MUSCLE, day=TABLE_DAY).values)
        reached = int(np.isfinite(ds["end_stage_day"].values).sum())
        end_text = f"{end:.0f}" if reached * 2 > SUBJECTS else f"> 200 ({reached}/{SUBJECTS} reached)"
        onset_text = "-" if math.isnan(onset) else f"{onset:.0f}"
        print(f"| {hypothesis} | {arm} | {onset_text} | {end_text} | {mn:.2f} | {nmj:.2f} |")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
