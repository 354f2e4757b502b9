"""Random streams: one per subject and one per litter, derived from the root seed.

A subject's stream depends only on (root seed, subject index), never on the block it
is simulated in or on the number of workers, so the same seed gives the same bits for
any chunking, and one subject can be regenerated alone.
"""

from __future__ import annotations

import numpy as np

SUBJECT_STREAM = 0
LITTER_STREAM = 1
EMG_STREAM = 2
"""Electrophysiology readouts (alsim.readouts.emg.simulated). Keys 3-5 belong to the trials
(allocation, subsampling, bootstrap: alsim.trials)."""


def subject_generator(seed: int, subject: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(SUBJECT_STREAM, subject))))


def emg_generator(seed: int, subject: int, *key: int) -> np.random.Generator:
    """A subject's electrophysiology stream, apart from its simulation stream, so that the
    readouts never change the simulated course. ``key`` names one recording (e.g. muscle
    and age): each recording has its own stream, so its noise does not depend on which
    other recordings were made, on the block size or on the number of workers."""
    spawn_key = (EMG_STREAM, int(subject), *(int(k) for k in key))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))


def litter_generator(seed: int, litter: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(LITTER_STREAM, litter))))


def fresh_seed() -> int:
    """A root seed drawn from OS entropy, for runs without --seed (it is recorded)."""
    return int(np.random.SeedSequence().generate_state(1, dtype=np.uint32)[0])


def subject_traits(scenario, seed: int, subjects: np.ndarray) -> tuple[list[np.random.Generator], np.ndarray, np.ndarray, np.ndarray]:
    """Each subject's generator, sex, litter and burden multiplier (docs/model.md, *Variability*).

    The traits are the first draws of the subject's stream, so they are the same for every
    backend; the generators come back positioned after them, ready for the day steps.
    """
    from ..biology.variability import burden_multiplier

    generators, female, litters, burden = [], [], [], []
    var = scenario.variability
    for i in subjects:
        g = subject_generator(seed, int(i))
        is_female = bool(g.random() < var.female_fraction)
        z_copy = float(g.standard_normal())
        litter = int(i) // var.litter_size
        z_litter = float(litter_generator(seed, litter).standard_normal())
        generators.append(g)
        female.append(is_female)
        litters.append(litter)
        burden.append(burden_multiplier(scenario, is_female=is_female, z_copy=z_copy, z_litter=z_litter))
    return generators, np.array(female, dtype=bool), np.array(litters, dtype=np.int64), np.array(burden)
