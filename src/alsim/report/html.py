"""A single self-contained HTML report of one or more simulated results.

Figures are PNGs embedded as base64 ``data:`` URIs; there are no external assets, so
the file can be mailed or archived as it is. All text is HTML-escaped. The file is
written atomically (temporary file in the same folder, then :func:`os.replace`).
The page kit (style, escaping, tables, figures, the write) is :mod:`alsim.report.page`.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alsim.biology.species import species_of
from alsim.data import TrainingRow, load_training

from . import plots
from .figures import by_type_figure, onset_survival_figure, time_course_figure
from .page import CSS, definition_with_values, embed_figure, escape, fmt, fmt_1, fmt_day, table, write_html
from .training_overlay import ENDPOINT_VARS
from .plots import (
    EVENT_STATISTICS, READOUTS, SKIPPED_MEASURES, as_results, band_on_day, display_muscle, endpoint_summary,
    map_training_row, muscles_of, strain_matches,
)

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = ["STATUS_MEANINGS", "position_in_band", "training_comparison", "write_report"]

# ------------------------------------------------------------------ comparison


#: The ``status`` words of the training rows (src/alsim/data/training/README.md), in plain language.
STATUS_MEANINGS: dict[str, str] = {
    "verified_full_text": "number read in the full text of the paper",
    "verified_abstract": "number read in the paper's abstract",
    "verified_secondary": "number read in a later paper that cites the original",
    "recalled_check_primary": "a widely quoted number not yet read in the original paper; weigh it loosely",
    "recalled_ages_verified_order": "order of events read in the source, ages recalled; weigh the ages loosely",
}


def position_in_band(value: float | None, lo: float, hi: float) -> str | None:
    """Where a published value lies against the simulated 10-90 % of subjects: ``"inside"``,
    ``"below"`` or ``"above"``; None when either is missing. The band is the spread of
    individual subjects, so a published mean inside it can still differ from the simulated
    median (the training table shows both)."""
    if value is None or math.isnan(lo) or math.isnan(hi):
        return None
    if value < lo:
        return "below"
    if value > hi:
        return "above"
    return "inside"


def _sex_mask(ds: xr.Dataset, sex: str) -> np.ndarray | None:
    if sex in ("F", "M") and "sex" in ds:
        return np.asarray(ds["sex"].values).astype(str) == sex
    return None


def training_comparison(results: Mapping[str, xr.Dataset] | xr.Dataset,
                        training: Iterable[TrainingRow] | None = None) -> list[dict[str, Any]]:
    """Every training row of a result's strain next to the simulated value, per label.

    Time-course rows: the simulated across-subject median (and 10-90 % range) of the
    mapped readout at the row's age, over subjects of the row's sex where it gives one.
    Onset / end-stage / survival rows: the simulated median day (Kaplan-Meier, subjects
    not reaching count as later than the run) and the mean +- SD of those reaching.
    Rows that are not compared (e.g. degenerating motor neurons) appear with a note.
    """
    results = as_results(results)
    rows = load_training() if training is None else list(training)
    out: list[dict[str, Any]] = []
    for label, ds in results.items():
        strain = str(ds.attrs.get("strain", ""))
        muscles = [str(m) for m in ds["muscle"].values]
        days = np.asarray(ds["day"].values)
        for row in rows:
            if not strain_matches(row, strain):
                continue
            base = {"label": label, "row": row, "strain": row.strain, "sex": row.sex, "measure": row.measure,
                    "status": row.status, "source": row.source, "short_source": row.short_source}
            mask = _sex_mask(ds, row.sex)
            sex_note = f"simulated: {row.sex} subjects only" if mask is not None else ""
            if row.file == "onset_survival.csv":
                var = ENDPOINT_VARS.get(row.measure)
                if var is None or var not in ds or row.value is None:
                    continue
                if mask is not None and not mask.any():
                    out.append({**base, "readout": var, "muscle": None, "day": None, "data_value": row.value,
                                "data_sd": row.sd, "sim": None, "note": f"no {row.sex} subjects simulated",
                                "position": None})
                    continue
                s = endpoint_summary(ds, var, mask)
                note = [f"definition: {row.definition}"] if row.definition else []
                if sex_note:
                    note.append(sex_note)
                if row.measure == "survival":
                    note.append("compared with simulated end stage (humane end point)")
                if row.file == "onset_survival.csv" and row.n and "SE" in row.n:
                    note.append("data spread is an SE of study means, not an SD of animals")
                out.append({**base, "readout": var, "muscle": None, "day": None, "data_value": row.value,
                            "data_sd": row.sd, "sim": s, "note": "; ".join(note),
                            "position": position_in_band(row.value, s["p10"], s["p90"])})
                continue
            targets = map_training_row(row)
            if not targets:
                reason = SKIPPED_MEASURES.get(row.measure, "no matching readout")
                out.append({**base, "readout": None, "muscle": row.muscle_or_region, "day": row.age_days,
                            "data_value": row.value, "data_sd": row.sd, "sim": None, "note": f"not compared: {reason}",
                            "position": None})
                continue
            for var, muscle, value in targets:
                entry = {**base, "readout": var, "muscle": muscle, "day": row.age_days, "data_value": value,
                         "data_sd": row.sd, "sim": None, "position": None}
                notes = []
                if plots.is_complement(row.measure):
                    notes.append(f"1 - {row.value:g} ({row.measure.replace('_', ' ')})")
                if muscle != row.muscle_or_region:
                    notes.append(f"{display_muscle(row.muscle_or_region)} drawn on {display_muscle(muscle)}")
                if row.strain == plots.UNSPECIFIED_STRAIN:
                    notes.append("background strain not given")
                day = int(round(row.age_days))
                if var not in ds or muscle not in muscles:
                    notes.append("muscle not simulated")
                elif day < days.min() or day > days.max():
                    notes.append("age outside the run")
                elif mask is not None and not mask.any():
                    notes.append(f"no {row.sex} subjects simulated")
                else:
                    i = int(np.nonzero(days == day)[0][0]) if (days == day).any() else int(np.argmin(np.abs(days - day)))
                    (lo, med, hi), n_data, n_all = band_on_day(ds, var, muscle, i, subjects=mask)
                    entry["sim"] = {"median": float(med), "lo": float(lo), "hi": float(hi),
                                    "n_data": n_data, "n": n_all}
                    entry["position"] = position_in_band(value, float(lo), float(hi))
                    if sex_note:
                        notes.append(sex_note)
                    if n_data < n_all:
                        notes.append(f"{n_all - n_data} of {n_all} subjects past end stage")
                entry["note"] = "; ".join(notes)
                out.append(entry)
    return out


def _comparison_html(entries: list[dict[str, Any]]) -> str:
    headers = ["readout", "muscle / region", "age (days)", "sex", "simulated median (10-90 %)", "data value",
               "data vs simulated 10-90 %", "source", "status", "note"]
    body = []
    for c in entries:
        s = c["sim"]
        if c["readout"] in ("onset_day", "end_stage_day"):
            readout_name = c["measure"].replace("_", " ")
            if s is None:
                sim = "-"
            else:
                last = s["last_day"]
                sim = (f"median {fmt_day(s['median'], last)} (IQR {fmt_day(s['q25'], last)}-{fmt_day(s['q75'], last)}); "
                       f"mean {fmt_1(s['mean_reached'])} &plusmn; {fmt_1(s['sd_reached'])} of {s['n_reached']}/{s['n']} reaching")
            data = f"{fmt(c['data_value'], 4)}" + (f" &plusmn; {fmt(c['data_sd'], 3)}" if c["data_sd"] is not None else "")
            where, age = "-", "-"
        else:
            readout_name = READOUTS[c["readout"]].title if c["readout"] in READOUTS else c["measure"].replace("_", " ")
            if s is None:
                sim = "-"
            else:
                sim = f"{fmt(s['median'])} ({fmt(s['lo'])}-{fmt(s['hi'])}), n={s['n_data']}"
            data = fmt(c["data_value"]) + (f" &plusmn; {fmt(c['data_sd'])}" if c["data_sd"] is not None else "")
            where = escape(display_muscle(c["muscle"]))
            age = fmt_day(float(c["day"])) if c["day"] is not None else "-"
        body.append([escape(readout_name), where, age, escape(c["sex"]), sim, data, _position_cell(c.get("position")),
                     f'<span title="{escape(c["source"])}">{escape(c["short_source"])}</span>', _status_cell(c["status"]),
                     escape(c["note"])])
    return table(headers, body, numeric=(2, 4, 5))


def _position_cell(position: str | None) -> str:
    if position is None:
        return "-"
    return position if position == "inside" else f"<strong>outside ({position})</strong>"


def _status_cell(status: str) -> str:
    meaning = STATUS_MEANINGS.get(status)
    return escape(status) if meaning is None else f'<span title="{escape(meaning)}">{escape(meaning)}</span>'


def _status_legend(entries: list[dict[str, Any]]) -> str:
    """The status words used in a training table, each with its plain meaning."""
    used = [s for s in STATUS_MEANINGS if any(c["status"] == s for c in entries)]
    items = "".join(f"<li><code>{escape(s)}</code>: {escape(STATUS_MEANINGS[s])}</li>" for s in used)
    return f'<p class="note">Status of each published value (the data files\' words):</p><ul class="notes">{items}</ul>'



# ------------------------------------------------------------------ sections


def _drawn(ds: xr.Dataset) -> dict[str, tuple[float, float, float]]:
    """(min, median, max) over subjects of each parameter drawn per subject (``--posterior``)."""
    if "parameter_value" not in ds or "parameter" not in ds.coords:
        return {}
    values = np.asarray(ds["parameter_value"].values, dtype=float)
    return {str(name): (float(np.min(column)), float(np.median(column)), float(np.max(column)))
            for name, column in zip(ds["parameter"].values, values.T)}


def _metadata_html(results: Mapping[str, xr.Dataset]) -> str:
    headers = ["label", "scenario", "strain", "hypothesis", "seed", "alsim version", "subjects", "days",
               "muscles", "onset definition", "end-stage definition"]
    body = []
    for label, ds in results.items():
        a = ds.attrs
        d = np.asarray(ds["day"].values)
        days = f"{d.min()}-{d.max()}" if d.size else "-"
        body.append([escape(label), escape(a.get("scenario_name", "-")), escape(a.get("strain", "-")),
                     escape(a.get("hypothesis", "-")), escape(a.get("seed", "-")), escape(a.get("alsim_version", "-")),
                     escape(ds.sizes.get("subject", 0)), escape(days),
                     escape(", ".join(display_muscle(str(m)) for m in ds["muscle"].values)),
                     escape(definition_with_values(a.get("onset_definition", "-"), a.get("scenario_json"), _drawn(ds))),
                     escape(definition_with_values(a.get("end_stage_definition", "-"), a.get("scenario_json"), _drawn(ds)))])
    return table(headers, body, numeric=(4, 6))


def _summary_html(results: Mapping[str, xr.Dataset]) -> str:
    headers = ["label", "subjects (F / M)", "median onset (IQR), days", "reaching onset",
               "mean onset &plusmn; SD of those reaching", "median end stage (IQR), days", "reaching end stage",
               "mean end stage &plusmn; SD of those reaching"]
    body = []
    for label, ds in results.items():
        sexes = np.asarray(ds["sex"].values).astype(str) if "sex" in ds else np.array([])
        cells = [escape(label), f"{ds.sizes.get('subject', 0)} ({int(np.sum(sexes == 'F'))} / {int(np.sum(sexes == 'M'))})"]
        for var in ("onset_day", "end_stage_day"):
            if var not in ds:
                cells += ["-", "-", "-"]
                continue
            s = endpoint_summary(ds, var)
            last = s["last_day"]
            cells += [f"{fmt_day(s['median'], last)} ({fmt_day(s['q25'], last)}-{fmt_day(s['q75'], last)})",
                      f"{s['n_reached']} / {s['n']}",
                      f"{fmt_1(s['mean_reached'])} &plusmn; {fmt_1(s['sd_reached'])}"]
        body.append(cells)
    headers_plain = [html.unescape(h) for h in headers]  # _table escapes headers itself
    return table(headers_plain, body, numeric=(1, 2, 3, 4, 5, 6, 7))


def _training_caption(results: Mapping[str, xr.Dataset], training: list[TrainingRow], muscle: str) -> str:
    strains = plots.strains_of(results)
    skipped = [r for r in training if r.measure in SKIPPED_MEASURES and plots.strain_matches(r, strains)]
    text = ("Lines: across-subject median; shaded: 10-90 % of subjects (one colour per label). After a subject's "
            "end stage its readouts are missing, so late bands describe the surviving subjects only. Black markers: "
            "published values of the same strain, one marker shape per source and sex (hollow: G93A, background "
            "not given), with SD bars where published; sex-specific values are drawn against the pooled band. Innervation loss vs wild type and motor-neuron "
            "loss are drawn as 1 - x; 'fast-fatigable muscles' are drawn on tibialis anterior and gastrocnemius, "
            "lumbar motor-neuron counts on every hindlimb muscle.")
    if skipped and muscle in plots.HINDLIMB_MUSCLES:
        for r in skipped:
            text += (f" Not drawn: {r.short_source} {r.measure.replace('_', ' ')} = {r.value:g} at day "
                     f"{fmt_day(r.age_days or math.nan)}: {SKIPPED_MEASURES[r.measure]}.")
    return text


def render_report(results: Mapping[str, xr.Dataset] | xr.Dataset, *, title: str | None = None,
                  training: Iterable[TrainingRow] | None = None, notes: list[str] | None = None,
                  dpi: int = 90) -> str:
    """The report as an HTML string (see :func:`write_report`)."""
    results = as_results(results)
    training = load_training() if training is None else list(training)
    if title is None:
        names = sorted({str(ds.attrs.get("scenario_name", "")) for ds in results.values()} - {""})
        title = "alsim report" + (f": {', '.join(names)}" if names else "")
    muscles = muscles_of(results)
    versions = sorted({str(ds.attrs.get("alsim_version", "")) for ds in results.values()} - {""})
    stamp = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")

    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{escape(title)}</h1>",
             f'<p class="meta">Generated {escape(stamp)} by alsim {escape(", ".join(versions) or "?")}; '
             f"labels: {escape(', '.join(results))}.</p>"]
    if notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    toc = ['<li><a href="#runs">Runs</a></li>', '<li><a href="#summary">Onset and end stage</a></li>']
    toc += [f'<li><a href="#muscle-{escape(m)}">{escape(display_muscle(m).capitalize())}</a></li>' for m in muscles]
    toc += ['<li><a href="#training">Training data vs simulation</a></li>']
    parts.append(f"<ul>{''.join(toc)}</ul>")

    parts.append('<h2 id="runs">Runs</h2>')
    parts.append(_metadata_html(results))

    parts.append('<h2 id="summary">Onset and end stage</h2>')
    parts.append(_summary_html(results))
    parts.append(f'<p class="note">{escape(EVENT_STATISTICS)} The same numbers as the terminal and summary.json; '
                 '"&gt; D": not reached by the last simulated day D.</p>')
    parts.append(embed_figure(onset_survival_figure(results, training), "onset and end stage",
                      "Left: hindlimb force (median, 10-90 % band). Right: fraction of subjects without onset (solid) "
                      "and not at end stage (dashed), step functions, censored at the last simulated day (tick). "
                      "Black markers: published mean with SD bars (onset: circle, end stage: square, survival: "
                      "diamond), drawn around y = 0.5, where the curves cross their median; they are spread "
                      "vertically only for legibility. The Pfohl 2015 spread is an SE of study means. A curve crosses "
                      "0.5 at the median of the table above (Kaplan-Meier, censored at the end of the run).", dpi))

    for m in muscles:
        parts.append(f'<h2 id="muscle-{escape(m)}">{escape(display_muscle(m).capitalize())}</h2>')
        parts.append(embed_figure(time_course_figure(results, m, training), f"{m} time courses",
                          _training_caption(results, training, m), dpi))
        parts.append(f"<h3>Motor units by type - {escape(display_muscle(m))}</h3>")
        parts.append(embed_figure(by_type_figure(results, m), f"{m} motor units by type",
                          "Functional motor units of each type (median, 10-90 % band), as a fraction of the units of "
                          "that type in the muscle; the legend gives the day each median falls below 0.5, i.e. the "
                          "order of loss (expected from the literature: FF, then FR; S resistant).", dpi))

    parts.append('<h2 id="training">Training data vs simulation</h2>')
    parts.append('<p class="note">Each published value of a result\'s strain (or of unspecified background) next to '
                 "the simulated median at the same age. Time-course values are fractions (0-1); onset and end stage "
                 "are days (medians: Kaplan-Meier, censored at the end of the run, as above). Sex-specific values are "
                 "compared with the simulated subjects of that sex. 'Data vs simulated 10-90 %' says whether the "
                 "published value lies inside the spread of the simulated subjects (for onset and end stage: the "
                 "days by which 10 % and 90 % of them had the event) or outside it, below or above; a published "
                 "mean is compared with a spread of individuals, so 'inside' is a loose test (docs/model_fit.md "
                 "gives each row against a 90 % predictive interval of the mean).</p>")
    comparison = training_comparison(results, training)
    for label in results:
        entries = [c for c in comparison if c["label"] == label]
        parts.append(f"<h3>{escape(label)}</h3>")
        if entries:
            inside = sum(c.get("position") == "inside" for c in entries)
            compared = sum(c.get("position") is not None for c in entries)
            parts.append(f'<p class="note">{inside} of {compared} compared values lie inside the simulated 10-90 % '
                         "of subjects.</p>")
        parts.append(_comparison_html(entries) + _status_legend(entries) if entries
                     else '<p class="note">No training rows for this strain.</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(results: Mapping[str, xr.Dataset] | xr.Dataset, path: str | os.PathLike[str], *,
                 title: str | None = None, training: Iterable[TrainingRow] | None = None,
                 notes: list[str] | None = None, dpi: int = 90) -> Path:
    """Write a self-contained HTML report and return its path.

    ``results`` is one Dataset or a mapping ``label -> Dataset``; ``training=None`` uses
    :func:`alsim.data.load_training` (pass ``[]`` for none); ``notes`` are listed under
    the title. The report holds: run metadata and an onset / end-stage summary per label,
    the onset / end-stage figure, per muscle the grid of time courses and the by-type
    panel, and a table of training rows against the simulated median. A single human
    result (attrs ``species == "human"``) gets the human report instead
    (:func:`alsim.report.human.write_human_report`; ``training`` is then not used).
    """
    datasets = list(as_results(results).values())
    if any(species_of(ds.attrs.get("species", "mouse")).onset_aligned for ds in datasets):
        if len(datasets) != 1:
            raise ValueError("a human result is reported on its own: pass a single Dataset")
        from .human import write_human_report

        return write_human_report(datasets[0], path, title=title, notes=notes, dpi=dpi)
    return write_html(path, render_report(results, title=title, training=training, notes=notes, dpi=dpi))
