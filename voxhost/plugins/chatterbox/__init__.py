"""Built-in Chatterbox engine plugin (runs in a worker process with its own environment)."""

from __future__ import annotations

from collections.abc import Callable

import voxhost

from .engine import ChatterboxEngine, ChatterboxOptions, ChatterboxSettings

__all__ = ["ChatterboxEngine", "ChatterboxOptions", "ChatterboxSettings"]


@voxhost.hookimpl
def register_engines(register: Callable[[type[voxhost.Engine]], None]) -> None:
    """Offer the Chatterbox engine."""
    register(ChatterboxEngine)
