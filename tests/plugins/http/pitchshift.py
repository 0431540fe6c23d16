"""A small single-file test plugin: engines that clone and convert voices with plain signal processing.

``pitchshift`` (clone + convert): conversion moves the input's dominant pitch to the target voice's by resampling
(like changing tape speed: pitch and duration change together); "cloned" speech loops the reference audio for a
length that follows the text. A sentence containing the word ``explode`` fails, so tests can break a stream midway;
a conversion into a voice named with ``slow`` holds the engine ``HOLD_SECONDS`` first, so tests can queue others.
``scribe`` (clone, needs a transcript; off unless enabled) is the same cloning without conversion.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import soundfile

import voxhost
from voxhost.engine import (
    PCM,
    Capability,
    Engine,
    Reference,
    SynthesisRequest,
    VoiceInfo,
)
from voxhost.errors import EngineError

RATE = 24000
CHUNK_SECONDS = 0.2
HOLD_SECONDS = 1.0


def _resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Linear-interpolation resampling (enough for tones and tests)."""
    if rate_in == rate_out or samples.size == 0:
        return samples
    n_out = int(round(samples.size * rate_out / rate_in))
    return np.interp(np.arange(n_out) * rate_in / rate_out, np.arange(samples.size), samples).astype(np.float32)


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    """The strongest frequency above 50 Hz."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    spectrum[freqs < 50] = 0
    return float(freqs[int(np.argmax(spectrum))])


def _reference_audio(reference: Reference) -> np.ndarray:
    samples, rate = soundfile.read(reference.audio_path, dtype="float32", always_2d=True)
    return _resample(samples.mean(axis=1), rate, RATE)


def _chunks(samples: np.ndarray) -> Iterator[PCM]:
    step = int(RATE * CHUNK_SECONDS)
    for start in range(0, samples.size, step):
        yield PCM.from_float(samples[start : start + step], RATE)


class PitchShiftEngine(Engine):
    """Clone by looping the reference; convert by shifting the input's pitch to the reference's."""

    engine_id = "pitchshift"
    display_name = "Pitch shift (test)"
    capabilities = frozenset({Capability.CLONE, Capability.CONVERT})
    enabled_by_default = True
    clone_sample_rate = RATE

    def voices(self) -> list[VoiceInfo]:
        return []

    def load(self) -> None:
        pass

    def synthesize(self, request: SynthesisRequest) -> Iterator[PCM]:
        if "explode" in request.text.lower():
            raise EngineError("the test engine was asked to fail")
        if request.reference is None:
            raise EngineError("pitchshift speaks only cloned voices")
        reference = _reference_audio(request.reference)
        seconds = min(10.0, max(0.5, 0.06 * len(request.text))) / request.speed
        n = int(seconds * RATE)
        looped = np.tile(reference, n // reference.size + 1)[:n]
        yield from _chunks(looped)

    def convert(self, audio: PCM, target: Reference, options: dict[str, Any]) -> Iterator[PCM]:
        if "slow" in target.voice_id:
            time.sleep(HOLD_SECONDS)
        source = _resample(np.frombuffer(audio.data, dtype="<i2").astype(np.float32) / 32768.0, audio.rate, RATE)
        ratio = float(
            np.clip(dominant_frequency(_reference_audio(target), RATE) / dominant_frequency(source, RATE), 0.5, 2.0)
        )
        # Played `ratio` times faster: every frequency is multiplied by `ratio`.
        shifted = np.interp(np.arange(0, source.size - 1, ratio), np.arange(source.size), source).astype(np.float32)
        yield from _chunks(shifted)


class ScribeEngine(PitchShiftEngine):
    """Cloning that needs the reference's transcript (as F5-TTS does)."""

    engine_id = "scribe"
    display_name = "Scribe (test)"
    capabilities = frozenset({Capability.CLONE})
    enabled_by_default = False
    needs_transcript = True


@voxhost.hookimpl
def register_engines(register: Any) -> None:
    """Register the test engines."""
    register(PitchShiftEngine)
    register(ScribeEngine)
