"""The layering of DESIGN.md as a contract: each import-linter contract in pyproject.toml
is kept (``lint-imports``), and no private name crosses from one part of alsim to another."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]

#: Contracts broken until the parts that others restructure are merged (each must then
#: be kept: strict, so a contract that becomes kept fails here until removed from this list).
PENDING: dict[str, str] = {}

#: Private modules every part may read: ``alsim._version`` holds only ``__version__``, kept apart
#: from the public face so that reading the version imports nothing else.
SHARED_PRIVATE_MODULES = {"_version"}

#: Private names that still cross a border in parts others restructure (importer, module.name).
PENDING_PRIVATE = {("alsim.bench", "alsim.engine.runner._run_block"),
                   ("alsim.inference.observations", "alsim.data.training._read"),
                   ("alsim.inference.human_observations", "alsim.data.training._read")}


def _lint_imports_command() -> list[str]:
    beside = Path(sys.executable).with_name("lint-imports")
    command = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert command, "lint-imports not found: pip install -e '.[test]'"
    return [command, "--no-cache", str(ROOT / "pyproject.toml")]


@pytest.fixture(scope="module")
def lint_output() -> str:
    done = subprocess.run(_lint_imports_command(), cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})
    said = done.stdout + done.stderr
    assert "Contracts:" in said, f"lint-imports did not check the contracts:\n{said}"
    return said


def _status(output: str, name: str) -> str:
    flat = " ".join(output.split())
    for status in ("KEPT", "BROKEN"):
        if f"{' '.join(name.split())} {status}" in flat:
            return status
    raise AssertionError(f"contract {name!r} not reported by lint-imports:\n{output}")


@pytest.mark.parametrize("contract", [
    pytest.param(c, id=c["id"], marks=pytest.mark.xfail(strict=True, reason=f"pending merge: {PENDING[c['id']]}"))
    if c["id"] in PENDING else pytest.param(c, id=c["id"]) for c in CONTRACTS])
def test_contract_is_kept(lint_output, contract):
    assert _status(lint_output, contract["name"]) == "KEPT", lint_output


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    """The part of alsim a module belongs to: ``alsim.report.page`` -> ``alsim.report``."""
    return ".".join(module.split(".")[:2])


def private_imports(src: Path = ROOT / "src") -> set[tuple[str, str]]:
    """(importer, module.name) for every ``from X import _name`` (or import of a ``_module``)
    where X is in another part of alsim than the importer."""
    found = set()
    for path in sorted((src / "alsim").rglob("*.py")):
        module = _module_name(path, src)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*base, node.module] if node.module else base) if node.level else (node.module or "")
            if not target.startswith("alsim.") or _part(target) == _part(module):
                continue
            for alias in node.names:
                private = [p for p in [*target.split("."), alias.name]
                           if p.startswith("_") and not p.startswith("__") and p not in SHARED_PRIVATE_MODULES]
                if private:
                    found.add((module, f"{target}.{alias.name}"))
    return found


def test_no_private_name_crosses_a_part():
    crossing = private_imports()
    assert crossing - PENDING_PRIVATE == set(), sorted(crossing - PENDING_PRIVATE)


def test_the_private_name_check_can_fail(tmp_path):
    """The scan sees a private name imported from another part, relative or absolute (the
    23 of issue 17 were of this form), and not one imported within its own part."""
    for folder, text in {"alsim": "", "alsim/a": "", "alsim/b": "", "alsim/b/y": "_z = 1\n_w = 2\n",
                         "alsim/a/x": "from ..b.y import _z\nfrom alsim.b.y import _w\n",
                         "alsim/b/v": "from .y import _z\n"}.items():
        path = tmp_path / (folder + "/__init__.py" if text == "" else folder + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert private_imports(tmp_path) == {("alsim.a.x", "alsim.b.y._z"), ("alsim.a.x", "alsim.b.y._w")}
