"""A pyabc sampler whose results do not depend on the number of workers.

pyabc's own parallel samplers draw random seeds from the operating system, or accept
particles in the order workers finish, so two runs with the same seed differ. Here
simulation ``j`` of generation ``t`` seeds NumPy's global generator from
``(seed, t + 1, j)`` and proposes, simulates and accepts or rejects one particle. The
generation's population is the first ``n`` accepted particles in index order, exactly
what a one-at-a-time sampler would keep. Simulations are sent out in batches sized from
the acceptance rate so far; a batch may run past the ``n``-th acceptance, and those extra
simulations are discarded (counted in :attr:`SeededMapSampler.discarded`). Whatever runs
the batches (this process, a ``LocalCluster``, a remote Dask cluster, any batch size),
the population is the same bits.

The budget is exact: a generation may evaluate at most :attr:`simulation_cap` indices;
if it has not accepted ``n`` particles by then it is marked failed and pyabc does not
store it.

Workers must run one task at a time per process (``threads_per_worker=1``), because
pyabc and the model use NumPy's global generator.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import cloudpickle
import numpy as np
from pyabc.sampler import Sampler

__all__ = ["SeededMapSampler", "simulation_seed", "serial_map"]


def simulation_seed(seed: int, generation: int, index: int) -> np.ndarray:
    """The 32-bit words that seed simulation ``index`` of generation ``generation``."""
    return np.random.SeedSequence([int(seed), int(generation) + 1, int(index)]).generate_state(4)


def _simulate_one(payload: bytes, words: np.ndarray):
    """Propose, simulate and accept or reject one particle under the given seed."""
    simulate_one = cloudpickle.loads(payload)
    np.random.seed(words)
    random.seed(int(words[0]))
    return simulate_one()


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
                 on_generation: Callable[[int, int], None] | None = None, min_batch: int = 1):
        super().__init__()
        self.seed = int(seed)
        self.map_ = map_
        self.on_task_done = on_task_done
        self.on_generation = on_generation
        #: Smallest batch sent out (the number of workers is a good choice).
        self.min_batch = max(1, int(min_batch))
        #: Simulations the next samplings may evaluate (set by the caller from the budget, spent as they run).
        self.simulation_cap: float = np.inf
        #: Simulations run past a generation's last accepted particle, over this sampler's life.
        self.discarded = 0

    def _batch_size(self, n: int, accepted: int, evaluated: int, cap: float) -> int:
        rate = (accepted + 1) / (evaluated + 1)  # optimistic start: the first batch is n
        wanted = math.ceil((n - accepted) / rate)
        return int(max(1, min(max(wanted, self.min_batch), cap - evaluated)))

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
        if self.on_generation is not None:
            self.on_generation(t, n)
        payload = cloudpickle.dumps(simulate_one)
        cap = min(max_eval, self.simulation_cap)
        sample = self._create_empty_sample()
        accepted = evaluated = 0
        while accepted < n and evaluated < cap:
            batch = self._batch_size(n, accepted, evaluated, cap)
            arguments = [(payload, simulation_seed(self.seed, t, evaluated + i)) for i in range(batch)]
            particles = self.map_(_simulate_one, arguments, None)
            for particle in particles:
                if accepted == n:
                    self.discarded += 1
                    continue
                sample.append(particle)
                evaluated += 1
                if particle.accepted:
                    accepted += 1
                    if self.on_task_done is not None:
                        self.on_task_done()
        self.nr_evaluations_ = evaluated
        # one pyabc run may sample twice (the prior sample that calibrates the distance, then
        # generation 0): both come out of the same cap, so the budget holds
        self.simulation_cap -= evaluated
        if accepted < n:
            sample.ok = False
        return sample
