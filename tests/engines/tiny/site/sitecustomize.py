"""Test-only start-up hook for worker interpreters (this directory goes on a worker's PYTHONPATH).

- ``VOXHOST_TINY_CHATTERBOX=1``: shrink Chatterbox's hard-coded architecture so the tiny test models load.
- ``VOXHOST_TEST_NO_PKG_RESOURCES=1``: make ``import pkg_resources`` fail, as it does with setuptools >= 81.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from pathlib import Path


class _NoPkgResources(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):  # type: ignore[no-untyped-def]
        if name == "pkg_resources" or name.startswith("pkg_resources."):
            raise ImportError("No module named 'pkg_resources' (hidden by the test start-up hook)")
        return None


if os.environ.get("VOXHOST_TEST_NO_PKG_RESOURCES") == "1":
    sys.meta_path.insert(0, _NoPkgResources())

if os.environ.get("VOXHOST_TINY_CHATTERBOX") == "1":
    _spec = importlib.util.spec_from_file_location(
        "tiny_chatterbox", Path(__file__).resolve().parent.parent / "tiny_chatterbox.py"
    )
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["tiny_chatterbox"] = _module
    _spec.loader.exec_module(_module)
    _module.shrink()
