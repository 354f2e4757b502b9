"""``python -m alsim.cli``: the same as the ``alsim`` command."""

from . import main

main()
