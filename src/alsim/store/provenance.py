"""Provenance: what made a result, written beside it, and the catalogue row of its run.

Every result folder holds ``provenance.json`` (format :data:`PROVENANCE_VERSION`):

- ``run_id``, ``command``, ``argv`` (the command line after ``alsim``) and ``cwd``;
- ``seed``: the root seed used, also when it was drawn rather than given;
- ``scenario``: the resolved scenario as JSON (for ``demo``, one per hypothesis) and
  ``scenario_sha256``; for ``calibrate``/``compare`` the ``request`` and the sha256 of it;
- ``environment``: alsim, Python, NumPy, numba, pyabc (and a few more) versions, platform;
- ``training_data_sha256``: the packaged training files;
- ``input_files``: sha256 of every file named on the command line (scenario TOML,
  ``--design``, ``--treatments``, ``--priors``, ``--posterior``'s posterior.csv).

:func:`recorded_run` does both jobs for a CLI command: it adds the catalogue row,
gives the command a :class:`RecordedRun` whose :meth:`~RecordedRun.write` puts
``provenance.json`` into the (temporary) output folder, and marks the row complete or
failed. ``alsim rerun`` (:func:`rerun_argv`) repeats a run from its row.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .._version import __version__
from .catalogue import Catalogue, RunEntry, new_run_id, this_process, utc_now

__all__ = ["PROVENANCE_FILE", "PROVENANCE_VERSION", "RecordedRun", "content_sha256", "environment", "file_sha256",
           "read_provenance", "recorded_run", "rerun_argv"]

PROVENANCE_FILE = "provenance.json"
PROVENANCE_VERSION = 1
_PACKAGES = ("numpy", "numba", "pyabc", "scipy", "xarray", "zarr", "pandas", "pydantic", "dask")


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_sha256(payload: Any) -> str:
    """sha256 of ``payload`` as compact JSON, keys in their given order (the muscle order
    of a scenario decides which random number goes where, so it is part of the identity)."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def environment() -> dict[str, str | None]:
    """Versions of alsim, Python and the numerical packages (``None``: not installed)."""
    versions: dict[str, str | None] = {"alsim": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["platform"] = platform.platform()
    versions["executable"] = sys.executable
    return versions


def _scenario_json(scenario: Any) -> Any:
    """A Scenario, or a dict of label -> Scenario, as JSON-ready data."""
    if scenario is None:
        return None
    if hasattr(scenario, "model_dump"):
        return scenario.model_dump(mode="json")
    return {label: _scenario_json(s) for label, s in scenario.items()}


def _input_hashes(inputs: Iterable[str | os.PathLike | None]) -> dict[str, str]:
    """sha256 of each named file; names that are not files (preset names, packaged
    posteriors) are left out."""
    hashes = {}
    for item in inputs:
        if item is None:
            continue
        with contextlib.suppress(OSError, ValueError):
            if Path(item).is_file():
                hashes[str(item)] = file_sha256(item)
    return hashes


@dataclass
class RecordedRun:
    """A run being recorded. Set :attr:`seed` when the seed is drawn during the run."""

    run_id: str
    command: str
    argv: list[str]
    out_dir: Path
    seed: int | None = None
    scenario: Any = None
    request: dict | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    started: str = field(default_factory=utc_now)
    cwd: str = field(default_factory=os.getcwd)
    training_data_sha256: str | None = None
    catalogue: Catalogue | None = None
    in_catalogue: bool = False

    @property
    def scenario_hash(self) -> str | None:
        if self.request is not None:
            return content_sha256(self.request)
        return None if self.scenario is None else content_sha256(self.scenario)

    def provenance(self) -> dict:
        return {
            "alsim_provenance_version": PROVENANCE_VERSION,
            "run_id": self.run_id, "command": self.command, "argv": self.argv, "cwd": self.cwd,
            "started": self.started, "seed": self.seed,
            "scenario_sha256": self.scenario_hash, "scenario": self.scenario, "request": self.request,
            "environment": environment(),
            "training_data_sha256": self.training_data_sha256,
            "input_files": self.inputs,
        }

    def write(self, folder: str | os.PathLike) -> Path:
        """Write ``provenance.json`` into ``folder`` (the temporary result folder)."""
        path = Path(folder) / PROVENANCE_FILE
        path.write_text(json.dumps(self.provenance(), indent=1, allow_nan=False) + "\n", encoding="utf-8")
        return path

    def start(self, *_ignored) -> None:
        """Add the catalogue row as ``running`` (once; extra arguments are ignored so that
        this can serve as a callback)."""
        if self.catalogue is None or self.in_catalogue:
            return
        self.started = utc_now()
        for attempt in range(3):
            try:
                self.catalogue.add(self.entry())
                break
            except sqlite3.IntegrityError:   # the same 24 random bits in the same minute: draw again
                if attempt == 2:
                    raise
                self.run_id = new_run_id()
        self.in_catalogue = True

    def finish(self, status: str) -> None:
        if self.in_catalogue:
            self.catalogue.finish(self.run_id, status, seed=self.seed)

    def entry(self) -> RunEntry:
        return RunEntry(run_id=self.run_id, command=self.command, argv=self.argv, scenario_hash=self.scenario_hash,
                        seed=self.seed, alsim_version=__version__, status="running", started=self.started,
                        finished=None, output_path=str(self.out_dir.resolve()), cwd=self.cwd, **this_process())


@contextlib.contextmanager
def recorded_run(command: str, argv: list[str], out_dir: str | os.PathLike, *, scenario: Any = None,
                 request: dict | None = None, seed: int | None = None,
                 inputs: Iterable[str | os.PathLike | None] = (), training_data_sha256: str | None = None,
                 start: bool = True) -> Iterator[RecordedRun]:
    """Record one run of ``command`` in the catalogue beside ``out_dir``.

    Enter it once the input is validated: the row is added as ``running`` on entry (or,
    with ``start=False``, when the command calls ``record.start()``), and set to
    ``complete`` when the block ends normally, ``failed`` when it raises. ``scenario``
    is a Scenario or ``{label: Scenario}``; ``request`` (calibrations) replaces it as
    what ``scenario_hash`` hashes. Input files are hashed on entry, before the work;
    ``training_data_sha256`` is the caller's (the store does not read the training data).
    """
    out_dir = Path(out_dir)
    record = RecordedRun(run_id=new_run_id(), command=command, argv=list(argv), out_dir=out_dir, seed=seed,
                         scenario=_scenario_json(scenario), request=request, inputs=_input_hashes(inputs),
                         training_data_sha256=training_data_sha256, catalogue=Catalogue(out_dir.resolve().parent))
    if start:
        record.start()
    try:
        yield record
    except BaseException:
        record.finish("failed")
        raise
    record.finish("complete")


def read_provenance(folder: str | os.PathLike) -> dict | None:
    """``folder/provenance.json``, or ``None`` where there is none."""
    path = Path(folder) / PROVENANCE_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


_DROPPED_FLAGS = ("--resume", "--no-resume", "--overwrite", "--no-overwrite")
_DROPPED_OPTIONS = ("--out", "--scheduler")


def rerun_argv(argv: list[str], *, seed: int | None, out: str | os.PathLike) -> list[str]:
    """The recorded command line with ``--out`` replaced by ``out``, ``--seed`` given
    (the recorded seed, where the original drew one), and ``--resume``, ``--overwrite``
    and ``--scheduler`` dropped (a scheduler does not change results, and may be gone)."""
    again: list[str] = []
    has_seed = False
    tokens = iter(argv)
    for token in tokens:
        if token in _DROPPED_OPTIONS:
            next(tokens, None)
            continue
        if token in _DROPPED_FLAGS or any(token.startswith(f"{option}=") for option in _DROPPED_OPTIONS):
            continue
        has_seed = has_seed or token == "--seed" or token.startswith("--seed=")
        again.append(token)
    if not has_seed and seed is not None:
        again += ["--seed", str(seed)]
    return again + ["--out", str(out)]
