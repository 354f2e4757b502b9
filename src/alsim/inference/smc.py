"""ABC-SMC calibration and model selection with pyabc, resumable generation by generation.

:func:`run_abc` fits one hypothesis (``alsim calibrate``) or all of them at once, as
pyabc's model selection (``alsim compare``). The inference is pyabc's: adaptive p-norm
distance (Prangle 2017), median epsilon schedule, multivariate-normal transitions. This
module only wires the simulator (:class:`~alsim.inference.model.CohortModel`) and a
worker-independent sampler (:mod:`alsim.inference.sampler`) to it, and runs one
generation per call of ``ABCSMC.run`` so that an interrupted run, loaded back from its
SQLite history, continues exactly as an uninterrupted one would.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config.schema import Scenario
from .model import CohortModel
from .observations import Statistic
from .priors import PriorSet

__all__ = ["AbcSettings", "run_abc", "run_abc_models", "default_population_size", "DATABASE"]

DATABASE = "calibration.db"


@dataclass(frozen=True)
class AbcSettings:
    """How much to simulate: ``budget`` simulations in all (a generation that cannot finish
    within what is left is abandoned, not stored), ``population`` particles per generation,
    ``subjects`` animals per simulated cohort over ``days`` days."""

    budget: int
    population: int
    subjects: int
    days: int
    seed: int
    min_acceptance_rate: float = 0.002


def default_population_size(budget: int, n_models: int) -> int:
    """About a tenth of the budget, at least 20 per model and at most 500."""
    return int(min(500, max(20 * n_models, budget // 10)))


def _dask_mapper(client):
    import distributed

    def map_(function, arguments, on_done):
        payload = client.scatter(arguments[0][0], broadcast=True, hash=False)
        futures = [client.submit(function, payload, *rest, pure=False) for _, *rest in arguments]
        for _ in distributed.as_completed(futures):
            if on_done is not None:
                on_done()
        return client.gather(futures)

    return map_


@contextmanager
def _mapper(workers: int, scheduler: str | None):
    from ..run.tasks import dask_client
    from .sampler import serial_map

    if workers <= 1 and scheduler is None:
        yield serial_map, 1
        return
    with dask_client(workers=workers, scheduler=scheduler) as client:
        threads = {w["nthreads"] for w in client.scheduler_info().get("workers", {}).values()}
        if threads - {1}:
            raise ValueError(f"--scheduler {scheduler}: every Dask worker must run one thread (dask worker --nthreads 1); "
                             f"found workers with {sorted(threads)} threads")
        yield _dask_mapper(client), max(1, len(client.scheduler_info().get("workers", {})))


def _quiet_pyabc() -> None:
    """pyabc logs every generation at INFO; alsim reports progress itself."""
    import pyabc  # noqa: F401  (creates its loggers, some with their own level)

    for name in [n for n in logging.root.manager.loggerDict if n == "ABC" or n.startswith("ABC.")]:
        logging.getLogger(name).setLevel(logging.WARNING)


def build_abc(base: Scenario, prior_sets: list[PriorSet], statistics: list[Statistic], settings: AbcSettings,
              map_, on_task_done=None, on_generation=None, min_batch: int = 1):
    """pyabc's ABCSMC over one :class:`CohortModel` per hypothesis of ``prior_sets``."""
    models = [CohortModel(base, priors, statistics, subjects=settings.subjects, days=settings.days)
              for priors in prior_sets]
    return build_abc_for(models, prior_sets, settings, map_, on_task_done, on_generation, min_batch)


def build_abc_for(models: list[Callable[[dict], dict[str, float]]], prior_sets: list[PriorSet], settings: AbcSettings,
                  map_, on_task_done=None, on_generation=None, min_batch: int = 1):
    """pyabc's ABCSMC over ready simulators, ``models[i]`` with prior ``prior_sets[i]``
    (named by its ``hypothesis``: a hypothesis, or a structure/hypothesis pair)."""
    import pyabc

    from .sampler import SeededMapSampler

    return pyabc.ABCSMC(
        [pyabc.FunctionModel(m, name=p.hypothesis) for m, p in zip(models, prior_sets)],
        [p.pyabc_distribution() for p in prior_sets],
        pyabc.AdaptivePNormDistance(p=2),
        population_size=settings.population,
        sampler=SeededMapSampler(settings.seed, map_, on_task_done, on_generation, min_batch=min_batch),
    )


