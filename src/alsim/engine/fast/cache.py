"""Keep Numba's cache of the kernels in step with the rules compiled into them.

Numba caches each compiled function next to its source and checks only that function's
own file. A kernel here compiles in the rules of :mod:`alsim.biology` (and the inlined
helpers of its sibling modules), so after a rule is edited its cached caller would keep
the old rule. :func:`drop_stale_kernels` fingerprints every source the kernels compile in
and, when the fingerprint changes, deletes the cached kernels so they are compiled anew.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_FAST = Path(__file__).resolve().parent
_BIOLOGY = _FAST.parent.parent / "biology"
_STAMP = "alsim-kernel-sources.sha256"


def sources_fingerprint() -> str:
    """SHA-256 of the kernel's and the rules' source files."""
    digest = hashlib.sha256()
    for path in sorted([*_FAST.glob("*.py"), *_BIOLOGY.glob("*.py")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def drop_stale_kernels() -> None:
    """Delete the cached kernels if any source they compile in changed since they were cached.

    In a read-only installation nothing is deleted (and nothing needs to be: its sources
    do not change)."""
    folder = _FAST / "__pycache__"
    fingerprint = sources_fingerprint()
    try:
        if (folder / _STAMP).read_text(encoding="ascii") == fingerprint:
            return
    except OSError:
        pass
    try:
        for cache in (folder, _BIOLOGY / "__pycache__"):
            for compiled in cache.glob("*.nb[ic]"):
                compiled.unlink(missing_ok=True)
        folder.mkdir(exist_ok=True)
        (folder / _STAMP).write_text(fingerprint, encoding="ascii")
    except OSError:
        pass
