"""Timing windows: the same treatment started at different ages, against one control.

Seed 000 asks whether early intervention could prevent the loss of motor neurons; a
window is a trial whose arms are ``NAME@START:DOSE`` for each start day, so every
start day is compared with the same control animals' design (fresh animals per arm).
"""

from __future__ import annotations

from matplotlib.figure import Figure

from ..config.loading import ScenarioError


def parse_start_days(text: str) -> list[int]:
    """``"30,45,60"`` -> ``[30, 45, 60]`` (whole days of age, each at most once)."""
    try:
        days = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ScenarioError(f"--start-days: expected whole days separated by commas, e.g. 30,45,60; got {text!r}") from None
    if not days or any(d < 0 for d in days) or len(set(days)) != len(days):
        raise ScenarioError(f"--start-days: expected distinct whole days >= 0, e.g. 30,45,60; got {text!r}")
    return sorted(days)


def window_arms(treat: str, start_days: list[int]) -> list[str]:
    """Arm labels: control, then ``NAME@DAY[:DOSE]`` for each start day."""
    if "@" in treat:
        raise ScenarioError(f"--treat {treat!r}: give NAME[:DOSE] without @START_DAY; --start-days sets the start")
    name, _, dose = treat.partition(":")
    return ["control", *(f"{name}@{day}" + (f":{dose}" if dose else "") for day in start_days)]


def window_summary(summary: dict, start_days: list[int], labels: list[str]) -> dict:
    """``summary`` (a trial's) plus ``by_start_day``: each start day's effects versus control."""
    by_day = {}
    for day, label in zip(start_days, labels[1:]):
        entry = summary["arms"][label]
        by_day[str(day)] = {key: entry.get(key) for key in (
            "difference_end_stage_day", "difference_onset_day", "hazard_ratio", "logrank_p", "mean_count_at_day",
            "difference_count_at_day", "power")}
        by_day[str(day)]["arm"] = label
    return {**summary, "start_days": start_days, "by_start_day": by_day}


def _errorbar(ax, days: list[int], entries: list[dict | None], colour: str, label: str) -> None:
    xs, ys, lo, hi = [], [], [], []
    for day, entry in zip(days, entries):
        if entry and entry.get("value") is not None and entry.get("lo") is not None:
            xs.append(day)
            ys.append(entry["value"])
            lo.append(entry["value"] - entry["lo"])
            hi.append(entry["hi"] - entry["value"])
    ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=4, color=colour, label=label)


def window_figure(summary: dict) -> Figure:
    """Effect on onset and end stage (days, 95 % CI) and on the counted readout, against start day."""
    days = summary["start_days"]
    rows = [summary["by_start_day"][str(d)] for d in days]
    fig = Figure(figsize=(12, 4), layout="constrained")
    ax_days, ax_count = fig.subplots(1, 2)
    _errorbar(ax_days, days, [r["difference_onset_day"] for r in rows], "C0", "onset")
    _errorbar(ax_days, days, [r["difference_end_stage_day"] for r in rows], "C3", "end stage")
    ax_days.axhline(0, color="grey", linewidth=1)
    ax_days.set_xlabel("treatment start (days of age)")
    ax_days.set_ylabel("median, treated - control (days)")
    ax_days.legend()
    count = summary.get("count_endpoint")
    if count is not None:
        _errorbar(ax_count, days, [r["difference_count_at_day"] for r in rows], "C2", count["readout"])
        ax_count.axhline(0, color="grey", linewidth=1)
        ax_count.set_ylabel(f"treated - control at day {count['day']}")
        ax_count.set_title(f"{count['readout']}, {count['muscle']}")
        ax_count.set_xlabel("treatment start (days of age)")
    else:
        ax_count.set_axis_off()
    return fig
