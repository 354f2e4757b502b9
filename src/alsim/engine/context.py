"""A run's scenario and the layout of its motor units and endplates, built once per run.

The flat numbers the compiled kernel reads are derived from it in one place,
:func:`alsim.engine.fast.params.build_params`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..biology.motor_units import Layout, build_layout
from ..config.schema import Scenario


@dataclass(frozen=True)
class RunContext:
    """The scenario and where each muscle's units and endplates sit in a subject's arrays."""

    scenario: Scenario
    layout: Layout


def build_context(scenario: Scenario) -> RunContext:
    return RunContext(scenario=scenario, layout=build_layout(scenario))
