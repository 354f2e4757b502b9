"""Training-data loader and HTML report, on small synthetic results (no engine needed)."""

from __future__ import annotations

import base64
import math
import re

import numpy as np
import pytest
import xarray as xr

from alsim.data import TrainingRow, load_training, training_table
from alsim.report import band, map_training_row, training_comparison, training_points, write_report
from alsim.report.plots import READOUTS, TIME_COURSE_VARS, endpoint_summary, event_free_curve

FRACTION_VARS = (
    "endplates_innervated_fraction", "endplates_fully_innervated_fraction", "endplates_denervated_fraction",
    "motor_neurons_alive_fraction", "axons_intact_fraction", "motor_units_functional_fraction", "force_fraction",
)
UNIT_TYPES = ["S", "FR", "FF"]


def _logistic(days: np.ndarray, midpoint: np.ndarray, width: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp((days[None, :] - midpoint[:, None]) / width))


def make_results(*, strain: str = "B6SJL", hypothesis: str = "dying_back", n_subjects: int = 12,
                 muscles: tuple[str, ...] = ("gastrocnemius", "tibialis_anterior", "soleus", "diaphragm"),
                 last_day: int = 160, seed: int = 1) -> xr.Dataset:
    """A Dataset in the engine's output format, built from logistic declines."""
    rng = np.random.default_rng(seed)
    days = np.arange(last_day + 1)
    shift = rng.normal(0.0, 8.0, n_subjects)
    sexes = np.where(np.arange(n_subjects) % 2 == 0, "F", "M")
    mid = {"gastrocnemius": 105.0, "tibialis_anterior": 100.0, "soleus": 125.0, "diaphragm": 135.0}
    per_muscle = {v: np.empty((n_subjects, len(muscles), days.size)) for v in FRACTION_VARS + ("mean_motor_unit_size",)}
    by_type = {v: np.full((n_subjects, len(muscles), 3, days.size), np.nan)
               for v in ("motor_units_functional_by_type_fraction", "motor_neurons_alive_by_type_fraction")}
    for j, m in enumerate(muscles):
        base = mid.get(m, 110.0) + shift
        innervated = _logistic(days, base, 8.0)
        per_muscle["endplates_innervated_fraction"][:, j] = innervated
        per_muscle["endplates_fully_innervated_fraction"][:, j] = _logistic(days, base - 15, 8.0)
        per_muscle["endplates_denervated_fraction"][:, j] = 1.0 - innervated
        per_muscle["motor_neurons_alive_fraction"][:, j] = 0.4 + 0.6 * _logistic(days, base + 10, 10.0)
        per_muscle["axons_intact_fraction"][:, j] = _logistic(days, base - 5, 9.0)
        per_muscle["motor_units_functional_fraction"][:, j] = _logistic(days, base - 10, 9.0)
        per_muscle["force_fraction"][:, j] = _logistic(days, base + 3, 7.0)
        per_muscle["mean_motor_unit_size"][:, j] = 60.0 * (1.0 + 1.5 * (1.0 - _logistic(days, base - 10, 12.0)))
        for k, (offset, present) in enumerate(((40.0, m != "tibialis_anterior"), (0.0, True), (-30.0, m != "soleus"))):
            if present:
                by_type["motor_units_functional_by_type_fraction"][:, j, k] = _logistic(days, base + offset, 8.0)
                by_type["motor_neurons_alive_by_type_fraction"][:, j, k] = _logistic(days, base + offset + 20, 10.0)
    hind = [j for j, m in enumerate(muscles) if m != "diaphragm"]
    hindlimb = per_muscle["force_fraction"][:, hind].mean(axis=1)

    def first_below(x: np.ndarray, level: float) -> np.ndarray:
        out = np.full(x.shape[0], np.nan)
        for i, row in enumerate(x):
            idx = np.nonzero(row < level)[0]
            if idx.size:
                out[i] = days[idx[0]]
        return out

    onset = first_below(hindlimb, 0.8)
    end = first_below(hindlimb, 0.2)
    after_end = days[None, :] > np.where(np.isnan(end), np.inf, end)[:, None]
    data_vars = {}
    for v, arr in per_muscle.items():
        arr[np.broadcast_to(after_end[:, None, :], arr.shape)] = np.nan
        data_vars[v] = (("subject", "muscle", "day"), arr, {"units": "1", "description": v})
    for v, arr in by_type.items():
        arr[np.broadcast_to(after_end[:, None, None, :], arr.shape)] = np.nan
        data_vars[v] = (("subject", "muscle", "unit_type", "day"), arr, {"units": "1", "description": v})
    hindlimb[after_end] = np.nan
    data_vars["hindlimb_force_fraction"] = (("subject", "day"), hindlimb, {"units": "1", "description": "hindlimb"})
    data_vars["onset_day"] = (("subject",), onset, {"units": "day", "description": "onset"})
    data_vars["end_stage_day"] = (("subject",), end, {"units": "day", "description": "end stage"})
    data_vars["sex"] = (("subject",), sexes.astype(object), {"units": "", "description": "sex"})
    data_vars["burden_multiplier"] = (("subject",), np.exp(rng.normal(0, 0.2, n_subjects)), {"units": "1", "description": "b"})
    return xr.Dataset(
        data_vars,
        coords={"subject": np.arange(n_subjects), "muscle": list(muscles), "day": days, "unit_type": UNIT_TYPES},
        attrs={"scenario_name": f"synthetic-{strain}", "strain": strain, "hypothesis": hypothesis, "seed": seed,
               "alsim_version": "0.1.0", "onset_definition": "hindlimb force < 0.8",
               "end_stage_definition": "hindlimb force < 0.2 <script>"},
    )


