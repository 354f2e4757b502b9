"""True motor-unit count against what CMAP, MUNE and MUNIX report, over age (docs/electrophysiology.md).

B6SJL SOD1-G93A mice (dying-back, the preset's default) are simulated through the public
API; the electrophysiology readouts are computed twice from the same census, with
multipoint (the default) and incremental MUNE (MUNIX and the CMAP do not depend on the
MUNE method). Writes docs/figures/emg_in_a_run.png and prints the Markdown table that
docs/electrophysiology.md shows.

    python docs/make_emg_figure.py        # about 30 s
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import alsim
from alsim.run import simulate_census
from alsim.run import results_dataset

SUBJECTS = 8
SEED = 7
MUSCLE = "gastrocnemius"
TABLE_AGES = (0, 56, 84, 98, 112)
DOCS = Path(__file__).resolve().parent


def median(values: np.ndarray) -> np.ndarray:
    """Median over subjects (axis 0) where at least 4 animals are left; NaN elsewhere."""
    out = np.full(values.shape[1], np.nan)
    enough = np.sum(np.isfinite(values), axis=0) >= 4
    out[enough] = np.nanmedian(values[:, enough], axis=0)
    return out


def main() -> None:
    scenario, _ = alsim.load_scenario("sod1-g93a-b6sjl")
    census = simulate_census(scenario, subjects=SUBJECTS, days=scenario.horizon_days, seed=SEED)
    runs = {method: results_dataset(scenario, census, seed=SEED, mune_method=method)
            for method in ("multipoint", "incremental")}
    ds = runs["multipoint"]
    at = ds.sel(muscle=MUSCLE)
    age = ds["emg_day"].values
    n_units = scenario.muscles[MUSCLE].n_motor_units
    true = at["motor_units_functional_fraction"].sel(day=age).values * n_units
    size = at["mean_motor_unit_size"].sel(day=age).values
    series = {
        "true functional units": true,
        "MUNE, multipoint": at["mune"].values,
        "MUNE, incremental": runs["incremental"].sel(muscle=MUSCLE)["mune"].values,
        "MUNIX (an index)": at["munix"].values,
    }
    onset = float(np.nanmedian(ds["onset_day"].values))
    fig = Figure(figsize=(13, 4.2), layout="constrained")
    ax_count, ax_frac, ax_size = fig.subplots(1, 3, sharex=True)
    for label, values in series.items():
        ax_count.plot(age, median(values), marker="o", ms=3, label=label, lw=2.5 if label.startswith("true") else 1.5)
    ax_count.set(title=f"{MUSCLE}: counts", ylabel="motor units", xlabel="age (days)")
    fractions = {"true functional units": true / true[:, :1], "CMAP amplitude": at["cmap_fraction"].values,
                 "MUNE, multipoint": at["mune"].values / at["mune"].values[:, :1],
                 "MUNIX": at["munix"].values / at["munix"].values[:, :1],
                 "muscle force": at["force_fraction"].sel(day=age).values}
    for label, values in fractions.items():
        ax_frac.plot(age, median(values), marker="o", ms=3, label=label, lw=2.5 if label.startswith("true") else 1.5)
    ax_frac.set(title="relative to day 0", ylabel="fraction of day 0", xlabel="age (days)", ylim=(0, 1.15))
    ax_size.plot(age, median(size / size[:, :1]), marker="o", ms=3, lw=2.5, label="true mean unit size (fibres)")
    ax_size.plot(age, median(at["musix"].values / at["musix"].values[:, :1]), marker="o", ms=3,
                 label="MUSIX (CMAP / MUNIX)")
    ax_size.set(title="motor-unit size (reinnervation)", ylabel="fraction of day 0", xlabel="age (days)")
    for ax in (ax_count, ax_frac, ax_size):
        ax.axvline(onset, color="grey", ls="--", lw=1)
        ax.legend(fontsize=8, frameon=False)
    ax_count.text(onset, ax_count.get_ylim()[1] * 0.98, " median onset", color="grey", fontsize=8, va="top")
    fig.suptitle(f"SOD1-G93A B6SJL (dying-back), {SUBJECTS} mice, medians; seed {SEED}")
    out = DOCS / "figures" / "emg_in_a_run.png"
    fig.savefig(out, dpi=110)
    print(f"wrote {out.relative_to(DOCS.parent)}")
    print("\n| age (days) | true functional units | MUNE multipoint | MUNE incremental | MUNIX | CMAP (fraction) |")
    print("| --- | --- | --- | --- | --- | --- |")
    cmap_median = median(at["cmap_fraction"].values)
    medians = {k: median(v) for k, v in series.items()}
    for a in TABLE_AGES:
        k = int(np.flatnonzero(age == a)[0])
        cells = [f"{medians[name][k]:.0f}" for name in series] + [f"{cmap_median[k]:.2f}"]
        print(f"| {a} | " + " | ".join(cells) + " |")
    print(f"\nmedian onset {onset:.0f} d, median end stage {np.nanmedian(ds['end_stage_day'].values):.0f} d")


if __name__ == "__main__":
    main()
