"""A test engine: a multi-speaker German voice that hums a tone per speaker, and fails on request.

Loaded as a single-file plugin (``plugins_dirs``) so door tests can check speaker and language selection and
engine failures without a real model. Each speaker hums its own pitch, so the audio shows which one spoke.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

import voxhost
from voxhost.engine import PCM, Capability, Engine, SynthesisRequest, VoiceInfo
from voxhost.errors import EngineError

RATE = 16000
SPEAKERS = ("alto", "tenor", "bass")
PITCH = {"alto": 440.0, "tenor": 220.0, "bass": 110.0}
FAIL_WORD = "explode"
"""Text containing this word makes the engine fail mid-job."""


class ChorusEngine(Engine):
    """Hums 0.2 s per word; speaks cloned voices from the library as the first speaker."""

    engine_id = "chorus"
    display_name = "Chorus (test)"
    capabilities = frozenset({Capability.TTS, Capability.CLONE})
    enabled_by_default = True
    clone_sample_rate = RATE

    def voices(self) -> list[VoiceInfo]:
        """One German voice with three speakers."""
        return [VoiceInfo(id="choir", name="Choir", languages=("de_DE",), sample_rate=RATE, speakers=SPEAKERS)]

    def load(self) -> None:
        """Nothing to load."""

    def synthesize(self, request: SynthesisRequest) -> Iterator[PCM]:
        """A tone at the speaker's pitch, as long as the sentence has words."""
        if FAIL_WORD in request.text:
            raise EngineError("the chorus lost its voice")
        pitch = PITCH[request.speaker or SPEAKERS[0]]
        seconds = 0.2 * max(1, len(request.text.split()))
        t = np.arange(int(RATE * seconds)) / RATE
        yield PCM.from_float(0.3 * np.sin(2 * np.pi * pitch * t), RATE)


@voxhost.hookimpl
def register_engines(register):
    """Register the chorus engine."""
    register(ChorusEngine)
