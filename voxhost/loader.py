"""Import a single-file plugin from its path, under a stable module name (the daemon and its workers both do)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

DIR_PLUGIN_PREFIX = "voxhost_plugins_dir."
"""Module-name prefix of single-file plugins loaded from a directory."""


def module_name(path: Path) -> str:
    """The module name a plugin file is imported under."""
    return DIR_PLUGIN_PREFIX + path.stem


def load_module(path: str | Path, name: str | None = None) -> ModuleType:
    """Import the file at ``path`` as ``name`` (registered in ``sys.modules``, so pickling and workers find it)."""
    path = Path(path)
    name = name or module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
