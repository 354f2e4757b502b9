"""Electrophysiology as a clinic measures it: the public entry point.

The implementation lives in :mod:`alsim.readouts.emg` (``pool``, ``potentials``,
``mune``, ``scan``, ``munix``); this module re-exports it. See docs/electrophysiology.md.
"""

from .emg import *  # noqa: F401,F403
from .emg import __all__  # noqa: F401
