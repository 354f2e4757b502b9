"""Reading scenarios: presets and user TOML files, `extends`, `--set` overrides, sources.

A scenario file is TOML. A leaf is either a plain value or a table
``{ value = ..., source = "..." }``; presets shipped with alsim give a source for
every leaf (a paper with figure or table, or ``assumed: reason``). A file may start
with ``extends = "PRESET"`` and then give only what it changes.
"""

from __future__ import annotations

import copy
import difflib
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .schema import Scenario

PRESET_PACKAGE = "alsim.config.presets"
DESCRIPTIVE_FIELDS = ("name", "description", "genotype", "species", "strain")
"""Fields that say what a scenario is, not parameter values: they need no source."""
UNSOURCED = "unsourced:"
"""How ``sources`` marks a value given without a source (``key = value`` instead of
``key = { value = ..., source = "..." }``)."""


class ScenarioError(ValueError):
    """A scenario that cannot be built: names the field and what is allowed."""


def preset_names() -> list[str]:
    """Names of the presets shipped with alsim, sorted."""
    files = resources.files(PRESET_PACKAGE).iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def _did_you_mean(name: str, allowed: list[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest of ``allowed``, or nothing."""
    hint = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def _read_toml_text(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{origin}: malformed TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(f"{origin}: malformed TOML: arrays or tables nested too deeply") from None


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False for names no file can have (a NUL byte, too long)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _preset_tree(name: str) -> dict[str, Any]:
    if name not in preset_names():
        raise ScenarioError(f"unknown preset '{name}'{_did_you_mean(name, preset_names())}; "
                            f"allowed: {', '.join(preset_names())}")
    text = resources.files(PRESET_PACKAGE).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return _read_toml_text(text, f"preset {name}")


def _is_leaf_table(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node and set(node) <= {"value", "source"}


def split_sources(tree: dict[str, Any], prefix: str = "") -> tuple[dict[str, Any], dict[str, str]]:
    """Separate ``{value, source}`` leaves into a plain value tree and a map path -> source."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, node in tree.items():
        path = f"{prefix}{key}"
        if _is_leaf_table(node):
            values[key] = node["value"]
            if "source" in node:
                sources[path] = str(node["source"])
        elif isinstance(node, dict):
            values[key], sub = split_sources(node, prefix=f"{path}.")
            sources.update(sub)
        else:
            values[key] = node
    return values, sources


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, node in update.items():
        if isinstance(node, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], node)
        else:
            merged[key] = copy.deepcopy(node)
    return merged


def _resolve_file(path: Path, depth: int = 0) -> tuple[dict[str, Any], dict[str, str]]:
    if depth > 8:
        raise ScenarioError(f"{path}: 'extends' chain is too deep (more than 8)")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"scenario file {path}: not UTF-8 text (byte {exc.start}); TOML files are UTF-8") from None
    except ValueError as exc:   # a NUL byte in the name
        raise ScenarioError(f"cannot read scenario file {path!r}: {exc}") from None
    tree = _read_toml_text(text, str(path))
    return _resolve_tree(tree, origin=str(path), base_dir=path.parent, depth=depth)


def _resolve_tree(tree: dict[str, Any], *, origin: str, base_dir: Path | None, depth: int) -> tuple[dict[str, Any], dict[str, str]]:
    if depth > 8:
        raise ScenarioError(f"{origin}: 'extends' chain is too deep (more than 8)")
    parent = tree.pop("extends", None)
    values, sources = split_sources(tree)
    for path in _leaf_paths(values):
        if path in DESCRIPTIVE_FIELDS or _sourced_above(path, sources):
            sources.setdefault(path, f"set in {origin}")
        else:
            sources.setdefault(path, f"{UNSOURCED} set in {origin} without a source")
    if parent is None:
        return values, sources
    if not isinstance(parent, str):
        raise ScenarioError(f"{origin}: 'extends' must be a preset name or a file path, got {parent!r}")
    if parent in preset_names():
        base_values, base_sources = _resolve_tree(_preset_tree(parent), origin=f"preset {parent}", base_dir=None, depth=depth + 1)
    elif base_dir is not None and _is_file(base_dir / parent):
        base_values, base_sources = _resolve_file(base_dir / parent, depth + 1)
    else:
        raise ScenarioError(f"{origin}: extends unknown preset or file '{parent}'{_did_you_mean(parent, preset_names())}; "
                            f"presets: {', '.join(preset_names())}")
    return _merge(base_values, values), {**base_sources, **sources}


def _sourced_above(path: str, sources: dict[str, str]) -> bool:
    """Whether a table holding ``path`` carries the source (``x = { value = { a = 1 }, source = ... }``)."""
    parts = path.split(".")
    return any(".".join(parts[:n]) in sources for n in range(1, len(parts)))


