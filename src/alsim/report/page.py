"""The page kit of every alsim HTML page: style, escaping, number formats, tables,
embedded figures and the atomic write.

Run, human, trial, sweep and calibration pages are built from these pieces, so they
look alike and escape alike. Figures are PNGs embedded as base64 ``data:`` URIs (no
external assets: a page can be mailed or archived as it is); every text that reaches a
page goes through :func:`escape` (or :func:`table`, which escapes its headers).
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .figures import figure_png

__all__ = ["CSS", "definition_with_values", "embed_figure", "escape", "fmt", "fmt_1", "fmt_day", "head", "table", "write_html"]

#: The style sheet of every page (inlined in its ``<style>``).
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 1.5em auto;
       max-width: 1700px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
h3 { margin-top: 1.2em; }
table { border-collapse: collapse; margin: 0.6em 0 1em 0; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0.6em 0 1.4em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.88em; color: #444; max-width: 1100px; }
.meta { color: #666; font-size: 0.9em; } .note { color: #555; font-size: 0.88em; }
ul.notes li { margin: 0.2em 0; }
"""


def escape(value: Any) -> str:
    """``value`` as HTML text (``None`` as empty), quotes escaped too: safe in text and attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt(x: float | None, digits: int = 3) -> str:
    """A number to ``digits`` significant digits (whole from 1000 up); ``-`` for none or NaN,
    ``not reached`` for infinity (an event after the end of follow-up)."""
    if x is None:
        return "-"
    x = float(x)
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "not reached"
    return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:.0f}"


def fmt_1(x: float | None) -> str:
    """A number to one decimal; ``-`` for none or NaN."""
    return "-" if x is None or math.isnan(x) else f"{x:.1f}"


def fmt_day(x: float, last_day: float | None = None) -> str:
    """A day as a whole number; infinity (not reached) as ``> last_day`` when it is known."""
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return f"&gt; {last_day:.0f}" if last_day is not None and not math.isnan(last_day) else "not reached"
    return f"{x:.0f}"


_PARAMETER = re.compile(r"\b(?:[a-z_]+\.)+[a-z_]+\b")


def definition_with_values(text: str, scenario_json: str | None,
                           drawn: Mapping[str, tuple[float, float, float]] | None = None) -> str:
    """An event definition with each dotted parameter name followed by the run's value.

    ``"hindlimb force < clinical.onset_force_fraction"`` becomes
    ``"hindlimb force < 0.3 (clinical.onset_force_fraction)"``, read from the run's scenario
    (the results attribute ``scenario_json``); names the scenario lacks, and all of them
    without a scenario, are left as they are. A name in ``drawn`` (a value drawn per subject,
    e.g. from a posterior: its (low, median, high)) shows those instead. Plain text: escape it
    before putting it in HTML.
    """
    if not scenario_json:
        return text
    scenario = json.loads(scenario_json)
    drawn = drawn or {}

    def value_of(match: re.Match[str]) -> str:
        if match.group(0) in drawn:
            low, median, high = drawn[match.group(0)]
            return f"{median:.3g} (drawn per subject, {low:.3g}-{high:.3g}; {match.group(0)})"
        node: Any = scenario
        for key in match.group(0).split("."):
            if not isinstance(node, dict) or key not in node:
                return match.group(0)
            node = node[key]
        if isinstance(node, (dict, type(None))):
            return match.group(0)
        shown = ", ".join(map(str, node)) if isinstance(node, list) else f"{node:g}" if isinstance(node, float) else str(node)
        return f"{shown} ({match.group(0)})"

    return _PARAMETER.sub(value_of, text)


def head(title: str) -> str:
    """The opening of a page up to its ``<h1>`` title (escaped here)."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{CSS}</style>"
            f"</head><body>\n<h1>{escape(title)}</h1>")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Iterable[int] = ()) -> str:
    """An HTML table. Cells are already-escaped HTML; headers are escaped here; columns
    ``numeric`` are right-aligned in tabular figures."""
    numeric = set(numeric)
    head_row = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head_row}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def embed_figure(fig: Any, alt: str, caption: str, dpi: int) -> str:
    """A matplotlib figure as a ``<figure>``: the PNG at ``dpi`` inline, with its caption (escaped)."""
    data = base64.b64encode(figure_png(fig, dpi=dpi)).decode("ascii")
    return (f'<figure><img alt="{escape(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def write_html(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path
