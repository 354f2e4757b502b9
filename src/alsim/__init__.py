"""alsim: stochastic simulation of ALS from upper motor neuron to muscle fibre.

The public face: load a scenario, simulate a cohort, read the results.

>>> import alsim
>>> scenario, sources = alsim.load_scenario("sod1-g93a-b6sjl")
>>> results = alsim.simulate(scenario, subjects=4, days=60, seed=1)   # doctest: +SKIP
"""

from ._version import __version__  # noqa: E402

from .config import Scenario, ScenarioError, load_scenario, preset_names  # noqa: E402
from .run import simulate  # noqa: E402

__all__ = ["Scenario", "ScenarioError", "__version__", "load_scenario", "preset_names", "simulate"]
