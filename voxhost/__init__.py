"""voxhost: a resident text-to-speech daemon for home voice setups."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import (
        PCM,
        Capability,
        Engine,
        EngineContext,
        EngineOptions,
        EngineSettings,
        ModelSpec,
        Reference,
        SynthesisRequest,
        VoiceInfo,
    )
    from .hookspecs import hookimpl

    __version__: str

_LAZY = {
    **dict.fromkeys(
        [
            "PCM",
            "Capability",
            "Engine",
            "EngineContext",
            "EngineOptions",
            "EngineSettings",
            "ModelSpec",
            "Reference",
            "SynthesisRequest",
            "VoiceInfo",
        ],
        ".engine",
    ),
    "hookimpl": ".hookspecs",
}
"""The public names and their modules, imported on first use: the ``voxhost`` command holds its signals before
anything heavy (pydantic, numpy) loads (``voxhost.startup``)."""


def __getattr__(name: str) -> Any:
    """Import a public name when first asked for."""
    if name == "__version__":
        value: Any = _version()
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # asked once
    return value


def _version() -> str:
    """The installed distribution's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("voxhost")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0"


__all__ = [
    "PCM",
    "Capability",
    "Engine",
    "EngineContext",
    "EngineOptions",
    "EngineSettings",
    "ModelSpec",
    "Reference",
    "SynthesisRequest",
    "VoiceInfo",
    "__version__",
    "hookimpl",
]
