"""Treatments: the catalogue, --treat strings, the effect ramp, and the engine against
the reference stepper with treatments on (docs/model.md, *Treatments*)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import alsim
from alsim.biology.interventions import (builtin_catalogue, day_factors, effect_fraction, load_catalogue,
                                         parse_treatment, with_treatments)
from alsim.config.loading import ScenarioError
from alsim.config.treatments import TARGETS, AppliedTreatment, Treatment

from tests.test_verification import _verify, tiny_scenario

REQUIRED = ("bax_knockout", "musk_agonist", "dok7_gene_therapy", "muscle_gdnf", "astrocyte_gdnf",
            "igf1_aav", "vegf_lentivirus", "cntf", "riluzole", "hdac6_inhibitor")


def _treatment(**changes) -> Treatment:
    values = dict(name="test", kind="drug", compartment="terminal", mechanism="m", source="s",
                  strength_basis="assumed: test", effects={"retraction": 0.5})
    values.update(changes)
    return Treatment(**values)


def test_catalogue_has_the_required_treatments_each_with_a_source_and_a_basis():
    catalogue = builtin_catalogue()
    assert set(REQUIRED) <= set(catalogue)
    for name, treatment in catalogue.items():
        assert len(treatment.source) > 15 and any(ch.isdigit() for ch in treatment.source), name
        assert len(treatment.strength_basis) > 30, name
        assert all(target in TARGETS for target in treatment.effects), name


def test_effect_ramp_builds_up_with_the_onset_time_constant_and_wears_off():
    applied = AppliedTreatment(label="x", treatment=_treatment(onset_days=10.0, offset_days=5.0), start_day=20, end_day=60, dose=0.8)
    assert effect_fraction(applied, 19) == 0.0
    assert effect_fraction(applied, 20) == 0.0
    assert effect_fraction(applied, 30) == pytest.approx(0.8 * (1 - math.exp(-1)))
    at_end = 0.8 * (1 - math.exp(-4))
    assert effect_fraction(applied, 60) == pytest.approx(at_end)
    assert effect_fraction(applied, 65) == pytest.approx(at_end * math.exp(-1))
    instant = AppliedTreatment(label="y", treatment=_treatment(), start_day=5, end_day=9, dose=1.0)
    assert [effect_fraction(instant, t) for t in (4, 5, 8, 9)] == [0.0, 1.0, 1.0, 0.0]


def test_factors_scale_with_dose_multiply_and_respect_local_reach():
    scenario, _ = alsim.load_scenario("sod1-g93a-b6sjl")
    local = _treatment(name="local", reach="local", muscles=("diaphragm",), effects={"sprouting": 3.0})
    treated = with_treatments(scenario, [
        AppliedTreatment(label="a", treatment=_treatment(), start_day=0, dose=0.5),
        AppliedTreatment(label="b", treatment=_treatment(effects={"retraction": 0.5}), start_day=0, dose=1.0),
        AppliedTreatment(label="c", treatment=local, start_day=0, dose=1.0),
    ])
    factors = day_factors(treated, 10)
    np.testing.assert_allclose(factors.muscle("retraction"), 0.75 * 0.5)
    diaphragm = scenario.muscle_names.index("diaphragm")
    expected = np.ones(len(scenario.muscle_names))
    expected[diaphragm] = 3.0
    np.testing.assert_allclose(factors.muscle("sprouting"), expected)
    assert factors.muscle("soma_death") is None


@pytest.mark.parametrize("text, message", [
    ("nonsense_drug", "unknown treatment 'nonsense_drug'; allowed: astrocyte_gdnf"),
    ("riluzole@abc", "START_DAY must be a whole number of days >= 0, got 'abc'"),
    ("riluzole@-3", "START_DAY"),
    ("riluzole@30:1.5", "DOSE"),
    ("riluzole@30:nan", "DOSE must be a number from 0 to 1"),
    ("riluzole@30:x", "DOSE must be a number from 0 to 1, got 'x'"),
    ("bax_knockout@30", "genetic (present from conception): its start day must be 0"),
    ("riluzole @ 30", "expected NAME[@START_DAY][:DOSE]"),
])
def test_bad_treatment_strings_name_the_field(text, message):
    with pytest.raises(ScenarioError, match=None) as err:
        parse_treatment(text, builtin_catalogue())
    assert message in str(err.value)


def test_treatment_strings_parse_start_and_dose():
    applied = parse_treatment("musk_agonist@60:0.25", builtin_catalogue())
    assert (applied.treatment.name, applied.start_day, applied.dose, applied.label) == ("musk_agonist", 60, 0.25, "musk_agonist@60:0.25")
    assert parse_treatment("bax_knockout", builtin_catalogue()).start_day == 0
    assert parse_treatment("riluzole", builtin_catalogue(), default_start=70).start_day == 70


def test_local_treatment_of_a_missing_muscle_is_rejected_with_the_allowed_muscles():
    scenario, _ = alsim.load_scenario("sod1-g93a-b6sjl")
    local = _treatment(reach="local", muscles=("biceps",))
    with pytest.raises(ScenarioError, match="biceps.*allowed: gastrocnemius"):
        with_treatments(scenario, [AppliedTreatment(label="x", treatment=local, start_day=0, dose=1.0)])


def test_user_catalogue_file_is_read_and_bad_entries_name_the_field(tmp_path):
    good = tmp_path / "mine.toml"
    good.write_text('[treatment.my_drug]\nkind = "drug"\ncompartment = "axon"\nmechanism = "m"\n'
                    'source = "Me 2026"\nstrength_basis = "assumed: a test"\neffects = { transport_decline = 0.5 }\n')
    assert "my_drug" in load_catalogue([good])
    bad = tmp_path / "bad.toml"
    bad.write_text('[treatment.my_drug]\nkind = "drug"\ncompartment = "axon"\nmechanism = "m"\n'
                   'source = "Me"\nstrength_basis = "b"\neffects = { transport = 0.5 }\n')
    with pytest.raises(ScenarioError, match=r"treatment.my_drug.effects.transport"):
        load_catalogue([bad])


def test_scenario_with_treatments_round_trips_through_toml(tmp_path):
    scenario, _ = alsim.load_scenario("sod1-g93a-b6sjl")
    treated = with_treatments(scenario, [parse_treatment("musk_agonist@60:0.5", builtin_catalogue())])
    path = tmp_path / "treated.toml"
    path.write_text(alsim.config.loading.scenario_to_toml(treated))
    again, _ = alsim.load_scenario(str(path))
    assert again == treated


def _every_target_treatments() -> list[AppliedTreatment]:
    """Treatments touching every target, some local, with ramps, so every factor matters."""
    systemic = _treatment(name="all", effects={"soma_death": 0.4, "soma_starvation": 0.5, "cortical_drive": 0.3,
                                               "umn_loss": 0.2, "stress_production": 0.6, "transport_decline": 0.5,
                                               "axon_dieback": 0.5, "retraction": 0.5, "destabilisation": 0.3,
                                               "tsc_loss": 0.3}, onset_days=5.0)
    local = _treatment(name="local", reach="local", muscles=("gastrocnemius",), effects={"sprouting": 3.0, "disassembly": 0.3},
                       offset_days=4.0)
    return [AppliedTreatment(label="all@10:0.8", treatment=systemic, start_day=10, dose=0.8),
            AppliedTreatment(label="local@5", treatment=local, start_day=5, end_day=40, dose=1.0)]


def test_engine_matches_reference_with_treatments_on_every_target():
    """Two treatments, one systemic on ten targets with an onset ramp, one local with an end and a
    washout (test_fast_engine.py has another mix, ramped in mid-run in one muscle)."""
    scenario = with_treatments(tiny_scenario("independent"), _every_target_treatments())
    checks, threshold = _verify(scenario, scenario, subjects=120, days=70, compare_days=[20, 35, 50, 70])
    worst = min(checks, key=lambda c: c[1])
    assert len(checks) > 40
    assert worst[1] > threshold, f"{worst[0]}: p = {worst[1]:.2e} < {threshold:.1e}"


def test_treatment_comparison_can_fail():
    """The reference with treatments must be distinguishable from the untreated engine."""
    base = tiny_scenario("independent")
    treated = with_treatments(base, _every_target_treatments())
    checks, threshold = _verify(base, treated, subjects=120, days=70, compare_days=[20, 35, 50, 70])
    assert min(p for _, p in checks) < threshold
