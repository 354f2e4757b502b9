"""Posterior samples on disk, their summaries, and presets built from them.

``DIR/posterior.csv`` has one row per particle of the last ABC-SMC generation:
``hypothesis``, ``weight`` (normalised within the hypothesis) and one column per
calibrated parameter in natural units (empty where a parameter is not part of that
hypothesis). :class:`Posterior` reads it back, gives weighted medians and credible
intervals, and draws parameter sets for ``alsim run --posterior DIR``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..config.loading import ScenarioError, load_scenario, scenario_to_toml
from ..config.schema import Scenario
from .model import scenario_with

__all__ = ["Posterior", "POSTERIOR_FILE", "packaged_posteriors", "weighted_quantile", "training_data_sha256", "write_posterior"]

POSTERIOR_FILE = "posterior.csv"


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Quantile(s) ``q`` of ``values`` under normalised ``weights`` (inverse of the weighted CDF)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cdf = np.cumsum(w) / w.sum()
    index = np.searchsorted(cdf, np.atleast_1d(q), side="left").clip(0, len(v) - 1)
    return v[index]


def training_data_sha256() -> str:
    """SHA-256 over the packaged training files (name and bytes, in name order)."""
    digest = hashlib.sha256()
    folder = resources.files("alsim.data").joinpath("training")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".csv", ".md")):
            digest.update(entry.name.encode())
            digest.update(entry.read_bytes())
    return digest.hexdigest()


def packaged_posteriors() -> list[str]:
    """Names of the posteriors shipped with alsim (``alsim/inference/posteriors/NAME/``)."""
    root = resources.files("alsim.inference").joinpath("posteriors")
    if not root.is_dir():
        return []
    return sorted(e.name for e in root.iterdir() if e.is_dir() and e.joinpath(POSTERIOR_FILE).is_file())


def write_posterior(path: Path, samples: dict[str, tuple[pd.DataFrame, np.ndarray]]) -> pd.DataFrame:
    """Write ``{hypothesis: (natural-unit parameter frame, weights)}`` as one CSV."""
    frames = []
    for hypothesis, (frame, weights) in samples.items():
        part = frame.reset_index(drop=True).copy()
        part.insert(0, "weight", np.asarray(weights, float) / np.sum(weights))
        part.insert(0, "hypothesis", hypothesis)
        frames.append(part)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["hypothesis", "weight"])
    table.to_csv(path, index=False, float_format="%.10g")
    return table


@dataclass
class Posterior:
    """The weighted particles of one calibration (all its hypotheses)."""

    table: pd.DataFrame
    folder: Path | None = None

    @classmethod
    def read(cls, folder: str | Path) -> "Posterior":
        """Read ``folder/posterior.csv``; ``folder`` may also name a packaged posterior (see :func:`packaged_posteriors`)."""
        folder = Path(folder)
        if not folder.exists() and str(folder) in packaged_posteriors():
            folder = Path(str(resources.files("alsim.inference").joinpath("posteriors", str(folder))))
        path = folder / POSTERIOR_FILE
        if not path.is_file():
            raise ScenarioError(f"--posterior {folder}: no {POSTERIOR_FILE} there (write one with alsim calibrate --out)")
        table = pd.read_csv(path)
        if "hypothesis" not in table or "weight" not in table:
            raise ScenarioError(f"--posterior {folder}: {POSTERIOR_FILE} needs columns hypothesis and weight")
        return cls(table, folder)

    @property
    def hypotheses(self) -> list[str]:
        return list(dict.fromkeys(self.table["hypothesis"]))

    def of(self, hypothesis: str) -> tuple[pd.DataFrame, np.ndarray]:
        """(parameters, normalised weights) of one hypothesis."""
        rows = self.table[self.table["hypothesis"] == hypothesis]
        if rows.empty:
            raise ScenarioError(f"the posterior has no particles for hypothesis {hypothesis!r}; "
                                f"it has: {', '.join(self.hypotheses) or 'none'}")
        params = rows.drop(columns=["hypothesis", "weight"]).dropna(axis=1, how="all").reset_index(drop=True)
        weights = rows["weight"].to_numpy(float)
        return params, weights / weights.sum()

    def summary(self, hypothesis: str, level: float = 0.95) -> dict[str, dict[str, float]]:
        """Weighted median and central credible interval of each parameter."""
        params, weights = self.of(hypothesis)
        tail = (1 - level) / 2
        out = {}
        for column in params:
            low, median, high = weighted_quantile(params[column].to_numpy(float), weights, [tail, 0.5, 1 - tail])
            out[column] = {"median": float(median), "low": float(low), "high": float(high)}
        return out

    def draw(self, hypothesis: str, n: int, rng: np.random.Generator) -> list[dict[str, float]]:
        """``n`` parameter sets drawn by weight (with replacement)."""
        params, weights = self.of(hypothesis)
        picks = rng.choice(len(params), size=n, p=weights)
        return [{k: float(v) for k, v in params.iloc[int(i)].items()} for i in picks]

    def effective_sample_size(self, hypothesis: str) -> float:
        """Kish's effective sample size 1 / sum(w^2) of the hypothesis's normalised weights:
        below ~10 the medians and intervals rest on a handful of particles."""
        _, weights = self.of(hypothesis)
        return float(1.0 / np.sum(weights ** 2))

    def medians(self, hypothesis: str) -> dict[str, float]:
        return {k: v["median"] for k, v in self.summary(hypothesis).items()}


def calibrated_preset(base_spec: str, posterior: Posterior, hypothesis: str, provenance: str) -> tuple[Scenario, str]:
    """The base preset with the posterior medians of ``hypothesis`` put in, and its TOML text
    (each calibrated value's source names the run that made it)."""
    base, sources = load_scenario(base_spec)
    medians = posterior.medians(hypothesis)
    summary = posterior.summary(hypothesis)
    scenario = scenario_with(base, medians, hypothesis)
    sources = dict(sources)
    for path, stats in summary.items():
        sources[path] = (f"posterior median (95 % CI {stats['low']:.4g}-{stats['high']:.4g}) of {provenance}")
    sources["hypothesis.name"] = f"the hypothesis calibrated in {provenance}"
    sources = {k: v for k, v in sources.items() if not k.startswith("treatments")}
    text = scenario_to_toml(scenario.model_copy(update={"name": f"{base.name}-calibrated-{hypothesis}".replace("_", "-"),
                                                       "description": f"{base.description}; calibrated ({hypothesis})"}),
                            sources)
    if not scenario.treatments:  # the default; a preset lists only parameters with sources
        text = "\n".join(line for line in text.splitlines() if line != "treatments = []") + "\n"
    return scenario, text
