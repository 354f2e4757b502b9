"""The HTML report of a finished calibration folder (``alsim calibrate`` / ``alsim compare``).

:func:`write_calibration_report` reads ``summary.json``, ``compare.json``,
``posterior.csv``, ``predictive.json`` and ``predictive.zarr`` and writes ``report.html``
beside them: one self-contained page in the style of the run report
(:mod:`alsim.report.page`; figures are base64 PNGs, all text is escaped, the file is
written atomically). Sections: what was run, model probabilities (with more than one
hypothesis), posterior marginals, pairwise plots, fits with credible bands over the
training data, posterior predictive checks, ABC-SMC generations, and the folder's files.
Figures are drawn by :mod:`.calibration_plots`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .page import CSS, embed_figure, escape, fmt, table, write_html
from .plots import HINDLIMB_MUSCLES, MUSCLE_ORDER, TIME_COURSE_VARS, label_colours, readout
from . import calibration_plots as rp

__all__ = ["write_calibration_report"]

REPORT_FILE = "report.html"
MAX_PAIRWISE = 12
ALWAYS_DRAWN = ("force_fraction", "motor_neurons_alive_fraction")  # on the hindlimb muscles, data or not
FILES = {
    "summary.json": "settings, statistics fitted, priors, generations, posterior medians and 95 % intervals, "
                    "model probabilities, predictive coverage, provenance",
    "compare.json": "model probabilities with Monte Carlo SE and the effective sample size",
    "posterior.csv": "particles of the last generation: hypothesis, weight (normalised within the hypothesis), "
                     "parameters in natural units",
    "predictive.json": "posterior predictive check of every training statistic, and the observation-error rules",
    "predictive.zarr": "cohort-mean time courses per posterior draw (hypothesis, draw, muscle, day), for the "
                       "credible bands",
    "calibration.db": "pyabc's SQLite history (open with pyabc.History)",
    "run.json": "the request and status of the run (used by --resume)",
    REPORT_FILE: "this report",
}


def write_calibration_report(folder: str | Path, *, dpi: int = 90) -> Path:
    """Write ``folder/report.html`` for a finished calibration folder and return its path."""
    folder = Path(folder)
    return write_html(folder / REPORT_FILE, render_calibration_report(folder, dpi=dpi))


# ------------------------------------------------------------------ reading


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _particles(folder: Path) -> dict[str, Any]:
    """``{hypothesis: frame of its particles}``, keeping only the columns it has values for."""
    path = folder / "posterior.csv"
    if not path.is_file():
        return {}
    import pandas as pd

    particles = pd.read_csv(path)
    out = {}
    for h, frame in particles.groupby("hypothesis", sort=False):
        frame = frame.reset_index(drop=True)
        keep = [c for c in frame.columns if c in ("hypothesis", "weight") or frame[c].notna().any()]
        if len(frame):
            out[str(h)] = frame[keep]
    return out


def _bands(folder: Path) -> Any:
    path = folder / "predictive.zarr"
    if not path.exists():
        return None
    import xarray as xr

    with xr.open_zarr(path, consolidated=False) as ds:
        return ds.load()


def _n(x: Any) -> float:
    return rp._num(x)


def _secs(x: Any) -> str:
    x = _n(x)
    if not math.isfinite(x):
        return "-"
    return f"{x:.1f} s" + (f" ({x / 60:.1f} min)" if x >= 120 else "")


# ------------------------------------------------------------------ sections


def _header(summary: dict, compare: dict, hypotheses: Sequence[str]) -> str:
    req = summary.get("request", {})
    sha = str(summary.get("training_data_sha256") or "")
    rows = [
        ("command", f"alsim {req.get('command', '?')}"), ("preset", req.get("preset", compare.get("preset"))),
        ("strain", summary.get("strain", compare.get("strain"))), ("hypotheses", ", ".join(hypotheses)),
        ("budget (simulations)", req.get("budget")),
        ("simulations spent", summary.get("n_simulations", compare.get("n_simulations"))),
        ("population (particles per generation)", req.get("population")),
        ("subjects per simulated cohort", req.get("subjects")), ("days simulated", req.get("days")),
        ("posterior predictive draws per hypothesis", req.get("draws")), ("seed", req.get("seed")),
        ("alsim version", summary.get("alsim_version")), ("training data sha256", sha[:12] or None),
        ("run id", summary.get("run_id", compare.get("run_id"))),
        ("started / finished", f"{summary.get('started', '?')} / {summary.get('finished', '?')}"),
        ("ABC wall time", _secs(summary.get("abc_seconds"))),
        ("posterior predictive wall time", _secs(summary.get("predictive_seconds"))),
    ]
    settings = table(["setting", "value"], [[escape(k), escape("-" if v is None else v)] for k, v in rows])
    note = f'<p class="note">{escape(summary["provenance"])}</p>' if summary.get("provenance") else ""
    return '<h2 id="run">What was run</h2>' + settings + note


def _probabilities(hypotheses: Sequence[str], probs: dict, se: dict, particles: dict, colours: dict,
                   dpi: int) -> str:
    rows = [[escape(h), fmt(probs.get(h), 4), fmt(se.get(h), 3), str(len(particles.get(h, ())))] for h in hypotheses]
    return ('<h2 id="probabilities">Model probabilities</h2>'
            + embed_figure(rp.probability_figure(hypotheses, probs, se, colours), "model probabilities",
                   "Posterior probability of each hypothesis (equal prior probabilities) from the last ABC-SMC "
                   "generation; error bars: 2 x Monte Carlo SE, clipped to 0-1.", dpi)
            + table(["hypothesis", "probability", "± Monte Carlo SE", "particles in the last generation"], rows,
                     numeric=(1, 2, 3))
            + '<p class="note">Caveat: ABC model choice depends on the summary statistics chosen and can be '
              "inconsistent with insufficient ones (Robert et al. 2011 PNAS 108:15112).</p>")


def _marginals(params: list[str], particles: dict, priors: dict, summary: dict, colours: dict, units: dict,
               dpi: int) -> str:
    post = summary.get("posterior", {})
    medians = {h: {p: _n(v.get("median")) for p, v in post.get(h, {}).items()} for h in post}
    parts = ['<h2 id="marginals">Posterior marginals</h2>']
    ess = summary.get("posterior_effective_sample_size") or {}
    if ess:
        text = "; ".join(f"{h}: {value:.1f}" for h, value in ess.items())
        parts.append(f'<p>Effective number of particles (Kish, 1/&Sigma;w&sup2;) per hypothesis: {escape(text)}. '
                     "Below about 10, medians and intervals rest on a handful of particles.</p>")
    drawn = [p for p in params if any(p in frame for frame in particles.values())]
    if drawn:
        parts.append(embed_figure(rp.marginals_figure(drawn, particles, priors, medians, colours, units),
                          "posterior marginals",
                          "Weighted histogram of the last generation's particles per hypothesis (density per unit, "
                          "or per log10 unit for log-uniform priors, drawn on a log axis); dashed grey: the prior "
                          "density; dotted vertical lines: posterior medians. The x-axis spans the prior range.", dpi))
    else:
        parts.append('<p class="note">posterior.csv holds no particles.</p>')
    rows = []
    for path in params:
        for h in priors:
            if path not in priors[h] and path not in post.get(h, {}):
                continue
            s, p = post.get(h, {}).get(path, {}), priors[h].get(path, {})
            scale = "log-uniform" if p.get("log") else "uniform"
            prior = f"{fmt(p.get('low'), 4)} - {fmt(p.get('high'), 4)} ({scale})" if p else "-"
            interval = f"{fmt(s.get('low'), 4)} - {fmt(s.get('high'), 4)}" if s else "-"
            median = fmt(s.get("median"), 4) if s else "no particles"
            rows.append([escape(path), escape(units.get(path, "")), escape(h), median, interval, prior, escape(p.get("source", ""))])
    parts.append(table(["parameter", "unit", "hypothesis", "median", "95 % interval", "prior range", "source of prior"],
                        rows, numeric=(3, 4)))
    return "".join(parts)


def _pairwise(hypotheses: Sequence[str], particles: dict, priors: dict, colours: dict, units: dict,
              dpi: int) -> str:
    parts = ['<h2 id="pairwise">Pairwise plots</h2>']
    for h in hypotheses:
        frame = particles.get(h)
        if frame is None:
            parts.append(f'<p class="note">{escape(h)}: no particles in the last generation, nothing to plot.</p>')
            continue
        params = [p for p in priors.get(h, {}) if p in frame] + [
            c for c in frame.columns if c not in ("hypothesis", "weight") and c not in priors.get(h, {})]
        if len(params) < 2:
            parts.append(f'<p class="note">{escape(h)}: fewer than two parameters, no pairwise plot.</p>')
            continue
        note = (f" Only the first {MAX_PAIRWISE} of its {len(params)} parameters are shown."
                if len(params) > MAX_PAIRWISE else "")
        parts.append(f"<h3>{escape(h)}</h3>")
        parts.append(embed_figure(rp.pairwise_figure(h, frame, params[:MAX_PAIRWISE], priors.get(h, {}), colours[h], units),
                          f"pairwise {h}",
                          f"{h}: particles of the last generation, marker area proportional to weight; diagonal: "
                          f"weighted histograms; axes span the prior ranges (log axes for log-uniform priors)." + note,
                          dpi))
    return "".join(parts)


def _fits(ds: Any, hypotheses: Sequence[str], strain: str, statistics: list, colours: dict, dpi: int) -> str:
    parts = ['<h2 id="fits">Fits with credible bands over the data</h2>']
    if ds is None and any(str(s.get("kind", "")).startswith("human_") for s in statistics):
        return "".join(parts) + ('<p class="note">A human calibration has no time-course bands: its rows are '
                                 'clinical events (survival, diagnostic delay, 1-year mortality); see the posterior '
                                 'predictive checks below.</p>')
    if ds is None:
        return "".join(parts) + '<p class="note">No predictive.zarr in the folder.</p>'
    hyps = [h for h in hypotheses if h in [str(x) for x in ds["hypothesis"].values]]
    if not hyps:
        return "".join(parts) + '<p class="note">No hypothesis with posterior predictive draws.</p>'
    present = [str(m) for m in ds["muscle"].values] if "muscle" in ds.coords else []
    muscles = [m for m in MUSCLE_ORDER if m in present] + [m for m in present if m not in MUSCLE_ORDER]
    variables = [v for v in TIME_COURSE_VARS if v in ds] + [
        v for v in ds.data_vars if v not in TIME_COURSE_VARS and v != "surviving_fraction"]
    parts.append(f'<p class="note">Lines: median across {ds.sizes.get("draw", 0)} posterior draws of the cohort mean '
                 f"({escape(ds.attrs.get('subjects_per_cohort', '?'))} subjects per cohort); shaded: 2.5-97.5 % of draws "
                 "(parameter uncertainty and cohort sampling, without observation error). Black markers: training "
                 "values of this strain (hollow: G93A, background not given), with error bars = the error SD of "
                 "the fitted statistic where the point was fitted. Values published as a loss are drawn as 1 - x.</p>")
    skipped = []
    for var in variables:
        points = {m: rp.matched_points(var, m, strain, statistics) for m in muscles}
        panels = [m for m in muscles if points[m] or (var in ALWAYS_DRAWN and m in HINDLIMB_MUSCLES)]
        if not panels:
            skipped.append(readout(var, ds).title.lower())
            continue
        parts.append(embed_figure(rp.fit_figure(ds, var, panels, hyps, points, colours), f"fit {var}",
                          f"{readout(var, ds).title}: muscles with training points"
                          + (" (always drawn for the hindlimb muscles)." if var in ALWAYS_DRAWN else "."), dpi))
    if skipped:
        parts.append(f'<p class="note">Not drawn (no training points for {escape(strain)}): {escape(", ".join(skipped))}.</p>')
    if "surviving_fraction" in ds:
        parts.append(embed_figure(rp.survival_figure(ds, hyps, strain, statistics, colours), "fit survival",
                          "Fraction of each posterior-draw cohort not yet at end stage (median and 2.5-97.5 % across "
                          "draws). Black: published end-stage (square) and survival (diamond) means with SD bars; "
                          "they belong at y = 0.5 and are spread vertically around it only for legibility. Survival "
                          "(death / humane end point) comes after the model's end stage and is not fitted.", dpi))
    return "".join(parts)


def _checks(checks: dict, colours: dict, dpi: int) -> str:
    parts = ['<h2 id="checks">Posterior predictive checks</h2>']
    checks = {h: rows for h, rows in checks.items() if rows}
    if not checks:
        return "".join(parts) + '<p class="note">No predictive checks in the folder.</p>'
    items = []
    for h, rows in checks.items():
        fitted = [r for r in rows if r.get("fitted")]
        covered = sum(1 for r in fitted if r.get("covered_95"))
        items.append(f"<li>{escape(h)}: {covered} of {len(fitted)} fitted statistics inside their 95 % predictive "
                     "interval</li>")
    parts.append(f"<ul>{''.join(items)}</ul>")
    parts.append(embed_figure(rp.checks_figure(checks, colours), "predictive checks",
                      "Per statistic: 95 % posterior predictive interval (with observation error) and median per "
                      "hypothesis, the observed value as a black diamond; one panel per unit. Dotted and grey: "
                      "statistics that were not fitted (checked only).", dpi))
    for h, rows in checks.items():
        body = []
        for r in rows:
            simulated = r.get("simulated", True) and "predictive_median" in r
            interval = f"{fmt(r.get('predictive_low'))} - {fmt(r.get('predictive_high'))}" if simulated else "-"
            covered = "-" if not simulated else ("&#10003;" if r.get("covered_95") else "&#10007;")
            fit = "fitted" if r.get("fitted") else f"not fitted: {r.get('not_fitted_reason') or '?'}"
            body.append([escape(r.get("label", r.get("key"))), escape(r.get("source", "")), escape(r.get("status", "")),
                         escape(r.get("unit", "")), fmt(r.get("observed"), 4), fmt(r.get("error_sd")),
                         fmt(r.get("predictive_median")) if simulated else "-", interval, covered, escape(fit)])
        parts.append(f"<h3>{escape(h)}</h3>")
        parts.append(table(["statistic", "source", "status", "unit", "observed", "error SD", "predictive median",
                             "95 % predictive interval", "covered", "fitted"], body, numeric=(4, 5, 6, 7)))
    return "".join(parts)


def _generations(generations: list, dpi: int) -> str:
    parts = ['<h2 id="generations">Generations</h2>']
    if not generations:
        return "".join(parts) + '<p class="note">No generations recorded.</p>'
    rows = [[escape(g.get("t")), fmt(g.get("epsilon"), 4), escape(g.get("simulations", "-")), escape(g.get("particles", "-")),
             fmt(g.get("acceptance_rate")), fmt(g.get("wall_time_s"), 4)] for g in generations]
    parts.append(table(["t", "epsilon", "simulations", "particles", "acceptance rate", "wall time (s)"], rows,
                        numeric=(0, 1, 2, 3, 4, 5)))
    parts.append(embed_figure(rp.epsilon_figure(generations), "epsilon per generation",
                      "Distance threshold of each ABC-SMC generation.", dpi))
    return "".join(parts)


def _files(folder: Path) -> str:
    names = sorted({p.name for p in folder.iterdir() if not p.name.startswith(".")} | {REPORT_FILE})
    rows = []
    for name in names:
        what = FILES.get(name)
        if what is None and name.startswith("preset-") and name.endswith(".toml"):
            what = f"the base preset with {name[7:-5]}'s posterior medians, with provenance (alsim run --preset FILE)"
        rows.append([f"<code>{escape(name)}</code>", escape(what or "-")])
    return '<h2 id="files">Files in this folder</h2>' + table(["file", "what it is"], rows)


# ------------------------------------------------------------------ page


def _priors(summary: dict) -> dict[str, dict[str, dict]]:
    return {h: {p["path"]: p for p in v.get("parameters", [])} for h, v in summary.get("priors", {}).items()}


def render_calibration_report(folder: str | Path, *, dpi: int = 90) -> str:
    """The report of ``folder`` as an HTML string (see :func:`write_calibration_report`)."""
    folder = Path(folder)
    summary, compare = _json(folder / "summary.json"), _json(folder / "compare.json")
    checks = _json(folder / "predictive.json").get("checks", {})
    particles, ds = _particles(folder), _bands(folder)
    probs = summary.get("model_probabilities") or compare.get("model_probabilities") or {}
    se = summary.get("monte_carlo_se") or compare.get("monte_carlo_se") or {}
    hypotheses = list(dict.fromkeys([*summary.get("request", {}).get("hypotheses", []), *probs, *particles, *checks]))
    colours = label_colours(hypotheses)
    priors = _priors(summary)
    params = list(dict.fromkeys([p for h in priors for p in priors[h]] + [
        c for f in particles.values() for c in f.columns if c not in ("hypothesis", "weight")]))
    reasons = {p: [priors[h][p].get("source", "") for h in priors if p in priors[h]] for p in params}
    units = {p: rp.param_unit(p, reasons[p]) for p in params}
    strain = str(summary.get("strain") or compare.get("strain") or "")
    command = summary.get("request", {}).get("command", "calibration")
    title = f"alsim {command} report: {summary.get('run_id') or folder.name}"
    stamp = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")

    sections = [("run", "What was run")]
    if len(hypotheses) > 1:
        sections.append(("probabilities", "Model probabilities"))
    sections += [("marginals", "Posterior marginals"), ("pairwise", "Pairwise plots"),
                 ("fits", "Fits with credible bands over the data"), ("checks", "Posterior predictive checks"),
                 ("generations", "Generations"), ("files", "Files in this folder")]
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body>", f"<h1>{escape(title)}</h1>",
             f'<p class="meta">Generated {escape(stamp)} from {escape(folder.resolve())}.</p>',
             "<ul>" + "".join(f'<li><a href="#{a}">{escape(t)}</a></li>' for a, t in sections) + "</ul>",
             _header(summary, compare, hypotheses)]
    if len(hypotheses) > 1:
        parts.append(_probabilities(hypotheses, probs, se, particles, colours, dpi))
    parts.append(_marginals(params, particles, priors, summary, colours, units, dpi))
    parts.append(_pairwise(hypotheses, particles, priors, colours, units, dpi))
    parts.append(_fits(ds, [h for h in hypotheses if h in particles or not particles], strain,
                       summary.get("statistics", []), colours, dpi))
    parts.append(_checks(checks, colours, dpi))
    parts.append(_generations(summary.get("generations", []), dpi))
    parts.append(_files(folder))
    parts.append("</body></html>")
    return "\n".join(parts)
