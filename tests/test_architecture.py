"""The package's shape: no import cycles; doors and plugins see only the public core; the core names no door."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import REPO

PACKAGE = REPO / "voxhost"

PUBLIC = {
    "voxhost",
    "voxhost.api",
    "voxhost.operations",
    "voxhost.errors",
    "voxhost.events",
    "voxhost.voices",
    "voxhost.engine",
    "voxhost.door",
    "voxhost.audio",
    "voxhost.settings",
    "voxhost.models",
    "voxhost.text",
    "voxhost.transcripts",
    "voxhost.hookspecs",
    "voxhost.langid",
    "voxhost.resident",
    "voxhost.dsp",
    "voxhost.watching",
    "voxhost.budget",
    "voxhost.memory",  # resident memory and giving freed memory back: engines trim as the host does
    "voxhost.replacing",  # writing a file whole or not at all: small, stable, and doors and engines keep files too
}
"""What doors, hook specs and plugins may import of the core: the narrow API and public types."""

CORE_MODULES = [path for path in PACKAGE.glob("*.py") if path.name != "cli.py"]
"""The core: every module at the package's top level (doors and engines live in sub-packages). The command line
is the user's front end and may offer flags for the built-in doors."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path) for root in (PACKAGE, REPO / "plugins") for path in root.rglob("*.py")}


def _imports(path: Path) -> Iterator[str]:
    """Every module a file imports, at any level (TYPE_CHECKING and function-level imports included).

    A module's own parent packages are left out: Python has them (partly) imported already, and a package's
    ``__init__`` importing its submodules is not a cycle.
    """
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # ``from . import hookspecs`` imports a module; ``from voxhost import __version__`` a name.
            found.update(f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in MODULES)
    yield from sorted(found - parents - {name})


def _graph(paths: list[Path]) -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in paths}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return out


def test_no_import_cycle_in_the_package():
    graph = _graph(sorted(PACKAGE.rglob("*.py")))
    assert _cycles(graph) == []


def _outside_users() -> list[Path]:
    """Doors, hook specs, built-in engine plugins and out-of-tree plugins."""
    return [
        *sorted((PACKAGE / "protocols").rglob("*.py")),
        *sorted((PACKAGE / "plugins").rglob("*.py")),
        PACKAGE / "hookspecs.py",
        *sorted((REPO / "plugins").rglob("*.py")),
    ]


@pytest.mark.parametrize("path", _outside_users(), ids=lambda p: str(p.relative_to(REPO)))
def test_doors_and_plugins_import_only_the_public_core(path):
    own = _module_name(path).split(".")[:3]  # their own package (voxhost.protocols.mqtt, voxhost.plugins.f5)
    private = [
        target
        for target in _imports(path)
        if target.startswith("voxhost")
        and target.split(".")[:2] != own[:2]
        and target not in PUBLIC
        and target.rsplit(".", 1)[0] not in PUBLIC - {"voxhost"}  # ``from voxhost.engine import PCM``
    ]
    assert private == [], f"{path.name} imports private core modules"


NAMES = ("piper", "f5", "chatterbox", "qwen", "wyoming", "mqtt", "/v1/")
"""Engines and doors the core must not name in its code (docstrings may use them as examples)."""


def _strings(tree: ast.AST) -> Iterator[str]:
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)  # docstrings, attribute docs
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.value
        elif isinstance(node, ast.Name):
            yield node.id


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda p: p.name)
def test_core_names_no_door_and_no_engine(path):
    named = [s for s in _strings(ast.parse(path.read_text())) for name in NAMES if name in s.lower()]
    assert named == [], f"{path.name} names {named}"
