"""voxhost: a resident text-to-speech daemon for home voice setups."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use (``__getattr__``)
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

__all__ = [  # also what a plugin's strict type checker takes as exported (voxhost ships py.typed)
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


def __getattr__(name: str) -> Any:
    """Import a public name when first asked for: the ``voxhost`` command holds its signals before anything heavy
    (pydantic, numpy) loads (``voxhost.startup``)."""
    if name == "__version__":
        value: Any = _version()
    elif name in __all__:
        value = getattr(importlib.import_module(".hookspecs" if name == "hookimpl" else ".engine", __name__), name)
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
