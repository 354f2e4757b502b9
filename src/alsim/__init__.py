"""alsim: stochastic simulation of ALS from upper motor neuron to muscle fibre.

The public face: load a scenario, simulate a cohort, read the results back; run a
trial; calibrate a hypothesis or compare the three against the training data.

>>> import alsim
>>> scenario, sources = alsim.load_scenario("sod1-g93a-b6sjl")
>>> results = alsim.simulate(scenario, subjects=4, days=60, seed=1)   # doctest: +SKIP
>>> trial = alsim.run_trial({"scenario": "sod1-g93a-b6sjl", "arms": ["control", "musk_agonist@60:0.5"],
...                          "per_arm": 10, "seed": 1})                # doctest: +SKIP

Importing alsim loads nothing else: each name below is imported when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: The public names and the module each one comes from.
_PUBLIC: dict[str, str] = {
    "Scenario": "alsim.config",
    "ScenarioError": "alsim.config",
    "calibrate": "alsim.inference.verbs",
    "compare": "alsim.inference.verbs",
    "load_scenario": "alsim.config",
    "preset_names": "alsim.config",
    "read_results": "alsim.store",
    "run_trial": "alsim.trials.trial",
    "simulate": "alsim.run",
}

__all__ = ["Scenario", "ScenarioError", "__version__", "calibrate", "compare", "load_scenario", "preset_names",
           "read_results", "run_trial", "simulate"]

if TYPE_CHECKING:  # pragma: no cover
    from .config import Scenario, ScenarioError, load_scenario, preset_names
    from .inference.verbs import calibrate, compare
    from .run import simulate
    from .store import read_results
    from .trials.trial import run_trial


def __getattr__(name: str) -> Any:
    """Import a public name, or a subpackage (``alsim.engine``), on first use."""
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
