"""The structure x hypothesis comparison: priors, the joint B6SJL + C57BL6 simulator, pyabc wiring."""

from __future__ import annotations

import numpy as np
import pytest

from alsim.inference.priors import load_priors
from alsim.inference.structures import (STRUCTURES, JointModel, _strain_priors, joint_observed, joint_statistics,
                                        model_priors, strain_values)


def test_model_priors_add_joint_and_structure_parameters_with_sources():
    base = set(load_priors("dying_back").paths)
    original = model_priors("original", "dying_back")
    first = model_priors("terminal_first", "dying_back")
    assert original.hypothesis == "original/dying_back"
    assert base < set(original.paths) and base < set(first.paths)
    assert "rates.soma_starvation_death" in original.paths and "rates.soma_starvation_death" not in first.paths
    assert {"structure.early_burden_amplitude", "structure.orphan_death"} <= set(first.paths)
    assert "C57BL6:disease.burden_scale_days" in first.paths
    assert 10 <= len(original.paths) <= 15 and 10 <= len(first.paths) <= 15
    assert all(p.source for p in first.priors + original.priors)


def test_unknown_structure_is_refused_with_the_allowed_names():
    with pytest.raises(ValueError, match="original, terminal_first"):
        model_priors("sideways", "dying_back")


def test_strain_split_gives_each_strain_its_own_clock():
    natural = {"disease.burden_scale_days": 70.0, "C57BL6:disease.burden_scale_days": 95.0, "rates.x": 1.0}
    assert strain_values(natural, "B6SJL") == {"disease.burden_scale_days": 70.0, "rates.x": 1.0}
    assert strain_values(natural, "C57BL6") == {"disease.burden_scale_days": 95.0, "rates.x": 1.0}
    priors = _strain_priors(model_priors("original", "dying_back"), "C57BL6", "dying_back")
    scale = [p for p in priors.priors if p.path == "disease.burden_scale_days"]
    assert len(scale) == 1 and scale[0].high == 160.0  # the C57BL6 prior replaces the shared one
    assert not any(":" in p for p in priors.paths)


def test_rows_of_unspecified_background_are_read_once():
    stats = joint_statistics()
    b6, c57 = {s.key for s in stats["B6SJL"]}, {s.key for s in stats["C57BL6"]}
    assert not b6 & c57
    assert any(k.startswith("c57bl6_") for k in c57) and all(k.startswith("c57bl6_") for k in c57)
    assert len(joint_observed(stats)) == len(b6) + len(c57)


@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_joint_model_is_reproducible_and_reads_every_statistic(structure):
    model = JointModel(structure, "dying_back", subjects=2)
    natural = {p.path: (p.low * p.high) ** 0.5 if p.log else (p.low + p.high) / 2 for p in model.priors.priors}
    first = model.simulate_statistics(natural, seed=5, noisy=False)
    again = model.simulate_statistics(natural, seed=5, noisy=False)
    assert first == again
    assert set(first) == set(joint_observed(joint_statistics()))
    assert all(np.isfinite(v) for v in first.values())
    for strain, cohort in model.cohorts.items():
        settings = STRUCTURES[structure]
        assert cohort.base.structure.clock == settings["structure.clock"], strain


# --- recovery on data simulated by alsim (tiny scenario, as tests/test_calibration.py) ------

from alsim.config.schema import Scenario  # noqa: E402
from alsim.inference.model import CohortModel  # noqa: E402
from alsim.inference.observations import Statistic  # noqa: E402
from alsim.inference.posterior import weighted_quantile  # noqa: E402
from alsim.inference.smc import AbcSettings, model_probabilities, run_abc_models  # noqa: E402
from tests.test_calibration import DAYS, TINY_STATISTICS, _assert_nominal  # noqa: E402
from tests.test_verification import tiny_scenario  # noqa: E402


def _tiny(structure: str) -> Scenario:
    tree = tiny_scenario("dying_back").model_dump()
    tree["structure"].update({k.split(".", 1)[1]: v for k, v in STRUCTURES[structure].items()})
    tree["structure"]["early_burden_start_day"] = 5.0
    return Scenario.model_validate(tree)


def _tiny_priors(tmp_path, name: str, entries: dict[str, tuple[float, float]]):
    path = tmp_path / f"{name.replace('/', '-')}.toml"
    path.write_text('hypothesis = "dying_back"\n' + "".join(
        f'[parameters."{k}"]\nlow = {lo}\nhigh = {hi}\nscale = "log"\nsource = "assumed: test"\n'
        for k, (lo, hi) in entries.items()))
    priors = load_priors("dying_back", path)
    return priors


def _tiny_observed(model: CohortModel, truth: dict, seed: int) -> dict[str, float]:
    return model.simulate_statistics(truth, seed)


#: The tiny statistics and one read before the late clock acts (the early process starts on day 5).
STATISTICS = [*TINY_STATISTICS, Statistic("denervated_12", "denervated at P12", 0.0, 0.05, "test", "fraction",
                                          "readout_at_day", {"var": "endplates_denervated_fraction",
                                                             "muscles": ["gastrocnemius"], "day": 12}, "", "")]


def _model(structure: str, priors) -> CohortModel:
    return CohortModel(_tiny(structure), priors, STATISTICS, subjects=8, days=DAYS)


