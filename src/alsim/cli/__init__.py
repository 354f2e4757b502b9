"""The command line: thin wrappers that parse, call the public API and print.

Bad input gives one line naming the field and what is allowed, exit code 2, and
writes nothing. One module per group of commands, each registering on the one app of
:mod:`.common` (which holds the shared option types and the error handling):
:mod:`.simulate` (presets, treatments, run, demo), :mod:`.trials` (trial, window),
:mod:`.sweep`, :mod:`.inference` (calibrate, compare), :mod:`.catalogue` (runs, show,
rerun) and :mod:`.bench`.
"""

# Each module registers its commands; `alsim --help` lists them in this order.
from . import simulate  # noqa: F401,I001  (presets, run, treatments, demo)
from . import bench  # noqa: F401
from . import inference  # noqa: F401  (calibrate, compare)
from . import catalogue  # noqa: F401  (runs, show, rerun)
from . import trials  # noqa: F401  (trial, window)
from . import sweep  # noqa: F401
from .common import app, main

__all__ = ["app", "main"]
