"""Draws of the compiled kernel, from the subject's own ``numpy.random.Generator`` (PCG64).

docs/model.md, *Time*: a hazard ``h`` per day is an event with probability
``1 - exp(-h)`` within the day; competing events share one draw.
"""

from __future__ import annotations

import math

from numba import njit

NONE, FIRST, SECOND = 0, 1, 2


@njit(cache=True, inline="always")
def probability(hazard: float) -> float:
    """``1 - exp(-h dt)`` with ``dt = 1`` day."""
    return -math.expm1(-hazard)


@njit(cache=True, inline="always")
def happens(gen, hazard: float) -> bool:
    """Whether one event of ``hazard`` (per day) happens today; draws only when the hazard is positive."""
    return hazard > 0.0 and gen.random() < -math.expm1(-hazard)


@njit(cache=True, inline="always")
def competing(gen, first: float, second: float) -> int:
    """Which of two competing events happens today (NONE, FIRST or SECOND), from one uniform."""
    total = first + second
    if total <= 0.0:
        return NONE
    p_any = -math.expm1(-total)
    u = gen.random()
    if u >= p_any:
        return NONE
    return FIRST if u < p_any * (first / total) else SECOND


@njit(cache=True, inline="always")
def binomial(gen, n: int, hazard: float) -> int:
    """How many of ``n`` independent cells with the same daily ``hazard`` have the event today.

    Inversion from ``P(0) = (1-p)^n = exp(-n h)`` (one uniform, and usually no loop: most
    days nothing happens); NumPy's binomial when ``n h`` is large.
    """
    if n <= 0 or hazard <= 0.0:
        return 0
    nh = n * hazard
    if nh > 20.0:
        return gen.binomial(n, -math.expm1(-hazard))
    u = gen.random()
    pk = math.exp(-nh)
    cdf = pk
    if u < cdf:                         # most days: nothing happens
        return 0
    ratio = math.expm1(hazard)          # p / (1 - p)
    k = 0
    while u >= cdf and k < n:
        k += 1
        pk *= (n - k + 1) / k * ratio
        cdf += pk
    return k


@njit(cache=True, inline="always")
def index_below(gen, n: int) -> int:
    """A uniform integer in ``0 .. n-1``."""
    return min(int(gen.random() * n), n - 1)


@njit(cache=True, inline="always")
def decide(gen, p_any: float, first_below: float) -> int:
    """:func:`competing` from a precomputed decision (:func:`~alsim.engine.fast.day_tables.decision`):
    no draw when ``p_any < 0`` (no event possible)."""
    if p_any < 0.0:
        return NONE
    u = gen.random()
    if u >= p_any:
        return NONE
    return FIRST if u < first_below else SECOND
