"""voxhost: a resident text-to-speech daemon for home voice setups."""

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("voxhost")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

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
