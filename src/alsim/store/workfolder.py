"""The work folder of a resumable command: completed blocks saved as they go.

``alsim run``, ``trial`` and ``window`` (like ``calibrate`` and ``compare``,
:mod:`alsim.inference.calibration`) work in a hidden folder beside their output,
``.NAME.inprogress``:

- ``run.json``: what the run is (its *identity*: command, sha256 of the resolved
  scenario, sizes, alsim and NumPy versions) and its root seed;
- ``blocks/KEY.npz``: one file per completed block of work (a block of subjects of a
  run, an arm of one replicate of a trial; compressed NumPy arrays, no pickle), written
  to a temporary file, flushed to disk and moved into place with :func:`os.replace`,
  so a block file is complete or absent whatever moment the process is killed;
- ``final-*``: the result folder while it is being written (:func:`alsim.store.atomic_output_dir`).

While a command works in it, the folder is locked (``lock``, an advisory file lock
that the operating system releases when the process ends, even by ``kill -9``): a
second command on the same ``--out`` (two ``--resume`` at once, say) is refused with
one message instead of writing the same blocks.

When the result is complete it is moved to ``NAME`` and the work folder is removed.
A killed command is continued with ``--resume``: blocks already on disk are loaded,
not simulated again, and since every block depends only on the seed and its subjects
the result is the same bits as an uninterrupted run's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from filelock import FileLock, Timeout

from .._version import __version__
from .results import OutputExistsError

__all__ = ["ResumeError", "WorkFolder", "in_progress_folder", "lock_work_folder", "open_work_folder",
           "unlock_work_folder"]

RUN_FILE = "run.json"
BLOCKS = "blocks"
LOCK_FILE = "lock"
_HELD: dict[Path, FileLock] = {}
"""Work folders this process has locked: a command that failed and is resumed in the same
process (a test, a notebook) takes its own lock again instead of waiting for itself."""
_HEADER = "__dataset__"


class ResumeError(Exception):
    """``--resume`` or an interrupted run used wrongly; the message says what to do."""


def in_progress_folder(out: str | os.PathLike) -> Path:
    """``.NAME.inprogress`` beside the output folder ``NAME``."""
    out = Path(out)
    return out.parent / f".{out.name}.inprogress"


def lock_work_folder(work: Path, out: Path) -> FileLock:
    """Lock the work folder ``work`` of ``--out out`` for this process; :class:`ResumeError` when
    another process holds it. The lock is released by :meth:`WorkFolder.remove`, or by the
    operating system when the process ends."""
    work = Path(work).resolve()
    if work in _HELD and _HELD[work].is_locked and (work / LOCK_FILE).exists():
        return _HELD[work]
    lock = FileLock(work / LOCK_FILE, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ResumeError(f"--out {out}: another alsim process is working on it (its work folder {work} is "
                          "locked); wait for it to finish, or stop it and continue with --resume") from None
    _HELD[work] = lock
    return lock


def unlock_work_folder(work: Path) -> None:
    """Release this process's lock on ``work`` and remove the lock file (before the folder is
    removed, or renamed into the result)."""
    lock = _HELD.pop(Path(work).resolve(), None)
    if lock is not None:
        lock.release(force=True)
        Path(lock.lock_file).unlink(missing_ok=True)


def _versions() -> dict[str, str]:
    """The versions a resumed run must share with the original (bits may differ across them)."""
    return {"alsim_version": __version__, "numpy_version": metadata.version("numpy")}


def _write_atomically(path: Path, write) -> None:
    """``write(handle)`` into ``path.tmp``, flushed to disk, then moved to ``path`` in one step."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.filename is None:    # a failed write names no file: name it
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


def dataset_arrays(ds: xr.Dataset, prefix: str = "ds") -> dict[str, np.ndarray]:
    """``ds`` as plain arrays (values of every variable and coordinate) and a JSON header
    (dims, attributes, which are coordinates), for :func:`numpy.savez_compressed`; exact, no pickle."""
    header = {"attrs": ds.attrs, "coords": list(ds.coords), "variables": {}}
    arrays = {}
    for index, (name, variable) in enumerate(ds.variables.items()):
        if variable.dtype.kind == "O":
            raise TypeError(f"variable {name}: object arrays cannot be saved without pickle")
        header["variables"][str(name)] = {"dims": list(variable.dims), "attrs": variable.attrs,
                                          "key": f"{prefix}/{index}"}
        arrays[f"{prefix}/{index}"] = np.asarray(variable.values)
    arrays[f"{prefix}/{_HEADER}"] = np.array(json.dumps(header, allow_nan=False, default=_plain))
    return arrays


