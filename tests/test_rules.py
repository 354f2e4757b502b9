"""The rules of alsim.biology: one function each, the same numbers compiled and on arrays; the oracles apart."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import alsim
from alsim.biology import endplate_rules, subject_rules, unit_rules
from alsim.engine.fast.params import RATE_SECTIONS, build_params
from alsim.engine.context import build_context

RULE_MODULES = (unit_rules, endplate_rules, subject_rules)
RULES = [(module.__name__.rsplit(".", 1)[1], name, rule) for module in RULE_MODULES
         for name, rule in vars(module).items() if hasattr(rule, "py_func") and rule.__module__ == module.__name__]


def _arguments(rule, rng: np.random.Generator, size: int) -> list:
    """Arguments in each rule's range: states 0-2 for the Schwann cell and coverage, else positive floats."""
    values = []
    for name in inspect.signature(rule.py_func).parameters:
        if name in ("tsc", "coverage"):
            values.append(rng.integers(0, 3, size))
        elif name in ("vulnerable", "axon_intact"):
            values.append(rng.integers(0, 2, size).astype(bool))
        elif name in ("exponent",):
            values.append(0.5)
        else:
            values.append(rng.uniform(0.0, 2.0, size))
    return values


@pytest.mark.parametrize("module, name, rule", RULES, ids=[f"{m}.{n}" for m, n, _ in RULES])
def test_a_rule_gives_the_same_numbers_compiled_on_floats_and_in_python_on_arrays(module, name, rule):
    rng = np.random.default_rng(7)
    arguments = _arguments(rule, rng, 16)
    on_arrays = np.broadcast_to(rule.py_func(*arguments), (16,)).astype(np.float64)
    compiled = np.array([rule(*[(a[i] if np.ndim(a) else a).item() if hasattr(a, "item") else a for a in arguments])
                         for i in range(16)], dtype=np.float64)
    # the same operations in the same order; only NumPy's vectorised exp, expm1 and pow (SIMD) may
    # round differently from the libm the compiled kernel calls, by at most one unit in the last place
    np.testing.assert_array_max_ulp(compiled, on_arrays, maxulp=1)


def test_every_rule_has_a_docstring_with_its_biology():
    for _, name, rule in RULES:
        assert rule.py_func.__doc__ and len(rule.py_func.__doc__) > 40, name


def test_every_rate_of_the_schema_reaches_the_kernel():
    scenario, _ = alsim.load_scenario("sod1-g93a-b6sjl")
    params = build_params(build_context(scenario))
    for section, (prefix, model) in RATE_SECTIONS.items():
        for field in model.model_fields:
            assert getattr(params, prefix + field) == getattr(getattr(scenario, section), field), f"{section}.{field}"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "alsim." + (node.module or "") if node.level == 2 else ("alsim.verification." + (node.module or "")
                                                                          if node.level == 1 else node.module or "")
            found.add(base)
    return found


def test_the_oracles_import_no_production_rule():
    """The reference stepper and the mean field import only the scenario schema from alsim, never
    alsim.biology or alsim.engine, nor each other (docs/verification.md)."""
    folder = Path(alsim.__file__).parent / "verification"
    for path in folder.glob("*.py"):
        alsim_imports = {m for m in _imported_modules(path) if m.startswith("alsim")}
        assert all(m.startswith("alsim.config") for m in alsim_imports), (path.name, alsim_imports)


def test_cached_kernels_are_dropped_when_a_rule_changes(tmp_path, monkeypatch):
    """Numba checks only a function's own file; editing a rule must still reach the kernels that compile it in."""
    from alsim.engine.fast import cache

    fast, biology = tmp_path / "fast", tmp_path / "biology"
    for folder in (fast, biology):
        (folder / "__pycache__").mkdir(parents=True)
        (folder / "module.py").write_text("x = 1\n")
    monkeypatch.setattr(cache, "_FAST", fast)
    monkeypatch.setattr(cache, "_BIOLOGY", biology)
    kernel = fast / "__pycache__" / "kernel.step-1.py311.nbi"
    kernel.write_text("compiled")
    cache.drop_stale_kernels()                       # no fingerprint yet: dropped
    assert not kernel.exists()
    kernel.write_text("compiled")
    cache.drop_stale_kernels()                       # nothing changed: kept
    assert kernel.exists()
    (biology / "module.py").write_text("x = 2\n")   # a rule changed: dropped
    cache.drop_stale_kernels()
    assert not kernel.exists()
