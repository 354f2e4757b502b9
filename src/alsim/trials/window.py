"""Timing windows: the same treatment started at different ages, against one control.

Seed 000 asks whether early intervention could prevent the loss of motor neurons; a
window is a trial whose arms are ``NAME@START:DOSE`` for each start day, so every
start day is compared with the same control animals' design (fresh animals per arm).
The figure is drawn by :func:`alsim.report.trial.window_figure`.
"""

from __future__ import annotations

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
