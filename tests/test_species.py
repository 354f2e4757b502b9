"""alsim.biology.species: the facts that differ between a mouse and a person, asked by name or scenario."""

from __future__ import annotations

import pytest

import alsim
from alsim.biology.species import HUMAN, MOUSE, SPECIES, species_of
from alsim.engine.census import snapshot_interval


def test_every_preset_has_its_species():
    for name in alsim.preset_names():
        scenario, _ = alsim.load_scenario(name)
        species = species_of(scenario)
        assert species is SPECIES[scenario.species]
        assert snapshot_interval(scenario) == species.snapshot_every_days


def test_people_count_from_onset_and_stop_at_end_stage():
    assert HUMAN.onset_aligned and HUMAN.stops_at_end_stage and HUMAN.packaged_priors == "human.toml"
    assert not MOUSE.onset_aligned and not MOUSE.stops_at_end_stage and MOUSE.packaged_priors is None
    assert species_of("mouse") is MOUSE


def test_an_unknown_species_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValueError, match="species must be one of mouse, human, got 'rat'"):
        species_of("rat")
