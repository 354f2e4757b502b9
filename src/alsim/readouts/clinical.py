"""Onset and end stage, read from simulated force as the mouse literature defines them.

- Onset: hindlimb weakness. The first age at which hindlimb force (the sum over the
  scenario's hindlimb muscles, relative to the animal's own baseline) falls below
  ``clinical.onset_force_fraction``; a force-based stand-in for the observation of
  hindlimb weakness or a decline in grip strength.
- End stage: paralysis of both hind limbs (CS4 of Solomon et al. 2011 PLoS ONE
  6:e20582) or respiratory failure, whichever comes first: hindlimb force below
  ``clinical.end_stage_hindlimb_force_fraction`` or diaphragm force below
  ``clinical.end_stage_diaphragm_force_fraction``.
"""

from __future__ import annotations

import numpy as np

from ..config.schema import Scenario

ONSET_DEFINITION = ("first day hindlimb force < clinical.onset_force_fraction of the animal's own baseline "
                    "(hindlimb weakness, as a grip-strength decline)")
END_STAGE_DEFINITION = ("first day hindlimb force < clinical.end_stage_hindlimb_force_fraction (both hindlimbs paralysed, "
                        "CS4 of Solomon 2011 PLoS ONE 6:e20582) or diaphragm force < "
                        "clinical.end_stage_diaphragm_force_fraction (respiratory failure)")


def hindlimb_force(force: np.ndarray, is_hindlimb: np.ndarray) -> np.ndarray:
    """Hindlimb force per (subject, day) relative to day 0; NaN without hindlimb muscles."""
    if not is_hindlimb.any():
        return np.full((force.shape[0], force.shape[2]), np.nan)
    total = force[:, is_hindlimb, :].sum(axis=1)
    return np.divide(total, total[:, :1], out=np.full(total.shape, np.nan), where=total[:, :1] > 0)


def first_true(flags: np.ndarray) -> np.ndarray:
    """First index along the last axis where ``flags`` is true; NaN where never.

    With the ``day`` coordinate starting at age 0 in steps of one day, the index is the age.
    """
    first = np.argmax(flags, axis=-1).astype(np.float64)
    first[~flags.any(axis=-1)] = np.nan
    return first


def first_day_below(series: np.ndarray, threshold: float) -> np.ndarray:
    """First index along the last axis where ``series < threshold``; NaN where never."""
    return first_true(series < threshold)


def clinical_endpoints(scenario: Scenario, force: np.ndarray, muscle_names: list[str]) -> dict[str, np.ndarray]:
    """``onset_day``, ``end_stage_day`` (subject,) and ``hindlimb_force_fraction`` (subject, day).

    ``force`` is the census force per (subject, muscle, day).
    """
    regions = np.array([scenario.muscles[m].region for m in muscle_names])
    limb = hindlimb_force(force, regions == "hindlimb")
    clinical = scenario.clinical
    onset = first_day_below(limb, clinical.onset_force_fraction)
    end = first_day_below(limb, clinical.end_stage_hindlimb_force_fraction)
    if "diaphragm" in muscle_names:
        d = force[:, muscle_names.index("diaphragm"), :]
        diaphragm = np.divide(d, d[:, :1], out=np.full(d.shape, np.nan), where=d[:, :1] > 0)
        end = np.fmin(end, first_day_below(diaphragm, clinical.end_stage_diaphragm_force_fraction))
    return {"onset_day": onset, "end_stage_day": end, "hindlimb_force_fraction": limb}
