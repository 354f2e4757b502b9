"""The run catalogue: one SQLite file per folder, a row per run written into it.

Every ``alsim run``, ``demo``, ``trial``, ``window``, ``calibrate`` and ``compare``
records itself in ``alsim-catalogue.sqlite`` in the parent folder of its ``--out``
folder: inserted as ``running`` when the work starts (after its input is validated),
set to ``complete`` or ``failed`` at the end. A run killed with ``kill -9`` cannot
say so itself: its row also records the process (host, pid and the process's start
time), and a ``running`` row whose process is gone from this host reads as
``interrupted`` (:meth:`Catalogue.entries`, ``alsim runs``). A row written by another
host stays ``running``: its process cannot be looked up from here.

Several runs may write to the same catalogue at once (two jobs with outputs in the
same folder): every write is one short transaction, the database is in WAL mode, and
a writer waits up to :data:`TIMEOUT_S` seconds for another's lock instead of failing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["CATALOGUE_FILE", "Catalogue", "RunEntry", "UnknownRunError", "new_run_id", "process_gone", "this_process",
           "utc_now"]

CATALOGUE_FILE = "alsim-catalogue.sqlite"
SCHEMA_VERSION = 2
TIMEOUT_S = 60.0
STATUSES = ("running", "complete", "failed")
"""What a row may hold; a fourth status, ``interrupted``, is read, not written (a killed run's row)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id        TEXT PRIMARY KEY,
    command       TEXT NOT NULL,
    argv          TEXT NOT NULL,
    scenario_hash TEXT,
    seed          INTEGER,
    alsim_version TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
    started       TEXT NOT NULL,
    finished      TEXT,
    output_path   TEXT NOT NULL,
    cwd           TEXT NOT NULL,
    host          TEXT,
    pid           INTEGER,
    process_start REAL
)
"""
_ADDED_IN_2 = {"host": "TEXT", "pid": "INTEGER", "process_start": "REAL"}
"""Columns that schema version 1 lacks (added to an older catalogue when it is next written)."""


class UnknownRunError(LookupError):
    """No run of that id in the catalogue."""


@dataclass(frozen=True)
class RunEntry:
    """One row of the catalogue. ``argv`` is the command line after ``alsim``; ``cwd`` the
    folder it was run from (relative paths in ``argv`` are relative to it)."""

    run_id: str
    command: str
    argv: list[str]
    scenario_hash: str | None
    seed: int | None
    alsim_version: str
    status: str
    started: str
    finished: str | None
    output_path: str
    cwd: str
    host: str | None = None
    pid: int | None = None
    process_start: float | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def this_process() -> dict:
    """``host``, ``pid`` and ``process_start`` (seconds since the epoch) of the calling process,
    for a new row: together they name the process even after its pid is reused."""
    import psutil

    return {"host": socket.gethostname(), "pid": os.getpid(), "process_start": psutil.Process().create_time()}


def process_gone(entry: RunEntry) -> bool:
    """Whether the process that wrote a ``running`` row is known to be gone: it ran on this host
    and no process with its pid and start time is alive. ``False`` where that cannot be known."""
    if entry.pid is None or entry.host != socket.gethostname():
        return False
    import psutil

    try:
        return abs(psutil.Process(entry.pid).create_time() - (entry.process_start or 0.0)) > 1.0
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def utc_now() -> str:
    """The time now, UTC, ISO 8601 to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id(now: datetime | None = None) -> str:
    """A unique, readable id: ``run-YYYYMMDDTHHMM-xxxxxx`` (UTC minute and 24 random bits)."""
    now = now or datetime.now(timezone.utc)
    return f"run-{now:%Y%m%dT%H%M}-{secrets.token_hex(3)}"


class Catalogue:
    """The catalogue of one folder (``FOLDER/alsim-catalogue.sqlite``)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / CATALOGUE_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    @contextlib.contextmanager
    def _connect(self, *, create: bool) -> Iterator[sqlite3.Connection]:
        if create:
            self.folder.mkdir(parents=True, exist_ok=True)
        elif not self.exists():
            raise UnknownRunError(f"no run catalogue in {self.folder} (no {CATALOGUE_FILE} there)")
        conn = sqlite3.connect(self.path, timeout=TIMEOUT_S)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            if create:
                with conn:  # one transaction; IF NOT EXISTS makes concurrent creators harmless
                    conn.execute(_SCHEMA)
                    _upgrade(conn)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            yield conn
        finally:
            conn.close()

    def add(self, entry: RunEntry) -> None:
        """Insert a new row (``entry.run_id`` must be new)."""
        row = entry.as_dict()
        row["argv"] = json.dumps(entry.argv)
        columns = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self._connect(create=True) as conn, conn:
            conn.execute(f"INSERT INTO runs ({columns}) VALUES ({marks})", row)

    def finish(self, run_id: str, status: str, *, seed: int | None = None, finished: str | None = None) -> None:
        """Set a run's final status (and its seed, if it was drawn during the run)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        with self._connect(create=True) as conn, conn:
            conn.execute("UPDATE runs SET status = ?, finished = ?, seed = COALESCE(?, seed) WHERE run_id = ?",
                         (status, finished or utc_now(), seed, run_id))

    def entries(self) -> list[RunEntry]:
        """All runs, oldest first (an empty list where there is no catalogue). A ``running`` row
        whose process is gone (:func:`process_gone`) is given as ``interrupted``."""
        if not self.exists():
            return []
        with self._connect(create=False) as conn:
            rows = conn.execute("SELECT * FROM runs ORDER BY started, run_id").fetchall()
            names = [d[0] for d in conn.execute("SELECT * FROM runs LIMIT 0").description]
        return [_entry(dict(zip(names, row))) for row in rows]

    def get(self, run_id: str) -> RunEntry:
        """The run ``run_id``; :class:`UnknownRunError` if the catalogue has none."""
        with self._connect(create=False) as conn:
            cursor = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,))
            row = cursor.fetchone()
            names = [d[0] for d in cursor.description]
        if row is None:
            raise UnknownRunError(f"no run {run_id!r} in {self.path} (list them with `alsim runs --dir {self.folder}`)")
        return _entry(dict(zip(names, row)))


def _upgrade(conn: sqlite3.Connection) -> None:
    """Add the columns of schema version 2 to a catalogue written by version 1."""
    present = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    for name, kind in _ADDED_IN_2.items():
        if name not in present:
            conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")


def _entry(row: dict) -> RunEntry:
    row["argv"] = json.loads(row["argv"])
    for name in _ADDED_IN_2:
        row.setdefault(name, None)
    entry = RunEntry(**row)
    if entry.status == "running" and process_gone(entry):
        entry = RunEntry(**{**entry.as_dict(), "status": "interrupted"})
    return entry
