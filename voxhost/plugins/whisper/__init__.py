"""Built-in speech recognition: the ``whisper`` engine (faster-whisper or mlx-whisper)."""

from __future__ import annotations

from typing import Any

import voxhost

from .engine import WhisperEngine

__all__ = ["WhisperEngine"]


@voxhost.hookimpl
def register_engines(register: Any) -> None:
    """Register the whisper engine."""
    register(WhisperEngine)
