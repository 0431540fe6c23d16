"""The F5-TTS engine plugin (worker mode; needs the environment from ``envs/f5/setup.sh``)."""

from __future__ import annotations

from collections.abc import Callable

from ...engine import Engine
from ...hookspecs import hookimpl
from .engine import F5Engine
from .registry import DEFAULT_MODELS, F5Options, F5Settings, LanguageModel

__all__ = ["DEFAULT_MODELS", "F5Engine", "F5Options", "F5Settings", "LanguageModel", "register_engines"]


@hookimpl
def register_engines(register: Callable[[type[Engine]], None]) -> None:
    """Offer the F5 engine."""
    register(F5Engine)
