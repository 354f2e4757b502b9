"""``results.zarr`` written block by block, so that a cohort's memory does not grow with its size.

``alsim run`` (:mod:`alsim.run.streamed`) builds its store in the work folder,
``.NAME.inprogress/results.zarr``:

- the layout (every variable's metadata, the coordinates, the root attributes) is
  written when the first block of subjects is done, into ``results.zarr.tmp-PID``
  renamed into place, so the store is complete or absent;
- each block's rows are written into their region along ``subject``; a block is one
  Zarr chunk of every per-subject variable, so no two blocks ever share a chunk file
  (Zarr writes each chunk to a temporary file renamed into place);
- a block's chunk files are flushed to disk before its block file is saved, so a block
  file on disk means that block's rows are in the store.

When every block is in, :func:`~alsim.store.results.write_results` puts the
store into the result folder as hard links (:func:`~alsim.store.results.publish_store`), and the result
folder is moved into place in one step as before. The values, dtypes and attributes
are those of ``alsim.simulate`` written with :func:`alsim.store.write_results`; only
the chunking differs (one block per chunk).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import xarray as xr

from .results import format_attrs, open_streamed, publish_store

__all__ = ["STORE", "create_store", "open_streamed", "publish_store", "stream_block_size", "sync_block",
           "tidy_store", "write_block"]

STORE = "results.zarr"


def stream_block_size(subjects: int, base: int = 8, most: int = 64, blocks: int = 256) -> int:
    """Subjects per block (and per Zarr chunk) of a streamed run of ``subjects``.

    ``base`` (the engine's block) up to ``base * blocks`` subjects; above, enough to make
    about ``blocks`` blocks, in multiples of ``base``, at most ``most`` (100,000 mice:
    1,563 blocks of 64, not 12,500 of 8 chunk files per variable). Memory per block in
    flight grows with it; results do not depend on it.
    """
    wanted = -(-subjects // blocks)
    return int(min(most, max(base, -(-wanted // base) * base)))


def _per_subject(variable: xr.Variable) -> bool:
    return "subject" in variable.dims


def create_store(path: Path, first: xr.Dataset, subject: np.ndarray, block_size: int,
                 attrs: dict | None = None) -> None:
    """Write the layout of the cohort's store at ``path``, modelled on the Dataset ``first``
    (a block's rows): every per-subject variable at its full length ``len(subject)``,
    chunked ``block_size`` along ``subject``, not yet written; the other coordinates and
    ``subject`` itself written; ``first``'s attributes updated with ``attrs``."""
    import dask.array as da

    variables, encoding = {}, {}
    for name, variable in first.variables.items():
        if name == "subject" or not _per_subject(variable):
            continue
        if variable.dims[0] != "subject":
            raise ValueError(f"variable {name}: subject must be its first dimension, not {variable.dims}")
        shape = (len(subject), *variable.shape[1:])
        chunks = (block_size, *variable.shape[1:])
        variables[name] = (variable.dims, da.empty(shape, dtype=variable.dtype, chunks=chunks), variable.attrs)
        encoding[name] = {"chunks": chunks}
    coords = {name: first[name].variable for name in first.coords if not _per_subject(first[name].variable)}
    coords["subject"] = ("subject", np.asarray(subject, dtype=first["subject"].dtype), first["subject"].attrs)
    encoding["subject"] = {"chunks": (len(subject),)}
    data_vars = {name: v for name, v in variables.items() if name not in first.coords}
    coords.update({name: v for name, v in variables.items() if name in first.coords})
    template = xr.Dataset(data_vars, coords=coords, attrs={**first.attrs, **(attrs or {}), **format_attrs()})
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        template.to_zarr(tmp, mode="w", compute=False, consolidated=False, zarr_format=2, encoding=encoding)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_block(path: Path, block: xr.Dataset, start: int) -> None:
    """Write ``block``'s rows (subjects ``start ..``) into their region of the store at ``path``.

    Each per-subject variable, encoded as xarray encodes it for Zarr, is assigned to its rows
    of the store's array with Zarr itself: the bytes of ``Dataset.to_zarr(region=...)``, without
    its checks of the whole store on every block (they cost about half of a block's write).
    """
    import zarr
    from xarray.conventions import encode_cf_variable

    group = zarr.open_group(path, mode="r+", zarr_format=2)
    rows = slice(start, start + block.sizes["subject"])
    for name, variable in block.variables.items():
        if name == "subject" or not _per_subject(variable):
            continue
        array = group[name]
        values = np.asarray(encode_cf_variable(variable, name=name).values)
        if values.dtype != array.dtype or values.shape[1:] != array.shape[1:]:
            raise ValueError(f"variable {name}: block has {values.dtype} {values.shape}, the store "
                             f"{array.dtype} {array.shape}")
        array[rows] = values


def sync_block(path: Path, chunk: int) -> None:
    """Flush to disk the chunk files of block number ``chunk`` (and their folders)."""
    for folder in sorted(p for p in path.iterdir() if p.is_dir()):
        if folder.name == "subject":
            continue
        for file in folder.glob(f"{chunk}.*"):
            _fsync(file, os.O_RDONLY)
        single = folder / str(chunk)       # 1-d variables: the chunk key has no separator
        if single.is_file():
            _fsync(single, os.O_RDONLY)
        _fsync(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tidy_store(path: Path) -> bool:
    """Remove what a killed run left half-written beside or in the store at ``path`` (a
    layout being created, chunk files being written); whether the store is there."""
    for leftover in path.parent.glob(f"{path.name}.tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    if not path.is_dir():
        return False
    for leftover in path.rglob("*.partial"):
        leftover.unlink(missing_ok=True)
    return True
