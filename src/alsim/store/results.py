"""Writing and reading a run's results.

A run's folder holds ``results.zarr`` (the Dataset), ``summary.json`` and
``report.html``. A store streamed block by block in a work folder
(:mod:`alsim.store.streaming`) is opened lazily from there (:func:`open_streamed`) and
published into the result folder as hard links (:func:`publish_store`). Everything is written into a hidden temporary folder beside the
target and moved into place only when complete, so a failed or killed run leaves no
half-written result and never damages an earlier one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import xarray as xr

FORMAT_VERSION = 1
FORMAT_NOTE = ("alsim results store, format 1: an xarray Dataset in Zarr with dims subject, muscle, day "
               "(age in days), unit_type; units and descriptions in variable attributes; the resolved "
               "scenario (JSON), seed and alsim version in the root attributes.")


def format_attrs() -> dict:
    """The root attributes that say a store is alsim's, and in which format."""
    return {"alsim_format_version": FORMAT_VERSION, "alsim_format_note": FORMAT_NOTE}


_MARK = "alsim_streamed_store"     # ds.encoding key: the store a Dataset was opened from
_LINK_UNSUPPORTED = {errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}


class OutputExistsError(FileExistsError):
    """The output folder exists and overwriting was not asked for."""


@contextlib.contextmanager
def atomic_output_dir(target: str | os.PathLike, *, overwrite: bool = False,
                      scratch: str | os.PathLike | None = None) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``target``, on failure it is removed.

    The temporary folder is ``.NAME.partial-*`` beside ``target``, or ``final-*`` in
    ``scratch`` (a command's work folder, on the same file system, which ``--resume``
    clears of a result that was being written when the command was killed).
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise OutputExistsError(f"output folder {target} already exists; choose another --out or pass --overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    if scratch is None:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    else:
        tmp = Path(tempfile.mkdtemp(prefix="final-", dir=scratch))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_results(ds: xr.Dataset, folder: str | os.PathLike) -> Path:
    """Write ``ds`` to ``folder/results.zarr`` (the folder should come from :func:`atomic_output_dir`).

    A Dataset streamed to a store block by block (:mod:`alsim.store.streaming`) is not
    written again: that store is put there (hard links to its files).
    """
    path = Path(folder) / "results.zarr"
    source = streamed_from(ds)
    if source is not None:
        publish_store(source, path)
        consolidate(path)
        return path
    out = ds.copy()
    out.attrs = {**ds.attrs, **format_attrs()}
    out.to_zarr(path, mode="w", consolidated=True, zarr_format=2)
    return path


def consolidate(path: Path) -> None:
    """Write the consolidated metadata (``.zmetadata``) of the finished store at ``path``,
    so that ``xr.open_zarr`` reads every variable's metadata in one file and does not warn."""
    import zarr

    zarr.consolidate_metadata(str(path), zarr_format=2)


def read_results(path: str | os.PathLike) -> xr.Dataset:
    """Open a results store written by :func:`write_results` (loaded into memory)."""
    path = Path(path)
    if path.is_dir() and (path / "results.zarr").exists():
        path = path / "results.zarr"
    ds = xr.open_zarr(path, consolidated=False).load()
    version = ds.attrs.get("alsim_format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{path}: results format {version!r} is not supported (this alsim reads {FORMAT_VERSION})")
    return ds


def write_summary(summary: dict, folder: str | os.PathLike) -> Path:
    path = Path(folder) / "summary.json"
    path.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def open_streamed(path: Path) -> xr.Dataset:
    """The store at ``path`` as a lazily read Dataset (a variable is read when its values
    are used), with the attributes ``alsim.simulate`` gives (the format's left out)."""
    ds = xr.open_zarr(path, consolidated=False, chunks=None)
    for key in format_attrs():
        ds.attrs.pop(key, None)
    ds.encoding[_MARK] = str(path)
    return ds


def streamed_from(ds: xr.Dataset) -> Path | None:
    """The store ``ds`` was opened from by :func:`open_streamed`, if it is all of it."""
    source = ds.encoding.get(_MARK)
    if source is None or not Path(source).is_dir():
        return None
    with xr.open_zarr(source, consolidated=False, chunks=None) as stored:
        if dict(stored.sizes) != dict(ds.sizes) or set(stored.variables) != set(ds.variables):
            return None
    return Path(source)


def publish_store(source: Path, target: Path) -> None:
    """Put the finished store ``source`` at ``target`` (in the temporary result folder):
    hard links to its files, or copies where the file system has none. ``source`` stays
    readable until the work folder is removed."""
    partial = target.with_name(target.name + ".linking")
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(partial)
    copy = None
    for folder, _, files in os.walk(source):
        destination = partial / Path(folder).relative_to(source)
        destination.mkdir(parents=True, exist_ok=True)
        for name in files:
            if folder == str(source) and name.startswith("."):
                # the root metadata is copied, not linked: consolidating rewrites it,
                # and a write through a link would change the work folder's store too
                shutil.copy2(Path(folder) / name, destination / name)
                continue
            copy = _link_or_copy(Path(folder) / name, destination / name, copy)
    os.replace(partial, target)


def _link_or_copy(source: Path, target: Path, copy: bool | None) -> bool:
    """Link ``source`` to ``target`` (copy when ``copy``, or when linking is not supported);
    whether to copy from now on."""
    if not copy:
        try:
            os.link(source, target)
            return False
        except OSError as exc:
            if exc.errno not in _LINK_UNSUPPORTED:
                raise
    shutil.copy2(source, target)
    return True
