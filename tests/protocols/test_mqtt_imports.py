"""The MQTT door's parts never see the door: only the package's plugin entry imports it, and no module of the
package imports another in a cycle (``TYPE_CHECKING`` imports count)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import voxhost.protocols.mqtt

from ..test_architecture import PUBLIC

PACKAGE = "voxhost.protocols.mqtt"
DIRECTORY = Path(voxhost.protocols.mqtt.__file__).parent
PUBLIC_CORE = PUBLIC
"""What a door may import from the core (``voxhost.protocols`` itself aside): the architecture's one list."""


def module_name(path: Path) -> str:
    return PACKAGE if path.name == "__init__.py" else f"{PACKAGE}.{path.stem}"


def is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved; every import statement counts, wherever it is."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.add(target)
            # "from . import service" imports a module, not a name.
            found.update(f"{target}.{alias.name}" for alias in node.names if is_module(f"{target}.{alias.name}"))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in DIRECTORY.glob("*.py")}
    return {name: imports(path) & set(modules) - {name} for name, path in modules.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules along it, or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_only_the_plugin_entry_imports_the_door():
    edges = graph()
    assert len(edges) > 10  # every module of the package was read
    importers = {name for name, targets in edges.items() if f"{PACKAGE}.door" in targets}
    assert importers == {PACKAGE}


def test_no_import_cycle_in_the_mqtt_door():
    assert find_cycle(graph()) is None


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_door_imports_only_public_core_modules():
    for path in DIRECTORY.glob("*.py"):
        core = {name for name in imports(path) if name.split(".")[0] == "voxhost" and not name.startswith(PACKAGE)}
        # "from ... import __version__" names the package; anything else must be a public module.
        private = {name for name in core if name not in PUBLIC_CORE and name != "voxhost.__version__"}
        assert not private, f"{path.name} imports {sorted(private)}"
