"""The compiled (Numba) backend: event-driven endplates, one subject at a time.

Same model (docs/model.md), same per-subject random streams as the NumPy engine, but a
different order and number of draws, so the two backends agree in distribution, not
bit for bit (docs/performance.md). Within this backend the same seed gives the same
bits whatever the block size, worker count or scheduler.
"""

from .driver import simulate_block_numba

__all__ = ["simulate_block_numba"]
