"""Parameter sweeps: one cohort at each point of a grid of parameter values.

``alsim sweep sod1-g93a-b6sjl --vary disease.burden_scale_days=80:120:5 --subjects 40``
simulates 40 animals at each of 5 values and reports, per point, the Kaplan-Meier
medians of onset, end stage and the time from one to the other. Several ``--vary``
make the grid their Cartesian product (the first axis varies slowest).

Every point simulates subjects ``0 .. N-1`` of the same root seed, so an animal has the
same sex, litter and burden multiplier at every point (common random numbers): two
points differ by the parameter, not by a new draw of animals. (Inside the engine the
draws part ways once the parameter changes what happens.) Each (point, block of
subjects) is one task on Dask; an animal's endpoints depend only on the seed, its index
and its point's scenario, so the same seed gives the same bits whatever the number of
workers or the block size, and a killed sweep resumes from the tasks it finished.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..config.loading import ScenarioError, load_scenario
from ..config.schema import Scenario
from ..run import blocks_of, clinical_events, iter_tasks, simulate_census
from ..store.provenance import content_sha256
from .stats import km_median_with_ci, median_with_ci

__all__ = ["Axis", "SweepDesign", "build_sweep", "parse_axis", "run_sweep", "simulate_point", "summarise_sweep"]

MAX_POINTS = 1_000
"""The most grid points a sweep may have (each is a cohort)."""
BLOCK_SIZE = 32
"""Subjects per task: enough to hide Dask's overhead per task (~0.6 s of work for B6SJL mice)."""
ENDPOINTS = ("onset_day", "end_stage_day")


@dataclass(frozen=True)
class Axis:
    """One varied parameter: its dotted path and values as written in ``--vary`` (strings,
    since a path may take a name, e.g. ``hypothesis.name``); ``log``: geometric spacing."""

    path: str
    values: tuple[str, ...]
    log: bool = False

    def numeric(self) -> np.ndarray | None:
        """The values as floats, or ``None`` when one is not a number (a categorical axis)."""
        try:
            return np.array([float(v) for v in self.values])
        except ValueError:
            return None


def _number(text: str, what: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"--vary {spec}: {what} must be a number; got {text!r}") from None
    if not math.isfinite(value):
        raise ScenarioError(f"--vary {spec}: {what} must be finite; got {text!r}")
    return value


def _range_values(spec: str, parts: list[str]) -> tuple[tuple[str, ...], bool]:
    """``START:STOP:N[:log]``: N values evenly (or geometrically) spaced from START to STOP."""
    log = len(parts) == 4
    if len(parts) not in (3, 4) or (log and parts[3] != "log"):
        raise ScenarioError(f"--vary {spec}: expected PATH=V1,V2,... or PATH=START:STOP:N[:log]")
    start, stop = _number(parts[0], "START", spec), _number(parts[1], "STOP", spec)
    try:
        count = int(parts[2])
    except ValueError:
        count = 0
    if count < 2:
        raise ScenarioError(f"--vary {spec}: N must be a whole number >= 2; got {parts[2]!r}")
    if log and (start <= 0 or stop <= 0):
        raise ScenarioError(f"--vary {spec}: a log range needs START and STOP > 0")
    values = np.geomspace(start, stop, count) if log else np.linspace(start, stop, count)
    # 12 significant digits: 0.4, not linspace's 0.39999999999999997
    return tuple(f"{v:.12g}" for v in values), log


def parse_axis(spec: str) -> Axis:
    """``PATH=V1,V2,...`` (numbers or names) or ``PATH=START:STOP:N[:log]``."""
    path, sep, rest = spec.partition("=")
    path, rest = path.strip(), rest.strip()
    if not sep or not path or not rest:
        raise ScenarioError(f"--vary {spec!r}: expected PATH=V1,V2,... or PATH=START:STOP:N[:log], "
                            "e.g. disease.burden_scale_days=80,100,120")
    if ":" in rest:
        values, log = _range_values(spec, rest.split(":"))
        return Axis(path, values, log)
    values = tuple(v.strip() for v in rest.split(","))
    if any(not v for v in values):
        raise ScenarioError(f"--vary {spec}: an empty value between commas")
    if len(set(values)) != len(values):
        raise ScenarioError(f"--vary {spec}: a value is given twice")
    return Axis(path, values)


