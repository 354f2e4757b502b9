"""The human disease as a clinic sees it: regional weakness, ALSFRS-R, FVC and the clinical events.

Everything is read from simulated force, each muscle relative to the subject's own
day-0 force (docs/human.md, *Clinical readouts*):

- a region's *function* is the mean force fraction of its muscles; the region is
  clinically weak below ``human.weakness_force_fraction``;
- symptom onset is the first day any of ``human.onset_regions`` is weak; diagnosis the
  first day ``human.diagnosis_regions`` of ``human.diagnostic_regions`` are weak (the
  revised El Escorial criteria ask for signs in several of the bulbar, cervical,
  thoracic and lumbosacral regions: Brooks et al. 2000 ALS 1:293), or the day
  ventilation starts if that is earlier: a person in respiratory failure is examined,
  and ALS that presents with respiratory failure is diagnosed then (de Carvalho et al.
  1996 J Neurol Sci 139 Suppl:117, four patients and 25 from the literature; respiratory
  onset in 2.7 % of a clinic's patients, Shoesmith et al. 2007 J Neurol Neurosurg
  Psychiatry, doi:10.1136/jnnp.2006.103564; both read in the abstract);
- ``fvc_fraction`` is the weighted mean force fraction of the respiratory muscles;
  non-invasive ventilation starts below ``human.ventilation_fvc_fraction`` and the end
  stage (death or permanent ventilation) is below ``human.end_stage_fvc_fraction``;
- each ALSFRS-R item scores 0-4 from the mean force fraction of its muscles
  (:class:`alsim.config.human.FunctionalRating`); the total is 0-48.
"""

from __future__ import annotations

import numpy as np

from ..biology.spread import scenario_regions
from ..config.human import ALSFRS_R_ITEMS
from ..config.schema import Scenario
from .clinical import first_day_below, first_true

ONSET_DEFINITION_HUMAN = "first day a region in human.onset_regions has function < human.weakness_force_fraction"
DIAGNOSIS_DEFINITION = ("first day human.diagnosis_regions of human.diagnostic_regions have function "
                        "< human.weakness_force_fraction, or the start of ventilation if earlier (a person presenting "
                        "with respiratory failure is examined and diagnosed then)")
VENTILATION_DEFINITION = "first day fvc_fraction < human.ventilation_fvc_fraction (non-invasive ventilation starts)"
END_STAGE_DEFINITION_HUMAN = "first day fvc_fraction < human.end_stage_fvc_fraction (death or permanent ventilation)"


def force_fractions(force: np.ndarray) -> np.ndarray:
    """(subject, muscle, day) force relative to each subject's day-0 force of the muscle."""
    return np.divide(force, force[:, :, :1], out=np.full(force.shape, np.nan), where=force[:, :, :1] > 0)


def mean_of_muscles(fraction: np.ndarray, muscle_names: list[str], names: tuple[str, ...] | list[str],
                    weights: list[float] | None = None) -> np.ndarray:
    """(subject, day) weighted mean force fraction of the muscles ``names``."""
    index = [muscle_names.index(n) for n in names]
    w = np.ones(len(index)) if weights is None else np.asarray(weights, dtype=np.float64)
    return np.tensordot(w / w.sum(), fraction[:, index, :], axes=([0], [1]))


def item_score(function: np.ndarray, full: float, zero: float) -> np.ndarray:
    """ALSFRS-R item score 0-4: the quarter-bands of [zero, full] that ``function`` still reaches."""
    bands = np.ceil(4.0 * (function - zero) / (full - zero) - 1e-9)
    return np.clip(np.nan_to_num(bands, nan=0.0), 0, 4)


def ventilation_item_score(fvc: np.ndarray, ventilation: float, end_stage: float) -> np.ndarray:
    """An ALSFRS-R item scored from ventilatory support (item 12, respiratory insufficiency:
    4 none, 3 intermittent BiPAP, 2 continuous at night, 1 day and night, 0 invasive
    ventilation; Cedarbaum et al. 1999): 4 while FVC >= ``ventilation`` (no support yet),
    0 at or below ``end_stage`` (permanent ventilation), 3 to 1 in thirds of the range between."""
    bands = np.ceil(3.0 * (fvc - end_stage) / (ventilation - end_stage) - 1e-9)
    score = np.where(fvc >= ventilation, 4.0, np.clip(np.nan_to_num(bands, nan=0.0), 0, 3))
    return np.where(np.isnan(fvc), 0.0, score)