# ------------------------------------------------------------------ training data


def test_load_training_rows_and_types():
    rows = load_training()
    by_file = {f: [r for r in rows if r.file == f] for f in ("nmj_innervation.csv", "motor_neurons.csv", "onset_survival.csv")}
    assert {f: len(v) for f, v in by_file.items()} == {"nmj_innervation.csv": 12, "motor_neurons.csv": 5,
                                                      "onset_survival.csv": 9}
    assert len(rows) == 26
    assert all(isinstance(r, TrainingRow) for r in rows)
    assert all(isinstance(r.value, float) for r in rows)  # every row of these files is numeric
    for r in by_file["nmj_innervation.csv"] + by_file["motor_neurons.csv"]:
        assert isinstance(r.age_days, float) and 0.0 <= r.value <= 1.0
    onset = by_file["onset_survival.csv"]
    assert all(r.age_days is None for r in onset)
    pfohl = next(r for r in onset if r.strain == "B6SJL" and r.measure == "onset")
    assert (pfohl.value, pfohl.sd, pfohl.short_source) == (99.9, 2.2, "Pfohl 2015")
    cantor_f = next(r for r in onset if r.strain == "C57BL6" and r.sex == "F")
    assert cantor_f.value == 169.0 and cantor_f.sd is None and cantor_f.n == "13"
    assert by_file["nmj_innervation.csv"][0].n == "4-5"
    with pytest.raises(AttributeError):
        rows[0].value = 0.0  # frozen
    frame = training_table()
    assert len(frame) == 26 and frame["value"].dtype == np.float64 and frame["sd"].notna().sum() == 7


def test_training_mapping():
    rows = load_training()
    loss = next(r for r in rows if r.measure == "innervation_loss_vs_wildtype_fraction" and r.age_days == 30)
    assert sorted(map_training_row(loss)) == [("endplates_innervated_fraction", "gastrocnemius", pytest.approx(0.6)),
                                              ("endplates_innervated_fraction", "tibialis_anterior", pytest.approx(0.6))]
    lost = next(r for r in rows if r.measure == "motor_neurons_lost_fraction" and r.strain == "B6SJL" and r.age_days == 130)
    assert {m for _, m, _ in map_training_row(lost)} == {"gastrocnemius", "tibialis_anterior", "soleus"}
    assert all(v == pytest.approx(0.5) and var == "motor_neurons_alive_fraction" for var, _, v in map_training_row(lost))
    degenerating = next(r for r in rows if r.measure == "motor_neurons_degenerating_fraction")
    assert map_training_row(degenerating) == []

    # B6SJL: no C57BL6 rows, G93A rows hollow
    ta = training_points(rows, "endplates_innervated_fraction", "tibialis_anterior", "B6SJL")
    assert sorted((p.day, round(p.value, 6), p.hollow) for p in ta) == [(14.0, 1.0, True), (30.0, 0.6, True)]
    assert training_points(rows, "endplates_fully_innervated_fraction", "diaphragm", "B6SJL") == []
    gastro = training_points(rows, "endplates_denervated_fraction", "gastrocnemius", "B6SJL")
    assert [(p.day, p.value, p.label) for p in gastro] == [(47.0, 0.40, "Fischer 2004")]
    mn = training_points(rows, "motor_neurons_alive_fraction", "soleus", "B6SJL")
    assert sorted((p.day, p.value) for p in mn) == [(47.0, 1.0), (130.0, 0.5)]
    # C57BL6: the Cantor diaphragm rows, sex in the label
    dia = training_points(rows, "endplates_fully_innervated_fraction", "diaphragm", "C57BL6")
    assert len(dia) == 5 and {p.label for p in dia} == {"Cantor 2018 (F)", "Cantor 2018 (M)", "Cantor 2018"}
    assert all(p.row.strain == "C57BL6" for p in dia)