NEW_PARAMETERS = {"structure.early_burden_amplitude": (0.1, 5.0), "structure.orphan_death": (0.005, 0.1)}


@pytest.mark.slow
def test_new_structure_parameters_are_recovered_at_the_nominal_rate(tmp_path):
    """90 % intervals of the terminal-first parameters cover the generating values (6 datasets)."""
    priors = _tiny_priors(tmp_path, "terminal_first", NEW_PARAMETERS)
    model = _model("terminal_first", priors)
    rng = np.random.default_rng(7)
    covered = total = 0
    for d in range(6):
        coordinates = {p.path: rng.uniform(*p.coordinate_bounds) for p in priors.priors}
        observed = _tiny_observed(model, priors.to_natural(coordinates), 500 + d)
        settings = AbcSettings(budget=300, population=40, subjects=8, days=DAYS, seed=d)
        history = run_abc_models([model], [priors], observed, settings, tmp_path / f"recover-{d}.db")
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        for p in priors.priors:
            low, high = weighted_quantile(frame[p.path].to_numpy(), weights, [0.05, 0.95])
            covered += int(low <= coordinates[p.path] <= high)
            total += 1
    print(f"coverage of 90 % intervals: {covered}/{total}")
    _assert_nominal(covered, total)


def test_comparison_picks_the_generating_structure(tmp_path):
    """Data made under terminal-first (early terminal loss) are given to both structures."""
    first = _tiny_priors(tmp_path, "terminal_first", {"structure.early_burden_amplitude": (0.1, 5.0)})
    original = _tiny_priors(tmp_path, "original", {"rates.soma_starvation_death": (0.002, 0.1)})
    models = [_model("terminal_first", first), _model("original", original)]
    observed = _tiny_observed(models[0], {"structure.early_burden_amplitude": 2.0}, 11)
    settings = AbcSettings(budget=500, population=60, subjects=8, days=DAYS, seed=5)
    history = run_abc_models(models, [first, original], observed, settings, tmp_path / "structures.db")
    probabilities = model_probabilities(history, ["terminal_first", "original"])
    p, se = probabilities["terminal_first"]["probability"], probabilities["terminal_first"]["monte_carlo_se"]
    print(f"P(terminal_first) = {p:.3f} +- {se:.3f}")
    assert p - 3 * se > 0.5


def test_stopping_at_end_stage_leaves_the_calibration_statistics_unchanged():
    """CohortModel stops each mouse at its end stage; the readouts are NaN after it anyway."""
    import alsim
    from alsim.inference.observations import fitted_statistics
    from alsim.inference.summaries import compute_all

    scenario = _tiny("terminal_first")
    whole = alsim.simulate(scenario, subjects=6, days=DAYS, seed=8, electrophysiology=False)
    stopped = alsim.simulate(scenario, subjects=6, days=DAYS, seed=8, electrophysiology=False, stop_at_end_stage=True)
    assert np.isfinite(whole.end_stage_day.values).any()
    for name in ("endplates_innervated_fraction", "motor_neurons_alive_fraction", "onset_day", "end_stage_day"):
        np.testing.assert_array_equal(whole[name].values, stopped[name].values)
    statistics = [s for s in fitted_statistics("B6SJL") if s.kind.startswith("endpoint")
                  or set(s.spec.get("muscles", [])) == {"gastrocnemius"}]
    assert len(statistics) >= 4
    assert compute_all(whole, statistics) == pytest.approx(compute_all(stopped, statistics), nan_ok=True)


def test_demo_draws_each_hypothesis_from_its_own_posterior(tmp_path, capsys):
    """``alsim demo`` runs each hypothesis with parameter sets drawn from the packaged posterior."""
    import json

    from alsim.cli import main
    from alsim.inference.posterior import Posterior

    out = tmp_path / "demo"
    assert main(["demo", "--subjects", "2", "--out", str(out)]) == 0
    provenance = json.loads((out / "provenance.json").read_text())
    assert any("posteriors/sod1-g93a-b6sjl/posterior.csv" in str(entry) for entry in json.dumps(provenance).split('"'))
    posterior = Posterior.read("sod1-g93a-b6sjl")
    for hypothesis in ("dying_back", "dying_forward"):
        import xarray as xr

        ds = xr.open_zarr(out / hypothesis / "results.zarr")
        params, _ = posterior.of(hypothesis)
        assert "posterior_particle" in ds or any("particle" in name for name in ds.variables), list(ds.variables)
        assert len(params) > 0
    page = (out / "report.html").read_text()
    assert "each at its own posterior" in page and "drawn per subject" in page


def test_a_definition_names_values_drawn_per_subject():
    import json

    from alsim.report.page import definition_with_values

    scenario = json.dumps({"clinical": {"onset_force_fraction": 0.3}})
    text = "hindlimb force < clinical.onset_force_fraction"
    assert definition_with_values(text, scenario) == "hindlimb force < 0.3 (clinical.onset_force_fraction)"
    drawn = definition_with_values(text, scenario, {"clinical.onset_force_fraction": (0.25, 0.33, 0.5)})
    assert drawn == "hindlimb force < 0.33 (drawn per subject, 0.25-0.5; clinical.onset_force_fraction)"
