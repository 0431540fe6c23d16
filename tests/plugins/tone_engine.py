"""A test engine plugin: deterministic tones, several chunks per sentence, two speakers, and failure triggers.

Loaded from a plugins directory. Text containing ``CRASH`` kills the process it runs in (a worker crash);
``FAIL`` raises; ``SLOW`` makes each chunk take ``slow_delay`` seconds; ``NOISY`` writes a line to stderr, as a
library's warning or progress bar would.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from enum import Enum

import numpy as np
from pydantic import Field

import voxhost


class ToneSettings(voxhost.EngineSettings):
    """``[engines.tone]``."""

    chunk_delay: float = Field(0.0, ge=0)
    slow_delay: float = Field(0.5, ge=0)
    rate: int = 16000


class Wave(str, Enum):
    """The tone's wave form (an enum option, as plugins write them)."""

    SINE = "sine"
    SQUARE = "square"


class ToneOptions(voxhost.EngineOptions):
    """Per-request options."""

    amplitude: float = Field(0.3, gt=0, le=1)
    wave: Wave | None = None
    harmonics: int | None = Field(None, ge=1, le=8)
    """Tones at this many whole multiples of the pitch (an integer option, as plugins write them)."""


class ToneEngine(voxhost.Engine):
    """A sine tone per character group; pitch by speaker."""

    engine_id = "tone"
    display_name = "Tone"
    capabilities = frozenset({voxhost.Capability.TTS, voxhost.Capability.STREAM})
    Settings = ToneSettings
    Options = ToneOptions
    enabled_by_default = True

    def voices(self) -> list[voxhost.VoiceInfo]:
        """One two-speaker voice."""
        return [
            voxhost.VoiceInfo(
                id="beep",
                name="Beep (test tones)",
                languages=("en_US", "de_DE"),
                sample_rate=self.settings.rate,
                speakers=("low", "high"),
            )
        ]

    def load(self) -> None:
        """Nothing to load; records the process id for tests."""
        self.pid = os.getpid()

    def synthesize(self, request: voxhost.SynthesisRequest) -> Iterator[voxhost.PCM]:
        """0.05 s of tone per character, in chunks of 10 characters."""
        if "CRASH" in request.text:
            os._exit(3)
        if "FAIL" in request.text:
            raise RuntimeError("tone engine asked to fail")
        if "NOISY" in request.text:
            print("\rtone: 50% done\rtone: a warning of an earlier request", file=sys.stderr, flush=True)
        rate = self.settings.rate
        pitch = 880.0 if request.speaker == "high" else 220.0
        amplitude = request.options.get("amplitude", 0.3)
        seconds_per_char = 0.05 / request.speed
        for start in range(0, len(request.text), 10):
            if self.settings.chunk_delay:
                time.sleep(self.settings.chunk_delay)
            if "SLOW" in request.text:
                time.sleep(self.settings.slow_delay)
            count = min(10, len(request.text) - start)
            t = np.arange(int(rate * seconds_per_char * count)) / rate
            harmonics = request.options.get("harmonics") or 1
            wave = sum(np.sin(2 * np.pi * pitch * k * t) for k in range(1, harmonics + 1)) / harmonics
            if request.options.get("wave") == Wave.SQUARE:
                wave = np.sign(wave)
            yield voxhost.PCM.from_float(amplitude * wave, rate)

    def status(self) -> dict[str, object]:
        """The process serving the engine."""
        return {"engine_pid": os.getpid()}


@voxhost.hookimpl
def register_engines(register):
    """Register the tone engine."""
    register(ToneEngine)
