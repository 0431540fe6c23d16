"""The two ways to run Whisper: faster-whisper (CTranslate2: CPU int8, CUDA float16) and mlx-whisper (Apple Silicon).

Both take float32 mono 16 kHz samples and yield a ``TranscriptInfo`` and then segments. faster-whisper decodes as
its segment generator is read, so segments reach the caller as they are recognized; mlx-whisper returns the whole
result at once.
"""

from __future__ import annotations

import logging
import os
import platform
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voxhost.engine import Segment, TranscriptInfo, TranscriptPart, Word
from voxhost.errors import EngineError

_LOGGER = logging.getLogger(__name__)

RATE = 16000
"""Whisper hears 16 kHz."""


@dataclass(frozen=True)
class Decoding:
    """What one transcription asks of a backend."""

    language: str | None
    prompt: str | None
    word_timestamps: bool
    beam_size: int
    vad_filter: bool
    temperature: float | None
    task: str = "transcribe"
    """Whisper's task: ``transcribe``, or ``translate`` (into English; multilingual models only)."""


class Backend(Protocol):
    """A loaded Whisper model."""

    name: str

    def transcribe(self, audio: np.ndarray, decoding: Decoding) -> Iterator[TranscriptPart]:
        """Recognize 16 kHz float32 mono samples."""
        ...

    def status(self) -> dict[str, Any]:
        """Device and precision, for health pages."""
        ...


def apple_silicon() -> bool:
    """Whether this is a Mac with Apple Silicon (where MLX runs on the GPU)."""
    return platform.system() == "Darwin" and platform.machine() == "arm64"


def choose(backend: str) -> str:
    """``auto``: mlx-whisper on Apple Silicon when it is installed, else faster-whisper."""
    if backend != "auto":
        return backend
    if apple_silicon():
        import importlib.util

        if importlib.util.find_spec("mlx_whisper") is not None:
            return "mlx"
    return "faster-whisper"


def _cuda_devices() -> int:
    try:
        import ctranslate2

        return int(ctranslate2.get_cuda_device_count())
    except Exception:  # no CUDA build, or no driver
        return 0


class FasterWhisper:
    """A CTranslate2 Whisper model; one instance is shared by every transcription (calls are thread-safe)."""

    name = "faster-whisper"

    def __init__(self, model_dir: Path, device: str, compute_type: str, cpu_threads: int | None) -> None:
        from faster_whisper import WhisperModel

        if device == "auto":
            device = "cuda" if _cuda_devices() else "cpu"
        if compute_type == "auto":
            # int8 keeps its speed on a busy CPU (float32 slows down many times when threads fight for cores)
            compute_type = "float16" if device == "cuda" else "int8"
        threads = cpu_threads or min(4, os.cpu_count() or 1)
        self.device, self.compute_type, self.threads = device, compute_type, threads
        try:
            self.model = WhisperModel(
                str(model_dir),
                device=device,
                compute_type=compute_type,
                cpu_threads=threads if device == "cpu" else 0,
                local_files_only=True,
            )
        except ValueError as err:  # e.g. float16 on a CPU
            raise EngineError(f"whisper: cannot load {model_dir} on {device} as {compute_type}: {err}") from err
        from .bounded import bounded_features

        self.model.feature_extractor = bounded_features(self.model.feature_extractor)

    def transcribe(self, audio: np.ndarray, decoding: Decoding) -> Iterator[TranscriptPart]:
        """Segments as CTranslate2 decodes them (the work happens while the generator is read)."""
        from faster_whisper.transcribe import restore_speech_timestamps

        from .bounded import speech_chunks
        from .cuts import cut_silences, split_at_cuts

        kwargs: dict[str, Any] = {}
        if decoding.temperature is not None:
            kwargs["temperature"] = decoding.temperature
        duration = audio.size / RATE
        # Speech is found here, in bounded memory, and only the speech is handed on, as faster-whisper's own filter
        # would hand it on (its filter reads the whole audio at once); the audio is let go once the speech is cut.
        chunks = speech_chunks(audio) if decoding.vad_filter else None
        vad_filter = decoding.vad_filter and chunks is None  # a faster-whisper this does not follow filters itself
        if chunks is not None:
            audio = _speech(audio, chunks)
        # With silence cut out between stretches of speech, a segment's own times cannot say which side of a cut it
        # starts on: Whisper often starts one where the last ended, in the pause before the cut, and the segment was
        # put there, seconds or minutes before its speech (a subtitle shown through the whole silence). Its words
        # can: faster-whisper places a segment by its first and last word, and one that spans a cut is split there
        # (``cuts``). They are dropped unless asked for.
        timed_words = decoding.word_timestamps or (chunks is not None and len(chunks) > 1)
        segments, info = self.model.transcribe(
            audio,
            language=decoding.language,
            beam_size=decoding.beam_size,
            vad_filter=vad_filter,
            initial_prompt=decoding.prompt,
            word_timestamps=timed_words,
            condition_on_previous_text=False,  # fewer repetition loops on long audio
            task=decoding.task,
            **kwargs,
        )
        del audio
        if chunks:
            segments = restore_speech_timestamps(segments, chunks, RATE)
            if timed_words:
                segments = split_at_cuts(segments, cut_silences(chunks), self._encode)
        yield TranscriptInfo(info.language, round(float(info.language_probability), 4), round(duration, 3))
        for index, segment in enumerate(segments):  # faster-whisper counts from 1, OpenAI's transcripts from 0
            yield Segment(
                id=index,
                start=round(float(segment.start), 3),
                end=round(float(segment.end), 3),
                text=segment.text,
                words=tuple(
                    Word(round(float(w.start), 3), round(float(w.end), 3), w.word, round(float(w.probability), 4))
                    for w in (segment.words or () if decoding.word_timestamps else ())
                ),
                avg_logprob=float(segment.avg_logprob),
                no_speech_prob=float(segment.no_speech_prob),
                compression_ratio=float(segment.compression_ratio),
                temperature=float(segment.temperature or 0.0),
                tokens=tuple(int(t) for t in segment.tokens),
            )

    def _encode(self, text: str) -> list[int]:
        """The model's tokens of ``text`` (a segment's part has its own, as a whole segment has)."""
        return list(self.model.hf_tokenizer.encode(text, add_special_tokens=False).ids)

    def status(self) -> dict[str, Any]:
        """Device, precision and threads."""
        return {"device": self.device, "compute_type": self.compute_type, "cpu_threads": self.threads}


