"""Faults of the machine, not of the input, as one clear message: a full disk, a folder
that cannot be written, a block that keeps killing its Dask worker.

:func:`disk_faults` wraps a command's work; it turns those errors into a
:class:`StoreFault` whose message says what happened, that no result was written (the
result folder appears only when complete, :func:`alsim.store.atomic_output_dir`), and
what to do, ``--resume`` included where completed blocks are kept in a work folder.
Other errors pass through unchanged.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["StoreFault", "disk_faults"]

FULL = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded"}
FORBIDDEN = {errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
             errno.EROFS: "read-only file system", errno.ENOTDIR: "part of the path is a file, not a folder"}
_SQLITE = {"database or disk is full": errno.ENOSPC, "unable to open database file": errno.EACCES,
           "attempt to write a readonly database": errno.EROFS}


class StoreFault(Exception):
    """The disk or the cluster failed the run; the message is for the user."""


def _advice(code: int, out: Path, work: Path | None) -> str:
    kept = work is not None and (work / "run.json").is_file()
    if code in FULL:
        fix = "free some space"
    elif code == errno.ENOTDIR:
        fix = "choose another --out"
    else:
        fix = ("make that folder writable" if kept
               else f"choose an --out in a folder you can write to, or make {out.parent} writable")
    if kept:
        return (f"no result was written to {out}; completed blocks are kept in {work}: {fix} and run the same "
                "command with --resume")
    return f"no result was written to {out}; {fix} and run the command again"


def _message(code: int, reason: str, where: str | None, out: Path, work: Path | None) -> str:
    return f"cannot write {where or out}: {reason}; {_advice(code, out, work)}"


@contextlib.contextmanager
def disk_faults(out: str | os.PathLike, work: str | os.PathLike | None = None) -> Iterator[None]:
    """Run a command's work; a full disk, an unwritable folder (``OSError`` with ENOSPC,
    EDQUOT, EACCES, EPERM, EROFS, ENOTDIR, or SQLite's versions of them) or a Dask ``KilledWorker``
    becomes a :class:`StoreFault` naming ``out`` and, where it holds completed blocks, the
    work folder ``work`` to continue with ``--resume``."""
    out = Path(out)
    work = None if work is None else Path(work)
    try:
        yield
    except OSError as exc:
        reason = FULL.get(exc.errno) or FORBIDDEN.get(exc.errno)
        if reason is None:
            raise
        raise StoreFault(_message(exc.errno, reason, exc.filename and str(exc.filename), out, work)) from None
    except sqlite3.OperationalError as exc:
        code = next((c for text, c in _SQLITE.items() if text in str(exc)), None)
        if code is None:
            raise
        reason = FULL.get(code) or FORBIDDEN[code]
        raise StoreFault(_message(code, f"{reason} ({exc})", f"the run catalogue in {out.parent}", out, work)) from None
    except Exception as exc:
        distributed = sys.modules.get("distributed")     # imported only where Dask ran
        if distributed is None or not isinstance(exc, distributed.KilledWorker):
            raise
        kept = work is not None and (work / "run.json").is_file()
        raise StoreFault("a block of work killed every Dask worker that ran it (out of memory?); no result was "
                         f"written to {out}" + (f"; completed blocks are kept in {work}: run the same command with "
                                                "--resume, perhaps with fewer --workers" if kept else "")) from None
