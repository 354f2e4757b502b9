"""The simulator as the inference library sees it: parameters -> summary statistics.

:class:`CohortModel` is wrapped once for pyabc. It builds the scenario from the base
preset and the proposed parameters, simulates a cohort of ``subjects`` animals with the
stochastic engine, reads every statistic (:mod:`alsim.inference.summaries`) and, for
*noisy ABC* (Wilkinson 2013, Stat Appl Genet Mol Biol 12:129), adds Gaussian observation
noise with each statistic's observation error. With that noise, the ABC posterior targets
the posterior under the stated observation errors rather than under exact matching.

For a human preset the cohort is of people, and the statistics are read from their
clinical events only (:func:`alsim.run.simulate_human_events`,
:mod:`alsim.inference.human_summaries`); each statistic draws its own noise
(:meth:`~alsim.inference.observations.Statistic.noise`).

The random seed of each simulation is drawn from NumPy's global generator, which the
sampler (:mod:`alsim.inference.sampler`) seeds per task from the run's seed: results do
not depend on the number of workers.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from ..biology.species import HUMAN, MOUSE, species_of
from ..config.loading import ScenarioError
from ..config.schema import Scenario
from ..run import simulate, simulate_human_events
from .observations import Statistic
from .priors import PriorSet
from .summaries import compute_all

__all__ = ["CohortModel", "scenario_with", "check_paths", "UNREADABLE", "TIED"]

#: Value given to a statistic that cannot be read from a simulation (every endplate gone,
#: say): far from any observation, so that the particle is rejected.
UNREADABLE = 1.0e6

#: Fields that a preset declares equal to a calibrated one: they follow it (the ALSFRS-R
#: items score 4 until their muscles are clinically weak, docs/human.md).
TIED: dict[str, tuple[str, ...]] = {
    "human.weakness_force_fraction": ("human.functional_rating.full_score_force_fraction",),
}


def _set_path(tree: dict, path: str, value: float) -> None:
    node = tree
    *parents, leaf = path.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value


def check_paths(scenario: Scenario, priors: PriorSet) -> None:
    """Raise :class:`ScenarioError` naming any prior whose path is not a numeric scenario field."""
    tree = scenario.model_dump()
    for path in priors.paths:
        node = tree
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ScenarioError(f"priors file {priors.origin}: parameter {path!r} is not a field of scenario "
                                    f"{scenario.name} (use a dotted path as for --set, e.g. rates.sprouting)")
            node = node[part]
        if isinstance(node, bool) or not isinstance(node, (int, float)):
            raise ScenarioError(f"priors file {priors.origin}: parameter {path!r} is not numeric")


def scenario_with(base: Scenario, values: dict[str, float], hypothesis: str | None = None) -> Scenario:
    """``base`` with the dotted-path ``values`` (natural units) set, validated."""
    tree = copy.deepcopy(base.model_dump())
    for path, value in values.items():
        _set_path(tree, path, float(value))
        for tied in TIED.get(path, ()):
            _set_path(tree, tied, float(value))
    if hypothesis is not None:
        tree["hypothesis"]["name"] = hypothesis
    for name, muscle in tree["muscles"].items():
        for key in ("n_motor_units", "n_fibres"):
            muscle[key] = int(round(muscle[key]))
    return Scenario.model_validate(tree)


_STATISTICS_OF = {MOUSE.name: "_mouse_statistics", HUMAN.name: "_human_statistics"}
"""How each species' statistics are read (a method name: the model is pickled to workers):
mice from the results Dataset, people from their clinical events."""


class CohortModel:
    """``parameters (sampling coordinates) -> {statistic key: value}`` for one hypothesis."""

    def __init__(self, base: Scenario, priors: PriorSet, statistics: list[Statistic], *,
                 subjects: int, days: int, noisy: bool = True):
        check_paths(base, priors)
        self.base = base
        self.priors = priors
        self.statistics = list(statistics)
        self.subjects = int(subjects)
        self.days = int(days)
        self.noisy = noisy
        self._statistics_of = _STATISTICS_OF[species_of(base).name]

    @property
    def hypothesis(self) -> str:
        return self.priors.hypothesis

    def scenario(self, natural: dict[str, float]) -> Scenario:
        return scenario_with(self.base, natural, self.hypothesis)

    def simulate_statistics(self, natural: dict[str, float], seed: int, *, noisy: bool | None = None) -> dict[str, float]:
        """Statistics of one simulated cohort at ``natural`` parameter values."""
        return getattr(self, self._statistics_of)(natural, seed, self.noisy if noisy is None else noisy)

    def _mouse_statistics(self, natural: dict[str, float], seed: int, noisy: bool) -> dict[str, float]:
        """The rows of a mouse strain from the results Dataset of ``subjects`` mice (no EMG)."""
        ds = simulate(self.scenario(natural), subjects=self.subjects, days=self.days, seed=seed,
                      electrophysiology=False, stop_at_end_stage=True)  # readouts are NaN after end stage anyway
        values = compute_all(ds, self.statistics)
        if noisy:
            noise = np.random.default_rng([seed, 1]).normal(0.0, [s.error_sd for s in self.statistics])
            values = {s.key: v + e for (s, e), v in zip(zip(self.statistics, noise), values.values())}
        return {k: (v if math.isfinite(v) else UNREADABLE) for k, v in values.items()}

    def _human_statistics(self, natural: dict[str, float], seed: int, noisy: bool) -> dict[str, float]:
        """The human rows from the clinical events of ``subjects`` people (no Dataset, no EMG)."""
        from .human_summaries import HumanEvents, compute_human

        events = simulate_human_events(self.scenario(natural), subjects=self.subjects, days=self.days, seed=seed)
        values, sampling = compute_human(HumanEvents(events["onset_sim_day"], events["diagnosis_day"],
                                                     events["end_stage_day"], events["last_sim_day"]), self.statistics)
        if noisy:
            rng = np.random.default_rng([seed, 1])
            values = {s.key: values[s.key] + s.noise(rng, sampling[s.key]) for s in self.statistics}
        return {k: (v if math.isfinite(v) else UNREADABLE) for k, v in values.items()}

    def __call__(self, coordinates: dict) -> dict[str, float]:
        seed = int(np.random.randint(0, 2**31 - 1))
        return self.simulate_statistics(self.priors.to_natural(coordinates), seed)