@dataclass(frozen=True)
class SweepDesign:
    """The grid and the cohort: ``points[i]`` is the scenario at ``values[i]`` (one value
    per axis); ``subjects`` animals at each point, followed for ``days`` days."""

    base: Scenario
    axes: tuple[Axis, ...]
    values: tuple[tuple[str, ...], ...]
    points: tuple[Scenario, ...]
    subjects: int
    days: int
    seed: int

    @property
    def name(self) -> str:
        return self.base.name

    def identity(self) -> dict:
        """What a resumed sweep must share with the interrupted one (the seed apart)."""
        return {"command": "sweep", "scenario_sha256": content_sha256(self.base.model_dump(mode="json")),
                "axes": [[a.path, list(a.values)] for a in self.axes],
                "points_sha256": content_sha256([p.model_dump(mode="json") for p in self.points]),
                "subjects": self.subjects, "days": self.days}


def _point_scenario(scenario: str, overrides: list[str], axes: Sequence[Axis], values: Sequence[str]) -> Scenario:
    varied = [f"{axis.path}={value}" for axis, value in zip(axes, values)]
    try:
        return load_scenario(scenario, overrides + varied)[0]
    except ScenarioError as exc:
        message = str(exc).removeprefix("--set ")
        raise ScenarioError(f"--vary {', '.join(varied)}: {message}") from None


def build_sweep(scenario: str, axes: Sequence[Axis], *, overrides: Sequence[str] = (), subjects: int,
                days: int | None, seed: int) -> SweepDesign:
    """Validate the grid: every point's scenario is loaded (ScenarioError names the field and
    value) before any simulation."""
    if not axes:
        raise ScenarioError("--vary: give at least one parameter to vary, e.g. --vary disease.burden_scale_days=80,100,120")
    paths = [a.path for a in axes]
    if len(set(paths)) != len(paths):
        raise ScenarioError(f"--vary: a parameter is varied twice ({', '.join(paths)})")
    fixed = {o.partition("=")[0].strip() for o in overrides}
    if fixed & set(paths):
        raise ScenarioError(f"--vary {', '.join(sorted(fixed & set(paths)))}: also fixed by --set; give it in one only")
    n_points = math.prod(len(a.values) for a in axes)
    if n_points > MAX_POINTS:
        raise ScenarioError(f"--vary: {n_points} grid points; at most {MAX_POINTS} (each point is a cohort)")
    base, _ = load_scenario(scenario, list(overrides))
    for axis in axes:                   # each value alone first, so that an error names only it
        for value in axis.values:
            _point_scenario(scenario, list(overrides), [axis], [value])
    grid = tuple(itertools.product(*(a.values for a in axes)))
    points = tuple(_point_scenario(scenario, list(overrides), axes, values) for values in grid)
    return SweepDesign(base=base, axes=tuple(axes), values=grid, points=points, subjects=subjects,
                       days=days or base.horizon_days, seed=seed)


def simulate_point(scenario: Scenario, subjects: np.ndarray, days: int, seed: int) -> dict[str, np.ndarray]:
    """Onset and end-stage day (NaN: not by ``days``) of ``subjects`` under ``scenario``;
    each animal is simulated up to its end stage only (nothing later is read)."""
    census = simulate_census(scenario, subjects=subjects, days=days, seed=seed, stop_at_end_stage=True)
    endpoints = clinical_events(scenario, census.counts["force"])
    return {"subjects": np.asarray(subjects), **{k: np.asarray(endpoints[k], dtype=float) for k in ENDPOINTS}}


