"""Random streams: one per subject and one per litter, derived from the root seed.

A subject's stream depends only on (root seed, subject index), never on the block it
is simulated in or on the number of workers, so the same seed gives the same bits for
any chunking, and one subject can be regenerated alone.
"""

from __future__ import annotations

import numpy as np

SUBJECT_STREAM = 0
LITTER_STREAM = 1


def subject_generator(seed: int, subject: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(SUBJECT_STREAM, subject))))


def litter_generator(seed: int, litter: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(LITTER_STREAM, litter))))


def fresh_seed() -> int:
    """A root seed drawn from OS entropy, for runs without --seed (it is recorded)."""
    return int(np.random.SeedSequence().generate_state(1, dtype=np.uint32)[0])
