"""A cohort's clinical events from its census, read the way its species is read.

Mice reach onset and a humane end point by limb force
(:func:`alsim.readouts.clinical_endpoints`); people reach onset, diagnosis, ventilation and
end stage by region (:func:`alsim.readouts.human.human_clinical`). Trials, sweeps and the
streamed human runs call :func:`clinical_events` and never ask which species it is.
"""

from __future__ import annotations

import numpy as np

from ..biology.motor_units import build_layout
from ..biology.species import HUMAN, MOUSE, species_of
from ..config.schema import Scenario
from ..readouts import clinical_endpoints
from ..readouts.human import human_clinical

__all__ = ["clinical_events"]

_CLINICAL = {MOUSE.name: clinical_endpoints, HUMAN.name: human_clinical}
"""Each species' clinical readout: (scenario, force (subject, muscle, day), muscles) -> events."""


def clinical_events(scenario: Scenario, force: np.ndarray) -> dict[str, np.ndarray]:
    """The clinical readouts of a census's ``force`` (subject, muscle, day): at least
    ``onset_day`` and ``end_stage_day`` (simulation days; NaN: not reached), and the
    species' other events and courses."""
    muscles = list(build_layout(scenario).muscle_names)
    return _CLINICAL[species_of(scenario).name](scenario, force, muscles)
