"""Posterior predictive checks of the human rows, with the stochastic engine.

As :mod:`alsim.inference.predictive` does for mice: ``draws`` parameter sets are drawn
from the posterior by weight, a fresh cohort of ``subjects`` people is simulated for each
(new seeds), and every human statistic is read with and without its observation noise.
The interval *with* noise is the one an observed row should fall in; the one without is
the model's own (parameter uncertainty and cohort sampling). There are no time-course
bands: the human rows are clinical events, not readouts on an age grid.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..config.schema import Scenario
from ..run import simulate_human_events
from .human_summaries import HumanEvents, compute_human, human_summaries
from .model import scenario_with
from .observations import Statistic
from .posterior import Posterior
from .predictive import _check

__all__ = ["human_predictive_checks"]


def human_predictive_checks(base: Scenario, posterior: Posterior, statistics: list[Statistic], *, draws: int,
                            subjects: int, days: int, seed: int,
                            on_draw: Callable[[], None] | None = None) -> tuple[dict, dict]:
    """``(checks, cohorts)``: per hypothesis, one JSON-ready check per statistic (see
    :func:`alsim.inference.predictive._check`), each with ``sampling_se_median``: the
    median over draws of the simulated cohort's own sampling SE (None for the medians);
    and per hypothesis the median counts of people behind them (``human_summaries``)."""
    checks: dict[str, list[dict]] = {}
    cohorts: dict[str, dict[str, float]] = {}
    for h_index, hypothesis in enumerate(posterior.hypotheses):
        rng = np.random.default_rng([seed, 101, h_index])
        clean = np.empty((draws, len(statistics)))
        noisy = np.empty_like(clean)
        sampling = np.empty_like(clean)
        counts = []
        for d, values in enumerate(posterior.draw(hypothesis, draws, rng)):
            cohort_seed = int(rng.integers(0, 2**31 - 1))
            raw = simulate_human_events(scenario_with(base, values, hypothesis), subjects=subjects, days=days,
                                        seed=cohort_seed)
            events = HumanEvents(raw["onset_sim_day"], raw["diagnosis_day"], raw["end_stage_day"], raw["last_sim_day"])
            stats, se = compute_human(events, statistics)
            counts.append(human_summaries(events)[2])
            clean[d] = [stats[s.key] for s in statistics]
            sampling[d] = [se[s.key] for s in statistics]
            noisy[d] = [stats[s.key] + s.noise(rng, se[s.key]) for s in statistics]
            if on_draw is not None:
                on_draw()
        rows = []
        for i, s in enumerate(statistics):
            entry = _check(s, clean[:, i], noisy[:, i])
            finite = sampling[np.isfinite(sampling[:, i]), i]
            entry["sampling_se_median"] = float(np.median(finite)) if finite.size else None
            rows.append(entry)
        checks[hypothesis] = rows
        cohorts[hypothesis] = {k: float(np.median([c[k] for c in counts])) for k in counts[0]} if counts else {}
    return checks, cohorts
