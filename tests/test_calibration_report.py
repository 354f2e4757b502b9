"""Calibration report on small synthetic calibration folders (no ABC, no engine)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from alsim.report.calibration import write_calibration_report
from alsim.report.calibration_plots import matched_points, param_unit, weighted_density
from alsim.report.training_overlay import training_points

MUSCLES = ("gastrocnemius", "tibialis_anterior", "soleus", "diaphragm")
BAND_VARS = ("endplates_innervated_fraction", "endplates_fully_innervated_fraction", "endplates_denervated_fraction",
             "motor_neurons_alive_fraction", "motor_units_functional_fraction", "force_fraction")
PROBABILITIES = {"dying_back": 0.6125, "dying_forward": 0.3875, "independent": 0.0}
SE = {"dying_back": 0.0871, "dying_forward": 0.0653, "independent": 0.0}
PRIORS = {
    "disease.burden_scale_days": {"low": 40.0, "high": 130.0, "log": False, "source": "age at burden 1"},
    "unit_types.FF.vulnerability": {"low": 0.2, "high": 5.0, "log": True, "source": "relative vulnerability"},
    "rates.axon_dieback": {"low": 0.005, "high": 0.5, "log": True, "source": "hazard (/day) of axon dieback"},
}
OWN = {"dying_back": {"rates.terminal_retraction_per_stress": {"low": 0.002, "high": 0.2, "log": True,
                                                               "source": "hazard (/day per unit stress)"}},
       "dying_forward": {"rates.soma_stress_death": {"low": 0.001, "high": 0.1, "log": True,
                                                     "source": "hazard (/day per unit stress)"}},
       "independent": {"hypothesis.independent_back_weight": {"low": 0.0, "high": 1.0, "log": False,
                                                              "source": "weight of dying back"}}}
DENERVATED_STAT = {  # matches the Fischer 2004 gastrocnemius point of the training data
    "key": "b6sjl_gastrocnemius_denervatedfraction_p47_fischer2004", "label": "denervated fraction, gastrocnemius, P47",
    "observed": 0.4, "error_sd": 0.2236, "error_basis": "assumed", "unit": "fraction", "kind": "readout_at_day",
    "spec": {"var": "endplates_denervated_fraction", "muscles": ["gastrocnemius"], "complement": False, "day": 47},
    "source": "Fischer 2004", "status": "recalled_check_primary", "fitted": True, "not_fitted_reason": "",
}


def _check(key: str, unit: str, observed: float, centre: float, *, fitted: bool = True, nan: bool = False) -> dict:
    half = 0.2 if unit == "fraction" else 15.0
    row = {"key": key, "label": key.replace("_", " "), "observed": observed, "unit": unit, "error_sd": half / 2,
           "fitted": fitted, "not_fitted_reason": "" if fitted else "a later stage than the model's",
           "source": "Someone 2020", "status": "verified_abstract", "simulated": True,
           "predictive_median": centre, "predictive_low": centre - half, "predictive_high": centre + half,
           "model_median": centre, "model_low": centre - half / 2, "model_high": centre + half / 2,
           "covered_95": abs(observed - centre) <= half, "z": (observed - centre) / (half / 2)}
    if nan:
        row.update(predictive_median=math.nan, predictive_low=math.nan, predictive_high=math.nan, z=math.nan,
                   covered_95=False)
    return row


def make_calibration_folder(folder: Path, hypotheses: tuple[str, ...] = ("dying_back", "dying_forward", "independent"),
                            particles: dict[str, int] | None = None, seed: int = 0) -> Path:
    """A finished calibration folder in the format of ``alsim calibrate`` / ``alsim compare``,
    with small fake content; a hypothesis with 0 particles is left out of posterior.csv,
    predictive.json and predictive.zarr (as after an ABC run that dropped it)."""
    rng = np.random.default_rng(seed)
    particles = {h: 0 if h == "independent" else 14 for h in hypotheses} if particles is None else particles
    live = [h for h in hypotheses if particles.get(h, 0) > 0]
    folder.mkdir(parents=True, exist_ok=True)
    priors = {h: {**PRIORS, **OWN[h]} for h in hypotheses}

    frames = []
    for h in live:
        frame = {"hypothesis": [h] * particles[h]}
        w = rng.uniform(0.2, 1.0, particles[h])
        frame["weight"] = w / w.sum()
        for path, p in priors[h].items():
            lo, hi = (math.log10(p["low"]), math.log10(p["high"])) if p["log"] else (p["low"], p["high"])
            x = rng.uniform(lo, hi, particles[h])
            frame[path] = 10.0 ** x if p["log"] else x
        frames.append(pd.DataFrame(frame))
    pd.concat(frames, ignore_index=True).to_csv(folder / "posterior.csv", index=False)

    days = np.arange(151)
    draws = 4
    data = {}
    for var in BAND_VARS:
        mid = rng.uniform(70, 110, (len(live), draws, len(MUSCLES), 1))
        values = 1.0 / (1.0 + np.exp((days - mid) / 8.0))
        if var == "endplates_denervated_fraction":
            values = 1.0 - values
        values[..., 130:] = np.nan  # every cohort past end stage
        values[0, 0, 0, 120:130] = np.nan  # one draw ends earlier
        data[var] = (("hypothesis", "draw", "muscle", "day"), values.astype(np.float32))
    survive = (rng.uniform(100, 140, (len(live), draws, 1)) >= days).astype(np.float32)
    data["surviving_fraction"] = (("hypothesis", "draw", "day"), survive)
    ds = xr.Dataset(data, coords={"hypothesis": live, "draw": np.arange(draws), "muscle": list(MUSCLES), "day": days},
                    attrs={"description": "cohort means", "subjects_per_cohort": 6, "seed": seed})
    ds.to_zarr(folder / "predictive.zarr", mode="w", consolidated=False, zarr_format=2)

    checks = {h: [_check("denervated_gastrocnemius_p47", "fraction", 0.4, 0.3),
                  _check("onset_mean", "days", 99.9, 104.0),
                  _check("survival_mean", "days", 130.2, 138.0, fitted=False),
                  _check("end_stage_sd", "days", 10.3, 8.0, nan=True)] for h in live}
    (folder / "predictive.json").write_text(json.dumps({"checks": checks, "error_rules": {"FLOOR": "0.05"}}))

    posterior = {h: {path: {"median": float(np.median(frames[i][path])), "low": float(frames[i][path].min()),
                            "high": float(frames[i][path].max())} for path in priors[h]} for i, h in enumerate(live)}
    probs = {h: PROBABILITIES[h] for h in hypotheses} if len(hypotheses) > 1 else {hypotheses[0]: 1.0}
    se = {h: SE[h] for h in hypotheses} if len(hypotheses) > 1 else {hypotheses[0]: 0.0}
    command = "compare" if len(hypotheses) > 1 else "calibrate"
    summary = {
        "request": {"command": command, "hypotheses": list(hypotheses), "preset": "sod1-g93a-b6sjl", "budget": 200,
                    "population": 30, "subjects": 6, "days": 150, "seed": seed, "draws": draws},
        "status": "complete", "started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T01:00:00+00:00",
        "alsim_version": "0.1.0", "training_data_sha256": "0123456789abcdef" * 4, "run_id": f"{command}-test-seed{seed}",
        "provenance": f"alsim {command} run (test)", "strain": "B6SJL", "statistics": [DENERVATED_STAT],
        "priors": {h: {"origin": f"{h}.toml", "parameters": [{"path": k, **v} for k, v in priors[h].items()]}
                   for h in hypotheses},
        "generations": [{"t": t, "epsilon": 12.0 / (t + 1), "simulations": 70, "particles": 30,
                         "acceptance_rate": 0.4 / (t + 1), "wall_time_s": 30.0 + t} for t in range(3)],
        "n_simulations": 210, "posterior": posterior, "model_probabilities": probs, "monte_carlo_se": se,
        "predictive_coverage_95": {h: {"covered": 1, "fitted": 3} for h in live},
        "abc_seconds": 3725.0, "predictive_seconds": 81.5,
    }
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "compare.json").write_text(json.dumps({"model_probabilities": probs, "monte_carlo_se": se,
                                                     "n_simulations": 210}))
    for h in live:
        (folder / f"preset-{h}.toml").write_text(f"# calibrated {h}\n")
    return folder


def _expected_fit_figures() -> int:
    return sum(1 for var in BAND_VARS if var in ("force_fraction", "motor_neurons_alive_fraction")
               or any(training_points(None, var, m, "B6SJL") for m in MUSCLES))


def _alts(text: str) -> list[str]:
    return re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,', text)


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> str:
    folder = make_calibration_folder(tmp_path_factory.mktemp("compare") / "cal")
    path = write_calibration_report(folder, dpi=40)  # low resolution: faster, same content
    assert path == folder / "report.html"
    return path.read_text(encoding="utf-8")


def test_sections_in_order(three):
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", three)
    assert headings == ["What was run", "Model probabilities", "Posterior marginals", "Pairwise plots",
                        "Fits with credible bands over the data", "Posterior predictive checks", "Generations",
                        "Files in this folder"]


def test_header_and_probabilities(three):
    for text in ("alsim compare", "sod1-g93a-b6sjl", "B6SJL", "0123456789ab", "compare-test-seed0", "210",
                 "62.1 min", "81.5 s", "Robert et al. 2011 PNAS 108:15112"):
        assert text in three
    assert "0123456789abc" not in three  # sha256 cut at 12 characters
    for h in ("dying_back", "dying_forward", "independent"):
        assert f"{PROBABILITIES[h]:.4g}" in three
        assert f"{SE[h]:.3g}" in three


def test_one_image_per_figure(three):
    alts = _alts(three)
    assert alts.count("model probabilities") == 1
    assert alts.count("posterior marginals") == 1
    assert sorted(a for a in alts if a.startswith("pairwise")) == ["pairwise dying_back", "pairwise dying_forward"]
    assert len([a for a in alts if a.startswith("fit ") and a != "fit survival"]) == _expected_fit_figures()
    assert {"fit force_fraction", "fit motor_neurons_alive_fraction", "fit survival"} <= set(alts)
    assert alts.count("predictive checks") == 1 and alts.count("epsilon per generation") == 1
    assert len(alts) == 7 + _expected_fit_figures()
    assert "independent: no particles" in three


def test_checks_tables_with_nan(three):
    assert three.count("&#10003;") + three.count("&#10007;") == 8  # 4 rows x 2 hypotheses
    assert "not fitted: a later stage than the model&#x27;s" in three
    assert "dying_back: 2 of 3 fitted statistics" in three  # the NaN row is not covered
    assert not re.search(r"\bnan\b", re.sub(r'src="data:[^"]*"', "", three), re.IGNORECASE)


def test_files_listed(three):
    for name in ("summary.json", "posterior.csv", "predictive.zarr", "preset-dying_back.toml", "report.html"):
        assert f"<code>{name}</code>" in three


def test_single_hypothesis(tmp_path):
    folder = make_calibration_folder(tmp_path / "cal", hypotheses=("dying_back",), particles={"dying_back": 10})
    text = write_calibration_report(folder, dpi=40).read_text(encoding="utf-8")
    assert "Model probabilities" not in text
    alts = _alts(text)
    assert "model probabilities" not in alts and alts.count("pairwise dying_back") == 1
    assert len(alts) == 5 + _expected_fit_figures()


def test_helpers():
    edges, density = weighted_density(np.array([0.3, 1.0, 3.0, math.nan]), np.array([1.0, 2.0, 1.0, 5.0]),
                                      0.2, 5.0, log=True, bins=10)
    assert edges[0] == pytest.approx(0.2) and edges[-1] == pytest.approx(5.0)
    assert np.sum(density * np.diff(np.log10(edges))) == pytest.approx(1.0)
    assert param_unit("rates.axon_dieback", ["hazard (/day) that an axon dies"]) == "/day"
    assert param_unit("disease.burden_scale_days") == "days"
    points = matched_points("endplates_denervated_fraction", "gastrocnemius", "B6SJL", [DENERVATED_STAT])
    assert any(err == pytest.approx(0.2236) for p, err in points if p.day == 47)
