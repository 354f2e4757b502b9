"""Focal onset and spread between body regions (docs/human.md, *Spread*).

In people, ALS starts in one region and spreads to the others, most often to contiguous
ones first (Ravits & La Spada 2009 Neurology 73:805). Each subject draws its onset region
and one delay per other region from its own stream, apart from the simulation stream, so
the draws are the same for every backend and a scenario without ``spread`` keeps its bits.
Region ``r`` carries the burden ``D(t - delay_r)``, zero before the delay; the cortex (upper
motor neurons) carries the onset region's burden ``D(t)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.schema import Scenario
from .subject_rules import disease_burden

SPREAD_STREAM = 6
"""Stream key of the spread draws (0-2: engine and EMG, alsim.engine.streams; 3-5: trials)."""


@dataclass(frozen=True)
class SubjectSpread:
    """One subject's onset region and the day each region starts to carry the burden."""

    onset_region: str
    delay_days: dict[str, float]


def spread_generator(seed: int, subject: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(SPREAD_STREAM, int(subject)))))


def scenario_regions(scenario: Scenario) -> list[str]:
    """The regions that have muscles, in the order they first appear in ``scenario.muscles``."""
    return list(dict.fromkeys(m.region for m in scenario.muscles.values()))


def subject_spread(scenario: Scenario, seed: int, subject: int) -> SubjectSpread | None:
    """The onset region and regional delays of cohort subject ``subject``; None without ``spread``."""
    spread = scenario.spread
    if spread is None:
        return None
    g = spread_generator(seed, subject)
    names = list(spread.onset_region_probabilities)
    p = np.array([spread.onset_region_probabilities[n] for n in names])
    onset = names[int(np.searchsorted(np.cumsum(p) / p.sum(), g.random(), side="right"))]
    regions = scenario_regions(scenario)
    z = g.standard_normal(len(regions))       # one per region, drawn for all so the stream does not depend on onset
    delays = {r: 0.0 if r == onset else float(spread.median_delay_days[onset][r] * np.exp(spread.delay_log_sd * zr))
              for r, zr in zip(regions, z)}
    return SubjectSpread(onset_region=onset, delay_days=delays)


def muscle_delays(scenario: Scenario, spread: SubjectSpread | None) -> np.ndarray:
    """(M,) delay in days before each muscle (in ``scenario.muscles`` order) carries the burden."""
    if spread is None:
        return np.zeros(len(scenario.muscles))
    return np.array([spread.delay_days[m.region] for m in scenario.muscles.values()])


def regional_burden(b: float | np.ndarray, age_days: np.ndarray | float, delays: np.ndarray,
                    scenario: Scenario) -> np.ndarray:
    """``D(t - delay_m)`` per muscle: (..., M) for ages (...,) and delays (..., M); zero before each
    muscle's delay. ``b`` broadcasts against the result (a (B, 1) column for a block of subjects)."""
    d = scenario.disease
    shifted = np.maximum(np.asarray(age_days, dtype=np.float64)[..., None] - delays, 0.0)
    return disease_burden.py_func(b, shifted, d.burden_scale_days, d.burden_exponent)