# --------------------------------------------------------------------- numbers


def test_band_quantiles_ignore_nan():
    days = np.arange(4)
    values = np.tile(np.arange(10, dtype=float)[:, None], (1, 4))  # subject i has value i every day
    values[5:, 2] = np.nan                                           # day 2: subjects 0-4 only
    values[:, 3] = np.nan                                            # day 3: nobody
    ds = xr.Dataset({"force_fraction": (("subject", "muscle", "day"), values[:, None, :])},
                    coords={"subject": np.arange(10), "muscle": ["soleus"], "day": days})
    d, lo, med, hi = band(ds, "force_fraction", "soleus")
    assert d.tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose([lo[0], med[0], hi[0]], np.quantile(np.arange(10.0), [0.1, 0.5, 0.9]))
    np.testing.assert_allclose([lo[2], med[2], hi[2]], np.quantile(np.arange(5.0), [0.1, 0.5, 0.9]))
    assert np.isnan([lo[3], med[3], hi[3]]).all()
    _, q = band(ds, "force_fraction", "soleus", quantiles=(0.25,))
    assert q[0] == pytest.approx(2.25)
    _, lo_f, med_f, hi_f = band(ds, "force_fraction", "soleus", subjects=np.arange(10) >= 8)
    assert med_f[0] == pytest.approx(8.5)


@pytest.mark.parametrize("seed", range(4))
def test_nanquantile_columns_is_numpys_nanquantile_bit_for_bit(seed):
    """The report's column quantiles against ``np.nanquantile(axis=0)``: the same bits for columns
    with and without NaN, all-NaN columns, ties, infinities and any quantiles."""
    import warnings

    from alsim.report.bands import nanquantile_columns

    rng = np.random.default_rng(seed)
    for case in range(300):
        rows, columns = int(rng.integers(1, 50)), int(rng.integers(1, 30))
        values = rng.standard_normal((rows, columns)) * 10.0 ** rng.uniform(-6, 6)
        if case % 3 == 0:
            values = np.round(values, 1)                       # ties
        values[rng.random(values.shape) < rng.uniform(0.0, 0.95)] = np.nan
        if case % 5 == 0:
            values[rng.random(values.shape) < 0.05] = np.inf
        if case % 7 == 0:
            values[rng.random(values.shape) < 0.05] = -np.inf
        quantiles = np.sort(rng.random(int(rng.integers(1, 6))))
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = np.nanquantile(values, quantiles, axis=0)
        np.testing.assert_array_equal(nanquantile_columns(values, quantiles), expected)


