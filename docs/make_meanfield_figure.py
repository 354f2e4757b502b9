"""The engines' mean against the model's mean field, as the fibres a motor unit grow.

Runs the B6SJL preset in the mean field's domain (``alsim.verification.meanfield.limit_scenario``:
no unit deaths, no disassembly, one burden multiplier), 8 mice, seed 5, 180 days, with
every muscle's fibres times 1, 4 and 16 (the compiled engine), and
the deterministic day map of ``alsim.verification.meanfield``. Writes
docs/figures/meanfield.png and prints the table docs/verification.md quotes.

    python docs/make_meanfield_figure.py        # about half a minute on one core
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alsim.report.figures import new_figure
from alsim.report.plots import display_muscle
from alsim.run import simulate_census
from alsim.verification.meanfield import census_fraction as fraction
from alsim.verification.meanfield import compare_with_mean_field, limit_scenario, mean_field_census

SCENARIO, SUBJECTS, SEED, DAYS = "sod1-g93a-b6sjl", 8, 5, 180
FACTORS = (1, 4, 16)
DOCS = Path(__file__).resolve().parent


def compare(factor: int) -> dict:
    """The engine's cohort at ``factor`` times the fibres, its mean field, and their largest difference."""
    scenario = limit_scenario(SCENARIO, factor)
    census = simulate_census(scenario, subjects=SUBJECTS, days=DAYS, seed=SEED)
    limit = mean_field_census(scenario, burden_multiplier=scenario.disease.burden_multiplier, days=DAYS)
    largest, ratio = compare_with_mean_field(scenario, census.counts, limit)
    return {"scenario": scenario, "engine": census.counts, "limit": limit, "largest": largest, "ratio": ratio,
            "fibres_per_unit": float(np.mean([m.n_fibres / m.n_motor_units for m in scenario.muscles.values()]))}


def main() -> None:
    runs = {(factor, "numba"): compare(factor) for factor in FACTORS}
    print("| engine | fibres x | mean fibres a unit | largest difference | of the test's tolerance |")
    print("| --- | --- | --- | --- | --- |")
    for (factor, backend), run in runs.items():
        print(f"| {backend} | {factor} | {run['fibres_per_unit']:.0f} | {run['largest']:.4f} | {run['ratio']:.2f} |")
    fig = new_figure((11, 8.5))
    axes = fig.subplots(3, 4, sharex=True)
    muscles = list(runs[(1, "numba")]["scenario"].muscles)
    days = np.arange(DAYS + 1)
    for row, field, label in ((0, "endplates_covered", "innervated endplates (fraction)"),
                              (1, "force", "force (fraction of day 0)")):
        for j, muscle in enumerate(muscles):
            ax = axes[row, j]
            for factor, colour in ((1, "#9ecae1"), (16, "#08519c")):
                values = fraction(runs[(factor, "numba")]["engine"], field)[:, j]
                for k, subject in enumerate(values):
                    ax.plot(days, subject, color=colour, lw=0.7, label=f"engine, {factor}x fibres" if k == 0 else None)
            ax.plot(days, fraction(runs[(16, "numba")]["limit"], field)[j], "k--", lw=1.2, label="mean field")
            ax.set_ylim(0, 1.05)
            if row == 0:
                ax.set_title(display_muscle(muscle))
            if j == 0:
                ax.set_ylabel(label)
    for j in range(len(muscles)):
        ax = axes[2, j]
        for factor, colour in zip(FACTORS, ("#9ecae1", "#4292c6", "#08519c")):
            run = runs[(factor, "numba")]
            gap = fraction(run["engine"], "endplates_covered")[:, j].mean(axis=0) - fraction(run["limit"], "endplates_covered")[j]
            ax.plot(days, gap, color=colour, lw=1.0, label=f"{factor}x fibres")
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_ylim(-0.02, 0.02)
        ax.set_xlabel("age (days)")
    axes[2, 0].set_ylabel("innervated: engine mean\nminus mean field")
    axes[0, 0].legend(loc="lower left", fontsize=8)
    axes[2, 0].legend(loc="lower left", fontsize=8)
    fig.suptitle(f"B6SJL without unit deaths or disassembly: {SUBJECTS} mice a size (thin lines) and the mean field")
    fig.savefig(DOCS / "figures" / "meanfield.png", dpi=110)


if __name__ == "__main__":
    main()
