"""The compiled (Numba) backend: event-driven endplates, one subject at a time.

Same model (docs/model.md) as the NumPy engine, with a random stream seeded from each
subject's own generator (:mod:`~alsim.engine.fast.chance`) and a different order and
number of draws, so the two backends agree in distribution, not bit for bit
(docs/performance.md). Within this backend the same seed gives the same bits whatever
the block size, worker count or scheduler.

Every kernel is compiled with ``error_model="numpy"``: Numba then does not test each
division for a zero divisor (the Python error model's check and branch cost about 2 %
of a B6SJL run). Every division in these kernels is guarded where its divisor can be 0.
"""

from .driver import simulate_block_numba

__all__ = ["simulate_block_numba"]