def run_abc(base: Scenario, prior_sets: list[PriorSet], statistics: list[Statistic], settings: AbcSettings,
            database: Path, *, resume: bool, workers: int = 1, scheduler: str | None = None,
            on_task_done: Callable[[], None] | None = None,
            on_generation: Callable[[int, int], None] | None = None,
            stop_after_generations: int | None = None):
    """Run (or continue) ABC-SMC until the budget is spent; returns the pyabc History.

    ``stop_after_generations`` ends the call early after that many new generations (for
    tests of resumption).
    """
    def build(map_, n_workers):
        return build_abc(base, prior_sets, statistics, settings, map_, on_task_done, on_generation, n_workers)

    return _run_generations(build, {s.key: float(s.observed) for s in statistics}, settings, database, resume=resume,
                            workers=workers, scheduler=scheduler, stop_after_generations=stop_after_generations)


def run_abc_models(models: list[Callable[[dict], dict[str, float]]], prior_sets: list[PriorSet],
                   observed: dict[str, float], settings: AbcSettings, database: Path, *, resume: bool = False,
                   workers: int = 1, on_task_done: Callable[[], None] | None = None,
                   on_generation: Callable[[int, int], None] | None = None, last_generation: int | None = None):
    """:func:`run_abc` for ready simulators (the structure comparison, :mod:`.structures`);
    ``last_generation`` stops once generation ``t`` = that number is stored."""
    def build(map_, n_workers):
        return build_abc_for(models, prior_sets, settings, map_, on_task_done, on_generation, n_workers)

    return _run_generations(build, observed, settings, database, resume=resume, workers=workers, scheduler=None,
                            last_generation=last_generation)


def _run_generations(build, observed: dict[str, float], settings: AbcSettings, database: Path, *, resume: bool,
                     workers: int, scheduler: str | None, stop_after_generations: int | None = None,
                     last_generation: int | None = None):
    """One pyabc generation per ``ABCSMC.run`` call until the budget is spent (resumable)."""
    _quiet_pyabc()
    url = f"sqlite:///{Path(database).resolve()}"
    with _mapper(workers, scheduler) as (map_, n_workers):
        abc = build(map_, n_workers)
        if resume:
            history = abc.load(url, 1)
        else:
            history = abc.new(url, observed)
        new_generations = 0
        while history.total_nr_simulations < settings.budget:
            if stop_after_generations is not None and new_generations >= stop_after_generations:
                break
            if last_generation is not None and history.max_t >= last_generation:
                break
            before = history.max_t
            abc._initial_population = None  # pyabc caches it per object: calibrate on the last stored population
            abc.sampler.simulation_cap = settings.budget - history.total_nr_simulations
            abc.run(max_nr_populations=1, min_acceptance_rate=settings.min_acceptance_rate)
            new_generations += 1
            if history.max_t == before:  # the budget ran out within the generation: not stored
                break
            if len(history.alive_models(history.max_t)) == 0:
                break
    return history


def model_probabilities(history, hypotheses: list[str]) -> dict[str, dict[str, float]]:
    """Posterior model probability of each hypothesis in the last generation, with the Monte
    Carlo SE sqrt(p (1 - p) / ESS) of a weighted proportion (ESS of the whole population)."""
    t = history.max_t
    frame = history.get_model_probabilities(t)
    population = history.get_population(t)
    weights = np.array([p.weight for p in population.particles], dtype=float)
    weights = weights / weights.sum()
    ess = 1.0 / float(np.sum(weights ** 2))
    result = {}
    for index, name in enumerate(hypotheses):
        p = float(frame.loc[index, "p"]) if index in frame.index else 0.0
        result[name] = {"probability": p, "monte_carlo_se": math.sqrt(max(p * (1 - p), 0.0) / ess), "ess": ess}
    return result
