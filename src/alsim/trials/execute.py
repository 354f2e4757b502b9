"""Running a trial: breed a pool, allocate (Scott et al. 2008), simulate each arm, compare.

Replicate ``r`` breeds a pool of ``2 * per_arm * arms`` animals, subjects
``r * pool ... (r + 1) * pool - 1`` of the root seed, so every animal of every
replicate is a different individual with its own random stream; their sex and
litter are known before allocation, as in a real colony. The allocation draws from
its own stream, ``SeedSequence(seed, spawn_key=(3, r))``. Replicate 0 is the trial
that is reported; replicates ``1..R`` are fresh repeats for power. Each (replicate,
arm) is one task, so the same seed gives the same bits whatever the number of
workers; it is also the block that ``alsim trial`` and ``alsim window`` save as it
is done, to be loaded by ``--resume`` after a kill (:mod:`alsim.store.workfolder`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..biology.motor_units import build_layout
from ..config.schema import Scenario
from ..engine.streams import subject_traits
from ..readouts import lab_readouts
from ..run import Cohort, clinical_events, iter_tasks, results_dataset, simulate_census
from ..run.cohort import as_cohort
from ..store.provenance import content_sha256
from .allocation import allocate_per_arm
from .design import TrialDesign
from .stats import ArmOutcome

ALLOCATION_STREAM = 3


@dataclass(frozen=True)
class ArmRun:
    """What one arm of one replicate gives: endpoints per animal (and, for the reported
    trial, the full results Dataset)."""

    subjects: np.ndarray
    outcome: ArmOutcome
    dataset: xr.Dataset | None


def pool_size(design: TrialDesign) -> int:
    return 2 * design.per_arm * len(design.arms)


def allocation(design: TrialDesign, replicate: int) -> list[np.ndarray]:
    """Subject indices of each arm in ``replicate``: balanced for sex, littermates split."""
    size = pool_size(design)
    pool = np.arange(replicate * size, (replicate + 1) * size)
    _, female, litter, _ = subject_traits(design.scenario, design.seed, pool)
    rng = np.random.default_rng(np.random.SeedSequence(design.seed, spawn_key=(ALLOCATION_STREAM, replicate)))
    return [pool[index] for index in allocate_per_arm(female, litter, design.per_arm, len(design.arms), rng)]


def simulate_arm(member: Scenario | Cohort, subjects: np.ndarray, days: int, seed: int,
                 count: tuple[int, str, str] | None, keep_dataset: bool) -> ArmRun:
    """One arm: simulate ``subjects`` under ``member`` and read the trial endpoints.

    ``member`` is the arm's scenario, or a :class:`alsim.run.Cohort` of it that gives each
    animal its own parameters (``--posterior``: its posterior particle's); the animals that
    share a scenario are simulated together and the endpoints put back in subject order.
    Without ``keep_dataset`` (the power replicates) each animal is simulated only up to
    its end stage, after which nothing of it is read; the endpoints are the same bits.
    """
    cohort = as_cohort(member)
    subjects = np.asarray(subjects)
    end_stage, onset = np.full(subjects.size, np.nan), np.full(subjects.size, np.nan)
    count_values = None if count is None else np.full(subjects.size, np.nan)
    datasets = {}
    for key, ids in cohort.parts(subjects):
        scenario = cohort.scenario_of(key)
        at = np.flatnonzero(np.isin(subjects, ids))
        census = simulate_census(scenario, subjects=ids, days=days, seed=seed, stop_at_end_stage=not keep_dataset)
        clinical = clinical_events(scenario, census.counts["force"])
        end_stage[at], onset[at] = clinical["end_stage_day"], clinical["onset_day"]
        if count is not None:
            count_values[at] = _counted(scenario, census, clinical, count)
        if keep_dataset:   # no trial endpoint reads the EMG
            datasets[key] = results_dataset(scenario, census, seed=seed, electrophysiology=False)
    outcome = ArmOutcome(end_stage_day=end_stage, onset_day=onset, follow_up_days=float(days), count_at_day=count_values)
    return ArmRun(subjects=subjects, outcome=outcome, dataset=cohort.dataset(datasets) if keep_dataset else None)


def _counted(scenario: Scenario, census, clinical: dict, count: tuple[int, str, str]) -> np.ndarray:
    """The ``count`` readout (day, readout, muscle) of each animal; NaN for one past its end stage."""
    day, readout, muscle = count
    layout = build_layout(scenario)
    values = lab_readouts(census, np.diff(layout.unit_start), layout.units_per_type, np.diff(layout.endplate_start))
    counted = values[readout][:, list(layout.muscle_names).index(muscle), day].astype(float)
    # animals past their humane end point are not there to be counted
    counted[np.nan_to_num(clinical["end_stage_day"], nan=np.inf) < day] = np.nan
    return counted


def design_identity(design: TrialDesign, command: str) -> dict:
    """What a resumed trial or window must share with the interrupted one (the seed apart)."""
    arms = [arm.scenario(design.scenario).model_dump(mode="json") for arm in design.arms]
    return {"command": command, "scenario_sha256": content_sha256(design.scenario.model_dump(mode="json")),
            "arms": list(design.labels), "arms_sha256": content_sha256(arms), "per_arm": design.per_arm,
            "days": design.days, "replicates": design.replicates, "alpha": design.alpha, "count_day": design.count_day,
            "count_readout": design.count_readout, "count_muscle": design.count_muscle}


def _arm_run_arrays(run: ArmRun) -> dict[str, np.ndarray]:
    """An ArmRun's arrays, to save (its Dataset goes beside them)."""
    outcome = run.outcome
    arrays = {"subjects": run.subjects, "end_stage_day": outcome.end_stage_day, "onset_day": outcome.onset_day,
              "follow_up_days": np.float64(outcome.follow_up_days)}
    if outcome.count_at_day is not None:
        arrays["count_at_day"] = outcome.count_at_day
    return arrays


def _arm_run_from(arrays: dict[str, np.ndarray], dataset: xr.Dataset | None) -> ArmRun:
    outcome = ArmOutcome(end_stage_day=arrays["end_stage_day"], onset_day=arrays["onset_day"],
                         follow_up_days=float(arrays["follow_up_days"]), count_at_day=arrays.get("count_at_day"))
    return ArmRun(subjects=arrays["subjects"], outcome=outcome, dataset=dataset)


def subjects_needed(design: TrialDesign) -> int:
    """How many subjects (indices ``0 .. n-1``) the reported trial and its replicates use."""
    return pool_size(design) * (design.replicates + 1)


def check_cohort(design: TrialDesign, cohort: Cohort) -> None:
    """ValueError unless ``cohort`` is of the design's scenario (hypothesis included)."""
    if cohort.scenario != design.scenario:
        raise ValueError("cohort: its base scenario must be the design's (the same preset, --set and hypothesis)")
    needed = subjects_needed(design)
    try:
        cohort.of(np.array([needed - 1]))
    except IndexError:
        raise ValueError(f"cohort: it must hold subjects 0..{needed - 1} (draw it for subjects_needed(design) = {needed})") from None


def _count_spec(design: TrialDesign) -> tuple[int, str, str] | None:
    return None if design.count_day is None else (design.count_day, design.count_readout, design.muscle_for_count)


def run_replicates(design: TrialDesign, replicates: list[int], *, workers: int = 1, scheduler: str | None = None,
                   progress: Callable[[int], None] | None = None, checkpoint=None,
                   cohort: Cohort | None = None) -> dict[int, dict[str, ArmRun]]:
    """Simulate every arm of each replicate; ``{replicate: {arm label: ArmRun}}``.

    ``cohort`` (its base scenario the design's): the parameters each animal runs with, by
    its subject index, e.g. its posterior particle's (:func:`check_cohort`); each arm runs
    the cohort on the arm's scenario, so animal ``i`` has the same draw whichever arm it is in.

    ``progress`` is called with the number of animal-days of each finished task.
    ``checkpoint`` (a :class:`alsim.store.WorkFolder`) saves each task's result as it
    finishes; tasks already saved there are loaded instead of run.
    """
    scenarios = [arm.scenario(design.scenario) for arm in design.arms]
    arm_cohorts = None if cohort is None else [cohort.with_scenario(scenario) for scenario in scenarios]
    jobs, keys = [], []
    for r in replicates:
        for index, (arm, scenario, subjects) in enumerate(zip(design.arms, scenarios, allocation(design, r))):
            member = scenario if arm_cohorts is None else arm_cohorts[index].of(subjects)
            jobs.append((member, subjects, design.days, design.seed, _count_spec(design), r == 0))
            keys.append((r, arm.label, f"replicate-{r:06d}-arm-{index:03d}"))
    weights = [len(job[1]) * design.days for job in jobs]
    runs = [None if checkpoint is None else _loaded(checkpoint, key, job[1]) for (_, _, key), job in zip(keys, jobs)]
    if progress is not None:
        progress(sum(w for w, run in zip(weights, runs) if run is not None))
    todo = [i for i, run in enumerate(runs) if run is None]
    tasks = iter_tasks(simulate_arm, [jobs[i] for i in todo], workers=workers, scheduler=scheduler,
                       threads=True) if todo else []
    for position, run in tasks:
        i = todo[position]
        if checkpoint is not None:
            checkpoint.save(keys[i][2], _arm_run_arrays(run), run.dataset)
        runs[i] = run
        if progress is not None:
            progress(weights[i])
    results: dict[int, dict[str, ArmRun]] = {r: {} for r in replicates}
    for (r, label, _), run in zip(keys, runs):
        results[r][label] = run
    return results


def _loaded(checkpoint, key: str, subjects: np.ndarray) -> ArmRun | None:
    """Task ``key`` from the checkpoint, if it is there and is of these ``subjects``."""
    loaded = checkpoint.load(key)
    if loaded is None or not np.array_equal(loaded[0].get("subjects"), subjects):
        return None
    return _arm_run_from(*loaded)
