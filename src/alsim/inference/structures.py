"""Structures x hypotheses, fitted to B6SJL and C57BL6 together: the data choose the model.

A *model* here is a structure (:data:`STRUCTURES`, the settings of the scenario's
``[structure]`` section, docs/model.md *Structural alternatives*) with a hypothesis (the
pathway weights). Each model is fitted jointly to the training rows of both strains:

- the biology is shared: one value of every calibrated parameter for both strains,
  except the parameters written ``C57BL6:path`` (``priors/joint.toml``), which are the
  C57BL6 background's own clock;
- B6SJL is fitted to all its rows; C57BL6 to the rows that name it (rows of unspecified
  background are read once, on B6SJL, the background they were measured on);
- each particle simulates a cohort of each strain (:class:`JointModel`), with noisy ABC
  as in :class:`~alsim.inference.model.CohortModel`.

The priors of a model are the hypothesis's file, ``joint.toml`` and
``structure-NAME.toml``; :func:`compare_structures` runs pyabc's model selection over
all models at once, and :func:`comparison_summary` reads the probabilities, effective
sample sizes and the statistics that separate the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config.loading import load_scenario
from .model import CohortModel
from .observations import Statistic, fitted_statistics
from .priors import Prior, PriorSet, _collect, _packaged, load_priors

__all__ = ["STRUCTURES", "STRAIN_PRESETS", "JointModel", "model_name", "model_priors", "joint_statistics",
           "joint_observed", "compare_structures", "comparison_summary", "strain_posterior"]

#: Each structure as the ``--set`` values of its ``[structure]`` section.
STRUCTURES: dict[str, dict[str, str]] = {
    "original": {"structure.clock": "power", "structure.soma_survival": "starvation",
                 "structure.sprouting": "healthy"},
    "terminal_first": {"structure.clock": "two_phase", "structure.soma_survival": "orphan",
                       "structure.sprouting": "stress_limited"},
}

#: The strains fitted together, each with the preset that describes it.
STRAIN_PRESETS: dict[str, str] = {"B6SJL": "sod1-g93a-b6sjl", "C57BL6": "sod1-g93a-c57bl6"}

#: Separates a strain's own parameter from its path (``C57BL6:disease.burden_scale_days``)
#: and a strain from a statistic's key (``C57BL6/c57bl6_onset_mixed_mean_pfohl2015``).
STRAIN_PARAMETER, STRAIN_STATISTIC = ":", "/"


def model_name(structure: str, hypothesis: str) -> str:
    return f"{structure}/{hypothesis}"


def model_priors(structure: str, hypothesis: str) -> PriorSet:
    """The priors of one model: the hypothesis's, ``joint.toml``'s and the structure's own."""
    if structure not in STRUCTURES:
        raise ValueError(f"structure must be one of {', '.join(STRUCTURES)}, got {structure!r}")
    priors = {p.path: p for p in load_priors(hypothesis).priors}
    for name in ("joint.toml", f"structure-{structure}.toml"):
        _, extra = _collect(f"alsim/inference/priors/{name}", _packaged(name), None)
        priors.update(extra)
    return PriorSet(model_name(structure, hypothesis), tuple(priors.values()),
                    f"{hypothesis}.toml + joint.toml + structure-{structure}.toml")


def _strain_priors(priors: PriorSet, strain: str, hypothesis: str) -> PriorSet:
    """The priors as one strain's scenario sees them (paths without the strain prefix)."""
    own, shared = {}, {}
    for p in priors.priors:
        prefix, sep, path = p.path.partition(STRAIN_PARAMETER)
        if not sep:
            shared[p.path] = p
        elif prefix == strain:
            own[path] = Prior(path, p.low, p.high, p.log, p.source)
    return PriorSet(hypothesis, tuple({**shared, **own}.values()), priors.origin)


def strain_values(natural: dict[str, float], strain: str) -> dict[str, float]:
    """One strain's parameter values (scenario paths) from a joint particle."""
    shared = {k: v for k, v in natural.items() if STRAIN_PARAMETER not in k}
    own = {k.partition(STRAIN_PARAMETER)[2]: v for k, v in natural.items()
           if k.partition(STRAIN_PARAMETER)[0] == strain and STRAIN_PARAMETER in k}
    return {**shared, **own}


def joint_statistics() -> dict[str, list[Statistic]]:
    """Each strain's fitted rows; a row of unspecified background is read on B6SJL only."""
    first = fitted_statistics("B6SJL")
    taken = {s.key for s in first}
    return {"B6SJL": first, "C57BL6": [s for s in fitted_statistics("C57BL6") if s.key not in taken]}


