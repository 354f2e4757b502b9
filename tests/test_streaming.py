"""``alsim run`` streams its results to Zarr block by block (``alsim.run.streamed``, ``alsim.store.streaming``): the store it
builds holds the same bits as ``alsim.simulate`` written in one piece, for mice and for people,
whatever the block size, and a store left half-written by a kill is tidied and completed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import alsim
from alsim.inference.cohort import (
    PosteriorCohort,
    posterior_assignment,
    simulate_with_posterior,
)
from alsim.inference.posterior import Posterior
from alsim.run import run_identity, summarise
from alsim.run import stream as simulate_resumable
from alsim.run import streamed as resumable
from alsim.store import compare_outputs, open_work_folder, write_results
from alsim.store.streaming import STORE, stream_block_size

from .conftest import small_scenario


def streamed_and_in_memory(scenario, tmp_path, *, seed: int, **options):
    """(folder of the streamed run's results.zarr, folder of ``alsim.simulate``'s, the two Datasets)."""
    whole = alsim.simulate(scenario, seed=seed, **options)
    work = open_work_folder(tmp_path / "out", run_identity(scenario, **options), seed=seed, resume=False,
                            overwrite=False)
    streamed = simulate_resumable(scenario, work, **options)
    (tmp_path / "streamed").mkdir()
    (tmp_path / "memory").mkdir()
    write_results(streamed, tmp_path / "streamed")
    write_results(whole, tmp_path / "memory")
    return tmp_path / "streamed", tmp_path / "memory", streamed, whole, work


def chunk_rows(store) -> set[int]:
    """The chunk lengths along ``subject`` of the store's per-subject variables."""
    rows = set()
    for meta in store.glob("*/.zarray"):
        dims = json.loads((meta.parent / ".zattrs").read_text())["_ARRAY_DIMENSIONS"]
        if dims[0] == "subject" and meta.parent.name != "subject":
            rows.add(json.loads(meta.read_text())["chunks"][0])
    return rows


def test_mouse_stream_is_the_in_memory_result_bit_for_bit(tmp_path, monkeypatch):
    """Blocks of 3 (3 blocks, the last of 1), one Zarr chunk each; then a kill's leftovers (a block
    file lost, a chunk and a layout half-written) are tidied and the block redone: the same bits."""
    monkeypatch.setattr(resumable, "BLOCK_SIZE", 3)
    options = dict(subjects=7, days=14, mune_method="multipoint")
    streamed, memory, ds, whole, work = streamed_and_in_memory(small_scenario(), tmp_path, seed=5, **options)
    assert compare_outputs(memory, streamed) == (None, 1)
    assert chunk_rows(streamed / STORE) == {3} and work.completed() == 3
    assert summarise(ds) == summarise(whole) and ds.attrs == whole.attrs
    (work.blocks / "subjects-000001.npz").unlink()
    (work.path / STORE / "force_fraction" / "1.0.1234.partial").write_bytes(b"half a chunk")
    (work.path / f"{STORE}.tmp-99").mkdir()
    again = simulate_resumable(small_scenario(), work, **options)
    assert not list(work.path.rglob("*.partial")) and not list(work.path.glob(f"{STORE}.tmp-*"))
    (tmp_path / "again").mkdir()
    write_results(again, tmp_path / "again")
    assert compare_outputs(memory, tmp_path / "again") == (None, 1)


def small_human():
    """The limb preset with 10 units of 10 fibres per muscle and a fast disease (onset near day 80)."""
    muscles = list(alsim.load_scenario("human-sals-limb")[0].muscles)
    overrides = ["disease.burden_scale_days=25"] + [f"muscles.{m}.n_motor_units=10" for m in muscles]
    return alsim.load_scenario("human-sals-limb", overrides + [f"muscles.{m}.n_fibres=100" for m in muscles])[0]


def test_human_stream_is_the_in_memory_result_bit_for_bit(tmp_path, monkeypatch):
    """People on a cohort-wide day-from-onset grid: blocks of 1, written in groups of 2, each computed
    with the subjects of the earliest and latest onset (which set the grids)."""
    monkeypatch.setattr(resumable, "BLOCK_SIZE", 1)
    monkeypatch.setattr(resumable, "HUMAN_GROUP_BLOCKS", 2)
    options = dict(subjects=4, days=100, mune_method="multipoint")
    streamed, memory, ds, whole, work = streamed_and_in_memory(small_human(), tmp_path, seed=5, **options)
    onset = whole.onset_sim_day.values
    assert np.isfinite(onset).all() and len(np.unique(onset)) > 2      # the grids span several onsets
    assert compare_outputs(memory, streamed) == (None, 1)
    assert chunk_rows(streamed / STORE) == {2}
    assert summarise(ds) == summarise(whole) and ds.attrs == whole.attrs


