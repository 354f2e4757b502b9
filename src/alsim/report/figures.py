"""The figures of a run page, on the Agg canvas: a grid of time courses per muscle, the motor units
by type, onset and end stage.

Figures are built on :class:`matplotlib.figure.Figure` with a ``FigureCanvasAgg`` directly
(:func:`new_figure`), so they never touch pyplot or the global backend and need no
``plt.close``; :func:`figure_png` renders one. The panels are drawn by :mod:`.plots`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from alsim.data import TrainingRow, load_training

from .plots import (TIME_COURSE_VARS, as_results, display_muscle, label_colours, legend_handle, plot_by_type,
                    plot_onset_survival, plot_time_course, readout, training_markers)

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

LEGEND_ROW_INCHES = 0.24
"""Height of one row of a figure legend in small type (inches)."""

__all__ = ["Grid", "by_type_figure", "figure_legend", "figure_png", "new_figure", "onset_survival_figure", "time_course_figure"]


def new_figure(figsize: tuple[float, float], grid: Grid | None = None) -> Figure:
    """A figure on the Agg canvas (no pyplot, no global backend).

    Without ``grid`` its layout is constrained (matplotlib places every label, at the cost of
    a layout pass and a second draw when it is saved); with a :class:`Grid`, the axes sit in
    fixed margins given in inches, which draws a figure of many panels in about half the time.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained" if grid is None else None)
    if grid is not None:
        fig.subplots_adjust(**grid.subplot_params(figsize))
    FigureCanvasAgg(fig)
    return fig


@dataclass(frozen=True)
class Grid:
    """Fixed margins (inches) of an ``nrows`` x ``ncols`` grid of panels, for :func:`new_figure`.

    The defaults leave room for tick labels and an axis label on the left and below each panel
    and for a one-line title above it; ``top`` adds room for a figure title, ``bottom`` for a
    legend below the grid (:func:`figure_legend` widens it to the legend's rows).
    """

    nrows: int = 1
    ncols: int = 1
    left: float = 0.7
    right: float = 0.2
    top: float = 0.35
    bottom: float = 0.6
    wspace: float = 0.75
    hspace: float = 0.9

    def subplot_params(self, figsize: tuple[float, float]) -> dict[str, float]:
        """The margins and spacing as fractions of the figure (``Figure.subplots_adjust``'s arguments)."""
        width, height = figsize
        panel_width = (width - self.left - self.right - (self.ncols - 1) * self.wspace) / self.ncols
        panel_height = (height - self.top - self.bottom - (self.nrows - 1) * self.hspace) / self.nrows
        return dict(left=self.left / width, right=1 - self.right / width, top=1 - self.top / height,
                    bottom=self.bottom / height, wspace=self.wspace / panel_width, hspace=self.hspace / panel_height)


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def figure_legend(fig: Figure, axes: Iterable[Axes], ncols: int = 6) -> None:
    unique: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab and not lab.startswith("_") and lab not in unique:
                unique[lab] = legend_handle(h)
    if not unique:
        return
    columns = min(ncols, len(unique))
    if fig.get_layout_engine() is not None:
        fig.legend(list(unique.values()), list(unique.keys()), loc="outside lower center",
                   ncols=columns, fontsize="small", frameon=False)
        return
    # a fixed grid: the legend's rows below the panels' axis labels
    rows = math.ceil(len(unique) / columns)
    height = fig.get_figheight()
    fig.legend(list(unique.values()), list(unique.keys()), loc="lower center", bbox_to_anchor=(0.5, 0.02 / height),
               ncols=columns, fontsize="small", frameon=False)
    fig.subplots_adjust(bottom=fig.subplotpars.bottom + (LEGEND_ROW_INCHES * rows + 0.1) / height)


def time_course_figure(results: Mapping[str, xr.Dataset] | xr.Dataset, muscle: str,
                       training: Iterable[TrainingRow] | None = None, *,
                       variables: Sequence[str] = TIME_COURSE_VARS, ncols: int = 3) -> Figure:
    """A grid of time-course panels for one muscle, one shared legend below."""
    results = as_results(results)
    training = load_training() if training is None else list(training)
    colours = label_colours(results)
    variables = [v for v in variables if any(v in ds for ds in results.values())]
    nrows = max(1, math.ceil(len(variables) / ncols))
    markers = training_markers(training)
    fig = new_figure((4.0 * ncols, 3.3 * nrows + 0.8), Grid(nrows, ncols, top=0.75))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    x_max = max(float(np.max(ds["day"].values)) for ds in results.values())
    x_min = min(float(np.min(ds["day"].values)) for ds in results.values())
    for ax, var in zip(axes, variables):
        points = plot_time_course(ax, results, var, muscle, training, colours=colours, legend=False, markers=markers)
        ax.set_title(readout(var).title, fontsize="medium")
        x_max = max([x_max] + [p.day for p in points])
    margin = 0.03 * (x_max - x_min)
    for ax in axes[:len(variables)]:  # one age axis for the whole grid
        ax.set_xlim(x_min - margin, x_max + margin)
    for ax in axes[len(variables):]:
        ax.set_visible(False)
    fig.suptitle(display_muscle(muscle).capitalize(), fontsize="large")
    figure_legend(fig, axes[:len(variables)])
    return fig


def by_type_figure(results: Mapping[str, xr.Dataset] | xr.Dataset, muscle: str,
                   var: str = "motor_units_functional_by_type_fraction") -> Figure:
    """One by-type panel per label for one muscle."""
    results = {k: v for k, v in as_results(results).items() if muscle in v["muscle"].values and var in v}
    n = max(1, len(results))
    fig = new_figure((4.6 * n, 3.6), Grid(1, n))
    axes = fig.subplots(1, n, squeeze=False, sharex=True, sharey=True).ravel()   # one age axis to compare labels
    for ax, (label, ds) in zip(axes, results.items()):
        plot_by_type(ax, ds, muscle, var, title=f"{label} - {display_muscle(muscle)}")
    return fig


def onset_survival_figure(results: Mapping[str, xr.Dataset] | xr.Dataset,
                          training: Iterable[TrainingRow] | None = None) -> Figure:
    """Hindlimb force over time, and the onset / end-stage curves with the training rows."""
    results = as_results(results)
    training = load_training() if training is None else list(training)
    colours = label_colours(results)
    has_hindlimb = any("hindlimb_force_fraction" in ds for ds in results.values())
    fig = new_figure((14.0 if has_hindlimb else 9.5, 4.6))   # constrained: room for the legend beside it
    if has_hindlimb:
        ax_force, ax_km = fig.subplots(1, 2, width_ratios=[1.0, 1.35])
        plot_time_course(ax_force, results, "hindlimb_force_fraction", None, [], colours=colours)
        for ds in results.values():
            for key in ("onset_force_fraction", "end_stage_hindlimb_force_fraction"):
                if key in ds.attrs:
                    ax_force.axhline(float(ds.attrs[key]), color="grey", linewidth=0.8, linestyle=":")
    else:
        ax_km = fig.subplots(1, 1)
    plot_onset_survival(ax_km, results, training, colours=colours)
    return fig
