"""Randomised, sex-balanced, litter-aware allocation of animals to trial arms.

Scott et al. 2008 (Amyotroph Lateral Scler 9:4-15) recommend that SOD1-G93A
trials randomise animals, balance the sexes between arms and split littermates
across arms so that a litter effect cannot masquerade as a treatment effect.

Algorithm (:func:`allocate`), a stratified permuted-block design:

1. Stratify the animals by (litter, sex).
2. Draw a random order of the arms (a permutation of ``0..arms-1``), a random
   order of the sexes, a random order of the strata within each sex and a
   random order of the animals within each stratum.
3. Lay the animals out in one sequence: all strata of the first sex (each
   stratum contiguous), then all strata of the second sex.
4. Deal the sequence to the arms cyclically: the j-th animal goes to arm
   ``order[j % arms]``.

Any contiguous run of k animals in a cyclic deal gives every arm either
floor(k/arms) or ceil(k/arms) of them. The whole sequence, each sex and each
stratum are contiguous runs, so *always*:

* the arm sizes differ by at most 1;
* the number of females (and of males) per arm differs by at most 1;
* within each (litter, sex) stratum the per-arm counts differ by at most 1,
  i.e. littermates of one sex are split across arms as evenly as possible.

Each animal's marginal probability of each arm is 1/arms (the arm order is a
uniform random permutation). The result is a deterministic function of the
inputs and the state of ``rng``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["allocate", "allocate_per_arm"]


def _check(is_female: np.ndarray, litter: np.ndarray, arms: int) -> tuple[np.ndarray, np.ndarray]:
    is_female = np.asarray(is_female, dtype=bool)
    litter = np.asarray(litter)
    if is_female.ndim != 1 or is_female.shape != litter.shape:
        raise ValueError("is_female and litter must be 1-D arrays of equal length")
    if arms < 1:
        raise ValueError(f"arms must be >= 1, got {arms}")
    return is_female, litter


def _strata_in_random_order(
    idx: np.ndarray, litter: np.ndarray, rng: np.random.Generator
) -> list[np.ndarray]:
    """The animals ``idx`` grouped by litter: strata in random order, animals shuffled."""
    litters = np.unique(litter[idx])
    return [rng.permutation(idx[litter[idx] == lit]) for lit in rng.permutation(litters)]


def allocate(
    is_female: np.ndarray, litter: np.ndarray, arms: int, rng: np.random.Generator
) -> np.ndarray:
    """Assign every animal to an arm ``0..arms-1`` (see the module docstring).

    Parameters
    ----------
    is_female : bool array, one entry per candidate animal.
    litter : int array of litter identifiers, same length.
    arms : number of arms (>= 1).
    rng : source of randomness; the same seed gives the same allocation.

    Returns
    -------
    int array of arm indices, same length as ``is_female``.
    """
    is_female, litter = _check(is_female, litter, arms)
    arm_order = rng.permutation(arms)
    sequence: list[np.ndarray] = []
    for sex in rng.permutation([True, False]):
        members = np.flatnonzero(is_female == sex)
        sequence.extend(_strata_in_random_order(members, litter, rng))
    order = np.concatenate(sequence) if sequence else np.empty(0, dtype=int)
    arm = np.empty(is_female.size, dtype=int)
    arm[order] = arm_order[np.arange(order.size) % arms]
    return arm


def _pick_round_robin(
    idx: np.ndarray, litter: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Pick ``k`` of the animals ``idx``, spreading the picks over litters.

    Round r takes the r-th (randomly ranked) animal of every litter that still
    has one, litters in random order, until ``k`` animals are picked; so the
    picked counts per litter differ by at most 1 unless a litter runs out.
    """
    strata = _strata_in_random_order(idx, litter, rng)
    rounds = max((s.size for s in strata), default=0)
    ranked = [s[r] for r in range(rounds) for s in strata if r < s.size]
    return np.asarray(ranked[:k], dtype=int)


def allocate_per_arm(
    is_female: np.ndarray,
    litter: np.ndarray,
    per_arm: int,
    arms: int,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Select ``per_arm * arms`` animals from a larger pool and allocate them.

    Selection: n_f = per_arm*arms//2 females (+1 with probability 1/2 when the
    total is odd), moved towards the available numbers when the pool has too
    few of one sex, so each arm is as close to half female as the pool allows.
    Within each sex the animals are picked round-robin over litters (see
    :func:`_pick_round_robin`), so no litter dominates the trial. The selected
    animals are then allocated with :func:`allocate`, which gives every arm
    exactly ``per_arm`` animals.

    Returns
    -------
    One sorted int array of pool indices per arm, each of length ``per_arm``.
    """
    is_female, litter = _check(is_female, litter, arms)
    total = per_arm * arms
    if per_arm < 0 or total > is_female.size:
        raise ValueError(f"need {total} animals ({per_arm} x {arms} arms), pool has {is_female.size}")
    females, males = np.flatnonzero(is_female), np.flatnonzero(~is_female)
    n_f = total // 2 + int(total % 2 == 1 and rng.random() < 0.5)
    n_f = int(np.clip(n_f, total - males.size, females.size))
    chosen = np.concatenate([
        _pick_round_robin(females, litter, n_f, rng),
        _pick_round_robin(males, litter, total - n_f, rng),
    ])
    arm = allocate(is_female[chosen], litter[chosen], arms, rng)
    return [np.sort(chosen[arm == a]) for a in range(arms)]