def _plain(value):
    """NumPy scalars in attributes as Python numbers (as Zarr stores them)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"attribute value {value!r} is not JSON")


def dataset_from_arrays(arrays: dict[str, np.ndarray], prefix: str = "ds") -> xr.Dataset:
    """The inverse of :func:`dataset_arrays`."""
    header = json.loads(str(arrays[f"{prefix}/{_HEADER}"]))
    variables = {name: (v["dims"], arrays[v["key"]], v["attrs"]) for name, v in header["variables"].items()}
    coords = {name: variables[name] for name in header["coords"]}
    data = {name: value for name, value in variables.items() if name not in coords}
    return xr.Dataset(data, coords=coords, attrs=header["attrs"])


@dataclass
class WorkFolder:
    """An open work folder: its path, the run's identity and its root seed."""

    path: Path
    identity: dict[str, Any]
    seed: int

    @property
    def blocks(self) -> Path:
        return self.path / BLOCKS

    def _block(self, key: str) -> Path:
        return self.blocks / f"{key}.npz"

    def save(self, key: str, arrays: dict[str, np.ndarray], dataset: xr.Dataset | None = None) -> None:
        """Save block ``key``: named arrays and optionally one Dataset (atomically)."""
        payload = {f"a/{name}": np.asarray(value) for name, value in arrays.items()}
        if dataset is not None:
            payload.update(dataset_arrays(dataset))
        _write_atomically(self._block(key), lambda handle: np.savez_compressed(handle, **payload))

    def load(self, key: str) -> tuple[dict[str, np.ndarray], xr.Dataset | None] | None:
        """Block ``key`` as ``(arrays, dataset or None)``; ``None`` when it is not on disk
        (or unreadable: then it is removed, to be done again)."""
        path = self._block(key)
        if not path.is_file():
            return None
        try:
            with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as stored:
                payload = {name: stored[name] for name in stored.files}
            dataset = dataset_from_arrays(payload) if f"ds/{_HEADER}" in payload else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError, zipfile.BadZipFile):
            path.unlink(missing_ok=True)
            return None
        return {name[2:]: value for name, value in payload.items() if name.startswith("a/")}, dataset

    def load_arrays(self, key: str, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
        """Only the named arrays of block ``key`` (not its Dataset); ``None`` when the block is not
        on disk, lacks one of them or is unreadable (then it is removed, to be done again)."""
        path = self._block(key)
        if not path.is_file():
            return None
        try:
            with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as stored:
                return {name: stored[f"a/{name}"] for name in names}
        except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError, zipfile.BadZipFile):
            path.unlink(missing_ok=True)
            return None

    def forget(self, prefix: str) -> None:
        """Delete the block files whose key starts with ``prefix`` (their work is to be done again)."""
        for path in self.blocks.glob(f"{prefix}*.npz"):
            path.unlink(missing_ok=True)

    def completed(self) -> int:
        """How many blocks are on disk."""
        return sum(1 for _ in self.blocks.glob("*.npz"))

    def remove(self) -> None:
        """Delete the work folder (once the result is in place) and release its lock."""
        unlock_work_folder(self.path)
        shutil.rmtree(self.path, ignore_errors=True)


_NAMES = {"command": "command", "alsim_version": "alsim version", "numpy_version": "NumPy version", "arms": "--arm",
          "scenario_sha256": "the scenario (its resolved parameters)", "arms_sha256": "the arms' treatments",
          "posterior_sha256": "--posterior (its posterior.csv)",
          "emg_every_days_from_onset": "--emg-every (days between a person's recordings; older runs: every snapshot)"}


_RETIRED = {"backend": "numba"}
"""Identity fields that older alsim recorded and this one no longer does, with the value
that matches this alsim (the compiled engine is the only one): a work folder recording
``"backend": "numba"`` is resumed, one recording ``"numpy"`` is refused."""


def _fresh_seed() -> int:
    """A root seed drawn from OS entropy (as :func:`alsim.engine.streams.fresh_seed`; drawn here
    so that the store imports nothing of the engine)."""
    return int(np.random.SeedSequence().generate_state(1, dtype=np.uint32)[0])