def _key(point: int, block: int) -> str:
    return f"point-{point:06d}-block-{block:06d}"


def run_sweep(design: SweepDesign, *, workers: int = 1, scheduler: str | None = None,
              progress: Callable[[int], None] | None = None, checkpoint=None) -> dict[str, np.ndarray]:
    """Every point's cohort; ``{"onset_day", "end_stage_day"}`` as (point, subject) arrays.

    ``progress`` is called with the subject-days of each finished task; ``checkpoint`` (a
    :class:`alsim.store.WorkFolder`) saves each task as it finishes, and tasks already
    saved there are loaded instead of run.
    """
    blocks = blocks_of(design.subjects, BLOCK_SIZE)
    tasks = [(p, b) for p in range(len(design.points)) for b in range(len(blocks))]
    result = {k: np.full((len(design.points), design.subjects), np.nan) for k in ENDPOINTS}

    def keep(task: tuple[int, int], arrays: dict[str, np.ndarray]) -> None:
        p, b = task
        for k in ENDPOINTS:
            result[k][p, blocks[b]] = arrays[k]
        if progress is not None:
            progress(len(blocks[b]) * design.days)

    todo = []
    for task in tasks:
        saved = None if checkpoint is None else checkpoint.load_arrays(_key(*task), ("subjects", *ENDPOINTS))
        if saved is not None and np.array_equal(saved["subjects"], blocks[task[1]]):
            keep(task, saved)
        else:
            todo.append(task)
    jobs = [(design.points[p], blocks[b], design.days, design.seed) for p, b in todo]
    for position, arrays in iter_tasks(simulate_point, jobs, workers=workers, scheduler=scheduler, threads=True):
        if checkpoint is not None:
            checkpoint.save(_key(*todo[position]), arrays)
        keep(todo[position], arrays)
    return result


def _interval(value: float, lo: float, hi: float) -> dict[str, float | None]:
    return {k: (float(v) if math.isfinite(v) else None) for k, v in (("value", value), ("lo", lo), ("hi", hi))}


def _point_summary(onset: np.ndarray, end: np.ndarray, follow_up: float) -> dict:
    """Kaplan-Meier medians (95 % CI) of onset and end stage (censored at ``follow_up``) and of
    the time from onset to end stage (animals with an onset; censored at ``follow_up``
    less their onset), and the fractions with each event by the end of follow-up."""
    had_onset = np.isfinite(onset)
    died = np.isfinite(end[had_onset])
    duration = np.where(died, end[had_onset], follow_up) - onset[had_onset]
    return {"median_onset_day": _interval(*median_with_ci(onset, follow_up)),
            "median_end_stage_day": _interval(*median_with_ci(end, follow_up)),
            "median_onset_to_end_stage_days": _interval(*km_median_with_ci(duration, died)),
            "fraction_with_onset": float(had_onset.mean()), "fraction_with_end_stage": float(np.isfinite(end).mean())}


def summarise_sweep(design: SweepDesign, endpoints: dict[str, np.ndarray]) -> dict:
    """``sweep.json``: the design and, per point, its values and :func:`_point_summary`."""
    from .._version import __version__

    follow_up = float(design.days)
    points = []
    for i, values in enumerate(design.values):
        summary = _point_summary(endpoints["onset_day"][i], endpoints["end_stage_day"][i], follow_up)
        points.append({"values": dict(zip((a.path for a in design.axes), values)), **summary})
    return {"scenario": design.name, "hypothesis": design.base.hypothesis.name, "species": design.base.species,
            "axes": [{"path": a.path, "values": list(a.values), "log": a.log} for a in design.axes],
            "subjects_per_point": design.subjects, "follow_up_days": design.days, "seed": design.seed,
            "alsim_version": __version__,
            "common_random_numbers": "every point simulates subjects 0..N-1 of the same seed: the same animals "
                                     "(sex, litter, burden multiplier) at every point",
            "points": points}
