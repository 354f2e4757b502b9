"""The sweep report: Kaplan-Meier medians against the varied parameter(s), and the table of points.

One varied parameter: the medians of onset and end stage with their 95 % intervals,
and the fractions with each event by the end of follow-up, against its value. Two: a
heat map per median over the grid. More: the table only.
"""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from ..trials.sweep import Axis
from .page import embed_figure, escape, fmt, head, table, write_html
from .figures import new_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["heatmap_figure", "line_figure", "points_table", "write_sweep_report"]

MEDIANS = (("median_onset_day", "onset", "C0"), ("median_end_stage_day", "end stage", "C3"))


def _positions(axis: dict) -> tuple[np.ndarray, list[str] | None]:
    """x positions of an axis's values: the numbers themselves, or 0, 1, ... with labels (names)."""
    numbers = Axis(axis["path"], tuple(axis["values"]), axis["log"]).numeric()
    if numbers is not None:
        return numbers, None
    return np.arange(len(axis["values"]), dtype=float), list(axis["values"])


def _label(value: str) -> str:
    """A grid value as shown: a number to 3 significant digits, a name as it is (plain text)."""
    try:
        return fmt(float(value))
    except ValueError:
        return value


def _entry(point: dict, key: str) -> tuple[float, float, float]:
    e = point[key]
    return tuple(np.nan if e.get(k) is None else e[k] for k in ("value", "lo", "hi"))


def line_figure(summary: dict) -> Figure:
    """One varied parameter: medians (95 % CI) and event fractions against its value."""
    axis, points = summary["axes"][0], summary["points"]
    x, labels = _positions(axis)
    fig = new_figure((12, 4))
    ax_days, ax_frac = fig.subplots(1, 2)
    for key, label, colour in MEDIANS:
        mid, lo, hi = np.array([_entry(p, key) for p in points]).T
        ax_days.plot(x, mid, marker="o", color=colour, label=f"median {label}")
        ax_days.fill_between(x, lo, hi, color=colour, alpha=0.15, linewidth=0)
    ax_days.set_ylabel("day (Kaplan-Meier median, 95 % CI)")
    ax_frac.plot(x, [p["fraction_with_onset"] for p in points], marker="s", markersize=8, color="C0", label="with onset")
    ax_frac.plot(x, [p["fraction_with_end_stage"] for p in points], marker="o", linestyle="--", color="C3",
                 label="at end stage")
    ax_frac.set_ylim(-0.03, 1.03)
    ax_frac.set_ylabel(f"fraction by day {summary['follow_up_days']}")
    for ax in (ax_days, ax_frac):
        ax.set_xlabel(axis["path"])
        if axis["log"]:
            ax.set_xscale("log")
        if labels is not None:
            ax.set_xticks(x, labels)
        ax.legend()
    return fig


def heatmap_figure(summary: dict) -> Figure:
    """Two varied parameters: each median over the grid (rows: the first parameter)."""
    rows, cols = summary["axes"]
    shape = (len(rows["values"]), len(cols["values"]))
    fig = new_figure((12, 0.5 * shape[0] + 3))
    for ax, (key, label, _) in zip(fig.subplots(1, 2), MEDIANS):
        grid = np.array([_entry(p, key)[0] for p in summary["points"]]).reshape(shape)
        image = ax.imshow(grid, cmap="viridis", aspect="auto", origin="lower")
        fig.colorbar(image, ax=ax, label="day")
        for (i, j), value in np.ndenumerate(grid):
            ax.text(j, i, "-" if np.isnan(value) else f"{value:.0f}", ha="center", va="center", fontsize=8,
                    color="k" if np.isnan(value) or _bright(image.cmap(image.norm(value))) else "w")
        ax.set_xticks(range(shape[1]), [_label(v) for v in cols["values"]], rotation=45)
        ax.set_yticks(range(shape[0]), [_label(v) for v in rows["values"]])
        ax.set_xlabel(cols["path"])
        ax.set_ylabel(rows["path"])
        ax.set_title(f"median {label} (- : not reached by day {summary['follow_up_days']})")
    return fig


def _bright(rgba) -> bool:
    """Whether black text reads better than white on this colour (relative luminance)."""
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5


def _cell(entry: dict) -> str:
    if entry["value"] is None:
        return "not reached"
    return f"{fmt(entry['value'])} ({fmt(entry['lo'])}-{fmt(entry['hi'])})"


def points_table(summary: dict) -> str:
    paths = [a["path"] for a in summary["axes"]]
    headers = [*paths, "median onset (d, 95 % CI)", "median end stage (d)", "onset to end stage (d)",
               "with onset", "at end stage"]
    rows = [[*(escape(_label(p["values"][k])) for k in paths),
             _cell(p["median_onset_day"]), _cell(p["median_end_stage_day"]), _cell(p["median_onset_to_end_stage_days"]),
             f"{p['fraction_with_onset']:.2f}", f"{p['fraction_with_end_stage']:.2f}"] for p in summary["points"]]
    return table(headers, rows, numeric=range(len(paths), len(headers)))


def write_sweep_report(path: Path, summary: dict, *, title: str, dpi: int = 90) -> Path:
    n_axes = len(summary["axes"])
    """Write the sweep page to ``path`` and return it."""
    parts = [head(title),
             f"<p class='meta'>{escape(summary['scenario'])}, hypothesis {escape(summary['hypothesis'])}; "
             f"{summary['subjects_per_point']} subjects at each of {len(summary['points'])} points, followed to day "
             f"{summary['follow_up_days']}; seed {summary['seed']}; alsim {escape(summary['alsim_version'])}. The same "
             "subjects (sex, litter, burden multiplier) at every point.</p>"]
    if n_axes == 1:
        parts.append(embed_figure(line_figure(summary), "medians against the varied parameter",
                          "Left: Kaplan-Meier median day of onset and of end stage at each value, with the 95 % "
                          "confidence band of each median (missing where the curve or band does not cross one half by "
                          "the end of follow-up). Right: fraction of subjects with onset, and at end stage, by then.", dpi))
    elif n_axes == 2:
        parts.append(embed_figure(heatmap_figure(summary), "medians over the grid",
                          "Kaplan-Meier median day of onset (left) and of end stage (right) at each point of the grid; "
                          "the table below gives their 95 % intervals.", dpi))
    else:
        parts.append(f"<p class='note'>{n_axes} varied parameters: no figure; the table lists every point.</p>")
    parts += ["<h2>Points</h2>", points_table(summary),
              "<p class='note'>Medians are Kaplan-Meier medians with lifelines' 95 % intervals; subjects without the "
              "event are censored at the end of follow-up. Onset to end stage: subjects with an onset, censored at the "
              "end of follow-up.</p>", "</body></html>"]
    return write_html(path, "\n".join(parts))
