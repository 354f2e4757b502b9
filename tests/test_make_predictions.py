"""docs/make_predictions.py: the page it writes, one posterior draw per replicate trial,
and how effects beyond follow-up are shown."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from alsim.inference.posterior import Posterior
from alsim.store.provenance import file_sha256
from alsim.trials.design import Arm, TrialDesign
from alsim.trials.execute import allocation

from tests.test_verification import tiny_scenario

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "make_predictions.py"


def _script():
    if "make_predictions" in sys.modules:
        return sys.modules["make_predictions"]
    spec = importlib.util.spec_from_file_location("make_predictions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_predictions"] = module          # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_animal_of_a_replicate_runs_with_that_replicates_draw():
    script = _script()
    design = TrialDesign(scenario=tiny_scenario("dying_back"), arms=(Arm("control", ()), Arm("placebo", ())), per_arm=3,
                         days=60, seed=4, replicates=5)
    cohort = script.replicate_particles(design, Posterior.read("sod1-g93a-b6sjl"), "dying_back")
    draws = []
    for r in range(design.replicates + 1):
        animals = np.concatenate(allocation(design, r))
        particles = np.unique(cohort.of(np.sort(animals)).particle)
        assert particles.size == 1
        draws.append(int(particles[0]))
    assert len(set(draws)) > 1                     # replicates do draw different parameter sets


def test_effects_beyond_follow_up_are_shown_as_bounds():
    script = _script()
    control = np.array([120.0, 130.0, 125.0])
    text = script.interval(np.array([10.0, np.inf, np.inf]), control, follow_up=180)
    assert "> +50" in text and "beyond follow-up in 2 of 3" in text
    assert script.interval(np.array([np.nan, np.nan, np.nan]), control, 180) == "neither median reached"
    # power must stay at or above 80 % from the chosen n on
    assert script.animals_for_power({3: (0.9, 0.1), 5: (0.5, 0.1), 8: (0.85, 0.1)}).startswith("8 ")
    assert script.animals_for_power({3: (0.1, 0.1), 5: (0.2, 0.1)}).startswith("> 5")


def test_the_page_says_what_it_is_and_names_the_posterior(tmp_path):
    page = tmp_path / "predictions.md"
    assert _script().main(["--treatments", "cntf,riluzole", "--per-arm", "3", "--replicates", "2", "--days", "150",
                           "--out", str(page)]) == 0
    text = page.read_text().replace("\n", " ")
    assert "predictions for labs to test" in text
    assert "No treatment strength was set or tuned to a" in text and "not compared with published" in text
    assert file_sha256(Posterior.read("sod1-g93a-b6sjl").folder / "posterior.csv") in text
    assert "--treatments cntf,riluzole" in text and " min on this machine" in text
    for hypothesis in ("dying-back", "dying-forward", "independent"):
        assert f"### {hypothesis}" in text
    assert text.count("| cntf@60 |") == 3
    assert "riluzole@60 (does not act under this hypothesis)" in text      # its pathway is off under dying-back
