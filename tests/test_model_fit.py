"""The training files' format and the model-fit machinery (tiny cohorts: 2 mice, 60 days)."""

from __future__ import annotations

import csv
import math
from importlib import resources

import numpy as np
import pytest

from alsim.inference.model_fit import BAND_VARS, ModelSpec, RowFit, fit_model, models_for
from alsim.inference.observations import Statistic, observed_statistics

STATUSES = {"verified_full_text", "verified_abstract", "verified_secondary", "recalled_check_primary",
            "recalled_ages_verified_order"}


def _training_files():
    root = resources.files("alsim.data").joinpath("training")
    return sorted(e for e in root.iterdir() if e.name.endswith(".csv"))


@pytest.mark.parametrize("path", _training_files(), ids=lambda p: p.name)
def test_every_training_row_has_a_source_and_a_defined_status(path):
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        assert row["source"].strip(), row
        assert row["status"].strip() in STATUSES, row
        assert None not in row, f"row with more cells than the header: {row}"


def test_readme_defines_every_status():
    readme = resources.files("alsim.data").joinpath("training", "README.md").read_text(encoding="utf-8")
    assert all(f"`{status}`" in readme for status in STATUSES)


def test_second_loss_start_row_gets_its_own_key_and_the_fast_muscles():
    stats = {s.key: s for s in observed_statistics("B6SJL")}
    kennel, hegedus = stats["functional_unit_loss_start_day"], stats["functionalunitlossstartday_hegedus2007"]
    assert (kennel.observed, hegedus.observed) == (47.0, 40.0)
    assert kennel.spec["muscles"] == ["gastrocnemius", "tibialis_anterior", "soleus"]
    assert hegedus.spec["muscles"] == ["tibialis_anterior", "gastrocnemius"]
    assert hegedus.fitted and hegedus.status == "verified_abstract"


def test_models_for_each_strain():
    b6 = models_for("B6SJL")
    assert {m.variant for m in b6} == {"hand-set", "preset", "posterior"}
    assert all(m.posterior == "sod1-g93a-b6sjl" for m in b6 if m.variant == "posterior")
    c57 = models_for("C57BL6")
    assert [m.hypothesis for m in c57 if m.variant == "preset"] == ["dying_back", "dying_forward", "independent"]
    assert all(m.posterior == "sod1-g93a-c57bl6" for m in c57 if m.variant == "posterior")
    with pytest.raises(ValueError, match="strain must be one of"):
        models_for("SJL")


def test_row_inside_and_not_simulated():
    statistic = Statistic("k", "label", 0.4, 0.1, "", "fraction", "readout_at_day", {}, "Someone 2000", "verified_abstract")
    assert RowFit(statistic, 0.3, 0.2, 0.3, 0.5).inside is True
    assert RowFit(statistic, 0.0, -0.1, 0.0, 0.2).inside is False
    assert RowFit(statistic, math.nan, math.nan, math.nan, math.nan).inside is None


@pytest.fixture(scope="module")
def tiny_fit():
    model = ModelSpec("hand-set", "sod1-g93a-b6sjl", "dying_back")
    return model, fit_model(model, "B6SJL", subjects=2, resamples=10, days=60, seed=3)


def test_fit_model_reads_every_statistic_and_bands(tiny_fit):
    _, fit = tiny_fit
    statistics = observed_statistics("B6SJL")
    assert [r.statistic.key for r in fit.rows] == [s.key for s in statistics]
    for row in fit.rows:
        if row.statistic.kind == "none":
            assert not row.simulated
        else:
            assert row.low <= row.median <= row.high, row.statistic.key
    assert set(fit.bands) == set(BAND_VARS)
    assert all(b.shape == (3, len(fit.muscles), 61) for b in fit.bands.values())
    assert fit.subjects == 2 and fit.draws == 0
    inside, simulated = fit.count_inside()
    assert 0 <= inside <= simulated <= len(fit.rows)


def test_fit_model_same_arguments_same_numbers(tiny_fit):
    model, fit = tiny_fit
    again = fit_model(model, "B6SJL", subjects=2, resamples=10, days=60, seed=3)
    assert [(r.low, r.high) for r in again.rows] == [(r.low, r.high) for r in fit.rows]
    np.testing.assert_array_equal(again.bands["endplates_innervated_fraction"], fit.bands["endplates_innervated_fraction"])


def test_fit_model_with_a_posterior_splits_the_cohort():
    model = ModelSpec("posterior", "sod1-g93a-b6sjl", "dying_back", "sod1-g93a-b6sjl")
    fit = fit_model(model, "B6SJL", subjects=4, draws=2, resamples=4, days=30, seed=1)
    assert fit.draws == 2 and fit.subjects == 4
