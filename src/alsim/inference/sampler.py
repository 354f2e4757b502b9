"""A pyabc sampler whose results do not depend on the number of workers.

pyabc's own parallel samplers draw random seeds from the operating system (or accept
particles in the order workers finish), so two runs with the same seed differ. Here
each generation is split into ``n`` tasks; task ``i`` of generation ``t`` seeds NumPy's
global generator from ``(seed, t + 1, i)`` and simulates until it has one accepted
particle, and the tasks' samples are joined in task order. Whatever runs the tasks (this
process, a ``LocalCluster``, a remote Dask cluster), the population is the same bits.

Workers must run one task at a time per process (``threads_per_worker=1``), because
pyabc and the model use NumPy's global generator.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import cloudpickle
import numpy as np
from pyabc.sampler import Sampler

__all__ = ["SeededMapSampler", "task_seed"]


def task_seed(seed: int, generation: int, task: int) -> np.ndarray:
    """The 32-bit words that seed task ``task`` of generation ``generation``."""
    return np.random.SeedSequence([int(seed), int(generation) + 1, int(task)]).generate_state(4)


def _run_task(payload: bytes, words: np.ndarray):
    """Simulate particles until one is accepted; returns (sample, number of simulations)."""
    simulate_one, sample_factory = cloudpickle.loads(payload)
    np.random.seed(words)
    random.seed(int(words[0]))
    sample = sample_factory()
    simulations = 0
    while True:
        particle = simulate_one()
        simulations += 1
        sample.append(particle)
        if particle.accepted:
            return sample, simulations


#: ``map_(function, list_of_argument_tuples, on_done) -> results in order``; ``on_done`` is
#: called once per finished task (for progress bars).
Mapper = Callable[[Callable, list[tuple], Callable[[], None] | None], list]


def serial_map(function: Callable, arguments: list[tuple], on_done: Callable[[], None] | None = None) -> list:
    results = []
    for args in arguments:
        results.append(function(*args))
        if on_done is not None:
            on_done()
    return results


class SeededMapSampler(Sampler):
    """Deterministic parallel sampling: see the module docstring."""

    def __init__(self, seed: int, map_: Mapper = serial_map, on_task_done: Callable[[], None] | None = None,
                 on_generation: Callable[[int, int], None] | None = None):
        super().__init__()
        self.seed = int(seed)
        self.map_ = map_
        self.on_task_done = on_task_done
        self.on_generation = on_generation

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
        if self.on_generation is not None:
            self.on_generation(t, n)
        payload = cloudpickle.dumps((simulate_one, self.sample_factory))
        arguments = [(payload, task_seed(self.seed, t, i)) for i in range(n)]
        results = self.map_(_run_task, arguments, self.on_task_done)
        sample = self._create_empty_sample()
        evaluations = 0
        for part, count in results:
            sample += part
            evaluations += count
        self.nr_evaluations_ = evaluations
        return sample