def human_clinical(scenario: Scenario, force: np.ndarray, muscle_names: list[str]) -> dict[str, np.ndarray]:
    """The human readouts and events in simulation days, from census force (subject, muscle, day).

    Returns ``region_function`` (subject, region, day) with ``regions``, ``alsfrs_r_items``
    (subject, item, day), ``alsfrs_r`` and ``fvc_fraction`` (subject, day), and the days
    ``onset_day``, ``diagnosis_day``, ``ventilation_day``, ``end_stage_day`` (subject,).
    """
    human = scenario.human
    fraction = force_fractions(force)
    regions = scenario_regions(scenario)
    region_function = np.stack([mean_of_muscles(fraction, muscle_names, [m for m in muscle_names
                                                                         if scenario.muscles[m].region == r])
                                for r in regions], axis=1)
    weak = region_function < human.weakness_force_fraction
    onset_rows = [regions.index(r) for r in human.onset_regions]
    onset = first_true(weak[:, onset_rows, :].any(axis=1))
    diagnostic_rows = [regions.index(r) for r in human.diagnostic_regions]
    criteria_met = first_true(weak[:, diagnostic_rows, :].sum(axis=1) >= human.diagnosis_regions)
    fvc = mean_of_muscles(fraction, muscle_names, tuple(human.fvc_muscle_weights), list(human.fvc_muscle_weights.values()))
    ventilation = first_day_below(fvc, human.ventilation_fvc_fraction)
    diagnosis = np.fmin(criteria_met, ventilation)          # respiratory failure brings the person to a neurologist
    rating = human.functional_rating
    items = np.stack([ventilation_item_score(fvc, human.ventilation_fvc_fraction, human.end_stage_fvc_fraction)
                      if item in rating.ventilation_items else
                      item_score(mean_of_muscles(fraction, muscle_names, rating.items[item]),
                                 rating.full_score_force_fraction, rating.zero_score_force_fraction)
                      for item in ALSFRS_R_ITEMS], axis=1)
    end_stage = first_day_below(fvc, human.end_stage_fvc_fraction)
    last_day = np.nan_to_num(end_stage, nan=np.inf)
    return {
        "regions": regions, "region_function": region_function, "alsfrs_r_items": items,
        "alsfrs_r": items.sum(axis=1), "fvc_fraction": fvc,
        "onset_day": np.where(onset <= last_day, onset, np.nan),             # no onset or diagnosis after death
        "diagnosis_day": np.where(diagnosis <= last_day, diagnosis, np.nan),
        "ventilation_day": ventilation,
        "end_stage_day": end_stage,
    }


def onset_grid(onset_day: np.ndarray, n_days: int) -> np.ndarray:
    """The days-from-onset coordinate covering every subject with an onset: -max(onset) .. n_days-1-min(onset)."""
    reached = onset_day[np.isfinite(onset_day)].astype(np.int64)
    if reached.size == 0:
        return np.arange(0, dtype=np.int64)
    return np.arange(-int(reached.max()), n_days - int(reached.min()), dtype=np.int64)


def align_to_onset(values: np.ndarray, onset_day: np.ndarray, grid: np.ndarray, sim_day: np.ndarray) -> np.ndarray:
    """Re-index the last axis of ``values`` (subject, ..., time), sampled on simulation days
    ``sim_day``, onto days from each subject's onset ``grid``; NaN where a subject has no
    sample or no onset. A sample on day ``d`` goes to the grid point nearest ``d - onset``."""
    out = np.full(values.shape[:-1] + (len(grid),), np.nan, dtype=np.float32)
    step = int(grid[1] - grid[0]) if len(grid) > 1 else 1
    for i, onset in enumerate(onset_day):
        if not np.isfinite(onset):
            continue
        position = np.rint((sim_day - onset - grid[0]) / step).astype(np.int64) if len(grid) else np.empty(0, int)
        inside = (position >= 0) & (position < len(grid))
        out[i, ..., position[inside]] = values[i, ..., inside]
    return out
