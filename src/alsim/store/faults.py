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

__all__ = ["StoreFault", "disk_faults", "probe_output"]

FULL = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded"}
FORBIDDEN = {errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
             errno.EROFS: "read-only file system", errno.ENOTDIR: "part of the path is a file, not a folder"}
#: Faults of the output path itself: ``--out`` names a place where no folder can be made.
BAD_PATH = {errno.ENAMETOOLONG: "a name in the path is too long", errno.ELOOP: "too many symbolic links in the path",
            errno.EISDIR: "a folder is where a file should be", errno.EEXIST: "a file is in the way",
            errno.ENOENT: "no folder can be made there"}
_SQLITE = {"database or disk is full": errno.ENOSPC, "unable to open database file": errno.EACCES,
           "attempt to write a readonly database": errno.EROFS}


class StoreFault(Exception):
    """The disk or the cluster failed the run; the message is for the user."""


def _holds_blocks(work: Path | None) -> bool:
    """Whether the work folder ``work`` holds a run to ``--resume`` (False where it cannot even be looked up)."""
    try:
        return work is not None and (work / "run.json").is_file()
    except OSError:
        return False


def _advice(code: int, out: Path, work: Path | None) -> str:
    kept = _holds_blocks(work)
    if code in FULL:
        fix = "free some space"
    elif code == errno.ENOTDIR or code in BAD_PATH:
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


def _on_output_path(filename, out: Path, work: Path | None) -> bool:
    """Whether ``filename`` (of an OSError) is the output folder, its work folder, something
    in them or beside them: a missing or misnamed file elsewhere (an input) is not a fault of ``--out``."""
    if filename is None:
        return False
    try:
        path = Path(os.fsdecode(filename))
    except (TypeError, ValueError):
        return False
    out = out.absolute()
    inside = [out.parent, *([] if work is None else [work.absolute().parent])]
    return (any(path == place or place in path.parents for place in inside)
            or path.parent in out.parents)            # made beside a folder on the way to out


def probe_output(out: str | os.PathLike) -> None:
    """Check, before any work, that a result folder can be made at ``out``: its name can be
    looked up, its nearest existing ancestor is a folder, and a folder can be made (and is
    at once removed) there. Raises the ``OSError`` that writing would meet, for
    :func:`disk_faults` to turn into one message; writes nothing that stays."""
    out = Path(out).absolute()
    out.exists()                                    # ENAMETOOLONG, ELOOP
    ancestor = out.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(ancestor))
    probe = ancestor / f".{out.name[:64]}.probe-{os.getpid()}"
    probe.mkdir()
    probe.rmdir()


@contextlib.contextmanager
def disk_faults(out: str | os.PathLike, work: str | os.PathLike | None = None) -> Iterator[None]:
    """Run a command's work; a full disk, an unwritable folder (``OSError`` with ENOSPC,
    EDQUOT, EACCES, EPERM, EROFS, ENOTDIR, or SQLite's versions of them), an output path
    where no folder can be made (a name too long, ``/proc``: :data:`BAD_PATH`, for files
    beside or under ``out``) or a Dask ``KilledWorker``
    becomes a :class:`StoreFault` naming ``out`` and, where it holds completed blocks, the
    work folder ``work`` to continue with ``--resume``."""
    out = Path(out)
    work = None if work is None else Path(work)
    try:
        yield
    except OSError as exc:
        reason = FULL.get(exc.errno) or FORBIDDEN.get(exc.errno)
        if reason is None and _on_output_path(exc.filename, out, work):
            reason = BAD_PATH.get(exc.errno)
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
        kept = _holds_blocks(work)
        raise StoreFault("a block of work killed every Dask worker that ran it (out of memory?); no result was "
                         f"written to {out}" + (f"; completed blocks are kept in {work}: run the same command with "
                                                "--resume, perhaps with fewer --workers" if kept else "")) from None