def streamed_posterior(scenario, folder, tmp_path, name: str, *, seed: int, workers: int = 1, **options):
    """(result folder, Dataset) of ``alsim run --posterior folder``'s stream, without the command line."""
    cohort = PosteriorCohort.draw(scenario, folder, subjects=options["subjects"], seed=seed)
    work = open_work_folder(tmp_path / f"{name}-work", run_identity(scenario, **options, posterior_sha256="0" * 64),
                            seed=seed, resume=False, overwrite=False)
    ds = simulate_resumable(cohort, work, workers=workers, **options)
    (tmp_path / name).mkdir()
    write_results(ds, tmp_path / name)
    return tmp_path / name, ds


def test_mouse_posterior_stream_is_the_in_memory_result_bit_for_bit(tmp_path, monkeypatch):
    """``--posterior``: blocks of 3 whose subjects ran with several particles, streamed on 1 and on 2
    workers, hold the bits of :func:`simulate_with_posterior` (one census per particle, in memory)."""
    monkeypatch.setattr(resumable, "BLOCK_SIZE", 3)
    scenario, seed = small_scenario(), 5
    options = dict(subjects=7, days=40, mune_method="multipoint")
    whole = simulate_with_posterior(scenario, "sod1-g93a-b6sjl", seed=seed, subjects=7, days=40)
    posterior = Posterior.read("sod1-g93a-b6sjl")
    particle = posterior_assignment(posterior, "dying_back", 7, seed)
    assert len(np.unique(particle[:3])) > 1 and len(np.unique(particle[3:6])) > 1      # blocks mix particles
    np.testing.assert_array_equal(whole.posterior_particle.values, particle)
    np.testing.assert_array_equal(whole.parameter_value.values, posterior.of("dying_back")[0].to_numpy()[particle])
    (tmp_path / "memory").mkdir()
    write_results(whole, tmp_path / "memory")
    for workers in (1, 2):
        folder, ds = streamed_posterior(scenario, "sod1-g93a-b6sjl", tmp_path, f"workers-{workers}", seed=seed,
                                        workers=workers, **options)
        assert compare_outputs(tmp_path / "memory", folder) == (None, 1)
        assert chunk_rows(folder / STORE) == {3}
        assert ds.attrs == whole.attrs and summarise(ds) == summarise(whole)


def test_human_posterior_stream_is_the_in_memory_result_bit_for_bit(tmp_path, monkeypatch):
    """People of three particles (disease speeds), in blocks of 1 written in groups of 2 on the cohort's
    day-from-onset grid: the bits, grids included, of the union of each particle's grid in memory."""
    monkeypatch.setattr(resumable, "BLOCK_SIZE", 1)
    monkeypatch.setattr(resumable, "HUMAN_GROUP_BLOCKS", 2)
    pd.DataFrame({"hypothesis": "dying_back", "weight": [0.3, 0.3, 0.4],
                  "disease.burden_scale_days": [20.0, 25.0, 30.0]}).to_csv(tmp_path / "posterior.csv", index=False)
    scenario, seed = small_human(), 5
    options = dict(subjects=5, days=100, mune_method="multipoint")
    whole = simulate_with_posterior(scenario, tmp_path, seed=seed, subjects=5, days=100)
    assert len(np.unique(whole.posterior_particle.values)) == 3
    assert np.isfinite(whole.onset_sim_day.values).all() and len(np.unique(whole.onset_sim_day.values)) > 2
    (tmp_path / "memory").mkdir()
    write_results(whole, tmp_path / "memory")
    folder, ds = streamed_posterior(scenario, tmp_path, tmp_path, "streamed", seed=seed, **options)
    assert compare_outputs(tmp_path / "memory", folder) == (None, 1)
    assert ds.attrs == whole.attrs and summarise(ds) == summarise(whole)


@pytest.mark.parametrize("subjects, size", [(1, 8), (2048, 8), (2049, 16), (10_000, 40), (100_000, 64)])
def test_block_size_grows_only_for_large_cohorts(subjects, size):
    assert stream_block_size(subjects) == size