def unsourced_fields(sources: dict[str, str]) -> list[str]:
    """The dotted paths whose value was given without a source (a plain ``key = value`` in a
    scenario file), sorted. The CLI warns about them; ``sources.json`` records them as such."""
    return sorted(path for path, source in sources.items() if source.startswith(UNSOURCED))


def _leaf_paths(tree: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, node in tree.items():
        if isinstance(node, dict):
            paths.extend(_leaf_paths(node, f"{prefix}{key}."))
        else:
            paths.append(f"{prefix}{key}")
    return paths


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``dotted.path=value`` (the value is read as a TOML literal, else as a string)."""
    if "=" not in text:
        raise ScenarioError(f"--set '{text}': expected dotted.path=value")
    path, raw = (part.strip() for part in text.split("=", 1))
    if not path or any(not part for part in path.split(".")):
        raise ScenarioError(f"--set '{text}': the path must be dotted names, e.g. rates.sprouting=0.1")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    if isinstance(value, float) and not math.isfinite(value):
        raise ScenarioError(f"--set {path}: {raw} is not a finite number")
    return path, value


def _apply_override(tree: dict[str, Any], path: str, value: Any) -> None:
    node = tree
    parts = path.split(".")
    for depth, key in enumerate(parts):
        here = ".".join(parts[:depth]) or "the scenario"
        if not isinstance(node, dict) or key not in node:
            allowed = sorted(node) if isinstance(node, dict) else []
            hint = difflib.get_close_matches(key, allowed, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ScenarioError(f"--set {path}: unknown field '{key}' in {here}{suggestion}; allowed: {', '.join(allowed)}")
        if depth == len(parts) - 1:
            if isinstance(node[key], dict):
                raise ScenarioError(f"--set {path}: '{path}' is a table; set one of its fields: {', '.join(sorted(node[key]))}")
            node[key] = value
        else:
            node = node[key]


def _validate(values: dict[str, Any]) -> Scenario:
    try:
        return Scenario.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "scenario"
        got = first.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        more = f" [and {exc.error_count() - 1} more problem(s)]" if exc.error_count() > 1 else ""
        raise ScenarioError(f"field '{field}': {first['msg']}{shown}{more}") from None


def load_scenario(spec: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> tuple[Scenario, dict[str, str]]:
    """Build a validated scenario from a preset name or a TOML file, plus ``--set`` overrides.

    Returns the scenario and a map from each dotted parameter path to its source.
    Raises :class:`ScenarioError` with a message that names the field.
    """
    spec_text = str(spec)
    if spec_text in preset_names():
        values, sources = _resolve_tree(_preset_tree(spec_text), origin=f"preset {spec_text}", base_dir=None, depth=0)
    elif spec_text.endswith(".toml") or _is_file(Path(spec_text)):
        values, sources = _resolve_file(Path(spec_text))
    else:
        raise ScenarioError(f"unknown preset '{spec_text}'{_did_you_mean(spec_text, preset_names())} (and no such "
                            f"TOML file); allowed presets: {', '.join(preset_names())}")
    for text in overrides:
        path, value = parse_override(text)
        _apply_override(values, path, value)
        sources[path] = "set by override (--set)"
    return _validate(values), sources


def scenario_to_toml(scenario: Scenario, sources: dict[str, str] | None = None) -> str:
    """Write a resolved scenario as TOML (round-trips through :func:`load_scenario`).

    With ``sources`` (dotted path -> source, as :func:`load_scenario` returns), each value
    that has one is written as ``{ value = ..., source = "..." }``, as in the presets.
    """
    lines: list[str] = []
    sources = sources or {}

    def emit(tree: dict[str, Any], prefix: str) -> None:
        scalars = {k: v for k, v in tree.items() if not isinstance(v, dict) and v is not None}   # None: an absent optional section
        tables = {k: v for k, v in tree.items() if isinstance(v, dict)}
        if scalars:
            if prefix:
                lines.append(f"[{prefix}]")
            for key, value in scalars.items():
                source = sources.get(f"{prefix}.{key}" if prefix else key)
                literal = _toml_literal(value)
                if source is not None and not isinstance(value, (list, tuple)):
                    literal = f"{{ value = {literal}, source = {_toml_literal(source)} }}"
                lines.append(f"{key} = {literal}")
            lines.append("")
        for key, value in tables.items():
            emit(value, f"{prefix}.{key}" if prefix else key)

    emit(scenario.model_dump(mode="json"), "")
    return "\n".join(lines)


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if value is None:
        raise TypeError("TOML has no null: leave the key out")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):  # inline table, e.g. one entry of `treatments`
        items = (f"{key} = {_toml_literal(v)}" for key, v in value.items() if v is not None)
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")