@pytest.mark.parametrize("block_values", [1, 7, 40, 10**9])
def test_band_read_in_blocks_of_days_is_the_whole_variable_band(block_values, tmp_path):
    """The report reads a variable a block of days at a time (bounded memory); the quantiles are
    those of the whole (subject, day) matrix bit for bit, from memory and from a lazily read store,
    with a subject mask, and on one day alone (band_on_day)."""
    from alsim.report.bands import _quantiles_of_days, band_on_day, day_blocks

    ds = make_results(n_subjects=13, muscles=("gastrocnemius", "soleus"))
    ds.to_zarr(tmp_path / "r.zarr", consolidated=False, zarr_format=2)
    stored = xr.open_zarr(tmp_path / "r.zarr", consolidated=False)
    mask = np.arange(13) % 3 != 0
    for var in ("endplates_denervated_fraction", "motor_neurons_alive_fraction"):
        whole = ds[var].sel(muscle="soleus").transpose("subject", "day").values.astype(float)
        for subjects, rows in ((None, whole), (mask, whole[mask])):
            expected = _quantiles_of_days(rows, (0.1, 0.5, 0.9), 1)
            for source in (ds, stored):
                _, *got = band(source, var, "soleus", subjects=subjects, block_values=block_values)
                np.testing.assert_array_equal(np.array(got), expected)
            (lo, med, hi), n_data, n = band_on_day(stored, var, "soleus", 17, subjects=subjects)
            np.testing.assert_array_equal([lo, med, hi], expected[:, 17])
            assert n == len(rows) and n_data == int(np.sum(~np.isnan(rows[:, 17])))
    blocks = day_blocks(13, ds.sizes["day"], block_values)
    assert np.concatenate([np.arange(ds.sizes["day"])[b] for b in blocks]).tolist() == list(range(ds.sizes["day"]))
    assert all(b.stop - b.start <= max(1, block_values // 13) for b in blocks)


def test_event_free_curve_and_summary():
    ds = xr.Dataset({"onset_day": (("subject",), np.array([10.0, 20.0, 30.0, np.nan]))},
                    coords={"subject": np.arange(4), "day": np.arange(41)})
    curve = event_free_curve(ds["onset_day"].values, ds["day"].values)
    assert curve[9] == 1.0 and curve[10] == 0.75 and curve[29] == 0.5 and curve[40] == 0.25
    s = endpoint_summary(ds, "onset_day")
    assert (s["n"], s["n_reached"], s["median"], s["q25"], s["q75"]) == (4, 3, 20.0, 10.0, 30.0)
    assert s["mean_reached"] == pytest.approx(20.0)
    ds["onset_day"][:] = [10.0, np.nan, np.nan, np.nan]
    assert math.isinf(endpoint_summary(ds, "onset_day")["median"])


@pytest.mark.parametrize("days", [
    [10.0, 20.0, 30.0, np.nan], [94.0, 92.0, 102.0, 91.0, 93.0, 101.0, 96.0, np.nan],
    [5.0, 5.0, 7.0, 9.0, 11.0, 11.0], [3.0, np.nan, np.nan, 4.0, np.nan]])
def test_event_quantiles_are_the_kaplan_meier_quantiles_of_lifelines(days):
    """The one endpoint convention (terminal, summary.json, report) is lifelines' Kaplan-Meier
    quantile with subjects that never reach the event censored at the end of the run."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import qth_survival_time

    from alsim.run.summary import _distribution, event_day_quantile

    t = np.array(days)
    last = 200.0
    kmf = KaplanMeierFitter().fit(np.where(np.isnan(t), last, t), ~np.isnan(t))
    for fraction in (0.25, 0.5, 0.75):
        # first day with S <= 1 - q (lifelines forms S as exp of a sum of logs: allow its rounding at exact ties)
        expected = float(qth_survival_time(1 - fraction + 1e-9, kmf.survival_function_))
        expected = math.inf if expected >= last else expected                         # censored: not reached
        assert event_day_quantile(t, fraction) == expected
    ds = xr.Dataset({"onset_day": (("subject",), t)}, coords={"subject": np.arange(t.size), "day": np.arange(201)})
    report, summary = endpoint_summary(ds, "onset_day"), _distribution(t)
    for key in ("median", "q25", "q75"):             # the report and summary.json agree
        assert (summary[key] is None and math.isinf(report[key])) or summary[key] == report[key]


def test_definitions_show_the_run_values():
    import json

    from alsim.report.page import definition_with_values

    scenario = json.dumps({"clinical": {"onset_force_fraction": 0.3}, "human": {"diagnostic_regions": ["a", "b"]}})
    text = definition_with_values("hindlimb force < clinical.onset_force_fraction; human.diagnostic_regions; x.y",
                                  scenario)
    assert text == "hindlimb force < 0.3 (clinical.onset_force_fraction); a, b (human.diagnostic_regions); x.y"
    assert definition_with_values("a < clinical.onset_force_fraction", None) == "a < clinical.onset_force_fraction"


def test_position_in_band_and_status_words():
    from alsim.report.html import STATUS_MEANINGS, position_in_band

    assert [position_in_band(v, 0.2, 0.6) for v in (0.1, 0.4, 0.7, None)] == ["below", "inside", "above", None]
    assert position_in_band(120.0, 100.0, math.inf) == "inside"
    statuses = {r.status for r in load_training()}
    assert statuses <= set(STATUS_MEANINGS), statuses - set(STATUS_MEANINGS)


def test_denervated_panel_says_what_is_plotted():
    assert READOUTS["endplates_denervated_fraction"].unit == "denervated / intact endplates"
    assert all("fraction of intact" not in r.unit for r in READOUTS.values())


# ---------------------------------------------------------------------- report


def test_write_report_self_contained(tmp_path):
    results = {
        "dying back": make_results(hypothesis="dying_back", muscles=("gastrocnemius", "diaphragm"), n_subjects=8),
        "dying forward": make_results(hypothesis="dying_forward", muscles=("gastrocnemius", "diaphragm"),
                                      n_subjects=8, seed=2),
    }
    out = write_report(results, tmp_path / "sub" / "report.html", title="Test <report> & co",
                       notes=["a note with <b>markup</b>"])
    assert out == tmp_path / "sub" / "report.html" and out.exists()
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary file left
    text = out.read_text(encoding="utf-8")
    assert "Test &lt;report&gt; &amp; co" in text and "<b>markup</b>" not in text and "<script>" not in text
    pngs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    # onset figure + per muscle (time courses + by type)
    assert len(pngs) == 1 + 2 * 2
    assert all(base64.b64decode(p)[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert not re.search(r'(src|href)="(?!data:|#)', text)  # no external assets
    assert "Training data vs simulation" in text and "simulated median" in text
    assert "Fischer 2004" in text and "Solomon 2011" in text and "Pfohl 2015" in text
    assert "Cantor" not in text  # C57BL6 rows are not on a B6SJL report
    assert "degenerating" in text  # said why it is not compared
    for var in TIME_COURSE_VARS:
        assert READOUTS[var].title  # every panel has a display name


def test_training_comparison_values():
    ds = make_results(n_subjects=6, muscles=("gastrocnemius", "tibialis_anterior"))
    rows = load_training()
    entries = training_comparison({"x": ds}, rows)
    assert not any(e["row"].strain == "C57BL6" for e in entries)
    fischer = next(e for e in entries if e["short_source"] == "Fischer 2004")
    expected = float(np.nanmedian(ds["endplates_denervated_fraction"].sel(muscle="gastrocnemius", day=47).values))
    assert fischer["sim"]["median"] == pytest.approx(expected) and fischer["data_value"] == 0.40
    vinsant = [e for e in entries if e["measure"] == "innervation_loss_vs_wildtype_fraction" and e["day"] == 30]
    assert {e["muscle"] for e in vinsant} == {"gastrocnemius", "tibialis_anterior"}
    assert all(e["data_value"] == pytest.approx(0.6) for e in vinsant)
    soleus = [e for e in entries if e["muscle"] == "soleus"]
    assert soleus and all(e["sim"] is None and "not simulated" in e["note"] for e in soleus)
    female = next(e for e in entries if e["measure"] == "survival" and e["sex"] == "F")
    assert female["sim"]["n"] == 3 and "F subjects only" in female["note"]
    c57 = training_comparison({"y": make_results(strain="C57BL6", n_subjects=4, muscles=("gastrocnemius", "diaphragm"))}, rows)
    assert sum(e["short_source"] == "Cantor 2018" and e["muscle"] == "diaphragm" for e in c57) == 9


def test_trial_figures_mark_treatment_starts_label_axes_and_show_markers():
    """Each arm's treatment start is a line on both Kaplan-Meier panels; every time-course
    panel has a y label; legend entries of error bars are the markers alone."""
    import json

    from matplotlib.container import ErrorbarContainer

    from alsim.report.figures import new_figure
    from alsim.report.plots import legend_handle
    from alsim.report.trial import km_figure, time_course_figure
    from alsim.trials.execute import ArmRun
    from alsim.trials.stats import ArmOutcome

    rng = np.random.default_rng(3)
    arms = {}
    for label, treatments in (("control", []), ("muscle_gdnf@60", [{"start_day": 60}])):
        ds = make_results(n_subjects=6)
        ds.attrs["scenario_json"] = json.dumps({"treatments": treatments})
        ds["hindlimb_force_fraction"] = ds["force_fraction"].isel(muscle=0, drop=True)
        outcome = ArmOutcome(end_stage_day=rng.uniform(110, 140, 6), onset_day=rng.uniform(80, 100, 6),
                             follow_up_days=180.0)
        arms[label] = ArmRun(subjects=np.arange(6), outcome=outcome, dataset=ds)
    km = km_figure(arms)
    for ax in km.axes:
        lines = [ln for ln in ax.get_lines() if ln.get_label() == "muscle_gdnf@60: treatment starts"]
        assert len(lines) == 1 and list(lines[0].get_xdata()) == [60, 60]
        assert ax.get_xlim()[0] <= 60
    courses = time_course_figure(arms, "gastrocnemius")
    assert all(ax.get_ylabel() for ax in courses.axes)
    ax = new_figure((3, 3)).subplots()
    bar = ax.errorbar([1.0], [2.0], xerr=[0.5], fmt="s", capsize=4, label="data")
    assert isinstance(bar, ErrorbarContainer) and legend_handle(bar) is bar.lines[0]
    assert legend_handle(bar).get_marker() == "s"
