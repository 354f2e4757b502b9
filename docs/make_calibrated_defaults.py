"""Put the leading model of docs/structure_comparison.md into the shipped presets.

Reads the packaged posteriors (written by ``make_structure_comparison.py --install``):
``sod1-g93a-b6sjl`` gets the leading structure's settings and, for every calibrated
parameter, the weighted posterior median of its own hypothesis (``hypothesis.name``,
dying-back); ``sod1-g93a-c57bl6`` gets the medians of the C57BL6 clock. Each value's
source names the run and gives the 90 % interval. The hand-set values before this
calibration stay available as the preset ``sod1-g93a-b6sjl-handset``.

    python docs/make_calibrated_defaults.py --structure terminal_first \
        --run "docs/structure_comparison.md (the leading model alone, generation 5)" \
        --structure-reason "terminal_first/dying_back has the highest mean posterior probability of the six structure x hypothesis models (0.29 +- 0.11 over 3 runs, not settled: docs/structure_comparison.md)"
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from alsim.inference.posterior import Posterior, weighted_quantile
from alsim.inference.structures import STRUCTURES

PRESETS = Path(__file__).parent.parent / "src" / "alsim" / "config" / "presets"


def _section_and_key(path: str) -> tuple[str, str]:
    section, _, key = path.rpartition(".")
    return section, key


def _toml_value(value) -> str:
    return f'"{value}"' if isinstance(value, str) else f"{value:.4g}"


def set_values(file: Path, values: dict[str, tuple[object, str]]) -> None:
    """Replace (or add) ``key = { value = ..., source = "..." }`` lines in a preset file."""
    text = file.read_text(encoding="utf-8")
    for path, (value, source) in values.items():
        section, key = _section_and_key(path)
        line = f'{key} = {{ value = {_toml_value(value)}, source = "{source}" }}'
        header = f"[{section}]"
        start = text.find(f"\n{header}\n")
        if start < 0:
            text = text.rstrip("\n") + f"\n\n{header}\n{line}\n"
            continue
        body_start = start + len(header) + 2
        next_section = re.search(r"^\[", text[body_start:], flags=re.M)
        body_end = body_start + (next_section.start() if next_section else len(text) - body_start)
        body = text[body_start:body_end]
        pattern = re.compile(rf"^{re.escape(key)} = .*$", flags=re.M)
        if pattern.search(body):
            body = pattern.sub(line.replace("\\", "\\\\"), body, count=1)
        else:
            body = body.rstrip("\n") + f"\n{line}\n" + ("\n" if next_section else "")
        text = text[:body_start] + body + text[body_end:]
    file.write_text(text, encoding="utf-8")


def medians(preset: str, hypothesis: str, run: str) -> dict[str, tuple[float, str]]:
    frame, weights = Posterior.read(preset).of(hypothesis)
    out = {}
    for column in frame:
        low, median, high = weighted_quantile(frame[column].to_numpy(float), weights, [0.05, 0.5, 0.95])
        out[column] = (float(median), f"calibrated: posterior median under {hypothesis} (90 % interval "
                                      f"{low:.3g}-{high:.3g}) of {run}, B6SJL and C57BL6 fitted together")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--structure", required=True, choices=list(STRUCTURES))
    parser.add_argument("--hypothesis", default="dying_back")
    parser.add_argument("--run", required=True, help="where the posterior comes from, for the sources")
    parser.add_argument("--structure-reason", required=True, help="why this structure, for the sources")
    args = parser.parse_args()
    structure = {path: (value, f"calibrated: {args.structure_reason}")
                 for path, value in STRUCTURES[args.structure].items()}
    b6 = medians("sod1-g93a-b6sjl", args.hypothesis, args.run)
    set_values(PRESETS / "sod1-g93a-b6sjl.toml", {**structure, **b6})
    c57 = medians("sod1-g93a-c57bl6", args.hypothesis, args.run)
    own = {p: c57[p] for p in ("disease.burden_scale_days", "disease.burden_exponent")}
    set_values(PRESETS / "sod1-g93a-c57bl6.toml", own)
    print(f"set {len(structure) + len(b6)} values of sod1-g93a-b6sjl and {len(own)} of sod1-g93a-c57bl6")


if __name__ == "__main__":
    main()
