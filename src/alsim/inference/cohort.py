"""Cohorts that carry parameter uncertainty: each subject's parameters drawn from a posterior.

``alsim run --posterior DIR``: subject ``i`` gets particle ``k_i`` of the posterior of the
scenario's hypothesis, drawn by weight from a stream of the run's seed. Subjects sharing
a particle are simulated together; a subject's result depends only on (seed, its index,
its particle), as in any run, so the cohort is the same bits whatever the workers, the
blocks it is streamed in (:class:`PosteriorCohort`) or where a killed run was resumed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import xarray as xr

from ..config.schema import Scenario
from ..readouts.emg.simulated import DEFAULT_MUNE_METHOD
from ..run import Cohort, simulate_cohort
from .model import scenario_with
from .posterior import POSTERIOR_FILE, Posterior

__all__ = ["PosteriorCohort", "simulate_with_posterior", "posterior_assignment"]


def posterior_assignment(posterior: Posterior, hypothesis: str, subjects: int, seed: int) -> np.ndarray:
    """The particle index of each subject (drawn by weight, with replacement)."""
    _, weights = posterior.of(hypothesis)
    return np.random.default_rng([seed, 0x9057]).choice(len(weights), size=subjects, p=weights)


@dataclass(eq=False)
class PosteriorCohort(Cohort):
    """A cohort whose subjects run with their posterior particle's scenario (a
    :class:`alsim.run.Cohort`, so ``alsim run --posterior`` streams and resumes).

    A block's parts are its subjects grouped by particle; its Dataset is theirs concatenated
    in subject order, with ``posterior_particle`` and ``parameter_value`` (subject,
    parameter). The root attributes are those of the base scenario's run whatever particles
    a block holds: the store's layout is written from whichever block is done first.
    """

    scenario: Scenario            # the base scenario, whose calibrated parameters each particle replaces
    folder: str                   # --posterior as given (a folder or a packaged posterior's name)
    hypothesis: str
    names: tuple[str, ...]        # the calibrated parameters (dotted paths)
    values: np.ndarray            # (particles, parameters), natural units
    subject: np.ndarray           # the subjects this holds, ascending
    particle: np.ndarray          # the particle of each

    @classmethod
    def draw(cls, scenario: Scenario, folder: str | Path, *, subjects: int, seed: int) -> "PosteriorCohort":
        """Subjects ``0 .. subjects-1`` of ``scenario``, particles drawn from the posterior in ``folder``."""
        posterior = Posterior.read(folder)
        hypothesis = scenario.hypothesis.name
        params, _ = posterior.of(hypothesis)
        return cls(scenario, str(folder), hypothesis, tuple(params.columns), params.to_numpy(dtype=float),
                   np.arange(subjects), posterior_assignment(posterior, hypothesis, subjects, seed))

    def of(self, subjects: np.ndarray) -> "PosteriorCohort":
        """Only ``subjects``' particles: what a block's task is sent."""
        return replace(self, subject=np.asarray(subjects), particle=self._particles(subjects))

    def _particles(self, subjects: np.ndarray) -> np.ndarray:
        return self.particle[np.searchsorted(self.subject, subjects)]

    def parts(self, subjects: np.ndarray) -> list[tuple[int, np.ndarray]]:
        particle = self._particles(subjects)
        return [(int(k), subjects[particle == k]) for k in np.unique(particle)]

    def parameters(self, key: int) -> dict[str, float]:
        """Particle ``key``'s calibrated parameter values."""
        return {name: float(value) for name, value in zip(self.names, self.values[key])}

    def scenario_of(self, key: int) -> Scenario:
        return scenario_with(self.scenario, self.parameters(key), self.hypothesis)

    def dataset(self, parts: dict[int, xr.Dataset]) -> xr.Dataset:
        # People of different particles have different days-from-onset grids when each part
        # sets its own (in memory): their union, NaN outside each. Streamed, all share the cohort's.
        combined = xr.concat([self._labelled(ds, key) for key, ds in parts.items()], dim="subject", data_vars="all",
                             coords="different", compat="equals", combine_attrs="override", join="outer")
        combined = combined.sortby("subject")
        combined.attrs.update(self.attrs)
        return combined

    def _labelled(self, ds: xr.Dataset, key: int) -> xr.Dataset:
        """``ds`` (particle ``key``'s subjects) with the particle and its parameter values."""
        n = ds.sizes["subject"]
        ds["posterior_particle"] = ("subject", np.full(n, key), {
            "description": f"row (within hypothesis {self.hypothesis}) of {Path(self.folder) / POSTERIOR_FILE} "
                           "this subject ran with"})
        ds["parameter_value"] = (("subject", "parameter"), np.tile(self.values[key][None, :], (n, 1)),
                                 {"description": "calibrated parameter values this subject ran with (natural units)"})
        return ds.assign_coords(parameter=list(self.names))

    @property
    def attrs(self) -> dict[str, str]:
        """The root attributes a posterior cohort adds (or replaces: ``scenario_json``)."""
        return {"scenario_json": json.dumps(self.scenario.model_dump(mode="json")), "posterior_folder": self.folder,
                "posterior_hypothesis": self.hypothesis,
                "parameter_uncertainty": "each subject's calibrated parameters drawn from the posterior "
                                         "(posterior_particle, parameter_value); scenario_json is the base "
                                         "scenario they replace"}


def simulate_with_posterior(scenario: Scenario, folder: str | Path, *, subjects: int, days: int, seed: int,
                            workers: int = 1, scheduler: str | None = None,
                            mune_method: str = DEFAULT_MUNE_METHOD,
                            progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """Simulate ``subjects`` animals of ``scenario`` with parameters drawn from the posterior in ``folder``,
    in memory (one census per particle).

    The Dataset gains ``posterior_particle`` (subject) and, per calibrated parameter, a
    ``parameter`` variable (subject, parameter) of the values each subject ran with.
    ``alsim run --posterior`` streams the same cohort to disk block by block instead
    (:class:`PosteriorCohort`, :func:`alsim.run.stream`): the same bits, people included
    (each particle's days-from-onset grid here, their union, is the cohort's: every such
    grid is a run of days through 0).
    """
    cohort = PosteriorCohort.draw(scenario, folder, subjects=subjects, seed=seed)
    return simulate_cohort(cohort, cohort.subject, days=days, seed=seed, workers=workers, scheduler=scheduler,
                           mune_method=mune_method, progress=progress)
