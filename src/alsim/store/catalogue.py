"""The run catalogue: one SQLite file per folder, a row per run written into it.

Every ``alsim run``, ``demo``, ``trial``, ``window``, ``calibrate`` and ``compare``
records itself in ``alsim-catalogue.sqlite`` in the parent folder of its ``--out``
folder: inserted as ``running`` when the work starts (after its input is validated),
set to ``complete`` or ``failed`` at the end. A run killed with ``kill -9`` stays
``running``.

Several runs may write to the same catalogue at once (two jobs with outputs in the
same folder): every write is one short transaction, the database is in WAL mode, and
a writer waits up to :data:`TIMEOUT_S` seconds for another's lock instead of failing.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["CATALOGUE_FILE", "Catalogue", "RunEntry", "UnknownRunError", "new_run_id", "utc_now"]

CATALOGUE_FILE = "alsim-catalogue.sqlite"
SCHEMA_VERSION = 1
TIMEOUT_S = 60.0
STATUSES = ("running", "complete", "failed")

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
    cwd           TEXT NOT NULL
)
"""


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

    def as_dict(self) -> dict:
        return dict(self.__dict__)


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
        """All runs, oldest first (an empty list where there is no catalogue)."""
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


def _entry(row: dict) -> RunEntry:
    row["argv"] = json.loads(row["argv"])
    return RunEntry(**row)
