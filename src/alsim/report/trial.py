"""The trial and window pages: Kaplan-Meier curves, what each arm did to motor neurons
and endplates, the distribution of the estimated effect over replicates, power over n,
and for a window the effect against start day.

The statistics are :mod:`alsim.trials`'; this module only draws them and builds the page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..trials.stats import ENDPOINTS, quiet_lifelines
from .page import embed_figure, escape, fmt, head, table, write_html
from .figures import new_figure
from .plots import band, readout

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..trials.execute import ArmRun
    from ..trials.stats import ArmOutcome

__all__ = ["effect_figure", "km_figure", "plot_km", "time_course_figure", "treatment_starts", "window_figure",
           "window_section",
           "write_trial_report"]

TIME_COURSES = (("motor_neurons_alive_fraction", "motor neurons alive"),
                ("endplates_innervated_fraction", "endplates innervated"),
                ("hindlimb_force_fraction", "hindlimb force"))


def plot_km(arms: Mapping[str, ArmOutcome], endpoint: str = "end_stage", ax=None):
    """Kaplan-Meier curves with 95% confidence bands, one per arm; returns ``ax``.

    Without ``ax`` a new ``matplotlib.figure.Figure`` is made (no pyplot, so
    it is safe under the Agg backend and in threads).
    """
    from lifelines import KaplanMeierFitter

    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(6, 4)).subplots()
    for i, (name, arm) in enumerate(arms.items()):      # arm i in colour C{i}, as the other panels
        durations, observed = arm.survival_data(endpoint)
        if durations.size == 0:
            continue
        with quiet_lifelines():
            kmf = KaplanMeierFitter(label=f"{name} (n={arm.n})").fit(durations, observed)
            kmf.plot_survival_function(ax=ax, ci_show=True, color=f"C{i}")
    ax.set_xlabel("age (days)")
    ax.set_ylabel(f"fraction without {ENDPOINTS[endpoint][1]}")
    return ax


def treatment_starts(run: ArmRun) -> list[int]:
    """Ages (days) at which the arm's treatments start, read from its scenario; [] when untreated
    or when the arm kept no Dataset."""
    if run.dataset is None or "scenario_json" not in run.dataset.attrs:
        return []
    scenario = json.loads(run.dataset.attrs["scenario_json"])
    return sorted({int(t["start_day"]) for t in scenario.get("treatments", ())})


def km_figure(arms: dict[str, ArmRun]) -> Figure:
    """Fraction of animals without onset (left) and without end stage (right), per arm, with a
    vertical dotted line in the arm's colour at each treatment start."""
    fig = new_figure((11, 4))
    outcomes = {label: run.outcome for label, run in arms.items()}
    starts = {label: treatment_starts(run) for label, run in arms.items()}
    for ax, endpoint in zip(fig.subplots(1, 2, sharex=True), ("onset", "end_stage")):
        plot_km(outcomes, endpoint, ax=ax)
        for i, (label, days) in enumerate(starts.items()):      # plot_km colours arms C0, C1, ... in order
            for day in days:
                ax.axvline(day, color=f"C{i}", linestyle=":", linewidth=1.2, label=f"{label}: treatment starts")
        _marker_legend(ax, fontsize=8)
        ax.set_title(endpoint.replace("_", " "))
    first = np.nanmin([np.nanmin(o.survival_data("onset")[0]) for o in outcomes.values()])
    earliest = min([first - 15.0] + [d - 5.0 for days in starts.values() for d in days])
    fig.axes[0].set_xlim(left=max(0.0, earliest))  # nothing happens before the first event or treatment
    return fig


def _marker_legend(ax, **kwargs) -> None:
    """A legend whose error-bar entries show their marker alone (caps would hide it)."""
    from .plots import legend_handle

    handles, labels = ax.get_legend_handles_labels()
    ax.legend([legend_handle(h) for h in handles], labels, **kwargs)


