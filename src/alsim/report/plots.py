"""Figures of simulated readouts against the training data.

Plotting is a leaf: every figure is split into a function that computes arrays
(:func:`band`, :func:`event_free_curve`, :func:`endpoint_summary`,
:func:`training_points`, :func:`map_training_row`) and a function that draws them onto a
given matplotlib ``Axes`` (``plot_*``). matplotlib is imported only inside the drawing
functions. The figures of a run page that put these panels together are in :mod:`.figures`.

A result is an :class:`xarray.Dataset` in the format of ``alsim.readouts`` (coords
``subject``, ``muscle``, ``day``, ``unit_type``); a collection of results is a mapping
``label -> Dataset`` (one colour per label).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from alsim.data import TrainingRow, load_training
from alsim.run.summary import EVENT_STATISTICS, event_day_quantile  # noqa: F401  (one convention everywhere)

from .bands import BAND_BLOCK_VALUES, band, band_on_day, day_blocks  # noqa: F401  (re-exported)
from .training_overlay import (  # noqa: F401  (re-exported: part of this module's API)
    HINDLIMB_MUSCLES, SKIPPED_MEASURES, UNSPECIFIED_STRAIN, TrainingPoint, endpoint_rows, is_complement,
    marker_key,
    map_training_row, point_label, strain_matches, training_markers, training_points,
)

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes

__all__ = [
    "BY_TYPE_VARS", "HINDLIMB_MUSCLES", "MUSCLE_ORDER", "READOUTS", "Readout", "SKIPPED_MEASURES",
    "TIME_COURSE_VARS", "TrainingPoint", "UNIT_TYPE_COLOURS", "UNSPECIFIED_STRAIN", "as_results", "band",
    "band_on_day", "day_blocks",
    "crossing_day", "display_muscle", "endpoint_rows", "endpoint_summary", "event_free_curve",
    "legend_handle", "is_complement", "label_colours", "map_training_row", "muscles_of", 
    "plot_by_type", "plot_onset_survival", "plot_time_course", "point_label", "readout",
    "strain_matches", "strains_of", "training_markers", "training_points",
]


# --------------------------------------------------------------------------- names


@dataclass(frozen=True)
class Readout:
    """How a readout is shown: panel title, axis label with units, and whether it is 0-1."""

    title: str
    unit: str
    fraction: bool = True


#: Display names and units of every readout, in one place.
READOUTS: dict[str, Readout] = {
    "endplates_innervated_fraction": Readout("Innervated endplates", "innervated / intact endplates"),
    "endplates_fully_innervated_fraction": Readout("Fully innervated endplates", "fully innervated / intact endplates"),
    "endplates_denervated_fraction": Readout("Denervated endplates", "denervated / intact endplates"),
    "motor_neurons_alive_fraction": Readout("Motor neurons alive", "fraction of the muscle's motor neurons"),
    "axons_intact_fraction": Readout("Axons intact", "fraction of motor units"),
    "motor_units_functional_fraction": Readout("Functional motor units", "fraction of motor units"),
    "mean_motor_unit_size": Readout("Mean motor-unit size", "fibres per functional unit", fraction=False),
    "force_fraction": Readout("Muscle force", "fraction of day-0 force"),
    "fibre_cross_section_fraction": Readout("Fibre cross-section", "fraction of normal"),
    "hindlimb_force_fraction": Readout("Hindlimb force", "fraction of day-0 force"),
    "motor_units_functional_by_type_fraction": Readout("Functional motor units by type", "fraction of units of the type"),
    "motor_neurons_alive_by_type_fraction": Readout("Motor neurons alive by type", "fraction of units of the type"),
    "onset_day": Readout("Onset", "age (days)", fraction=False),
    "end_stage_day": Readout("End stage", "age (days)", fraction=False),
}

#: The per-muscle readouts drawn as a panel grid, in reading order.
TIME_COURSE_VARS: tuple[str, ...] = (
    "endplates_innervated_fraction", "endplates_fully_innervated_fraction", "endplates_denervated_fraction",
    "motor_neurons_alive_fraction", "axons_intact_fraction", "motor_units_functional_fraction",
    "mean_motor_unit_size", "fibre_cross_section_fraction", "force_fraction",
)
BY_TYPE_VARS: tuple[str, ...] = ("motor_units_functional_by_type_fraction", "motor_neurons_alive_by_type_fraction")

MUSCLE_ORDER: tuple[str, ...] = ("gastrocnemius", "tibialis_anterior", "soleus", "diaphragm")
#: Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
UNIT_TYPE_COLOURS: dict[str, str] = {"S": "#0072B2", "FR": "#E69F00", "FF": "#D55E00"}
_LABEL_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e")
_ENDPOINT_MARKERS = {"onset": "o", "end_stage": "s", "survival": "D"}



def display_muscle(muscle: str | None) -> str:
    return "" if muscle is None else muscle.replace("_", " ")


def readout(var: str, ds: xr.Dataset | None = None) -> Readout:
    """The display entry of ``var``; falls back to the Dataset's ``description`` and ``long_name``
    (CF: ``units`` is a UDUNITS string such as ``1``, no axis label)."""
    if var in READOUTS:
        return READOUTS[var]
    attrs = ds[var].attrs if ds is not None and var in ds else {}
    return Readout(str(attrs.get("description", var)), str(attrs.get("long_name", attrs.get("units", ""))),
                   fraction=False)


# ------------------------------------------------------------------------ results


def as_results(results: Mapping[str, xr.Dataset] | xr.Dataset) -> dict[str, xr.Dataset]:
    """A mapping ``label -> Dataset``; a single Dataset is labelled by its hypothesis."""
    import xarray as xr

    if isinstance(results, Mapping) and not isinstance(results, xr.Dataset):  # a Dataset is a Mapping too
        out = {str(k): v for k, v in results.items()}
    else:
        ds = results
        label = ds.attrs.get("hypothesis") or ds.attrs.get("scenario_name") or "simulation"
        out = {str(label): ds}
    if not out:
        raise ValueError("no results to report")
    return out


def label_colours(labels: Iterable[str]) -> dict[str, str]:
    return {label: _LABEL_COLOURS[i % len(_LABEL_COLOURS)] for i, label in enumerate(labels)}


def muscles_of(results: Mapping[str, xr.Dataset]) -> list[str]:
    """The muscles present in any result, the usual ones first in anatomical order."""
    seen: list[str] = []
    for ds in results.values():
        for m in ds["muscle"].values.tolist():
            if m not in seen:
                seen.append(str(m))
    return [m for m in MUSCLE_ORDER if m in seen] + [m for m in seen if m not in MUSCLE_ORDER]


def strains_of(results: Mapping[str, xr.Dataset]) -> set[str]:
    return {str(ds.attrs["strain"]) for ds in results.values() if ds.attrs.get("strain")}


# ----------------------------------------------------------------------- compute


def event_free_curve(event_days: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Fraction of subjects whose event has not happened by each day (Kaplan-Meier).

    ``event_days`` is NaN for subjects not reaching the event within the run; they are
    censored at the last day, so the curve is exact up to it.
    """
    t = np.asarray(event_days, dtype=float)
    if t.size == 0:
        return np.full(len(days), np.nan)
    reached = np.where(np.isnan(t), np.inf, t)
    return np.mean(reached[None, :] > np.asarray(days, dtype=float)[:, None], axis=1)


