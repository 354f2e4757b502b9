"""Write docs/presets.md: each mouse preset against the training rows it was calibrated or set by hand to reproduce.

For every preset with training data, under dying_back and dying_forward, this simulates
24 subjects with seed 1 through the public API, compares every training row that maps
to a readout (alsim.report.training_comparison) and writes one Markdown page.

    python docs/make_preset_fit.py            # writes docs/presets.md (a couple of minutes)
    python docs/make_preset_fit.py --out -    # prints it instead

Everything on the page, the prose about which rows are missed included, is computed
from this run, so regenerating the page after a preset changes keeps it true.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import alsim
from alsim.report import endpoint_summary, training_comparison

PRESETS = ("sod1-g93a-b6sjl", "sod1-g93a-c57bl6")
HYPOTHESES = ("dying_back", "dying_forward")
SUBJECTS = 24
SEED = 1
DOCS = Path(__file__).resolve().parent


def simulate_preset(preset: str, workers: int) -> dict[str, Any]:
    """One Dataset per hypothesis, same seed and cohort size."""
    results = {}
    for hypothesis in HYPOTHESES:
        scenario, _ = alsim.load_scenario(preset, [f"hypothesis.name={hypothesis}"])
        start = time.perf_counter()
        results[hypothesis] = alsim.simulate(scenario, subjects=SUBJECTS, seed=SEED, workers=workers)
        print(f"  {preset} {hypothesis}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return results


# ------------------------------------------------------------------ formatting


def fraction(x: float | None) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.2f}"


def day(x: float | None, last: float | None = None) -> str:
    if x is None or math.isnan(x):
        return "-"
    if math.isinf(x):
        return f"> {last:.0f}" if last is not None else "not reached"
    return f"{x:.0f}"


def where(low: float, high: float, value: float) -> str:
    """Where the data value lies relative to the simulated 10-90 % range."""
    if math.isnan(low) or math.isnan(high):
        return "no data"
    if value < low:
        return "below"
    if value > high:
        return "above"
    return "inside"


def pretty(name: str | None) -> str:
    return "-" if not name else name.replace("_", " ")


def md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------ sections


def hand_set_table(preset: str) -> str:
    """The parameters whose source says 'hand-set', with their value and the rows named."""
    scenario, sources = alsim.load_scenario(preset)
    tree = scenario.model_dump(mode="json")
    rows = []
    for path, source in sorted(sources.items()):
        if not source.startswith("hand-set"):
            continue
        value: Any = tree
        for key in path.split("."):
            value = value[key]
        rows.append([f"`{path}`", f"{value:g}" if isinstance(value, float) else str(value), source])
    return md_table(["parameter", "value", "source in the preset"], rows)


def clean_notes(notes: list[str]) -> str:
    """Union of the comparison notes of all hypotheses, without what the table shows elsewhere."""
    kept: list[str] = []
    for note in notes:
        for part in (p.strip() for p in note.split(";")):
            if not part or part.startswith("simulated: ") or "subjects past end stage" in part:
                continue  # the sex column and n already say it
            if part not in kept:
                kept.append(part)
    return "; ".join(kept)


def time_course_table(comparison: list[dict[str, Any]]) -> tuple[str, list[str], list[str], dict[str, int]]:
    """Rows that map to a readout, both hypotheses side by side.

    Also returns the rows missed under both hypotheses, the rows not compared and a
    count of rows inside the simulated 10-90 % range per hypothesis.
    """
    merged: dict[tuple, dict[str, Any]] = {}
    skipped = []
    for c in comparison:
        if c["readout"] in ("onset_day", "end_stage_day"):
            continue
        if c["readout"] is None:
            r = c["row"]
            text = (f"{r.short_source}, {pretty(r.measure)} = {r.value:g} at day {day(r.age_days)} "
                    f"({pretty(r.muscle_or_region)}): {c['note'].removeprefix('not compared: ')}")
            if text not in skipped:
                skipped.append(text)
            continue
        key = (c["row"], c["readout"], c["muscle"])
        merged.setdefault(key, {"entry": c, "sim": {}, "notes": []})
        merged[key]["sim"][c["label"]] = c["sim"]
        merged[key]["notes"].append(c["note"])
    rows, misses = [], []
    counts = {"compared": 0, **{h: 0 for h in HYPOTHESES}}
    for (row, readout, muscle), m in merged.items():
        c = m["entry"]
        cells = [pretty(readout), pretty(muscle), day(c["day"]), row.sex, fraction(c["data_value"])]
        places = []
        for h in HYPOTHESES:
            s = m["sim"].get(h)
            if s is None:
                cells.append("-")
                places.append("no data")
            elif s["n_data"] == 0:
                cells.append(f"all {s['n']} past end stage")
                places.append("no data")
            else:
                place = where(s["lo"], s["hi"], c["data_value"])
                places.append(place)
                cells.append(f"{fraction(s['median'])} ({fraction(s['lo'])}-{fraction(s['hi'])}), "
                             f"n={s['n_data']}/{s['n']}; {place}")
        counts["compared"] += 1
        for h, place in zip(HYPOTHESES, places):
            counts[h] += place == "inside"
        cells += [f"{row.short_source}", row.status, clean_notes(m["notes"])]
        rows.append(cells)
        if all(p in ("below", "above", "no data") for p in places) and any(p != "no data" for p in places):
            sims = []
            for h, place in zip(HYPOTHESES, places):
                s = m["sim"].get(h)
                if place == "no data":
                    sims.append(f"{h} no animal left before end stage")
                else:
                    sims.append(f"{h} {fraction(s['median'])} ({fraction(s['lo'])}-{fraction(s['hi'])}, "
                                f"n={s['n_data']})")
            misses.append(f"{pretty(readout)}, {pretty(muscle)}, day {day(c['day'])}, {row.sex}: data "
                          f"{fraction(c['data_value'])} ({row.short_source}, {row.status}); simulated median "
                          f"(10-90 %): {'; '.join(sims)}")
    headers = ["readout", "muscle", "age (days)", "sex", "data"]
    headers += [f"{h}: median (10-90 %), n before end stage; data is" for h in HYPOTHESES]
    headers += ["source", "status", "note"]
    return md_table(headers, rows), misses, skipped, counts


def endpoint_table(comparison: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """Onset, end-stage and survival rows against simulated onset and end stage."""
    merged: dict[Any, dict[str, Any]] = {}
    for c in comparison:
        if c["readout"] not in ("onset_day", "end_stage_day"):
            continue
        merged.setdefault(c["row"], {"entry": c, "sim": {}, "note": {}})
        merged[c["row"]]["sim"][c["label"]] = c["sim"]
        merged[c["row"]]["note"][c["label"]] = c["note"]
    rows, lines = [], []
    for row, m in merged.items():
        c = m["entry"]
        data = f"{row.value:g}" + (f" ± {row.sd:g}" if row.sd is not None else "")
        cells = [pretty(row.measure), f"`{c['readout']}`", row.sex, data]
        offsets = []
        for h in HYPOTHESES:
            s = m["sim"].get(h)
            if s is None:
                cells.append("-")
                continue
            last = s["last_day"]
            cells.append(f"{day(s['median'], last)} ({day(s['q25'], last)}-{day(s['q75'], last)}); "
                         f"mean {s['mean_reached']:.1f} ± {s['sd_reached']:.1f}, {s['n_reached']}/{s['n']} reach")
            if not math.isinf(s["median"]) and not math.isnan(s["median"]):
                offsets.append(f"{h} {s['median'] - row.value:+.0f} d")
        cells += [row.short_source, row.status, clean_notes(list(m["note"].values()))]
        rows.append(cells)
        if offsets:
            lines.append(f"{pretty(row.measure)} ({row.sex}, {row.short_source}, {data} d): simulated median minus "
                         f"data mean: {', '.join(offsets)}")
    headers = ["endpoint", "compared with", "sex", "data (days, mean ± SD)"]
    headers += [f"{h}: median (IQR); mean ± SD of those reaching" for h in HYPOTHESES]
    headers += ["source", "status", "note"]
    return md_table(headers, rows), lines


def cohort_line(results: dict[str, Any]) -> str:
    ds = next(iter(results.values()))
    sexes = [str(s) for s in ds["sex"].values]
    days = int(ds["day"].values.max())
    return (f"{SUBJECTS} subjects ({sexes.count('F')} F, {sexes.count('M')} M; the same animals under both "
            f"hypotheses), seed {SEED}, ages 0-{days} days.")


HEADER = """\
# Presets against their training data