def joint_observed(statistics: dict[str, list[Statistic]]) -> dict[str, float]:
    return {f"{strain}{STRAIN_STATISTIC}{s.key}": float(s.observed) for strain, stats in statistics.items() for s in stats}


class JointModel:
    """``coordinates -> {strain/statistic: value}`` for one structure x hypothesis: a cohort
    of each strain per particle, each with its own seed drawn from NumPy's global generator
    (seeded per simulation by the sampler, so results do not depend on workers)."""

    def __init__(self, structure: str, hypothesis: str, *, subjects: int, noisy: bool = True):
        self.structure, self.hypothesis = structure, hypothesis
        self.priors = model_priors(structure, hypothesis)
        overrides = [f"{k}={v}" for k, v in STRUCTURES[structure].items()]
        self.cohorts: dict[str, CohortModel] = {}
        for strain, stats in joint_statistics().items():
            base, _ = load_scenario(STRAIN_PRESETS[strain], overrides)
            self.cohorts[strain] = CohortModel(base, _strain_priors(self.priors, strain, hypothesis), stats,
                                               subjects=subjects, days=base.horizon_days, noisy=noisy)

    def simulate_statistics(self, natural: dict[str, float], seed: int, *, noisy: bool | None = None) -> dict[str, float]:
        out = {}
        for index, (strain, cohort) in enumerate(self.cohorts.items()):
            strain_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
            values = cohort.simulate_statistics(strain_values(natural, strain), strain_seed, noisy=noisy)
            out.update({f"{strain}{STRAIN_STATISTIC}{k}": v for k, v in values.items()})
        return out

    def __call__(self, coordinates: dict) -> dict[str, float]:
        seed = int(np.random.randint(0, 2**31 - 1))
        return self.simulate_statistics(self.priors.to_natural(coordinates), seed)


def compare_structures(structures: list[str], hypotheses: list[str], settings, database: Path, *,
                       workers: int = 1, on_task_done=None, on_generation=None, resume: bool = False,
                       last_generation: int | None = None):
    """pyabc model selection over every structure x hypothesis (``settings``: an
    :class:`~alsim.inference.smc.AbcSettings`; its ``days`` is unused, each strain runs to
    its preset's horizon). Returns the pyabc History and the models in pyabc's order."""
    from .smc import run_abc_models

    models = [JointModel(s, h, subjects=settings.subjects) for s in structures for h in hypotheses]
    observed = joint_observed(joint_statistics())
    history = run_abc_models(models, [m.priors for m in models], observed, settings, database, workers=workers,
                             on_task_done=on_task_done, on_generation=on_generation, resume=resume,
                             last_generation=last_generation)
    return history, models


def strain_posterior(history, index: int, priors: PriorSet, strain: str, t: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Model ``index``'s last population as one strain's (natural-unit parameters, weights)."""
    t = history.max_t if t is None else t
    frame, weights = history.get_distribution(m=index, t=t)
    natural = pd.DataFrame({p.path: [p.to_natural(v) for v in frame[p.path]] for p in priors.priors})
    rows = [strain_values(dict(r), strain) for r in natural.to_dict("records")]
    return pd.DataFrame(rows), np.asarray(weights, float)


@dataclass(frozen=True)
class ModelResult:
    name: str
    probability: float
    ess: float
    median_abs_z: dict[str, float]


def comparison_summary(history, models: list[JointModel], t: int | None = None) -> list[ModelResult]:
    """Each model's probability in the last generation, the Kish ESS of its own particles,
    and the median |simulated - observed| / error SD of each statistic over its particles
    (the statistics that separate the models); generation ``t``, default the last."""
    t = history.max_t if t is None else t
    probabilities = history.get_model_probabilities(t)
    statistics = joint_statistics()
    errors = {f"{strain}{STRAIN_STATISTIC}{s.key}": s.error_sd for strain, stats in statistics.items() for s in stats}
    observed = joint_observed(statistics)
    results = []
    for index, model in enumerate(models):
        p = float(probabilities.loc[index, "p"]) if index in probabilities.index else 0.0
        if p == 0.0:
            results.append(ModelResult(model.priors.hypothesis, 0.0, 0.0, {}))
            continue
        weights, stats = history.get_weighted_sum_stats_for_model(m=index, t=t)
        weights = np.asarray(weights, float) / np.sum(weights)
        z = {k: float(np.median([abs(s[k] - observed[k]) / errors[k] for s in stats])) for k in observed}
        results.append(ModelResult(model.priors.hypothesis, p, float(1.0 / np.sum(weights ** 2)), z))
    return results


