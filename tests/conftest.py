"""Shared fixtures: small scenarios and cached simulations of the presets."""

from __future__ import annotations

import numpy as np
import pytest

import alsim

SMALL_MUSCLES = [
    "muscles.gastrocnemius.n_motor_units=20", "muscles.gastrocnemius.n_fibres=600",
    "muscles.tibialis_anterior.n_motor_units=20", "muscles.tibialis_anterior.n_fibres=500",
    "muscles.soleus.n_motor_units=10", "muscles.soleus.n_fibres=200",
    "muscles.diaphragm.n_motor_units=20", "muscles.diaphragm.n_fibres=500",
]


@pytest.fixture(autouse=True)
def _strict_numerics():
    """Floating-point errors (but not harmless underflow) raise under test."""
    with np.errstate(all="raise", under="ignore"):
        yield


def write_small_preset(path, *, name: str = "small", extra: list[str] | None = None):
    """Write a TOML scenario that `extends` the B6SJL preset with the small muscles; return its path.

    ``extra`` holds top-level lines such as ``"horizon_days = 150"`` (a value without a
    source: the commands warn about it). The muscles' values carry a source.
    """
    lines = ['extends = "sod1-g93a-b6sjl"', f'name = "{name}"', *(extra or [])]
    sections: dict[str, list[str]] = {}
    for item in SMALL_MUSCLES:
        dotted, value = item.split("=")
        section, key = dotted.rsplit(".", 1)
        sections.setdefault(section, []).append(f'{key} = {{ value = {value}, source = "assumed: small muscles, fast tests" }}')
    for section, keys in sections.items():
        lines += [f"[{section}]", *keys]
    path.write_text("\n".join(lines) + "\n")
    return path


def small_scenario(preset: str = "sod1-g93a-b6sjl", extra: list[str] | None = None):
    scenario, _ = alsim.load_scenario(preset, SMALL_MUSCLES + list(extra or []))
    return scenario


@pytest.fixture(scope="session")
def b6sjl_runs():
    """The full B6SJL preset under both hypotheses, 12 subjects each (shared by the phenomenon tests)."""
    runs = {}
    for name in ("dying_back", "dying_forward"):
        scenario, _ = alsim.load_scenario("sod1-g93a-b6sjl", [f"hypothesis.name={name}"])
        runs[name] = alsim.simulate(scenario, subjects=12, seed=11)
    return runs