<!-- Generated by docs/make_preset_fit.py; do not edit by hand. Regenerate with
     `python docs/make_preset_fit.py` after changing a preset or the engine. -->

This page compares each mouse preset with the published measurements in
`src/alsim/data/training/` that it can be compared with, under the dying-back and the
dying-forward hypothesis. It was generated by `docs/make_preset_fit.py` with alsim
{version}, {subjects} subjects per preset and hypothesis and seed {seed}, through the
public API (`alsim.load_scenario`, `alsim.simulate`, `alsim.report.training_comparison`).

**How the values were set.** Values whose source starts with `calibrated:` are posterior
medians of the structure x hypothesis calibration (ABC-SMC on these rows, B6SJL and C57BL6
together; docs/calibration.md, docs/structure_comparison.md). Values whose source starts
with `hand-set` were chosen by hand so that short simulations came near the training rows
named in that source (`benchmarks/tune.py` prints such a comparison); they are listed per
preset below, with the rows they were set by. Every other value is taken from a paper or is
`assumed` with a reason. docs/model_fit.md sets every row against 90 % predictive intervals.

**These rows are training data, not validation.** The same rows were fitted or looked at
while the values were chosen, so agreement here says only that the fit reached them. It is no evidence that the model predicts anything. Independent checks
need data that were not used, e.g. treatment effects, which the model must predict.
Rows marked `recalled_check_primary` have not been read in the primary paper yet.

