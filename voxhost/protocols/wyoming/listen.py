"""Speech-to-text over Wyoming: ``transcribe`` → ``audio-start`` → ``audio-chunk``* → ``audio-stop`` → ``transcript``.

Home Assistant's wyoming STT sends exactly that (16 kHz, 16-bit mono, 10 ms chunks) on a new connection and waits
for ``transcript`` or ``error``; it ignores the streaming events (``transcript-start``, ``-chunk``, ``-stop``),
which are sent only when ``[doors.wyoming] transcript_streaming`` is on (and then advertised). Audio is converted
as it arrives to 16-bit mono at ``RECOGNIZER_RATE`` at most, so what a connection holds is bounded by that format
and ``max_transcribe_seconds`` whatever the client sends (192 kHz, 8 channels, 32-bit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ...audio import RECOGNIZER_RATE, Resampler
from ...engine import PCM
from ...errors import InvalidAudioError, InvalidRequestError
from ...operations import MAX_PROMPT, TranscribeParams, parse

MIN_RATE, MAX_RATE = 8000, 192000
"""Sample rates accepted for speech."""
MAX_CHANNELS = 8


class UnknownModelError(InvalidRequestError):
    """A ``transcribe`` naming a model no running engine serves (as the HTTP door's unknown ``model``)."""

    code = "model_not_found"


class TranscribeData(BaseModel):
    """``transcribe``: the model, the language, and words to expect (names rank above terms)."""

    model_config = ConfigDict(extra="ignore", strict=True)  # JSON types are kept: 5 is no name

    name: str | None = None
    language: str | None = None
    transcript_names: list[str] | None = Field(None, max_length=1000)
    transcript_terms: list[str] | None = Field(None, max_length=1000)


class ChunkFormat(BaseModel):
    """The format fields of ``audio-start`` and ``audio-chunk``."""

    model_config = ConfigDict(extra="ignore", strict=True)  # JSON types are kept: true is no width, "16000" no rate

    rate: int
    width: int
    channels: int


def params_of(data: dict[str, Any], model_engines: dict[str, str]) -> TranscribeParams:
    """The core's request for a ``transcribe`` event (``model_engines``: model name or engine id → engine that serves
    it); a name it lacks is an error, as an unknown voice is, rather than a transcript by another model."""
    request = parse(TranscribeData, data)
    if request.name and model_engines and request.name not in model_engines:
        raise UnknownModelError(
            f"unknown model {request.name!r}; models: {', '.join(sorted(model_engines))}", param="name"
        )
    words = [*(request.transcript_names or ()), *(request.transcript_terms or ())]
    prompt = ", ".join(w.strip() for w in words if isinstance(w, str) and w.strip())[:MAX_PROMPT] or None
    fields: dict[str, Any] = {"language": request.language, "prompt": prompt, "door": "wyoming"}
    if request.name in model_engines:  # none: nothing transcribes, which the core says (not_supported)
        fields["engine"] = model_engines[request.name]
    return parse(TranscribeParams, {k: v for k, v in fields.items() if v is not None})


def _mono16(audio: bytes, width: int, channels: int) -> np.ndarray:
    """Whole frames of signed samples of any width and channel count as 16-bit mono (as the wyoming library converts
    them)."""
    if width == 3:
        raw = np.frombuffer(audio, dtype=np.uint8).reshape(-1, 3)
        wide = raw[:, 0].astype(np.int32) | (raw[:, 1].astype(np.int32) << 8) | (raw[:, 2].astype(np.int32) << 16)
        samples = ((wide << 8) >> 8).astype(np.float64) / 8388608.0
    else:
        dtype: np.dtype[Any] = np.dtype({1: "i1", 2: "<i2", 4: "<i4"}[width])
        scale = float(2 ** (8 * width - 1))
        samples = np.frombuffer(audio, dtype=dtype).astype(np.float64) / scale
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")


@dataclass
class Listening:
    """One utterance being received: its request, and its audio as 16-bit mono at ``rate`` (the first chunk's rate,
    at most ``RECOGNIZER_RATE``)."""

    params: TranscribeParams
    max_seconds: float
    rate: int | None = None
    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    _resampler: Resampler | None = None
    _partial: bytes = b""
    """The start of a frame that the last chunk cut off: PCM is a byte stream, and a client reading a pipe or a file
    in blocks of any size splits frames between events (the next chunk begins with the rest of that frame)."""
    _partial_format: tuple[int, int, int] | None = None

    @staticmethod
    def check_format(data: dict[str, Any]) -> ChunkFormat:
        """The format of ``audio-start``/``audio-chunk``, or an error naming what cannot be used."""
        fmt = parse(ChunkFormat, data)
        if fmt.width not in (1, 2, 3, 4):
            raise InvalidAudioError(
                f"unsupported sample width {fmt.width} bytes; send 1, 2, 3 or 4 (Home Assistant sends 2)",
                param="width",
            )
        if not MIN_RATE <= fmt.rate <= MAX_RATE:
            raise InvalidAudioError(f"unsupported sample rate {fmt.rate}; send {MIN_RATE}-{MAX_RATE} Hz", param="rate")
        if not 1 <= fmt.channels <= MAX_CHANNELS:
            raise InvalidAudioError(f"unsupported channel count {fmt.channels}", param="channels")
        return fmt

    def add(self, data: dict[str, Any], audio: bytes | None) -> None:
        """Take one ``audio-chunk``; an error once the utterance passes ``max_seconds``."""
        fmt = self.check_format(data)
        frame_format = (fmt.rate, fmt.width, fmt.channels)
        if frame_format != self._partial_format:
            self._partial, self._partial_format = b"", frame_format  # a new format: the old one's part frame is noise
        audio = self._partial + (audio or b"")
        whole = len(audio) - len(audio) % (fmt.width * fmt.channels)
        audio, self._partial = audio[:whole], audio[whole:]
        if not audio:
            return
        samples = _mono16(audio, fmt.width, fmt.channels).tobytes()
        if self.rate is None:
            self.rate = min(fmt.rate, RECOGNIZER_RATE)
        if self._resampler is None or self._resampler.rate_in != fmt.rate:
            self._keep(self._flush())  # a client that changes rate mid-stream: the old rate's tail, then one rate
            self._resampler = Resampler(fmt.rate, self.rate)
        self._keep(self._resampler.process(samples))
        if self.size / 2 / self.rate > self.max_seconds:
            raise InvalidAudioError(
                f"the audio is longer than {self.max_seconds:g} s; send one utterance at a time", param="audio"
            )

    def _keep(self, samples: bytes) -> None:
        if samples:
            self.parts.append(samples)
            self.size += len(samples)

    def _flush(self) -> bytes:
        """What the resampler still holds (its filter's delay), once no more audio comes at its rate."""
        resampler, self._resampler = self._resampler, None
        return resampler.process(b"", last=True) if resampler is not None else b""

    def audio(self) -> PCM:
        """Everything received; an error when nothing was."""
        self._keep(self._flush())
        if not self.size or self.rate is None:
            raise InvalidAudioError("no audio came before audio-stop", param="audio")
        return PCM(b"".join(self.parts), self.rate)
