"""Cohorts that carry parameter uncertainty: each subject's parameters drawn from a posterior.

``alsim run --posterior DIR``: subject ``i`` gets particle ``k_i`` of the posterior of the
scenario's hypothesis, drawn by weight from a stream of the run's seed. Subjects sharing
a particle are simulated together; a subject's result depends only on (seed, its index,
its particle), as in any run, so the cohort is the same bits whatever the workers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from ..config.schema import Scenario
from ..engine.runner import simulate_census
from ..simulation import results_dataset
from .model import scenario_with
from .posterior import Posterior

__all__ = ["simulate_with_posterior", "posterior_assignment"]


def posterior_assignment(posterior: Posterior, hypothesis: str, subjects: int, seed: int) -> np.ndarray:
    """The particle index of each subject (drawn by weight, with replacement)."""
    _, weights = posterior.of(hypothesis)
    return np.random.default_rng([seed, 0x9057]).choice(len(weights), size=subjects, p=weights)


def simulate_with_posterior(scenario: Scenario, folder: str | Path, *, subjects: int, days: int, seed: int,
                            workers: int = 1, scheduler: str | None = None, backend: str = "numba",
                            progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """Simulate ``subjects`` animals of ``scenario`` with parameters drawn from the posterior in ``folder``.

    The Dataset gains ``posterior_particle`` (subject) and, per calibrated parameter, a
    ``parameter`` variable (subject, parameter) of the values each subject ran with.
    """
    posterior = Posterior.read(folder)
    hypothesis = scenario.hypothesis.name
    params, _ = posterior.of(hypothesis)
    particles = posterior_assignment(posterior, hypothesis, subjects, seed)
    parts = []
    for particle in np.unique(particles):
        ids = np.flatnonzero(particles == particle)
        values = {k: float(v) for k, v in params.iloc[int(particle)].items()}
        member = scenario_with(scenario, values, hypothesis)
        census = simulate_census(member, subjects=ids, days=days, seed=seed, workers=workers, scheduler=scheduler,
                                 backend=backend, progress=progress)
        ds = results_dataset(member, census, seed=seed, backend=backend)
        ds["posterior_particle"] = ("subject", np.full(len(ids), int(particle)), {
            "description": f"row (within hypothesis {hypothesis}) of {Path(folder) / 'posterior.csv'} this subject ran with"})
        ds["parameter_value"] = (("subject", "parameter"), np.tile(np.array(list(values.values()))[None, :], (len(ids), 1)),
                                 {"description": "calibrated parameter values this subject ran with (natural units)"})
        parts.append(ds.assign_coords(parameter=list(values)))
    # people of different particles have different days-from-onset grids: their union, NaN outside each
    combined = xr.concat(parts, dim="subject", data_vars="all", coords="different", compat="equals",
                         combine_attrs="drop_conflicts", join="outer").sortby("subject")
    combined.attrs.update({"scenario_json": json.dumps(scenario.model_dump(mode="json")), "posterior_folder": str(folder),
                           "posterior_hypothesis": hypothesis,
                           "parameter_uncertainty": "each subject's calibrated parameters drawn from the posterior "
                                                    "(posterior_particle, parameter_value); scenario_json is the base "
                                                    "scenario they replace"})
    return combined
