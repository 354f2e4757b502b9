"""The results store as others read it: ``xr.open_zarr`` finds consolidated metadata
(no warning, whether written in one piece or streamed block by block and published as
hard links), and the attributes follow the CF conventions where they fit (UDUNITS
``units``, ``long_name``, units on the day coordinates, ``Conventions``, an integer seed)."""

from __future__ import annotations

import os
import warnings

import pytest
import xarray as xr

import alsim
from alsim.run import run_identity
from alsim.run import stream as simulate_resumable
from alsim.run import streamed as resumable
from alsim.store import open_work_folder, write_results
from alsim.store.streaming import STORE

from .conftest import small_scenario

cf_xarray = pytest.importorskip("cf_xarray")


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """(folder written in one piece, folder streamed and published, the work folder's store)."""
    tmp = tmp_path_factory.mktemp("stores")
    options = dict(subjects=4, days=15, mune_method="multipoint")
    scenario = small_scenario()
    whole = alsim.simulate(scenario, seed=3, **options)
    work = open_work_folder(tmp / "out", run_identity(scenario, **options), seed=3, resume=False, overwrite=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(resumable, "BLOCK_SIZE", 2)
        streamed = simulate_resumable(scenario, work, **options)
    (tmp / "memory").mkdir()
    (tmp / "streamed").mkdir()
    write_results(whole, tmp / "memory")
    write_results(streamed, tmp / "streamed")
    return tmp / "memory" / STORE, tmp / "streamed" / STORE, work.path / STORE


def test_open_zarr_reads_consolidated_metadata_without_a_warning(stores):
    for store in stores[:2]:
        assert (store / ".zmetadata").is_file()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with xr.open_zarr(store) as ds:
                assert "force_fraction" in ds


def test_publishing_does_not_write_through_links_into_the_work_folder(stores):
    """The published root metadata is a copy: consolidating it leaves the work folder's store as it was."""
    _, published, work_store = stores
    assert not (work_store / ".zmetadata").exists()
    for name in (".zattrs", ".zgroup"):
        assert os.stat(published / name).st_ino != os.stat(work_store / name).st_ino


@pytest.mark.parametrize("which", [0, 1])
def test_attributes_follow_the_cf_conventions(stores, which):
    from cf_xarray.units import units

    with xr.open_zarr(stores[which]) as ds:
        assert ds.attrs["Conventions"] == "CF-1.10"
        assert isinstance(ds.attrs["seed"], int) and ds.attrs["seed"] == 3
        assert ds.cf["T"].name == "day"                       # found by its axis attribute
        for name in ("day", "emg_day"):
            assert units.parse_units(ds[name].attrs["units"]) == units.day
        for name, variable in ds.data_vars.items():
            if "units" not in variable.attrs:
                assert variable.dtype.kind in "UO" or name in ("litter",), name   # labels and indices
                continue
            units.parse_units(variable.attrs["units"])         # raises on prose such as "days of age"
            assert variable.attrs["long_name"] and variable.attrs["description"], name
        assert ds["endplates_denervated_fraction"].attrs["units"] == "1"
        assert "intact endplates" in ds["endplates_denervated_fraction"].attrs["long_name"]


def test_human_results_follow_the_cf_conventions():
    from cf_xarray.units import units

    from .test_human import small_human

    ds = alsim.simulate(small_human(), subjects=2, days=60, seed=1)
    assert ds.cf["T"].name == "day" and ds.attrs["Conventions"] == "CF-1.10"
    for name, variable in ds.data_vars.items():
        if "units" in variable.attrs:
            units.parse_units(variable.attrs["units"])
            assert variable.attrs.get("long_name"), name
