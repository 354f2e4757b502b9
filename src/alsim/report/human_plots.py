"""Arrays and figures of a human run (``species == "human"``), in months from symptom onset.

As in :mod:`alsim.report.plots`, computing (``subject_band``, ``event_times``,
``loss_at_onset`` ...) is kept apart from drawing, and figures are built on the Agg canvas
with :func:`alsim.report.figures.new_figure` (no pyplot). The Dataset is the one built by
:mod:`alsim.run.human`: ``day`` and ``emg_day`` count days from each subject's
symptom onset, readouts are NaN after a subject's end stage and where the run does not
cover the subject, and subjects without onset have no time courses.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..run.summary import km_quantile
from .bands import nanquantile_columns
from .figures import Grid, figure_legend, new_figure
from .plots import display_muscle

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MONTH_DAYS = 30.44
EMG_VARS = ("cmap_fraction", "mune", "munix")
#: ALSFRS-R domains and their items (Cedarbaum et al. 1999 J Neurol Sci 169:13).
DOMAINS: dict[str, tuple[str, ...]] = {
    "bulbar": ("speech", "salivation", "swallowing"),
    "fine motor": ("handwriting", "cutting_food", "dressing_and_hygiene"),
    "gross motor": ("turning_in_bed", "walking", "climbing_stairs"),
    "respiratory": ("dyspnea", "orthopnea", "respiratory_insufficiency"),
}
#: Clinical events (data variable, name), in days from onset.
EVENTS: tuple[tuple[str, str], ...] = (("diagnosis_day", "diagnosis"), ("ventilation_day", "ventilation"),
                                       ("end_stage_day", "end stage"))
#: Okabe-Ito colours (and Tol's wine for the clinical scores).
COLOURS = {"true": "#000000", "score": "#882255", "mune": "#0072B2", "munix": "#D55E00", "cmap": "#009E73",
           "force": "#CC79A7", "diagnosis_day": "#E69F00", "ventilation_day": "#56B4E9", "end_stage_day": "#D55E00"}
_GROUP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00")
MIN_SUBJECTS = 3


# --------------------------------------------------------------------- compute


def months(days: Any) -> np.ndarray:
    """Days -> months (1 month = 30.44 days)."""
    return np.asarray(days, dtype=float) / MONTH_DAYS


def has_emg(ds: xr.Dataset) -> bool:
    return "emg_day" in ds.dims and all(v in ds for v in EMG_VARS)


def motor_unit_counts(ds: xr.Dataset) -> dict[str, int]:
    """Each muscle's healthy motor-unit count (``n_motor_units`` of the run's scenario)."""
    muscles = json.loads(ds.attrs["scenario_json"])["muscles"]
    return {str(m): int(muscles[str(m)]["n_motor_units"]) for m in ds["muscle"].values}


def muscle_regions(ds: xr.Dataset) -> dict[str, str]:
    muscles = json.loads(ds.attrs["scenario_json"])["muscles"]
    return {str(m): str(muscles[str(m)]["region"]) for m in ds["muscle"].values}


def with_onset(ds: xr.Dataset) -> np.ndarray:
    """Boolean mask of the subjects that reach symptom onset (only they have time courses)."""
    return np.isfinite(np.asarray(ds["onset_sim_day"].values, dtype=float))


def subject_values(ds: xr.Dataset, var: str, muscle: str | None = None) -> np.ndarray:
    """(subject, time) float matrix of ``var`` (per ``muscle`` where it has one), time last."""
    da = ds[var].sel(muscle=muscle) if muscle is not None and "muscle" in ds[var].dims else ds[var]
    return np.asarray(da.transpose("subject", ...).values, dtype=float)


def subject_band(values: np.ndarray, min_subjects: int = 1) -> tuple[np.ndarray, ...]:
    """(lo, median, hi, n): 10 %, 50 % and 90 % over subjects (rows) per time, and the number
    of subjects with data; NaN where fewer than ``min_subjects`` have data."""
    n = np.sum(np.isfinite(values), axis=0)
    out = np.full((3, values.shape[1]), np.nan)
    ok = n >= max(min_subjects, 1)
    if ok.any():
        out[:, ok] = nanquantile_columns(values[:, ok], (0.1, 0.5, 0.9))
    return out[0], out[1], out[2], n


def followup_days(ds: xr.Dataset) -> np.ndarray:
    """Each subject's last day (from onset) with data: its end stage or the end of the run."""
    alive = np.isfinite(subject_values(ds, "alsfrs_r"))
    day = np.asarray(ds["day"].values, dtype=float)
    last = np.full(alive.shape[0], np.nan)
    if alive.shape[1] == 0:                 # no subject reached onset: the grid from onset is empty
        return last
    has = alive.any(axis=1)
    last[has] = day[alive.shape[1] - 1 - np.argmax(alive[has, ::-1], axis=1)]
    return last


