"""The public face: ``alsim.__all__`` is the curated list, every name in it is documented
(a docstring, and a mention in README.md or docs/), and ``import alsim`` loads nothing else."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import alsim

ROOT = Path(__file__).resolve().parent.parent
CURATED = ["Scenario", "ScenarioError", "__version__", "calibrate", "compare", "load_scenario", "preset_names",
           "read_results", "run_trial", "simulate"]
VERBS = ["simulate", "run_trial", "calibrate", "compare", "load_scenario", "read_results"]


def test_all_is_the_curated_list():
    assert sorted(alsim.__all__) == sorted(CURATED)
    assert set(VERBS) <= set(alsim.__all__)
    assert all(hasattr(alsim, name) for name in alsim.__all__)


def test_every_public_name_has_a_docstring_and_is_in_the_docs():
    pages = "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
    for name in alsim.__all__:
        assert f"alsim.{name}" in pages, f"alsim.{name} appears neither in README.md nor in docs/*.md"
        if name == "__version__":
            assert alsim.__version__.count(".") == 2
            continue
        doc = inspect.getdoc(getattr(alsim, name)) or ""
        assert len(doc.split()) >= 5, f"alsim.{name} has no docstring worth the name: {doc!r}"


def test_a_verb_is_the_function_of_its_part():
    from alsim.inference.verbs import calibrate
    from alsim.run import simulate
    from alsim.trials.trial import run_trial

    assert alsim.simulate is simulate and alsim.run_trial is run_trial and alsim.calibrate is calibrate


def test_an_unknown_name_is_an_attribute_error():
    try:
        alsim.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("alsim.no_such_name did not raise AttributeError")


def test_importing_alsim_loads_nothing_else():
    """Cheap and side-effect free: no NumPy, xarray, matplotlib or alsim submodule until a name is used."""
    code = ("import sys, alsim; heavy = ('numpy', 'xarray', 'matplotlib', 'numba', 'dask', 'pydantic'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('alsim.') "
            "and m != 'alsim._version'))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", loaded


def test_run_trial_is_what_alsim_trial_writes(tmp_path):
    """The trial verb on a design's settings gives the summary ``alsim trial`` stores in trial.json."""
    import json

    from alsim.cli import main

    from .conftest import write_small_preset

    small = write_small_preset(tmp_path / "small.toml")
    settings = {"scenario": str(small), "arms": ["control", "placebo"], "per_arm": 2, "seed": 1, "days": 5}
    result = alsim.run_trial(settings)
    assert list(result.runs) == [0] and list(result.runs[0]) == ["control", "placebo"]
    design = tmp_path / "design.toml"
    design.write_text(f'scenario = "{small}"\narms = ["control", "placebo"]\nper_arm = 2\nseed = 1\ndays = 5\n')
    assert main(["trial", "--design", str(design), "--out", str(tmp_path / "out")]) == 0
    stored = json.loads((tmp_path / "out" / "trial.json").read_text())
    stored.pop("results")
    assert json.loads(json.dumps(result.summary)) == stored