def time_course_figure(arms: dict[str, ArmRun], muscle: str) -> Figure:
    """Median and 10-90 % band across animals of each arm, per day (animals leave at end stage)."""
    fig = new_figure((14, 3.8))
    for ax, (var, title) in zip(fig.subplots(1, len(TIME_COURSES)), TIME_COURSES):
        for i, (label, run) in enumerate(arms.items()):
            days, lo, mid, hi = band(run.dataset, var, muscle, min_subjects=3)
            colour = f"C{i}"
            ax.plot(days, mid, color=colour, label=label)
            ax.fill_between(days, lo, hi, color=colour, alpha=0.15, linewidth=0)
        ax.set_title(title if var.startswith("hindlimb") else f"{title}, {muscle}")
        ax.set_xlabel("age (days)")
        ax.set_ylabel(readout(var).unit)
        ax.set_ylim(0, 1.05)
    fig.axes[0].legend(fontsize=8)
    return fig


def effect_figure(summary: dict) -> Figure | None:
    """Replicate distribution of the end-stage effect per treated arm (median difference, days)."""
    treated = {k: v for k, v in summary["arms"].items() if "effect_distribution" in v}
    if not treated:
        return None
    fig = new_figure((11, 4))
    ax_diff, ax_power = fig.subplots(1, 2)
    for i, (label, entry) in enumerate(treated.items()):
        dist = entry["effect_distribution"]["difference_end_stage_day"]
        ax_diff.errorbar([dist["median"]], [i], xerr=[[dist["median"] - dist["lo"]], [dist["hi"] - dist["median"]]],
                         fmt="o", color=f"C{i + 1}", capsize=4)
        curve = entry["power_over_n"]
        ns = [int(n) for n in curve]
        ax_power.errorbar(ns, [curve[str(n)]["value"] for n in ns], yerr=[curve[str(n)]["monte_carlo_se"] for n in ns],
                          marker="o", color=f"C{i + 1}", capsize=3, label=label)
    ax_diff.axvline(0, color="grey", linewidth=1)
    ax_diff.set_yticks(range(len(treated)), list(treated))
    ax_diff.set_xlabel("median end stage, treated - control (days)")
    ax_diff.set_title(f"estimated effect over {summary['replicates']} replicates (median, 2.5-97.5 %)")
    ax_power.axhline(summary["alpha"], color="grey", linewidth=1, linestyle=":")
    ax_power.axhline(0.8, color="grey", linewidth=1, linestyle="--")
    ax_power.set_ylim(-0.02, 1.02)
    ax_power.set_xlabel("animals per arm")
    ax_power.set_ylabel("power (log-rank, end stage)")
    ax_power.set_title(f"power over n (alpha {summary['alpha']:g}; dashed 0.8)")
    _marker_legend(ax_power, fontsize=8)
    return fig


def _interval(entry: dict | None) -> str:
    if not entry or entry.get("value") is None:
        return "-"
    return f"{fmt(entry['value'])} ({fmt(entry['lo'])} to {fmt(entry['hi'])})"


def _arms_table(summary: dict) -> str:
    rows = []
    for label, entry in summary["arms"].items():
        power = entry.get("power")
        rows.append([escape(label), str(entry["n"]), _interval(entry["median_onset_day"]), _interval(entry["median_end_stage_day"]),
                     _interval(entry.get("difference_end_stage_day")), _interval(entry.get("hazard_ratio")),
                     fmt(entry.get("logrank_p")),
                     "-" if power is None else f"{power['value']:.2f} ± {power['monte_carlo_se']:.2f}"])
    return table(["arm", "n", "median onset (95 % CI)", "median end stage (95 % CI)", "end stage vs control, days",
                   "hazard ratio (95 % CI)", "log-rank p", "power ± MC SE"], rows, numeric=[1, 6])


def _errorbar(ax, days: list[int], entries: list[dict | None], colour: str, label: str) -> None:
    xs, ys, lo, hi = [], [], [], []
    for day, entry in zip(days, entries):
        if entry and entry.get("value") is not None and entry.get("lo") is not None:
            xs.append(day)
            ys.append(entry["value"])
            lo.append(entry["value"] - entry["lo"])
            hi.append(entry["hi"] - entry["value"])
    ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=4, color=colour, label=label)