def event_times(ds: xr.Dataset, var: str, start: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(durations, observed) of ``var`` in days from onset (or from ``start``), one per subject
    with onset (and with ``start`` reached). An event after the end stage does not count;
    subjects without it are censored at their end stage or at the end of the run."""
    end = np.asarray(ds["end_stage_day"].values, dtype=float)
    follow = np.fmin(end, followup_days(ds))
    t = np.asarray(ds[var].values, dtype=float)
    observed = np.isfinite(t) & ~(t > end)
    durations = np.where(observed, t, follow)
    keep = with_onset(ds)
    if start is not None:
        origin = np.asarray(ds[start].values, dtype=float)
        keep &= np.isfinite(origin) & ~(origin > end)
        durations = durations - np.where(keep, origin, 0.0)
    return durations[keep], observed[keep]


def kaplan_meier(durations: np.ndarray, observed: np.ndarray, label: str):
    """A fitted :class:`lifelines.KaplanMeierFitter` (None without subjects)."""
    from lifelines import KaplanMeierFitter

    if durations.size == 0:
        return None
    return KaplanMeierFitter(label=label).fit(durations, event_observed=observed)


def event_medians(ds: xr.Dataset, subjects: np.ndarray | None = None) -> dict[str, float]:
    """Kaplan-Meier median day from onset of each event (inf: not reached by half; NaN: nobody
    with onset), computed by :func:`alsim.run.summary.km_quantile`."""
    out = {}
    sub = ds if subjects is None else ds.isel(subject=np.nonzero(subjects)[0])
    for var, _ in EVENTS:      # the same Kaplan-Meier quantile as summary.json and the terminal
        out[var] = km_quantile(*event_times(sub, var), 0.5)
    return out


def one_year_mortality(ds: xr.Dataset) -> dict[str, float]:
    """Fraction of diagnosed subjects at end stage within 12 months of diagnosis, among those
    followed for 12 months or reaching end stage within them."""
    durations, observed = event_times(ds, "end_stage_day", start="diagnosis_day")
    year = 12 * MONTH_DAYS
    died = observed & (durations <= year)
    eligible = died | (durations >= year)
    n = int(eligible.sum())
    return {"fraction": float(died.sum() / n) if n else math.nan, "died": int(died.sum()), "eligible": n,
            "diagnosed": int(durations.size)}


def emg_reference(ds: xr.Dataset, var: str, muscle: str) -> float:
    """The run's own normal value of a method: the median over subjects of their first
    recording (in the first weeks of the simulation, years before onset, before units are lost)."""
    values = subject_values(ds, var, muscle)
    first = [row[np.isfinite(row)][0] for row in values if np.isfinite(row).any()]
    return float(np.median(first)) if first else math.nan


def value_at_onset(ds: xr.Dataset, var: str, muscle: str, subjects: np.ndarray) -> np.ndarray:
    """``var`` on day 0 (or on the recording placed at day 0) of the ``subjects``."""
    time = "emg_day" if "emg_day" in ds[var].dims else "day"
    return np.asarray(ds[var].sel(muscle=muscle, **{time: 0}).values, dtype=float)[subjects]


def loss_at_onset(ds: xr.Dataset, muscle: str, subjects: np.ndarray) -> dict[str, float]:
    """Median fraction lost at onset: true functional units, force, and (with EMG) CMAP and
    MUNE / MUNIX against the run's own normal value (:func:`emg_reference`)."""
    def median(x: np.ndarray) -> float:
        return float(np.nanmedian(x)) if np.isfinite(x).any() else math.nan

    out = {"true": median(1.0 - value_at_onset(ds, "motor_units_functional_fraction", muscle, subjects)),
           "force": median(1.0 - value_at_onset(ds, "force_fraction", muscle, subjects))}
    if has_emg(ds):
        out["cmap"] = median(1.0 - value_at_onset(ds, "cmap_fraction", muscle, subjects))
        for var in ("mune", "munix"):
            out[var] = median(1.0 - value_at_onset(ds, var, muscle, subjects) / emg_reference(ds, var, muscle))
    return out


def onset_groups(ds: xr.Dataset, muscle: str) -> list[tuple[str, np.ndarray]]:
    """Subjects with onset split by whether their onset region is the muscle's region."""
    region = muscle_regions(ds)[muscle]
    onset_region = np.asarray(ds["onset_region"].values).astype(str)
    here = with_onset(ds) & (onset_region == region)
    elsewhere = with_onset(ds) & (onset_region != region)
    groups = [(f"onset in the {region} region", here), ("onset in another region", elsewhere)]
    return [(name, mask) for name, mask in groups if mask.any()]


def clinic_order(ds: xr.Dataset) -> list[str]:
    """Muscles, limb muscles (cervical, lumbar) first: those a clinic records most."""
    regions = muscle_regions(ds)
    return sorted(regions, key=lambda m: regions[m] not in ("cervical", "lumbar"))


# ------------------------------------------------------------------------ draw


def draw_band(ax: Axes, days: np.ndarray, values: np.ndarray, colour: str, label: str, *, min_subjects: int,
              band: bool = True, style: str = "-") -> np.ndarray:
    """Median line (and 10-90 % band) over subjects; returns the number of subjects per time."""
    lo, med, hi, n = subject_band(values, min_subjects)
    x = months(days)
    if band:
        ax.fill_between(x, lo, hi, color=colour, alpha=0.15, linewidth=0)
    ax.plot(x, med, color=colour, linestyle=style, linewidth=1.8, label=label)
    return n


_MARKED = {"diagnosis_day": "diagnosis", "ventilation_day": "start of ventilation"}


def mark_events(ax: Axes, medians: dict[str, float]) -> None:
    """Vertical lines: onset (day 0) and the median day of diagnosis and of ventilation
    where half the subjects reach them."""
    ax.axvline(0.0, color="black", linewidth=1.0, label="symptom onset")
    for var, name in _MARKED.items():
        if math.isfinite(medians.get(var, math.nan)):
            ax.axvline(medians[var] / MONTH_DAYS, color=COLOURS[var], linewidth=1.0, linestyle="--",
                       label=f"median {name}")


def event_note(medians: dict[str, float]) -> str:
    """'median diagnosis 12.7, start of ventilation 12.3 months' (or 'not reached by half')."""
    parts = []
    for var, name in _MARKED.items():
        day = medians.get(var, math.nan)
        parts.append(f"{name} {day / MONTH_DAYS:.1f}" if math.isfinite(day) else f"{name} not reached by half")
    return "median " + ", ".join(parts) + " months"


def count_note(days: np.ndarray, n: np.ndarray) -> str:
    """'n at -24/-12/0/12/24 months: 14/40/40/40/19': subjects with data at whole years."""
    day = np.asarray(days, dtype=float)
    marks = []
    for year in range(-10, 11):
        i = int(np.argmin(np.abs(day - 12 * year * MONTH_DAYS))) if day.size else 0
        if day.size and abs(day[i] - 12 * year * MONTH_DAYS) <= MONTH_DAYS and n[i] > 0:
            marks.append((12 * year, int(n[i])))
    if not marks:
        return "no subjects with data"
    return (f"n at {'/'.join(str(m) for m, _ in marks)} months: " + "/".join(str(c) for _, c in marks))


def finish_axes(ax: Axes, title: str, ylabel: str, note: str | None = None, *, fraction: bool = False) -> None:
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel("months from symptom onset")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if fraction:
        ax.set_ylim(-0.03, 1.12)
    if note:
        ax.text(0.01, 0.01, note, transform=ax.transAxes, fontsize="x-small", color="#444", va="bottom")


def methods_panels(ax_count: Axes, ax_frac: Axes, ds: xr.Dataset, muscle: str, subjects: np.ndarray, *,
                   min_subjects: int = MIN_SUBJECTS) -> str:
    """Left: true functional motor units, MUNE and MUNIX; right: fractions of normal (true
    count, CMAP, MUNE, MUNIX, force). Returns a note: subjects per year and event medians."""
    k = min(min_subjects, int(subjects.sum()))
    day = np.asarray(ds["day"].values)
    true = subject_values(ds, "motor_units_functional_fraction", muscle)[subjects]
    n = draw_band(ax_count, day, true * motor_unit_counts(ds)[muscle], COLOURS["true"], "true functional units",
              min_subjects=k)
    draw_band(ax_frac, day, true, COLOURS["true"], "true functional units", min_subjects=k)
    draw_band(ax_frac, day, subject_values(ds, "force_fraction", muscle)[subjects], COLOURS["force"],
          "muscle force", min_subjects=k)
    if has_emg(ds):
        emg_day = np.asarray(ds["emg_day"].values)
        method = ds.attrs.get("mune_method", "?")
        for var, label in (("mune", f"MUNE ({method})"), ("munix", "MUNIX")):
            values = subject_values(ds, var, muscle)[subjects]
            draw_band(ax_count, emg_day, values, COLOURS[var], label, min_subjects=k, style="--")
            draw_band(ax_frac, emg_day, values / emg_reference(ds, var, muscle), COLOURS[var], label,
                  min_subjects=k, band=False, style="--")
        draw_band(ax_frac, emg_day, subject_values(ds, "cmap_fraction", muscle)[subjects], COLOURS["cmap"],
              "CMAP amplitude", min_subjects=k, style="-.")
    medians = event_medians(ds, subjects)
    for ax in (ax_count, ax_frac):
        mark_events(ax, medians)
    return f"{count_note(day, n)}\n{event_note(medians)}"


def muscle_methods_figure(ds: xr.Dataset, muscle: str) -> Figure:
    """Per onset group (a row): true count vs MUNE / MUNIX, and fractions of normal with force."""
    groups = onset_groups(ds, muscle)
    fig = new_figure((12.5, 3.9 * max(len(groups), 1) + 0.9), Grid(max(len(groups), 1), 2))
    axes = fig.subplots(max(len(groups), 1), 2, squeeze=False, sharex=True)
    for (name, mask), (ax_count, ax_frac) in zip(groups, axes):
        note = methods_panels(ax_count, ax_frac, ds, muscle, mask)
        finish_axes(ax_count, f"{display_muscle(muscle)}: {name}", "motor units (MUNIX: index)", note)
        ax_count.set_ylim(bottom=0)
        finish_axes(ax_frac, f"{display_muscle(muscle)}: fraction of normal", "fraction of normal", note, fraction=True)
    figure_legend(fig, list(axes.ravel()), ncols=5)
    return fig


def clinical_scores_figure(ds: xr.Dataset, *, min_subjects: int = MIN_SUBJECTS) -> Figure:
    """ALSFRS-R total, its four domain subscores, and FVC, over months from onset."""
    subjects = with_onset(ds)
    k = min(min_subjects, int(subjects.sum()))
    day = np.asarray(ds["day"].values)
    items = [str(i) for i in ds["item"].values]
    panels = [("ALSFRS-R total", "points (0-48)", subject_values(ds, "alsfrs_r"), (0, 48))]
    for domain, names in DOMAINS.items():
        idx = [items.index(i) for i in names if i in items]
        values = np.asarray(ds["alsfrs_r_items"].isel(item=idx).sum("item", skipna=False)
                            .transpose("subject", "day").values, dtype=float)
        panels.append((f"ALSFRS-R {domain} ({', '.join(n.replace('_', ' ') for n in names)})",
                       f"points (0-{4 * len(idx)})", values, (0, 4 * len(idx))))
    panels.append(("Forced vital capacity", "fraction of predicted", subject_values(ds, "fvc_fraction"), (0, 1.1)))
    fig = new_figure((15.0, 7.6), Grid(2, 3))
    axes = list(fig.subplots(2, 3, sharex=True).ravel())
    medians = event_medians(ds)
    for ax, (title, unit, values, (lo, hi)) in zip(axes, panels):
        n = draw_band(ax, day, values[subjects], COLOURS["score"], "median, 10-90 % band", min_subjects=k)
        mark_events(ax, medians)
        finish_axes(ax, title, unit, f"{count_note(day, n)}\n{event_note(medians)}")
        ax.set_ylim(lo - 0.03 * hi, hi * 1.05)
        ax.title.set_fontsize("small")
    figure_legend(fig, axes, ncols=5)
    return fig


def region_figure(ds: xr.Dataset, *, min_subjects: int = MIN_SUBJECTS) -> Figure:
    """Function of each region over months from onset, one colour per onset region."""
    regions = [str(r) for r in ds["region"].values]
    onset_region = np.asarray(ds["onset_region"].values).astype(str)
    groups = [(r, with_onset(ds) & (onset_region == r)) for r in regions]
    groups = [(r, mask) for r, mask in groups if mask.any()]
    ncols = min(3, len(regions))
    nrows = math.ceil(len(regions) / ncols)
    fig = new_figure((5.0 * ncols, 3.6 * nrows + 0.8), Grid(nrows, ncols))
    axes = list(fig.subplots(nrows, ncols, squeeze=False, sharex=True).ravel())
    day = np.asarray(ds["day"].values)
    for ax, region in zip(axes, regions):
        values = np.asarray(ds["region_function"].sel(region=region).transpose("subject", "day").values, dtype=float)
        for (onset, mask), colour in zip(groups, _GROUP_COLOURS):
            draw_band(ax, day, values[mask], colour, f"{onset} onset (n = {int(mask.sum())} at onset)",
                  min_subjects=min(min_subjects, int(mask.sum())))
        medians = event_medians(ds)
        mark_events(ax, medians)
        finish_axes(ax, f"{region} region", "fraction of day-0 force", event_note(medians), fraction=True)
    for ax in axes[len(regions):]:
        ax.set_visible(False)
    figure_legend(fig, axes[:len(regions)], ncols=4)
    return fig


def _km_step(ax: Axes, kmf, colour: str, label: str) -> None:
    """Kaplan-Meier step curve with its 95 % band and ticks at censored times."""
    if kmf is None:
        return
    t = months(kmf.survival_function_.index.values)
    s = kmf.survival_function_.iloc[:, 0].values
    ci = kmf.confidence_interval_.values
    ax.fill_between(t, ci[:, 0], ci[:, 1], step="post", color=colour, alpha=0.15, linewidth=0)
    ax.step(t, s, where="post", color=colour, linewidth=1.8, label=label)
    censored = kmf.durations[~np.asarray(kmf.event_observed, dtype=bool)]
    if censored.size:
        ax.plot(months(censored), kmf.survival_function_at_times(censored).values, "|", color=colour, ms=9)


def survival_figure(ds: xr.Dataset, rows: list[Any]) -> Figure:
    """Kaplan-Meier curves from onset (diagnosis, ventilation, end stage) and end stage from
    diagnosis; ``rows`` (:class:`alsim.report.human.HumanRow`) are drawn as black markers."""
    fig = new_figure((13.0, 4.6))
    ax_onset, ax_dx = fig.subplots(1, 2, width_ratios=[1.5, 1.0])
    for var, name in EVENTS:
        durations, observed = event_times(ds, var)
        _km_step(ax_onset, kaplan_meier(durations, observed, name), COLOURS[var],
                 f"{name} ({int(observed.sum())} of {observed.size} reach it)")
    durations, observed = event_times(ds, "end_stage_day", start="diagnosis_day")
    _km_step(ax_dx, kaplan_meier(durations, observed, "end stage"), COLOURS["end_stage_day"],
             f"end stage after diagnosis ({int(observed.sum())} of {observed.size})")
    for row in rows:
        _draw_row(ax_dx if row.key == "one_year_mortality" else ax_onset, row)
    for ax, title, xlabel in ((ax_onset, "Events after symptom onset", "months from symptom onset"),
                              (ax_dx, "End stage after diagnosis", "months from diagnosis")):
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fraction of subjects without the event")
        ax.set_ylim(-0.03, 1.05)
        ax.set_xlim(left=0)
        ax.grid(True, alpha=0.3)
    figure_legend(fig, [ax_onset, ax_dx], ncols=3)
    return fig


def _draw_row(ax: Axes, row: Any) -> None:
    """A human.csv row in black: a range as a bar at 0.5 (no midpoint: none was published),
    a single value as a point at 0.5, the 1-year mortality at 12 months as 1 - value."""
    label = f"{row.quantity}: {row.text}"
    if row.key == "one_year_mortality":
        ax.plot([12.0], [1.0 - row.low], "o", color="black", ms=6, zorder=5, label=label)
    elif row.low < row.high:
        ax.plot([row.low, row.high], [0.5, 0.5], "-|", color="black", ms=10, linewidth=1.5, zorder=5, label=label)
    else:
        ax.plot([row.low], [0.5], "o", color="black", ms=6, zorder=5, label=label)
