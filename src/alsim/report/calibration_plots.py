"""Figures of the calibration report (:mod:`alsim.report.calibration`).

Every function returns a matplotlib figure on the Agg canvas
(:func:`alsim.report.figures.new_figure`: no pyplot, no global backend) and draws in the
style of the run report: one colour per hypothesis, black training points (hollow where
the background strain is not given), a shared legend below a grid.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .figures import figure_legend, new_figure
from .plots import (
    _ENDPOINT_MARKERS, _draw_point, _legend, _short_definition, band, display_muscle, endpoint_rows,
    marker_key, point_label, readout, training_markers, training_points,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = ["checks_figure", "epsilon_figure", "fit_figure", "marginals_figure", "pairwise_figure", "param_label",
           "param_unit", "probability_figure", "survival_figure", "weighted_density"]

#: 95 % credible band across posterior draws.
BAND_QUANTILES = (0.025, 0.5, 0.975)


# ------------------------------------------------------------------- parameters


def param_unit(path: str, reasons: Sequence[str] = ()) -> str:
    """A unit for a calibrated parameter: from ``(/day ...)`` in its prior's source, else its name."""
    for reason in reasons:
        found = re.search(r"\((/day[^)]*)\)", reason or "")
        if found:
            return found.group(1)
    name = path.rsplit(".", 1)[-1]
    if name.endswith("_days"):
        return "days"
    if name.endswith("_fraction"):
        return "fraction"
    if name.endswith("_log_sd"):
        return "SD of ln"
    if name.endswith("vulnerability"):
        return "relative to reference"
    if name.endswith("_weight"):
        return "weight, 0-1"
    return "dimensionless"


def param_label(path: str, unit: str, width: int = 0) -> str:
    """``name (unit)``; the last two parts of a dotted path; wrapped to ``width`` (at
    underscores, drawn as spaces) if given."""
    parts = path.split(".")
    name = ".".join(parts[-2:]) if len(parts) > 2 else parts[-1]
    if not width:
        return f"{name} ({unit})" if unit else name
    text = f"{name.replace('_', ' ')} ({unit})" if unit else name.replace("_", " ")
    return textwrap.fill(text, width, break_on_hyphens=False)


def _prior_bounds(priors: Sequence[Mapping[str, Any]], values: np.ndarray) -> tuple[float, float, bool]:
    """Axis range and scale of a parameter: the union of its prior ranges (else the data range)."""
    log = any(bool(p.get("log")) for p in priors)
    lows = [float(p["low"]) for p in priors if p.get("low") is not None]
    highs = [float(p["high"]) for p in priors if p.get("high") is not None]
    finite = values[np.isfinite(values)]
    if log:
        finite = finite[finite > 0]
    low = min(lows) if lows else (float(finite.min()) if finite.size else 1.0)
    high = max(highs) if highs else (float(finite.max()) if finite.size else 2.0)
    if not high > low:
        high = low * 2.0 if log else low + 1.0
    return low, high, log


