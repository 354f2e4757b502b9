"""True motor-unit count against what MUNE, MUNIX and CMAP report, from symptom onset, in people.

Runs the human-sals-limb preset (40 people, seed 1) through the public API and draws, with
the human report's own panels (alsim.report.human_plots): abductor pollicis brevis in the
people whose onset was cervical, tibialis anterior in those whose onset was lumbar, and
ALSFRS-R and FVC over everyone. Writes docs/figures/human-mu-vs-methods.png and prints
the numbers docs/human.md quotes.

    python docs/make_human_figure.py        # about 3 minutes on one core
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import alsim
from alsim.report import human_plots as hp
from alsim.report.figures import figure_legend, new_figure
from alsim.report.plots import display_muscle

SUBJECTS = 40
SEED = 1
ONSET_MUSCLES = {"abductor_pollicis_brevis": "cervical", "tibialis_anterior": "lumbar"}
DOCS = Path(__file__).resolve().parent


def slope_per_month(ds, var: str, months: float = 12.0) -> np.ndarray:
    """Per subject, the least-squares slope of ``var`` (per month) over the first ``months``
    after onset, from the days the subject is alive in it (NaN with fewer than 60 days)."""
    day = ds["day"].values
    window = (day >= 0) & (day <= months * hp.MONTH_DAYS)
    x = hp.months(day[window])
    out = []
    for y in hp.subject_values(ds, var)[:, window]:
        ok = np.isfinite(y)
        out.append(np.polyfit(x[ok], y[ok], 1)[0] if ok.sum() >= 60 else np.nan)
    return np.asarray(out)


def draw(ds):
    """APB and TA rows (count, fractions of normal) and an ALSFRS-R / FVC row."""
    fig = new_figure((12.5, 12.0))
    axes = fig.subplots(3, 2, sharex=True)
    onset_region = np.asarray(ds["onset_region"].values).astype(str)
    for (muscle, region), (ax_count, ax_frac) in zip(ONSET_MUSCLES.items(), axes):
        group = hp.with_onset(ds) & (onset_region == region)
        note = hp.methods_panels(ax_count, ax_frac, ds, muscle, group)
        name = display_muscle(muscle)
        hp.finish_axes(ax_count, f"{name}, {region}-onset people: counts", "motor units (MUNIX: index)", note)
        hp.finish_axes(ax_frac, f"{name}: fraction of normal", "fraction of normal", note, fraction=True)
        ax_count.set_ylim(bottom=0)
    everyone = hp.with_onset(ds)
    medians = hp.event_medians(ds)
    day = ds["day"].values
    panels = ((axes[2, 0], "alsfrs_r", "ALSFRS-R total, everyone", "points (0-48)"),
              (axes[2, 1], "fvc_fraction", "Forced vital capacity, everyone", "fraction of predicted"))
    for ax, var, title, unit in panels:
        n = hp.draw_band(ax, day, hp.subject_values(ds, var)[everyone], hp.COLOURS["score"],
                         "ALSFRS-R, FVC: median, 10-90 % band", min_subjects=hp.MIN_SUBJECTS)
        hp.mark_events(ax, medians)
        hp.finish_axes(ax, title, unit, f"{hp.count_note(day, n)}\n{hp.event_note(medians)}")
    figure_legend(fig, list(axes.ravel()), ncols=5)
    fig.suptitle(f"human-sals-limb (dying-back), {SUBJECTS} people, seed {SEED}: medians and 10-90 % bands "
                 f"from symptom onset; MUNE: {ds.attrs.get('mune_method')}")
    return fig


def report_numbers(ds) -> None:
    onset_region = np.asarray(ds["onset_region"].values).astype(str)
    for muscle, region in ONSET_MUSCLES.items():
        group = hp.with_onset(ds) & (onset_region == region)
        loss = hp.loss_at_onset(ds, muscle, group)
        print(f"{muscle} ({region} onset, n={int(group.sum())}): lost at onset "
              + ", ".join(f"{k} {100 * v:.0f} %" for k, v in loss.items()))
        for var in ("mune", "munix"):
            print(f"  normal {var} (median first recording) {hp.emg_reference(ds, var, muscle):.0f}, "
                  f"true count {hp.motor_unit_counts(ds)[muscle]}")
    for var, unit in (("alsfrs_r", "points"), ("fvc_fraction", "fraction of predicted")):
        s = slope_per_month(ds, var)
        print(f"{var}: first-year slope {np.nanmedian(s):.3f} {unit}/month (median; IQR "
              f"{np.nanpercentile(s, 25):.3f} to {np.nanpercentile(s, 75):.3f}; {int(np.isfinite(s).sum())} people)")
        at = {m: float(np.nanmedian(hp.subject_values(ds, var)[:, ds['day'].values == round(m * hp.MONTH_DAYS)]))
              for m in (0, 6, 12)}
        print("  median at 0/6/12 months: " + ", ".join(f"{v:.2f}" for v in at.values()))
    for var, value in hp.event_medians(ds).items():
        print(f"{var}: Kaplan-Meier median {value / hp.MONTH_DAYS:.1f} months from onset")
    print(f"1-year mortality after diagnosis: {hp.one_year_mortality(ds)}")


def main() -> None:
    scenario, _ = alsim.load_scenario("human-sals-limb")
    ds = alsim.simulate(scenario, subjects=SUBJECTS, seed=SEED)
    out = DOCS / "figures" / "human-mu-vs-methods.png"
    draw(ds).savefig(out, dpi=100)
    print(f"wrote {out.relative_to(DOCS.parent)}")
    report_numbers(ds)


if __name__ == "__main__":
    main()