def endpoint_summary(ds: xr.Dataset, var: str, subjects: np.ndarray | None = None) -> dict[str, Any]:
    """Median and quartiles, and mean/SD among subjects that reach, of ``onset_day`` or ``end_stage_day``.

    The quantiles follow the one convention of the terminal and ``summary.json``
    (:data:`alsim.run.summary.EVENT_STATISTICS`): Kaplan-Meier over all subjects, censored at
    the end of the run.

    Quantiles beyond the run are ``inf`` ("not reached").
    """
    t = np.asarray(ds[var].values, dtype=float)
    if subjects is not None:
        t = t[np.asarray(subjects, dtype=bool)]
    reached = t[~np.isnan(t)]
    n = int(t.size)

    def quantile(q: float) -> float:
        return event_day_quantile(t, q)

    return {
        "n": n,
        "n_reached": int(reached.size),
        "median": quantile(0.5),
        "q25": quantile(0.25),
        "q75": quantile(0.75),
        "p10": quantile(0.1),
        "p90": quantile(0.9),
        "mean_reached": float(np.mean(reached)) if reached.size else math.nan,
        "sd_reached": float(np.std(reached, ddof=1)) if reached.size > 1 else math.nan,
        "last_day": float(np.max(ds["day"].values)) if ds.sizes.get("day") else math.nan,
    }


