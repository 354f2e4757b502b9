"""End-to-end tests of the command line, driven in-process through ``alsim.cli.main``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from alsim.cli import main
from alsim.store import read_results

from .conftest import write_small_preset

GOLDEN = Path(__file__).parent / "golden" / "run_small_summary.json"


@pytest.fixture
def small_toml(tmp_path):
    f = tmp_path / "small.toml"
    write_small_preset(f)
    return f


def test_presets_command(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "sod1-g93a-b6sjl" in out and "wildtype-mouse" in out and "sod1-g93a-c57bl6" in out


def test_run_writes_results_summary_and_report(small_toml, tmp_path):
    out = tmp_path / "run"
    code = main(["run", str(small_toml), "--subjects", "6", "--seed", "7", "--days", "150", "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["provenance.json", "report.html", "results.zarr", "sources.json",
                                                     "summary.json"]
    ds = read_results(out)
    for name in ("endplates_innervated_fraction", "endplates_fully_innervated_fraction", "endplates_denervated_fraction",
                 "motor_neurons_alive_fraction", "axons_intact_fraction", "motor_units_functional_fraction",
                 "mean_motor_unit_size", "force_fraction"):
        assert ds[name].dims == ("subject", "muscle", "day")
        assert ds[name].attrs["units"] and ds[name].attrs["description"]
    assert ds.onset_day.dims == ("subject",) and ds.end_stage_day.dims == ("subject",)
    assert ds.attrs["seed"] == 7 and ds.attrs["alsim_version"] and "scenario_json" in ds.attrs
    assert json.loads(ds.attrs["scenario_json"])["name"] == "small"
    assert ds.sizes == {"subject": 6, "muscle": 4, "day": 151, "unit_type": 3, "emg_day": 23}
    for name in ("cmap_fraction", "mune", "munix", "musix"):          # every 7th day and day 150
        assert ds[name].dims == ("subject", "muscle", "emg_day") and ds[name].attrs["units"]
    assert ds.attrs["mune_method"] == "multipoint"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 7 and summary["subjects"] == 6
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html
    sources = json.loads((out / "sources.json").read_text())
    assert sources["muscles.gastrocnemius.n_fibres"] == "assumed: small muscles, fast tests"   # the given source


def test_run_golden_summary(small_toml, tmp_path):
    """The summary of a fixed small run; regenerate with ALSIM_REGENERATE_GOLDEN=1 after a deliberate model change."""
    out = tmp_path / "golden"
    assert main(["run", str(small_toml), "--subjects", "8", "--seed", "2026", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    summary.pop("alsim_version")
    if os.environ.get("ALSIM_REGENERATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(summary, indent=2) + "\n")
    assert summary == json.loads(GOLDEN.read_text())


def test_run_same_seed_same_bits_via_cli(small_toml, tmp_path):
    """9 subjects are 2 blocks: with --workers 2 they run on two threads of a local cluster, EMG included."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", str(small_toml), "--subjects", "9", "--seed", "5", "--days", "40", "--out", str(a)]) == 0
    assert main(["run", str(small_toml), "--subjects", "9", "--seed", "5", "--days", "40", "--out", str(b), "--workers", "2"]) == 0
    x, y = read_results(a), read_results(b)
    for name in x.data_vars:
        np.testing.assert_array_equal(x[name].values, y[name].values)


def test_run_refuses_to_overwrite(small_toml, tmp_path, capsys):
    out = tmp_path / "exists"
    out.mkdir()
    (out / "keep.txt").write_text("earlier result")
    assert main(["run", str(small_toml), "--subjects", "1", "--days", "5", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "earlier result"


@pytest.mark.parametrize("args, fragment", [
    (["run", "no-such-preset"], "unknown preset 'no-such-preset'"),
    (["run", "sod1-g93a-b6sjl", "--set", "rates.not_a_rate=1"], "unknown field 'not_a_rate'"),
    (["run", "sod1-g93a-b6sjl", "--set", "rates.sprouting=-0.5"], "rates.sprouting"),
    (["run", "sod1-g93a-b6sjl", "--set", "variability.female_fraction=1.5"], "variability.female_fraction"),
    (["run", "sod1-g93a-b6sjl", "--subjects", "0"], "--subjects"),
    (["run", "sod1-g93a-b6sjl", "--hypothesis", "sideways"], "--hypothesis"),
])
def test_bad_input_exit_2_one_message_nothing_written(args, fragment, tmp_path, capsys):
    out = tmp_path / "never"
    code = main([*args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_malformed_toml_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "sod1-g93a-b6sjl"\n[rates\n')
    out = tmp_path / "never"
    assert main(["run", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "malformed TOML" in err and "Traceback" not in err
    assert not out.exists()


def test_failed_write_leaves_nothing(small_toml, tmp_path, monkeypatch):
    """A crash while writing leaves neither a result folder nor a temporary one, only the hidden work
    folder with the completed block (for --resume); the catalogue says it failed."""
    from alsim.store import Catalogue

    import alsim.store.results as results

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(results.xr.Dataset, "to_zarr", broken)
    out = tmp_path / "crash"
    with pytest.raises(OSError):
        main(["run", str(small_toml), "--subjects", "1", "--days", "5", "--out", str(out)])
    assert sorted(p.name for p in tmp_path.iterdir()) == [".crash.inprogress", "alsim-catalogue.sqlite", small_toml.name]
    assert sorted(p.name for p in (tmp_path / ".crash.inprogress").iterdir()) == ["blocks", "lock", "run.json"]
    assert [e.status for e in Catalogue(tmp_path).entries()] == ["failed"]


def test_stored_scenario_and_seed_rebuild_the_run(small_toml, tmp_path):
    """Provenance round trip: the scenario and seed stored in results.zarr give the same bits again."""
    import alsim
    from alsim.config import Scenario

    out = tmp_path / "orig"
    assert main(["run", str(small_toml), "--subjects", "3", "--seed", "12", "--days", "70", "--out", str(out)]) == 0
    stored = read_results(out)
    scenario = Scenario.model_validate(json.loads(stored.attrs["scenario_json"]))
    again = alsim.simulate(scenario, subjects=stored.sizes["subject"], days=stored.sizes["day"] - 1,
                           seed=int(stored.attrs["seed"]))
    for name in again.data_vars:
        np.testing.assert_array_equal(stored[name].values, again[name].values)
