"""A test plugin that registers a class that is no ``voxhost.Engine``."""

from __future__ import annotations

from typing import Any

import voxhost


class NotAnEngine:
    """Looks like an engine to a careless eye: it has an id."""

    engine_id = "lookalike"


@voxhost.hookimpl
def register_engines(register: Any) -> None:
    """Register the look-alike."""
    register(NotAnEngine)
