"""Meta-tests: every hook is documented with its signature and has a test named after it."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from voxhost import hookspecs

from .conftest import REPO

HOOKS = sorted(name for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, "voxhost_spec"))


def test_there_are_hooks():
    assert {"register_engines", "register_doors", "startup", "shutdown", "observe_event"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    args = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### {hook}({args})" in (REPO / "docs" / "plugins.md").read_text()
    assert getattr(hookspecs, hook).__doc__


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    source = "\n".join(path.read_text() for path in Path(REPO / "tests").rglob("test_*.py"))
    assert re.search(rf"def test_hook_{hook}\b", source)