def _speech(audio: np.ndarray, chunks: list[dict[str, int]]) -> np.ndarray:
    """The stretches of ``audio`` in ``chunks``, one after the other, in one new array."""
    speech = np.empty(sum(chunk["end"] - chunk["start"] for chunk in chunks), dtype=np.float32)
    at = 0
    for chunk in chunks:
        size = chunk["end"] - chunk["start"]
        speech[at : at + size] = audio[chunk["start"] : chunk["end"]]
        at += size
    return speech


class MlxWhisper:
    """An MLX Whisper model (greedy decoding only: mlx-whisper has no beam search)."""

    name = "mlx"
    _lock = threading.Lock()
    """mlx-whisper keeps one model in a class attribute with no lock of its own."""

    def __init__(self, model_dir: Path, fp16: bool) -> None:
        import mlx_whisper  # noqa: F401  (fails here, at load, when it is not installed)
        from mlx_whisper.transcribe import ModelHolder

        self.model_dir, self.fp16 = model_dir, fp16
        import mlx.core as mx

        with self._lock:
            model = ModelHolder.get_model(str(model_dir), mx.float16 if fp16 else mx.float32)
            heads = model_dir / "alignment_heads.json"  # written by ct2_to_mlx: the word-timing heads
            if heads.is_file():
                import json

                model.set_alignment_heads(np.asarray(json.loads(heads.read_text()), dtype=np.int32))
        self.device = str(mx.default_device())

    def transcribe(self, audio: np.ndarray, decoding: Decoding) -> Iterator[TranscriptPart]:
        """The whole result, then its segments."""
        import mlx_whisper

        if decoding.beam_size > 1:
            _LOGGER.debug("mlx-whisper decodes greedily; beam_size %d is not used", decoding.beam_size)
        options: dict[str, Any] = {"fp16": self.fp16, "task": decoding.task}
        if decoding.language:
            options["language"] = decoding.language
        with self._lock:
            result = mlx_whisper.transcribe(
                audio,
                path_or_hf_repo=str(self.model_dir),
                initial_prompt=decoding.prompt,
                word_timestamps=decoding.word_timestamps,
                condition_on_previous_text=False,
                temperature=decoding.temperature
                if decoding.temperature is not None
                else (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
                verbose=None,
                **options,
            )
        yield TranscriptInfo(result.get("language") or decoding.language, None, round(len(audio) / RATE, 3))
        for index, segment in enumerate(result.get("segments") or ()):
            text = str(segment.get("text", ""))
            # No voice-activity filter in mlx-whisper: with one asked for, drop what it marks as no speech.
            if decoding.vad_filter and (not text.strip() or float(segment.get("no_speech_prob", 0.0)) > 0.6):
                continue
            yield Segment(
                id=index,
                start=round(float(segment["start"]), 3),
                end=round(float(segment["end"]), 3),
                text=text,
                words=tuple(
                    Word(
                        round(float(w["start"]), 3),
                        round(float(w["end"]), 3),
                        str(w["word"]),
                        float(w.get("probability", 1.0)),
                    )
                    for w in segment.get("words") or ()
                ),
                avg_logprob=float(segment.get("avg_logprob", 0.0)),
                no_speech_prob=float(segment.get("no_speech_prob", 0.0)),
                compression_ratio=float(segment.get("compression_ratio", 0.0)),
                temperature=float(segment.get("temperature", 0.0)),
                tokens=tuple(int(t) for t in segment.get("tokens") or ()),
            )

    def status(self) -> dict[str, Any]:
        """Device and precision."""
        return {"device": self.device, "compute_type": "float16" if self.fp16 else "float32"}
