"""A test engine plugin whose load takes ``load_seconds`` (a heavy model loading at boot); it speaks silence."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
from pydantic import Field

import voxhost


class SlowSettings(voxhost.EngineSettings):
    """``[engines.slowload]``."""

    load_seconds: float = Field(30.0, ge=0)


class SlowEngine(voxhost.Engine):
    """Loads slowly, then speaks 0.1 s of silence."""

    engine_id = "slowload"
    display_name = "Slow loader"
    capabilities = frozenset({voxhost.Capability.TTS})
    Settings = SlowSettings
    enabled_by_default = True

    def voices(self) -> list[voxhost.VoiceInfo]:
        """One voice."""
        return [voxhost.VoiceInfo(id="slow", name="Slow", languages=("en_US",), sample_rate=16000)]

    def load(self) -> None:
        """Sleep like a large model loading."""
        time.sleep(self.settings.load_seconds)

    def synthesize(self, request: voxhost.SynthesisRequest) -> Iterator[voxhost.PCM]:
        """Silence."""
        yield voxhost.PCM.from_float(np.zeros(1600, dtype=np.float32), 16000)


@voxhost.hookimpl
def register_engines(register):
    """Offer the slow engine."""
    register(SlowEngine)