How to read the tables:

- Time courses: the simulated across-subject median and 10-90 % range of the readout
  at the row's age, over the subjects still before end stage (`n`). Readouts are
  masked after end stage, so late ages describe the surviving animals only. "data is"
  says whether the published value lies inside, below or above the simulated 10-90 %
  range. Sex-specific rows are compared with simulated animals of that sex only.
- Rows on innervation loss and motor-neuron loss are compared as `1 - x` with the
  innervated-endplate and motor-neuron-alive readouts. A row for "fast-fatigable
  muscles" is compared on tibialis anterior and gastrocnemius, a lumbar motor-neuron
  count on each hindlimb muscle. Rows of unspecified background ("G93A") are
  compared with every strain.
- Onset, end stage and survival: the simulated median (interquartile range; animals
  that do not reach the event count as later than the run) and the mean ± SD of those
  that reach it. Survival is compared with simulated end stage, the humane end point.
  Onset in alsim is a hindlimb-force threshold, not the onset test of each study.
"""


def endpoint_medians(results: dict[str, Any]) -> str:
    parts = []
    for h, ds in results.items():
        onset = endpoint_summary(ds, "onset_day")
        end = endpoint_summary(ds, "end_stage_day")
        parts.append(f"{h}: median onset day {day(onset['median'], onset['last_day'])}, "
                     f"median end stage day {day(end['median'], end['last_day'])}")
    return "; ".join(parts)


def preset_section(preset: str, results: dict[str, Any]) -> str:
    scenario, _ = alsim.load_scenario(preset)
    comparison = training_comparison(results)
    course, misses, skipped, counts = time_course_table(comparison)
    endpoints, offsets = endpoint_table(comparison)
    inside = ", ".join(f"{counts[h]} under {h}" for h in HYPOTHESES)
    parts = [f"## `{preset}`", "", f"{scenario.description}. {cohort_line(results)}", "",
             f"The preset's own hypothesis is `{scenario.hypothesis.name}`. Of {counts['compared']} time-course "
             f"comparisons, the published value lies inside the simulated 10-90 % range in {inside}; "
             f"{len(misses)} are missed (listed at the end of this section). {endpoint_medians(results)}.", "",
             "### Hand-set parameters", "", hand_set_table(preset), "",
             "### Time courses", "", course, ""]
    if skipped:
        parts += ["Not compared:", ""] + [f"- {s}" for s in skipped] + [""]
    parts += ["### Onset, end stage and survival", "", endpoints, ""]
    parts += ["### What the preset misses", ""]
    if misses:
        parts += ["Rows whose published value lies outside the simulated 10-90 % range under both "
                  "hypotheses (or under one, where no animal of the other is left before end stage):", ""]
        parts += [f"- {m}" for m in misses] + [""]
    else:
        parts += ["Every compared time-course row lies inside the simulated 10-90 % range under at least "
                  "one hypothesis.", ""]
    if offsets:
        parts += ["Endpoints, simulated median minus the published mean:", ""] + [f"- {o}" for o in offsets] + [""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DOCS / "presets.md"), help="output file, or - for stdout")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (results do not depend on it)")
    args = parser.parse_args(argv)
    sections = [HEADER.format(version=alsim.__version__, subjects=SUBJECTS, seed=SEED)]
    for preset in PRESETS:
        sections.append(preset_section(preset, simulate_preset(preset, args.workers)))
    text = "\n".join(sections).rstrip() + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