def window_figure(summary: dict) -> Figure:
    """Effect on onset and end stage (days, 95 % CI) and on the counted readout, against start day."""
    days = summary["start_days"]
    rows = [summary["by_start_day"][str(d)] for d in days]
    fig = new_figure((12, 4))
    ax_days, ax_count = fig.subplots(1, 2)
    _errorbar(ax_days, days, [r["difference_onset_day"] for r in rows], "C0", "onset")
    _errorbar(ax_days, days, [r["difference_end_stage_day"] for r in rows], "C3", "end stage")
    ax_days.axhline(0, color="grey", linewidth=1)
    ax_days.set_xlabel("treatment start (days of age)")
    ax_days.set_ylabel("median, treated - control (days)")
    _marker_legend(ax_days)
    count = summary.get("count_endpoint")
    if count is not None:
        _errorbar(ax_count, days, [r["difference_count_at_day"] for r in rows], "C2", count["readout"])
        ax_count.axhline(0, color="grey", linewidth=1)
        ax_count.set_ylabel(f"treated - control at day {count['day']}")
        ax_count.set_title(f"{count['readout']}, {count['muscle']}")
        ax_count.set_xlabel("treatment start (days of age)")
    else:
        ax_count.set_axis_off()
    return fig


def window_section(summary: dict, dpi: int = 90) -> str:
    """The window page's extra section: the effect against start day (:func:`window_figure`)."""
    return ("<h2>Effect against start day</h2>" +
            embed_figure(window_figure(summary), "effect by start day", "Left: median onset and end stage of each start day's arm "
                 "minus control, with bootstrap 95 % intervals. Right: the counted readout, treated minus control (Welch 95 % "
                 "interval, animals alive on that day).", dpi))


def write_trial_report(path: Path, summary: dict, arms: dict[str, ArmRun], muscle: str, *, title: str, dpi: int = 90,
                       extra_html: str = "") -> Path:
    """Write the trial (or, with ``extra_html``, window) page to ``path`` and return it."""
    parts = [head(title),
             f"<p class='meta'>{escape(summary['scenario'])}, hypothesis {escape(summary['hypothesis'])}; {summary['per_arm']} animals "
             f"per arm followed to {summary['follow_up_days']} days; seed {summary['seed']}; alsim {escape(summary['alsim_version'])}. "
             f"Allocation: {escape(summary['allocation'])}.</p>",
             "<h2>Arms</h2>", _arms_table(summary),
             "<p class='note'>Medians are Kaplan-Meier medians; differences have bootstrap intervals; hazard ratios come from a "
             "Cox model on arm (below 1: the treatment slows end stage); animals without an event are censored at the end of "
             "follow-up.</p>", extra_html,
             "<h2>Kaplan-Meier</h2>", embed_figure(km_figure(arms), "Kaplan-Meier curves", "Fraction of animals without onset (left) "
                                           "and without end stage (right), with 95 % confidence bands; dotted vertical "
                                           "lines: the age at which each treated arm's treatment starts (arm's colour).", dpi),
             "<h2>What each arm did to motor neurons, endplates and force</h2>",
             embed_figure(time_course_figure(arms, muscle), "time courses", "Median across the animals of each arm, 10-90 % band; an "
                  "animal leaves the curves at its end stage. A soma-side treatment keeps motor neurons without keeping "
                  "endplates; a terminal-side one keeps endplates.", dpi)]
    figure = effect_figure(summary)
    if figure is not None:
        parts += ["<h2>Replicates: the effect a lab would estimate, and power</h2>",
                  embed_figure(figure, "effect distribution and power", "Left: the estimated end-stage effect across replicate trials. "
                       "Right: fraction of replicates with log-rank p below alpha, by animals per arm (error bars: Monte Carlo "
                       "SE). For an untreated 'placebo' arm this is the false-positive rate.", dpi)]
    parts.append("</body></html>")
    return write_html(path, "\n".join(parts))
