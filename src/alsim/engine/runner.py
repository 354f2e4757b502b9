"""Simulating one block of subjects with the compiled engine, and the census it returns.

A subject's random stream depends only on (seed, subject index), so the census is the
same, bit for bit, whatever block it runs in. Splitting a cohort into blocks and sending
them to workers is :mod:`alsim.run.census`'s job: the engine writes no files and knows
no cluster. (The readable NumPy engine that once stood beside the compiled one is gone:
the compiled engine is verified against the reference stepper and the mean field,
docs/verification.md.)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..biology.species import species_of
from .census import Census
from .context import RunContext
from .fast import simulate_block_numba


def simulate_block(ctx: RunContext, seed: int, subjects: np.ndarray, days: int,
                   on_day: Callable[[int], None] | None = None, stop_at_end_stage: bool | None = None) -> Census:
    """Simulate ``subjects`` (indices into the cohort) for ``days`` days with the compiled engine.

    ``on_day`` is called with a number of subject-days completed. ``stop_at_end_stage``
    stops each subject on its end-stage day (later census NaN). ``None``: stop people
    (every human readout is NaN after the end stage, so the results are the same bits)
    and not mice (a mouse run shows the time courses to the horizon):
    :attr:`alsim.biology.species.Species.stops_at_end_stage`.
    """
    if stop_at_end_stage is None:
        stop_at_end_stage = species_of(ctx.scenario).stops_at_end_stage
    return simulate_block_numba(ctx, seed, subjects, days, on_day=on_day, stop_at_end_stage=stop_at_end_stage)
