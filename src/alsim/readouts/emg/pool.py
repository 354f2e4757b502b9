"""A motor-unit pool as the electrophysiology estimators see it.

Each unit owns a set of innervated fibres (CSR layout: the fibres of unit ``u`` are
``fibre_ptr[u]:fibre_ptr[u + 1]``), each with a cross-section relative to normal
(``csa``, 0-1) and a depth below the recording electrode (mm). Each unit's motor axon
has an electrical stimulation threshold (mA), a trial-to-trial threshold fluctuation
(relative spread, sd / threshold) and a latency from the stimulus (ms). Denervated
fibres have no owner and produce no potential, so they are simply not in the pool.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class MotorUnitPool:
    """Innervated fibres per unit (CSR) plus each unit's axon excitability.

    fibre_ptr: (n_units + 1,) int, CSR row pointer into the fibre arrays.
    fibre_csa: (n_fibres,) cross-section relative to a normal fibre (1 = normal).
    fibre_depth_mm: (n_fibres,) distance from the surface recording electrode, mm.
    threshold_mA: (n_units,) mean stimulation threshold of the unit's axon, mA.
    latency_ms: (n_units,) latency of the negative peak of the unit's potential after the stimulus, ms.
    relative_spread: sd of the threshold from shock to shock as a fraction of it.
    recruitment: (n_units,) voluntary recruitment threshold, fraction (0-1) of maximal excitation, a
      property of the unit's motor neuron (kept when the unit adopts fibres); None: by current size.
    """

    fibre_ptr: np.ndarray
    fibre_csa: np.ndarray
    fibre_depth_mm: np.ndarray
    threshold_mA: np.ndarray
    latency_ms: np.ndarray
    relative_spread: float = 0.015
    recruitment: np.ndarray | None = None

    @property
    def n_units(self) -> int:
        return len(self.fibre_ptr) - 1

    @property
    def fibres_per_unit(self) -> np.ndarray:
        return np.diff(self.fibre_ptr)

    @property
    def unit_of_fibre(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_units), self.fibres_per_unit)

    @classmethod
    def from_lists(cls, csa: list, depth_mm: list, threshold_mA, latency_ms=None,
                   relative_spread: float = 0.015) -> "MotorUnitPool":
        """Build from per-unit lists of fibre csa and depth (mm); latency defaults to 6 ms."""
        counts = np.array([len(c) for c in csa], dtype=np.int64)
        ptr = np.concatenate([[0], np.cumsum(counts)])
        lat = np.full(len(counts), 6.0) if latency_ms is None else np.asarray(latency_ms, float)
        return cls(ptr, np.concatenate(csa).astype(float), np.concatenate(depth_mm).astype(float),
                   np.asarray(threshold_mA, float), lat, relative_spread)

    def subset(self, keep: np.ndarray) -> "MotorUnitPool":
        """The pool with only the units where ``keep`` is true (lost units' fibres denervated)."""
        keep = np.asarray(keep, bool)
        fibre_keep = np.repeat(keep, self.fibres_per_unit)
        ptr = np.concatenate([[0], np.cumsum(self.fibres_per_unit[keep])])
        return replace(self, fibre_ptr=ptr, fibre_csa=self.fibre_csa[fibre_keep],
                       fibre_depth_mm=self.fibre_depth_mm[fibre_keep],
                       threshold_mA=self.threshold_mA[keep], latency_ms=self.latency_ms[keep],
                       recruitment=None if self.recruitment is None else self.recruitment[keep])


def synthetic_pool(rng: np.random.Generator, n_units: int = 100, mean_fibres: int = 100,
                   size_cv: float = 0.0, depth_mm: tuple[float, float] = (2.0, 2.0),
                   territory_sd_mm: float = 0.0, threshold_mA: tuple[float, float] = (5.0, 20.0),
                   threshold_order: str = "random", latency_ms: float = 6.0, latency_sd_ms: float = 0.0,
                   relative_spread: float = 0.015) -> MotorUnitPool:
    """A constructed pool whose true count is ``n_units``.

    Unit sizes (fibres) are lognormal with coefficient of variation ``size_cv`` (0 gives
    identical units). Unit centres are uniform in ``depth_mm``; fibres scatter around the
    centre with ``territory_sd_mm``. Thresholds are geometrically spaced over
    ``threshold_mA`` and assigned at random (``"random"``) or lowest to the largest unit
    (``"large_first"``: large axons are the most excitable). Latencies are normal.
    """
    sigma = np.sqrt(np.log1p(size_cv**2))
    sizes = np.maximum(1, np.round(mean_fibres * rng.lognormal(-sigma**2 / 2, sigma, n_units))).astype(int)
    centres = rng.uniform(depth_mm[0], depth_mm[1], n_units)
    depth = np.repeat(centres, sizes) + territory_sd_mm * rng.standard_normal(sizes.sum())
    thresholds = np.geomspace(threshold_mA[0], threshold_mA[1], n_units)
    if threshold_order == "large_first":
        thresholds = thresholds[np.argsort(np.argsort(-sizes, kind="stable"))]
    else:
        thresholds = rng.permutation(thresholds)
    latency = latency_ms + latency_sd_ms * rng.standard_normal(n_units)
    ptr = np.concatenate([[0], np.cumsum(sizes)])
    return MotorUnitPool(ptr, np.ones(sizes.sum()), np.abs(depth), thresholds, latency, relative_spread)


def reinnervate(pool: MotorUnitPool, rng: np.random.Generator, fraction_lost: float,
                candidates: int = 5) -> MotorUnitPool:
    """Lose ``fraction_lost`` of the units and give all their fibres to survivors.

    Collateral sprouting: each orphaned fibre is adopted by the nearest (in depth) of
    ``candidates`` randomly drawn surviving units, so the innervated fibres, and hence
    the CMAP, stay (nearly) the same while the count falls and surviving units enlarge.
    """
    n_lost = int(round(fraction_lost * pool.n_units))
    lost = np.zeros(pool.n_units, bool)
    lost[rng.choice(pool.n_units, n_lost, replace=False)] = True
    survivors = np.flatnonzero(~lost)
    owner = pool.unit_of_fibre.copy()
    orphan = lost[owner]
    centre = np.bincount(owner, pool.fibre_depth_mm, pool.n_units) / np.maximum(pool.fibres_per_unit, 1)
    draw = survivors[rng.integers(0, len(survivors), (orphan.sum(), candidates))]
    gap = np.abs(centre[draw] - pool.fibre_depth_mm[orphan][:, None])
    owner[orphan] = draw[np.arange(len(draw)), np.argmin(gap, axis=1)]
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=pool.n_units)[~lost]
    return replace(pool, fibre_ptr=np.concatenate([[0], np.cumsum(counts)]),
                   fibre_csa=pool.fibre_csa[order], fibre_depth_mm=pool.fibre_depth_mm[order],
                   threshold_mA=pool.threshold_mA[~lost], latency_ms=pool.latency_ms[~lost],
                   recruitment=None if pool.recruitment is None else pool.recruitment[~lost])