def weighted_density(values: np.ndarray, weights: np.ndarray, low: float, high: float, log: bool,
                     bins: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Weighted histogram density over ``[low, high]``, per unit (or per log10 unit when ``log``).

    Returns ``(edges in natural units, density)``; values outside the range are clipped to it,
    NaN (and non-positive values on a log scale) are left out.
    """
    v = np.asarray(values, float)
    w = np.asarray(weights, float)
    ok = np.isfinite(v) & np.isfinite(w)
    v, w = v[ok], w[ok]
    if log:
        keep = v > 0
        v, w = np.log10(v[keep]), w[keep]
        low, high = math.log10(low), math.log10(high)
    edges = np.linspace(low, high, bins + 1)
    counts, _ = np.histogram(np.clip(v, low, high), bins=edges, weights=w)
    total = float(counts.sum())
    density = counts / (total * np.diff(edges)) if total > 0 else np.zeros(bins)
    return (10.0 ** edges if log else edges), density


def _set_scale(ax: Any, axis: str, low: float, high: float, log: bool) -> None:
    """Limits of one axis; a log axis gets plain labels at 1, 2, 5 x 10^k and no minor labels."""
    if log:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

        getattr(ax, f"set_{axis}scale")("log")
        which = ax.xaxis if axis == "x" else ax.yaxis
        subs = (1.0, 2.0, 5.0) if high / low < 300 else (1.0,)
        which.set_major_locator(LogLocator(base=10, subs=subs))
        which.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        which.set_minor_formatter(NullFormatter())
        if high / low > 30:  # minor ticks of several decades only clutter (and cost drawing time)
            which.set_minor_locator(NullLocator())
    getattr(ax, f"set_{axis}lim")(low, high)


# ---------------------------------------------------------------------- figures


def probability_figure(hypotheses: Sequence[str], probabilities: Mapping[str, float], se: Mapping[str, float],
                       colours: Mapping[str, str]) -> Figure:
    """Bars of the posterior model probabilities with 2 x Monte Carlo SE (clipped to 0-1)."""
    fig = new_figure((max(4.5, 1.7 * len(hypotheses) + 1.5), 3.6))
    ax = fig.subplots()
    p = np.array([_num(probabilities.get(h)) for h in hypotheses])
    s = 2.0 * np.array([_num(se.get(h)) for h in hypotheses])
    p_ok, s_ok = np.nan_to_num(p), np.nan_to_num(s)
    yerr = np.vstack([np.minimum(s_ok, p_ok), np.minimum(s_ok, np.clip(1.0 - p_ok, 0.0, None))])
    x = np.arange(len(hypotheses))
    ax.bar(x, p_ok, color=[colours[h] for h in hypotheses], alpha=0.85, width=0.6)
    ax.errorbar(x, p_ok, yerr=yerr, fmt="none", ecolor="black", capsize=4, elinewidth=1)
    ax.set_xticks(x, [f"{h}\n{_pm(pi, si / 2)}" for h, pi, si in zip(hypotheses, p, s)])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("posterior model probability")
    ax.set_title("Model probabilities (error bars: 2 x Monte Carlo SE)", fontsize="medium")
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def marginals_figure(params: Sequence[str], particles: Mapping[str, pd.DataFrame],
                     priors: Mapping[str, Mapping[str, Mapping[str, Any]]],
                     medians: Mapping[str, Mapping[str, float]], colours: Mapping[str, str],
                     units: Mapping[str, str], ncols: int = 4) -> Figure:
    """One panel per parameter: weighted posterior density per hypothesis, the prior, medians."""
    ncols = max(1, min(ncols, len(params)))
    nrows = max(1, math.ceil(len(params) / ncols))
    fig = new_figure((3.9 * ncols, 2.9 * nrows + 0.7))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    axes[0].plot([], [], color="black", linestyle=":", label="posterior median (hypothesis colour)")
    for ax, path in zip(axes, params):
        own = [priors[h][path] for h in priors if path in priors[h]]
        pooled = np.concatenate([frame[path].to_numpy(float) for frame in particles.values() if path in frame]
                                or [np.array([])])
        low, high, log = _prior_bounds(own, pooled)
        drawn: set[tuple[float, float]] = set()
        for prior in own:
            key = (float(prior["low"]), float(prior["high"]))
            if key in drawn:
                continue
            drawn.add(key)
            a, b = (math.log10(key[0]), math.log10(key[1])) if log else key
            ax.hlines(1.0 / (b - a), key[0], key[1], colors="grey", linestyles="--", linewidth=1.2, label="prior")
        for h, frame in particles.items():
            if path not in frame or not np.isfinite(frame[path].to_numpy(float)).any():
                continue
            edges, dens = weighted_density(frame[path].to_numpy(float), frame["weight"].to_numpy(float), low, high, log)
            ax.stairs(dens, edges, color=colours[h], linewidth=1.6, label=h)
            ax.stairs(dens, edges, color=colours[h], alpha=0.12, fill=True)
            median = medians.get(h, {}).get(path)
            if median is not None and math.isfinite(median):
                ax.axvline(median, color=colours[h], linestyle=":", linewidth=1.4)
        _set_scale(ax, "x", low, high, log)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(param_label(path, units.get(path, ""), 44), fontsize="small")
        ax.set_ylabel("density per log10 unit" if log else "density per unit", fontsize="small")
        ax.set_title(path, fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.grid(True, alpha=0.3)
    for ax in axes[len(params):]:
        ax.set_visible(False)
    figure_legend(fig, axes[:len(params)])
    return fig


def pairwise_figure(hypothesis: str, frame: pd.DataFrame, params: Sequence[str],
                    priors: Mapping[str, Mapping[str, Any]], colour: str, units: Mapping[str, str]) -> Figure:
    """Corner plot of one hypothesis's particles: weighted histograms on the diagonal,
    scatter plots below it with marker area proportional to the particle's weight."""
    n = len(params)
    cell, left, bottom, top = (1.6 if n > 6 else 2.1), 1.05, 1.05, 0.45
    width, height = cell * n + left + 0.2, cell * n + bottom + top
    fig = new_figure((width, height))
    fig.set_layout_engine("none")  # a fixed grid: much faster than constrained layout for n x n axes
    grid = fig.add_gridspec(n, n, left=left / width, right=1 - 0.2 / width, bottom=bottom / height,
                            top=1 - top / height, wspace=0.15, hspace=0.15)
    weights = frame["weight"].to_numpy(float)
    w_max = float(np.nanmax(weights)) if weights.size and np.isfinite(weights).any() else 1.0
    area = 4.0 + 70.0 * np.nan_to_num(weights) / (w_max if w_max > 0 else 1.0)
    bounds = {p: _prior_bounds([priors[p]] if p in priors else [], frame[p].to_numpy(float)) for p in params}
    for i, py in enumerate(params):
        for j, px in enumerate(params):
            if j > i:
                continue
            ax = fig.add_subplot(grid[i, j])
            x = frame[px].to_numpy(float)
            _set_scale(ax, "x", *bounds[px])
            if i == j:
                edges, dens = weighted_density(x, weights, *bounds[px])
                ax.stairs(dens, edges, color=colour, fill=True, alpha=0.35)
                ax.set_yticks([])
            else:
                ax.scatter(x, frame[py].to_numpy(float), s=area, color=colour, alpha=0.55, edgecolors="none")
                _set_scale(ax, "y", *bounds[py])
            ax.tick_params(which="both", labelsize="x-small")
            ax.grid(True, alpha=0.25)
            if i == n - 1:
                ax.set_xlabel(param_label(px, units.get(px, ""), 20), fontsize="x-small")
                ax.tick_params(axis="x", which="both", labelrotation=90)
            else:
                ax.tick_params(axis="x", which="both", labelbottom=False)
            if j == 0 and i > 0:
                ax.set_ylabel(param_label(py, units.get(py, ""), 20), fontsize="x-small")
            elif i != j:
                ax.tick_params(axis="y", which="both", labelleft=False)
    fig.suptitle(f"{hypothesis}: {len(frame)} particles (marker area proportional to weight)", fontsize="medium",
                 y=1 - 0.12 / height, va="top")
    return fig


def matched_points(var: str, muscle: str, strain: str, statistics: Sequence[Mapping[str, Any]]) -> list:
    """Training points of ``var`` on ``muscle``, each with the error SD of the statistic fitted to it (or None)."""
    out = []
    for p in training_points(None, var, muscle, strain):
        err = None
        for s in statistics:
            spec = s.get("spec") or {}
            if s.get("kind") != "readout_at_day" or spec.get("var") != var or muscle not in spec.get("muscles", []):
                continue
            observed = _num(s.get("observed"))
            value = 1.0 - observed if spec.get("complement") else observed
            if _num(spec.get("day")) == round(p.day) and abs(value - p.value) < 1e-9:
                err = _num(s.get("error_sd"))
                err = err if math.isfinite(err) else None
                break
        out.append((p, err))
    return out


def fit_figure(ds: xr.Dataset, var: str, muscles: Sequence[str], hypotheses: Sequence[str],
               points: Mapping[str, list], colours: Mapping[str, str]) -> Figure:
    """One panel per muscle: median and 95 % band across posterior draws per hypothesis, data on top."""
    info = readout(var, ds)
    markers = training_markers(None)
    fig = new_figure((4.3 * len(muscles) + 0.4, 4.3))
    axes = fig.subplots(1, len(muscles), squeeze=False).ravel()
    for ax, muscle in zip(axes, muscles):
        for h in hypotheses:
            days, lo, med, hi = band(ds.sel(hypothesis=h).rename(draw="subject"), var, muscle, BAND_QUANTILES)
            ax.fill_between(days, lo, hi, color=colours[h], alpha=0.2, linewidth=0)
            ax.plot(days, med, color=colours[h], linewidth=1.8, label=h)
        for p, err in points.get(muscle, []):
            _draw_point(ax, p.day, p.value, yerr=err, marker=markers.get(marker_key(p.row), "o"), hollow=p.hollow,
                        label=p.label)
        ax.set_title(f"{info.title} - {display_muscle(muscle)}", fontsize="medium")
        ax.set_xlabel("age (days)")
        ax.set_ylabel(info.unit)
        if info.fraction:
            ax.set_ylim(-0.03, 1.05)
        ax.grid(True, alpha=0.3)
    figure_legend(fig, axes, ncols=4)
    return fig


def survival_figure(ds: xr.Dataset, hypotheses: Sequence[str], strain: str,
                    statistics: Sequence[Mapping[str, Any]], colours: Mapping[str, str]) -> Figure:
    """Fraction of the cohort not at end stage (median, 95 % band across draws) and the
    published end-stage / survival means with SD bars, around y = 0.5."""
    fig = new_figure((10.5, 4.4))
    ax = fig.subplots()
    for h in hypotheses:
        days, lo, med, hi = band(ds.sel(hypothesis=h).rename(draw="subject"), "surviving_fraction", None,
                                 BAND_QUANTILES)
        ax.fill_between(days, lo, hi, color=colours[h], alpha=0.2, linewidth=0)
        ax.plot(days, med, color=colours[h], linewidth=1.8, label=h)
    fitted = {(s["spec"].get("var"), _num(s.get("observed"))) for s in statistics
              if s.get("kind") == "endpoint_mean" and isinstance(s.get("spec"), dict)}
    rows = [r for r in endpoint_rows(None, strain) if r.measure in ("end_stage", "survival")]
    labels = [f"{point_label(r)}: {r.measure.replace('_', ' ')}" for r in rows]
    for i, (row, label) in enumerate(zip(rows, labels)):
        if labels.count(label) > 1 and row.definition:
            label += f" [{_short_definition(row.definition)}]"
        if ("end_stage_day", row.value) in fitted:
            label += " (fitted)"
        y = 0.5 - (i - (len(rows) - 1) / 2) * 0.035  # first row on top, as in the legend
        _draw_point(ax, row.value, y, xerr=row.sd, marker=_ENDPOINT_MARKERS.get(row.measure, "o"),
                    hollow=row.strain == "G93A", label=label)
    ax.axhline(0.5, color="grey", linewidth=0.8, linestyle=":")
    ax.set_title("Cohort not at end stage", fontsize="medium")
    ax.set_xlabel("age (days)")
    ax.set_ylabel("fraction of the cohort not at end stage")
    ax.set_ylim(-0.03, 1.05)
    ax.grid(True, alpha=0.3)
    _legend(ax, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return fig


def checks_figure(checks: Mapping[str, Sequence[Mapping[str, Any]]], colours: Mapping[str, str]) -> Figure:
    """One row per statistic, the 95 % predictive interval per hypothesis (offset vertically),
    the observed value as a black diamond; one panel per unit."""
    hypotheses = [h for h, rows in checks.items() if rows]
    order: dict[str, Mapping[str, Any]] = {}
    for h in hypotheses:
        for row in checks[h]:
            order.setdefault(str(row.get("key")), row)
    units = list(dict.fromkeys(str(r.get("unit") or "") for r in order.values()))
    groups = {u: [k for k, r in order.items() if str(r.get("unit") or "") == u] for u in units}
    fig = new_figure((11.5, 0.36 * len(order) + 1.0 * len(units) + 1.0))
    axes = fig.subplots(len(units), 1, squeeze=False, height_ratios=[len(groups[u]) + 1.5 for u in units]).ravel()
    step = 0.6 / max(len(hypotheses), 1)
    for h in hypotheses:  # legend proxies: a solid line per hypothesis, then the dotted style
        axes[0].plot([], [], color=colours[h], linewidth=2.0, marker="o", ms=3.5, label=h)
    axes[0].plot([], [], color="grey", linestyle=":", label="not fitted (dotted, grey label)")
    for ax, unit in zip(axes, units):
        keys = groups[unit]
        for i, key in enumerate(keys):
            for k, h in enumerate(hypotheses):
                row = next((r for r in checks[h] if str(r.get("key")) == key), None)
                if row is None:
                    continue
                y = -i - (k - (len(hypotheses) - 1) / 2) * step  # first hypothesis on top
                lo, med, hi = (_num(row.get(f"predictive_{q}")) for q in ("low", "median", "high"))
                style = "-" if row.get("fitted") else ":"
                if math.isfinite(lo) and math.isfinite(hi):
                    ax.plot([lo, hi], [y, y], color=colours[h], linestyle=style, linewidth=2.0)
                if math.isfinite(med):
                    ax.plot([med], [y], marker="o", ms=3.5, color=colours[h], linestyle="none")
            observed = _num(order[key].get("observed"))
            if math.isfinite(observed):
                ax.plot([observed], [-i], marker="D", ms=5, color="black", linestyle="none", zorder=5,
                        label="observed (training data)")
        ax.set_yticks(-np.arange(len(keys)), [_check_label(order[k]) for k in keys], fontsize="x-small")
        for tick, key in zip(ax.get_yticklabels(), keys):
            if not order[key].get("fitted"):
                tick.set_color("#777777")
        ax.set_ylim(-len(keys) + 0.4, 0.6)
        ax.set_xlabel(unit or "value")
        ax.set_title(f"Statistics in {unit or 'other units'}", fontsize="medium")
        ax.grid(True, axis="x", alpha=0.3)
    figure_legend(fig, axes, ncols=min(len(hypotheses) + 2, 5))
    return fig


def epsilon_figure(generations: Sequence[Mapping[str, Any]]) -> Figure:
    """The ABC acceptance threshold per generation."""
    fig = new_figure((5.2, 3.2))
    ax = fig.subplots()
    t = [int(g.get("t", i)) for i, g in enumerate(generations)]
    ax.plot(t, [_num(g.get("epsilon")) for g in generations], marker="o", color="#1f77b4")
    ax.set_xticks(t)
    ax.set_xlabel("generation t")
    ax.set_ylabel("epsilon (distance threshold)")
    ax.set_title("ABC-SMC acceptance threshold", fontsize="medium")
    ax.grid(True, alpha=0.3)
    return fig


# ---------------------------------------------------------------------- helpers


def _num(x: Any) -> float:
    try:
        return math.nan if x is None else float(x)
    except (TypeError, ValueError):
        return math.nan


def _pm(p: float, se: float) -> str:
    if not math.isfinite(p):
        return "-"
    return f"{p:.3f} (SE {se:.3f})" if math.isfinite(se) else f"{p:.3f}"


def _check_label(row: Mapping[str, Any]) -> str:
    label = f"{row.get('label', row.get('key'))} - {row.get('source', '')}"
    label = label if row.get("fitted") else f"{label} (not fitted)"
    return textwrap.fill(textwrap.shorten(label, 130, placeholder="..."), 66)
