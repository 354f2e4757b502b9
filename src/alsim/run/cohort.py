"""Which scenario each subject of a cohort runs: the :class:`Cohort` noun.

A plain cohort runs one scenario for every subject. ``alsim run --posterior`` gives each
subject its posterior particle's scenario (:class:`alsim.inference.cohort.PosteriorCohort`,
a subclass). A block of subjects is run part by part (the subjects that share a scenario)
and its Dataset put together from its parts'. A subject's results depend only on the
seed, its index and its scenario, so they do not depend on the blocks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator

import numpy as np
import xarray as xr

from ..config.schema import Scenario
from ..engine.context import build_context
from ..engine.census import Census
from ..engine.runner import simulate_block
from ..readouts.emg.simulated import DEFAULT_MUNE_METHOD
from ..readouts.selection import ReadoutSelection
from .census import simulate_census
from .dataset import results_dataset

__all__ = ["Cohort", "as_cohort", "block_dataset", "part_censuses", "simulate_cohort"]


class Cohort:
    """Which scenario each subject runs with, and how a block's Dataset is put together from
    its parts (the subjects that share a scenario): here one scenario for every subject, so
    a block is one part.

    :class:`alsim.inference.cohort.PosteriorCohort` gives each subject its posterior particle's
    scenario. A block's task gets ``cohort.of(block)`` (what that block needs: it is sent to
    a worker with each task) and runs each part with its scenario.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario

    def of(self, subjects: np.ndarray) -> "Cohort":
        """The part of the cohort that the block ``subjects`` needs."""
        return self

    def with_scenario(self, scenario: Scenario) -> "Cohort":
        """The same subjects (and, in a subclass, the same parameter draws) on the base
        ``scenario``: a trial arm's, the base scenario with the arm's treatments."""
        changed = copy.copy(self)
        changed.scenario = scenario
        return changed

    def parts(self, subjects: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """``(key, subject indices)`` of each part of ``subjects`` that runs with one scenario."""
        return [(0, subjects)]

    def scenario_of(self, key: int) -> Scenario:
        """The scenario of part ``key``."""
        return self.scenario

    def dataset(self, parts: dict[int, xr.Dataset]) -> xr.Dataset:
        """A block's results Dataset from its parts' (``{key: Dataset}``), subjects in order."""
        return parts[0]


def as_cohort(scenario: Scenario | Cohort) -> Cohort:
    """``scenario`` as a :class:`Cohort` (one scenario for every subject) unless it is one."""
    return scenario if isinstance(scenario, Cohort) else Cohort(scenario)


def part_censuses(cohort: Cohort, seed: int, subjects: np.ndarray, days: int,
                  on_day: Callable[[int], None] | None) -> Iterator[tuple[int, Scenario, Census]]:
    """``(key, scenario, census)`` of each part of the block ``subjects``."""
    for key, ids in cohort.parts(subjects):
        member = cohort.scenario_of(key)
        yield key, member, simulate_block(build_context(member), seed, ids, days, on_day=on_day)


def block_dataset(cohort: Cohort, seed: int, subjects: np.ndarray, days: int, mune_method: str,
                  grid_onset: np.ndarray | None = None, readouts: ReadoutSelection | None = None,
                  on_day: Callable[[int], None] | None = None) -> xr.Dataset:
    """The results Dataset of one block of subjects (their rows of the cohort's Dataset);
    ``grid_onset``: see :func:`alsim.run.dataset.results_dataset` (onset-aligned species);
    ``readouts``: which are computed (:class:`alsim.readouts.selection.ReadoutSelection`)."""
    return cohort.dataset({key: results_dataset(member, census, seed=seed, mune_method=mune_method,
                                                grid_onset=grid_onset, readouts=readouts)
                           for key, member, census in part_censuses(cohort, seed, subjects, days, on_day)})


def simulate_cohort(cohort: Cohort, subjects: np.ndarray, *, days: int, seed: int, workers: int = 1,
                    scheduler: str | None = None, mune_method: str = DEFAULT_MUNE_METHOD,
                    progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """The results Dataset of ``cohort``'s ``subjects`` in memory: one census per part (the
    subjects sharing a scenario), on ``workers`` or ``scheduler``, put together by the cohort.

    The same bits as :func:`alsim.run.stream` of that cohort.
    """
    parts = {}
    for key, ids in cohort.parts(np.asarray(subjects)):
        member = cohort.scenario_of(key)
        census = simulate_census(member, subjects=ids, days=days, seed=seed, workers=workers, scheduler=scheduler,
                                 progress=progress)
        parts[key] = results_dataset(member, census, seed=seed, mune_method=mune_method)
    combined = cohort.dataset(parts)
    if "subjects_without_onset" in combined.attrs:       # onset-aligned: the cohort's count, not one part's
        combined.attrs["subjects_without_onset"] = int(np.sum(~np.isfinite(combined["onset_sim_day"].values)))
    return combined
