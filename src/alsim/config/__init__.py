"""Scenario schema, presets and loading."""

from .loading import ScenarioError, load_scenario, parse_override, preset_names, scenario_to_toml
from .schema import HYPOTHESES, UNIT_TYPES, Scenario

__all__ = ["HYPOTHESES", "UNIT_TYPES", "Scenario", "ScenarioError", "load_scenario", "parse_override", "preset_names", "scenario_to_toml"]
