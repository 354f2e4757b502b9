"""The compiled (Numba) engine: event-driven endplates, one subject at a time.

It computes the rules of :mod:`alsim.biology` (docs/model.md), with a random stream
seeded from each subject's own generator (:mod:`~alsim.engine.fast.chance`); the same
seed gives the same bits whatever the block size, worker count or scheduler. It agrees
in distribution with the reference stepper (:mod:`alsim.verification`).

Every kernel is compiled with ``error_model="numpy"``: Numba then does not test each
division for a zero divisor (the Python error model's check and branch cost about 2 %
of a B6SJL run). Every division in these kernels is guarded where its divisor can be 0.
"""

from .cache import drop_stale_kernels

drop_stale_kernels()    # before the kernels load their cache: a rule edited in alsim.biology must reach them

from .driver import simulate_block_numba  # noqa: E402

__all__ = ["simulate_block_numba"]
