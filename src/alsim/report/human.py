"""The self-contained HTML report of a human run (``species == "human"``).

The mouse report (:mod:`alsim.report.html`) reads ages and hindlimb end points; a human
run counts days from each person's symptom onset and is read the way a clinic reads it:
motor-unit loss against what MUNE, MUNIX and CMAP would report, ALSFRS-R and FVC,
regional spread, and the clinical events against the human training rows
(``alsim/data/training/human.csv``). Figures come from :mod:`alsim.report.human_plots`;
page style, tables and the atomic write are those of :mod:`alsim.report.page`.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import human_plots as hp
from .page import CSS, definition_with_values, embed_figure, escape, table, write_html
from ..biology.species import HUMAN
from ..run.summary import km_quantile
from .plots import display_muscle

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = ["HumanRow", "human_training_rows", "render_human_report", "write_human_report"]

#: Which simulated statistic each human.csv quantity is compared with (matched on the text).
_ROW_KEYS = (("survival from symptom onset", "end_stage_day"), ("diagnostic delay", "diagnosis_day"),
             ("1-year mortality from diagnosis", "one_year_mortality"))


@dataclass(frozen=True)
class HumanRow:
    """A row of ``human.csv``: ``text`` as published (``"20-48"``, ``"~14"``), parsed to
    ``low``..``high``; ``key`` names the simulated statistic it is compared with."""

    quantity: str
    text: str
    low: float
    high: float
    source: str
    status: str
    key: str | None


def human_training_rows() -> list[HumanRow]:
    """The rows of ``alsim/data/training/human.csv`` that hold a number."""
    resource = resources.files("alsim.data").joinpath("training", "human.csv")
    with resource.open("r", encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(io.StringIO(handle.read())))
    rows = []
    for r in records:
        numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", r["value"])]
        if not numbers:
            continue
        key = next((k for text, k in _ROW_KEYS if r["quantity"].startswith(text)), None)
        rows.append(HumanRow(r["quantity"].strip(), r["value"].strip(), min(numbers), max(numbers),
                             r["source"].strip(), r["status"].strip(), key))
    return rows


def hand_set_sources(ds: xr.Dataset) -> dict[str, str] | None:
    """Parameters of the run's preset whose source says they were hand-set to human.csv rows
    (None when the scenario is not a preset). A value this run changed is flagged."""
    from alsim.config.loading import load_scenario

    try:
        scenario, sources = load_scenario(str(ds.attrs.get("scenario_name", "")))
    except Exception:  # a scenario from a file or an unknown name: no preset sources
        return None
    preset, run = json.loads(scenario.model_dump_json()), json.loads(ds.attrs.get("scenario_json", "{}"))
    out = {}
    for path, source in sources.items():
        if source.startswith("hand-set") and "human.csv" in source:
            a, b = _lookup(preset, path), _lookup(run, path)
            out[path] = source if a == b else f"{source} [changed in this run: {b} instead of {a}]"
    return out


def _lookup(tree: Any, path: str) -> Any:
    for part in path.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree


def _months(day: float) -> str:
    if math.isnan(day):
        return "-"
    return "not reached by half" if math.isinf(day) else f"{day / hp.MONTH_DAYS:.1f}"


def _pct(x: float) -> str:
    return "-" if x is None or math.isnan(x) else f"{100 * x:.0f} %".replace("-0 %", "0 %")


# ---------------------------------------------------------------------- tables


def _runs_html(ds: xr.Dataset) -> str:
    a = ds.attrs
    onset = hp.with_onset(ds)
    regions = np.asarray(ds["onset_region"].values).astype(str)[onset]
    mix = ", ".join(f"{r} {int(np.sum(regions == r))}" for r in dict.fromkeys(regions)) or "-"
    d = np.asarray(ds["day"].values)
    span = f"{hp.months(d.min()):.0f} to {hp.months(d.max()):.0f}" if d.size else "-"
    headers = ["scenario", "strain", "hypothesis", "seed", "alsim version", "subjects (with onset)",
               "onset region", "months from onset covered", "MUNE method", "muscles"]
    row = [escape(a.get("scenario_name", "-")), escape(a.get("strain", "-")), escape(a.get("hypothesis", "-")),
           escape(a.get("seed", "-")), escape(a.get("alsim_version", "-")), f"{ds.sizes['subject']} ({int(onset.sum())})",
           escape(mix), span, escape(a.get("mune_method", "-") if hp.has_emg(ds) else "no electrophysiology"),
           escape(", ".join(display_muscle(str(m)) for m in ds["muscle"].values))]
    definitions = [("onset", a.get("onset_definition"))] + [
        (name, ds[var].attrs.get("description")) for var, name in hp.EVENTS if var in ds]
    items = "".join(f"<li>{escape(name)}: {escape(definition_with_values(text, a.get('scenario_json')))}</li>"
                    for name, text in definitions if text)
    return table(headers, [row], numeric=(3, 5)) + f'<ul class="notes">{items}</ul>'


def _event_cells(ds: xr.Dataset, var: str) -> list[str]:
    """Simulated median (95 % CI) in months and the subjects reaching the event."""
    from lifelines.utils import median_survival_times

    durations, observed = hp.event_times(ds, var)
    kmf = hp.kaplan_meier(durations, observed, var)
    if kmf is None:
        return ["-", "0 subjects with onset"]
    ci = median_survival_times(kmf.confidence_interval_).values.ravel()
    median = km_quantile(durations, observed, 0.5)        # the quantile of summary.json and the terminal
    return [f"{_months(median)} ({_months(ci[0])}-{_months(ci[1])})",
            f"{int(observed.sum())} of {observed.size} reach it"]


def _events_html(ds: xr.Dataset, rows: list[HumanRow], hand: dict[str, str] | None) -> str:
    by_key = {r.key: r for r in rows if r.key}
    hand_text = " ".join((hand or {}).values())
    body = []
    for var, name, statistic in (("diagnosis_day", "diagnosis", "Kaplan-Meier median, months from onset"),
                                 ("ventilation_day", "start of ventilation", "Kaplan-Meier median, months from onset"),
                                 ("end_stage_day", "end stage (death or permanent ventilation)",
                                  "Kaplan-Meier median, months from onset")):
        body.append([escape(name), escape(statistic), *_event_cells(ds, var), *_row_cells(by_key.get(var), hand, hand_text)])
    m = hp.one_year_mortality(ds)
    body.append(["end stage within 12 months of diagnosis", "fraction of diagnosed subjects followed 12 months",
                 "-" if math.isnan(m["fraction"]) else f"{m['fraction']:.2f}",
                 f"{m['died']} of {m['eligible']} ({m['diagnosed']} diagnosed)",
                 *_row_cells(by_key.get("one_year_mortality"), hand, hand_text)])
    headers = ["event", "simulated statistic", "simulated (95 % CI)", "subjects", "human.csv row", "published",
               "source", "preset hand-set to this row"]
    return table(headers, body, numeric=(2, 5)) + _hand_set_html(hand)


def _row_cells(row: HumanRow | None, hand: dict[str, str] | None, hand_text: str) -> list[str]:
    if row is None:
        return ["-", "-", "-", "-"]
    used = "unknown (not a preset)" if hand is None else ("yes" if row.text in hand_text else "no")
    return [escape(row.quantity), escape(row.text), f'{escape(row.source)} ({escape(row.status)})', escape(used)]


def _hand_set_html(hand: dict[str, str] | None) -> str:
    """The preset parameters hand-set to human.csv rows, with their sources."""
    if hand is None:
        return '<p class="note">The scenario is not a preset: which parameters were fitted is not known here.</p>'
    if not hand:
        return '<p class="note">No parameter of the preset names human.csv as the target of a hand-set value.</p>'
    items = "".join(f"<li><code>{escape(p)}</code>: {escape(s)}</li>" for p, s in hand.items())
    return ('<p class="note">Preset parameters hand-set to the human.csv rows (from the preset sources; a row is '
            "marked 'yes' above when one of these sources names its value). Agreement with those rows is by "
            f'construction: it is a check of the fit, not a validation.</p><ul class="notes">{items}</ul>')


def _onset_loss_html(ds: xr.Dataset) -> str:
    """Per muscle: median fraction lost at onset, true and as each method reports it."""
    emg = hp.has_emg(ds)
    counts, regions = hp.motor_unit_counts(ds), hp.muscle_regions(ds)
    onset, onset_region = hp.with_onset(ds), np.asarray(ds["onset_region"].values).astype(str)
    body = []
    for muscle in hp.clinic_order(ds):
        for name, mask in ((f"onset in the {regions[muscle]} region", onset & (onset_region == regions[muscle])),
                           ("all subjects with onset", onset)):
            if not mask.any():
                continue
            loss = hp.loss_at_onset(ds, muscle, mask)
            normal = ([f"{hp.emg_reference(ds, v, muscle) / counts[muscle]:.2f}" for v in ("mune", "munix")]
                      if emg else ["-", "-"])
            body.append([escape(display_muscle(muscle)), escape(name), str(int(mask.sum())), _pct(loss["true"]),
                         _pct(loss.get("mune", math.nan)), _pct(loss.get("munix", math.nan)),
                         _pct(loss.get("cmap", math.nan)), _pct(loss["force"]), *normal])
    headers = ["muscle", "subjects", "n", "true functional units lost", "MUNE lost", "MUNIX lost", "CMAP lost",
               "force lost", "normal MUNE / true count", "normal MUNIX / true count"]
    return table(headers, body, numeric=tuple(range(2, 10)))


# -------------------------------------------------------------------- captions


def _cadence_text(ds: xr.Dataset) -> str:
    emg_day = np.asarray(ds["emg_day"].values)
    nearest = (f"made on the unit snapshot of the simulation nearest that day (within "
               f"{HUMAN.snapshot_every_days // 2} days)")
    if emg_day.size < 2:
        return f"on one day from onset, {nearest}"
    step = int(emg_day[1] - emg_day[0])
    why = "3-monthly clinical follow-up, the default" if step == HUMAN.emg_every_days else "not the default"
    return f"every {step} days from each subject's onset ({why}; alsim run --emg-every sets it), each {nearest}"


def _methods_caption(ds: xr.Dataset, muscle: str) -> str:
    n = hp.motor_unit_counts(ds)[muscle]
    rows = [f"{name} ({int(mask.sum())} subjects)" for name, mask in hp.onset_groups(ds, muscle)]
    text = (f"{'Rows' if len(rows) > 1 else 'Subjects'}: {' and '.join(rows)}. Left: the true number of "
            f"functional motor units (the functional fraction times the muscle's {n} units)")
    if hp.has_emg(ds):
        text += (f", and what each subject's recordings report: MUNE ({ds.attrs.get('mune_method', '?')} method) "
                 f"and MUNIX (an index, not a count). Right: the same as fractions of normal: the true count over "
                 f"{n}; MUNE and MUNIX over the run's own normal value, the median over subjects of their first "
                 f"recording, before any unit is lost (MUNE {hp.emg_reference(ds, 'mune', muscle):.0f}, MUNIX "
                 f"{hp.emg_reference(ds, 'munix', muscle):.0f}); CMAP amplitude and muscle force over the subject's "
                 f"own day-0 value. Recordings are {_cadence_text(ds)}; on the right, MUNE and MUNIX are drawn "
                 "without their bands.")
    else:
        text += ". Right: the true count and muscle force as fractions of normal. This run has no electrophysiology."
    return text + (" Lines: median over the subjects with data on that day; shaded: 10-90 % of them; drawn where "
                   f"at least {hp.MIN_SUBJECTS} subjects (or the whole smaller group) have data; n at whole years "
                   "in each panel. "
                   "Readouts are missing (NaN) after a subject's end stage, so late curves describe the survivors; "
                   "before onset they thin out because each subject is simulated from the start of its disease "
                   "only. Vertical lines: onset (day 0) and the Kaplan-Meier medians of diagnosis and of the start "
                   "of ventilation in the row's subjects.")


def _scores_caption(ds: xr.Dataset) -> str:
    rating = json.loads(ds.attrs["scenario_json"]).get("human", {}).get("functional_rating", {})
    rule = (f" each item scores 4 while the mean force of its muscles is at least "
            f"{rating['full_score_force_fraction']:g} of the subject's own day-0 force and 0 at or below "
            f"{rating['zero_score_force_fraction']:g}, in quarter steps between;") if rating else ""
    ventilated = ", ".join(i.replace("_", " ") for i in rating.get("ventilation_items", []))
    if ventilated:
        rule += (f" {ventilated} is scored from ventilatory support: 4 until ventilation starts, 0 at permanent "
                 "ventilation, 3-1 between;")
    return ("ALSFRS-R total (0-48), its four domain subscores (three items each, 0-12) and forced vital capacity "
            "(weighted force of the respiratory muscles, fraction of predicted), read from simulated force:" + rule +
            " Lines: median over the subjects with onset still alive on that day; shaded: 10-90 %; n at whole "
            "years in each panel. Readouts are missing after a subject's end stage, so late curves describe the "
            "survivors. Vertical lines: onset and the Kaplan-Meier medians of diagnosis and start of ventilation.")


_REGION_CAPTION = ("Function of each region: the mean force of its muscles as a fraction of the subject's own day-0 "
                   "force. One colour per onset region (n: subjects with that onset region; fewer later, after "
                   "end stage). Lines: median; shaded: 10-90 % of the subjects with data. Vertical lines: onset and "
                   "the Kaplan-Meier medians of diagnosis and start of ventilation over all subjects.")

_SURVIVAL_CAPTION = ("Kaplan-Meier estimates (lifelines) over the subjects with onset: fraction not yet diagnosed, "
                     "not yet ventilated and not at end stage (death or permanent ventilation), in months from "
                     "onset; shaded: 95 % confidence band; ticks: censored subjects (end of the run, and for "
                     "diagnosis and ventilation an end stage reached first; a diagnosis simulated after end stage "
                     "does not count). Right: end stage after diagnosis, diagnosed subjects only. Black markers: "
                     "human.csv rows, survival (range) and diagnostic delay at 0.5, where a curve crosses its "
                     "median; 1-year mortality after diagnosis as 1 - value at 12 months. The medians of the table "
                     "below are where these curves first reach 0.5: the same numbers as the terminal and "
                     "summary.json (in days there).")


# ---------------------------------------------------------------------- report


def render_human_report(ds: xr.Dataset, *, title: str | None = None, notes: list[str] | None = None,
                        dpi: int = 90) -> str:
    """The human report as an HTML string (see :func:`write_human_report`)."""
    title = title or f"alsim report: {ds.attrs.get('scenario_name', 'human run')}"
    stamp = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    rows, hand = human_training_rows(), hand_set_sources(ds)
    has_onset = bool(hp.with_onset(ds).any())
    muscles = hp.clinic_order(ds) if has_onset else []
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body>", f"<h1>{escape(title)}</h1>",
             f'<p class="meta">Generated {escape(stamp)} by alsim {escape(ds.attrs.get("alsim_version", "?"))}. Time is '
             f"counted in months from each subject's symptom onset (1 month = {hp.MONTH_DAYS} days).</p>"]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    toc = [("runs", "Run"), ("methods", "Motor units against MUNE, MUNIX and CMAP"),
           ("scores", "ALSFRS-R and FVC"), ("regions", "Regional function"), ("events", "Clinical events")]
    parts.append("<ul>" + "".join(f'<li><a href="#{i}">{escape(t)}</a></li>' for i, t in toc) + "</ul>")
    parts += ['<h2 id="runs">Run</h2>', _runs_html(ds)]
    if not has_onset:
        parts.append('<p class="note">No subject reached symptom onset in this run: there are no time courses.</p>')
    parts += ['<h2 id="methods">Motor units against MUNE, MUNIX and CMAP</h2>',
              '<p class="note">How much of each muscle is gone at symptom onset (day 0): the median over subjects '
              "of 1 - the fraction left, for the true functional motor units, for what MUNE and MUNIX report "
              "(against the run's own normal value, the median first recording before any unit is lost), for "
              "CMAP amplitude and force (against the subject's own day-0 value). Recordings: the one placed at "
              "day 0 (within 14 days of onset). The last two columns give the method's normal value over the "
              "true healthy count.</p>"]
    if has_onset:
        parts.append(_onset_loss_html(ds))
    for m in muscles:
        parts += [f'<h3 id="muscle-{escape(m)}">{escape(display_muscle(m).capitalize())}</h3>',
                  embed_figure(hp.muscle_methods_figure(ds, m), f"{m}: true motor units and methods", _methods_caption(ds, m),
                       dpi)]
    parts.append('<h2 id="scores">ALSFRS-R and FVC</h2>')
    if has_onset:
        parts.append(embed_figure(hp.clinical_scores_figure(ds), "ALSFRS-R and FVC", _scores_caption(ds), dpi))
    parts.append('<h2 id="regions">Regional function</h2>')
    if has_onset:
        parts.append(embed_figure(hp.region_figure(ds), "regional function", _REGION_CAPTION, dpi))
    parts += ['<h2 id="events">Clinical events</h2>',
              embed_figure(hp.survival_figure(ds, rows), "Kaplan-Meier curves of the clinical events", _SURVIVAL_CAPTION, dpi),
              _events_html(ds, rows, hand), "</body></html>"]
    return "\n".join(parts)


def write_human_report(ds: xr.Dataset, path: str | os.PathLike[str], *, title: str | None = None,
                       notes: list[str] | None = None, dpi: int = 90) -> Path:
    """Write the self-contained HTML report of a human run and return its path.

    Sections: the run; per muscle, the true functional motor units against what MUNE,
    MUNIX and CMAP report, with force, and a table of the loss at onset; ALSFRS-R (total
    and domains) and FVC; regional function by onset region; Kaplan-Meier curves of
    diagnosis, ventilation and end stage with a table against ``human.csv``.
    """
    return write_html(path, render_human_report(ds, title=title, notes=notes, dpi=dpi))
