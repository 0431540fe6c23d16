"""The Qwen3-TTS engine plugin (worker mode; environments from ``envs/qwen/setup.sh`` or ``envs/mlx/setup.sh``)."""

from __future__ import annotations

from collections.abc import Callable

from ...engine import Engine
from ...hookspecs import hookimpl
from .config import Qwen3Options, Qwen3Settings, select_backend
from .engine import Qwen3Engine

__all__ = ["Qwen3Engine", "Qwen3Options", "Qwen3Settings", "register_engines", "select_backend"]


@hookimpl
def register_engines(register: Callable[[type[Engine]], None]) -> None:
    """Offer the Qwen3-TTS engine."""
    register(Qwen3Engine)