def _refused_fields(stored: dict, identity: dict) -> list[str]:
    """What differs between the stored identity and this command's, in words (``--subjects 20 (now 21)``)."""
    differences = []
    for key in list(identity) + [k for k in stored if k not in identity]:
        was, now = stored.get(key), identity.get(key)
        if key not in identity and key in _RETIRED and was == _RETIRED[key]:
            continue
        if was == now:
            continue
        name = _NAMES.get(key, "--" + key.replace("_", "-"))
        if key not in identity and key in _RETIRED:
            differences.append(f"{name} {json.dumps(was)} (this alsim has only the compiled engine, "
                               f"{json.dumps(_RETIRED[key])})")
            continue
        differences.append(name if key.endswith("_sha256") else f"{name} {json.dumps(was)} (now {json.dumps(now)})")
    return differences


def _resume(work: Path, out: Path, identity: dict, seed: int | None) -> WorkFolder:
    run_file = work / RUN_FILE
    if not run_file.is_file():
        raise ResumeError(f"--resume: no interrupted run for --out {out} (looked for {run_file})")
    try:
        stored = json.loads(run_file.read_text(encoding="utf-8"))
        stored_identity, stored_seed = stored["identity"], int(stored["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ResumeError(f"--resume: {run_file} is unreadable or not from alsim run, trial or window; pass "
                          "--overwrite (without --resume) to discard that folder and start afresh") from None
    differences = _refused_fields(stored_identity, identity)
    if differences:
        command = stored_identity.get("command", "run")
        raise ResumeError(f"--resume: this command differs from the interrupted {command} "
                          f"in {work} in {', '.join(differences)}. Run the same command to continue it, or pass "
                          "--overwrite without --resume to discard it and start afresh")
    if seed is not None and seed != stored_seed:
        raise ResumeError(f"--seed {seed}: the interrupted run in {work} has seed {stored_seed}; pass --seed "
                          f"{stored_seed} or leave --seed out to continue it (or --overwrite without --resume to "
                          "start afresh)")
    for leftover in [*work.glob("final-*"), *work.glob(f"{BLOCKS}/*.tmp")]:   # being written when killed
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return WorkFolder(work, stored_identity, stored_seed)


def open_work_folder(out: str | os.PathLike, identity: dict[str, Any], *, seed: int | None, resume: bool,
                     overwrite: bool) -> WorkFolder:
    """The work folder of ``out``: continued (``resume``) or new.

    ``identity`` holds what a resumed run must share with the original (JSON values;
    alsim and NumPy versions are added). ``seed=None`` takes the interrupted run's seed
    on ``resume``, and draws one for a new run. Raises :class:`OutputExistsError` when
    ``out`` exists and not ``overwrite``; :class:`ResumeError` when ``resume`` finds no
    interrupted run or a different one, and when a new run would meet an interrupted
    one (``overwrite`` discards it). Writes nothing when it raises.
    """
    out = Path(out)
    work = in_progress_folder(out)
    identity = {**identity, **_versions()}
    if out.exists() and not overwrite:
        raise OutputExistsError(f"--out: folder {out} already exists; choose another or pass --overwrite")
    if resume:
        if work.is_dir():
            lock_work_folder(work, out)
        return _resume(work, out, identity, seed)
    if work.exists() and not overwrite:
        raise ResumeError(f"--out {out}: an interrupted run is in {work}; continue it with --resume (same command), "
                          "or pass --overwrite to discard it and start afresh")
    if work.exists():
        lock_work_folder(work, out)                # never discard a folder another process works in
        unlock_work_folder(work)
        shutil.rmtree(work)
    if seed is None:
        seed = _fresh_seed()
    text = json.dumps({"identity": identity, "seed": int(seed)}, indent=1, allow_nan=False) + "\n"
    try:
        work.mkdir(parents=True)
    except FileExistsError:                        # another command made it a moment ago
        raise ResumeError(f"--out {out}: another alsim process has just started on it ({work}); "
                          "wait for it to finish, or stop it and continue with --resume") from None
    try:
        lock_work_folder(work, out)
        (work / BLOCKS).mkdir()
        _write_atomically(work / RUN_FILE, lambda handle: handle.write(text.encode("utf-8")))
    except BaseException:
        unlock_work_folder(work)
        shutil.rmtree(work, ignore_errors=True)
        raise
    return WorkFolder(work, identity, int(seed))