# -------------------------------------------------------------------------- draw


def legend_handle(handle: Any) -> Any:
    """The handle to show in a legend: an error bar's marker alone, since its caps and bars would
    hide the marker shape that tells sources apart; any other handle unchanged."""
    from matplotlib.container import ErrorbarContainer

    return handle.lines[0] if isinstance(handle, ErrorbarContainer) and handle.lines[0] is not None else handle


def _legend(ax: Axes, **kwargs: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    unique: dict[str, Any] = {}
    for h, lab in zip(handles, labels):
        if lab and not lab.startswith("_") and lab not in unique:
            unique[lab] = legend_handle(h)
    if unique:
        kwargs.setdefault("fontsize", "small")
        kwargs.setdefault("loc", "best")
        ax.legend(list(unique.values()), list(unique.keys()), **kwargs)


def _draw_point(ax: Axes, x: float, y: float, *, xerr: float | None = None, yerr: float | None = None,
                marker: str = "o", hollow: bool = False, label: str | None = None) -> None:
    ax.errorbar([x], [y], xerr=None if xerr is None else [xerr], yerr=None if yerr is None else [yerr],
                fmt=marker, color="black", ecolor="black", mec="black", mfc="white" if hollow else "black",
                ms=6, capsize=3, elinewidth=1, linestyle="none", zorder=5, label=label)


def plot_time_course(ax: Axes, results: Mapping[str, xr.Dataset] | xr.Dataset, var: str, muscle: str | None,
                     training: Iterable[TrainingRow] | None = None, *,
                     quantiles: Sequence[float] = (0.1, 0.5, 0.9), colours: Mapping[str, str] | None = None,
                     legend: bool = True, title: bool = True,
                     markers: Mapping[tuple[str, str, str], str] | None = None) -> list[TrainingPoint]:
    """Median line and shaded quantile band per label, with the matching training rows.

    ``training=None`` uses :func:`alsim.data.load_training`; pass ``[]`` for none.
    Training points are black (hollow where the background strain is unspecified), with
    error bars where an SD exists. Returns the points drawn.
    """
    results = as_results(results)
    colours = dict(colours) if colours is not None else label_colours(results)
    info = readout(var, next(iter(results.values())))
    for label, ds in results.items():
        if var not in ds or (muscle is not None and "muscle" in ds[var].dims and muscle not in ds["muscle"].values):
            continue
        days, lo, med, hi = band(ds, var, muscle, quantiles)
        colour = colours.get(label, "C0")
        ax.fill_between(days, lo, hi, color=colour, alpha=0.2, linewidth=0)
        ax.plot(days, med, color=colour, linewidth=1.8, label=label)
    training = load_training() if training is None else list(training)
    markers = training_markers(training) if markers is None else markers
    points = training_points(training, var, muscle, strains_of(results))
    for p in points:
        _draw_point(ax, p.day, p.value, yerr=p.sd, marker=markers.get(marker_key(p.row), "o"),
                    hollow=p.hollow, label=p.label)
    if title:
        where = f" - {display_muscle(muscle)}" if muscle is not None and ds_has_muscle_dim(results, var) else ""
        ax.set_title(f"{info.title}{where}", fontsize="medium")
    ax.set_xlabel("age (days)")
    ax.set_ylabel(info.unit)
    if info.fraction:
        ax.set_ylim(-0.03, 1.05)
    else:
        ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if legend:
        _legend(ax)
    return points


def ds_has_muscle_dim(results: Mapping[str, xr.Dataset], var: str) -> bool:
    return any(var in ds and "muscle" in ds[var].dims for ds in results.values())


def crossing_day(days: np.ndarray, values: np.ndarray, level: float = 0.5) -> float:
    """First day on which ``values`` is below ``level`` (NaN if never)."""
    below = np.nonzero(np.asarray(values) < level)[0]
    return float(days[below[0]]) if below.size else math.nan


def plot_by_type(ax: Axes, ds: xr.Dataset, muscle: str, var: str = "motor_units_functional_by_type_fraction", *,
                 legend: bool = True, title: str | None = None) -> dict[str, float]:
    """Median of ``var`` per unit type (S, FR, FF) with a light 10-90 % band.

    Each type's legend entry gives the day its median first falls below 0.5, which shows
    the order of loss (FF, then FR, then S). Returns those days; types a muscle lacks are
    left out.
    """
    info = readout(var, ds)
    halves: dict[str, float] = {}
    for unit_type in [str(u) for u in ds["unit_type"].values]:
        days, lo, med, hi = band(ds, var, muscle, unit_type=unit_type)
        if np.all(np.isnan(med)):
            continue
        colour = UNIT_TYPE_COLOURS.get(unit_type, "grey")
        half = crossing_day(days, med)
        halves[unit_type] = half
        when = f"50 % at day {half:.0f}" if not math.isnan(half) else "above 50 %"
        ax.fill_between(days, lo, hi, color=colour, alpha=0.15, linewidth=0)
        ax.plot(days, med, color=colour, linewidth=1.8, label=f"{unit_type} ({when})")
        if not math.isnan(half):
            ax.plot([half], [0.5], marker="o", color=colour, ms=5, zorder=4)
    ax.axhline(0.5, color="grey", linewidth=0.8, linestyle=":")
    ax.set_title(title if title is not None else f"{info.title} - {display_muscle(muscle)}", fontsize="medium")
    ax.set_xlabel("age (days)")
    ax.set_ylabel(info.unit)
    ax.set_ylim(-0.03, 1.05)
    ax.grid(True, alpha=0.3)
    if legend:
        _legend(ax, loc="lower left")
    return halves


def plot_onset_survival(ax: Axes, results: Mapping[str, xr.Dataset] | xr.Dataset,
                        training: Iterable[TrainingRow] | None = None, *,
                        colours: Mapping[str, str] | None = None, legend: bool = True,
                        y_offset_step: float = 0.04) -> list[TrainingRow]:
    """Event-free curves (no onset: solid; not at end stage: dashed) per label, with the
    training onset / end-stage / survival rows of the matching strain.

    Training rows are drawn at the mean with horizontal SD bars at y = 0.5, where the
    curves cross the median; several rows are spread vertically by ``y_offset_step``
    around 0.5 (0 draws all exactly at 0.5). Returns the rows drawn.
    """
    results = as_results(results)
    colours = dict(colours) if colours is not None else label_colours(results)
    for label, ds in results.items():
        days = np.asarray(ds["day"].values)
        colour = colours.get(label, "C0")
        for var, style, name in (("onset_day", "-", "no onset"), ("end_stage_day", "--", "not at end stage")):
            if var not in ds:
                continue
            t = np.asarray(ds[var].values, dtype=float)
            curve = event_free_curve(t, days)
            ax.step(days, curve, where="post", color=colour, linestyle=style, linewidth=1.8, label=f"{label}: {name}")
            if np.isnan(t).any():  # censored at the last day
                ax.plot([days[-1]], [curve[-1]], marker="|", ms=10, color=colour, linestyle="none")
    strains = strains_of(results)
    rows = endpoint_rows(training, strains)
    labels = [f"{point_label(r, with_strain=len(strains) > 1)}: {r.measure.replace('_', ' ')}" for r in rows]
    dup = {lab for lab in labels if labels.count(lab) > 1}
    k = len(rows)
    for i, (row, lab) in enumerate(zip(rows, labels)):
        if lab in dup and row.definition:
            lab = f"{lab} [{_short_definition(row.definition)}]"
        y = 0.5 + (i - (k - 1) / 2) * y_offset_step
        _draw_point(ax, row.value, y, xerr=row.sd, marker=_ENDPOINT_MARKERS.get(row.measure, "o"),
                    hollow=row.strain == UNSPECIFIED_STRAIN, label=lab)
    ax.axhline(0.5, color="grey", linewidth=0.8, linestyle=":")
    ax.set_title("Onset and end stage", fontsize="medium")
    ax.set_xlabel("age (days)")
    ax.set_ylabel("fraction of subjects without the event")
    ax.set_ylim(-0.03, 1.05)
    ax.grid(True, alpha=0.3)
    if legend:
        _legend(ax, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return rows


def _short_definition(definition: str) -> str:
    import re

    tag = re.search(r"\(([A-Z]{1,4}\d)\)", definition)
    if tag:
        return tag.group(1)
    return definition if len(definition) <= 24 else definition[:23] + "..."
