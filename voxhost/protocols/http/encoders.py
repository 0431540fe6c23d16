"""Streaming audio encoders for the HTTP door: PCM chunks in, bytes of the response format out, as they come.

mp3, opus (Ogg), aac (ADTS) and flac go through one PyAV container per response that writes into a sink we drain
after every chunk; wav is a streaming header (0xFFFFFFFF sizes) plus PCM; pcm is raw 24 kHz s16le mono. Encoders
are plain blocking objects: ``EncodeStream`` runs them on a thread pool so the event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor, Future, wait
from typing import Any

import numpy as np

from ...audio import Resampler, wav_header

_LOGGER = logging.getLogger(__name__)

PCM_RATE = 24000
"""OpenAI's ``pcm`` format: raw 24 kHz, 16-bit signed little-endian, mono (clients assume the rate)."""

CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": f"audio/pcm;rate={PCM_RATE}",
}
"""Content type per ``response_format``; opus is Ogg Opus and aac is ADTS, as OpenAI serves them."""

FORMATS = tuple(CONTENT_TYPES)

SLICE_SECONDS = 0.25
"""Compressed formats encode long chunks in slices this long, so output leaves steadily and soon."""
FIRST_SLICE_SECONDS = 0.1
"""The stream's first slice is shorter: enough for the first mp3/aac/opus frames, quick to encode."""


class Encoder(ABC):
    """Turns mono s16le PCM into one response format; blocking, one per response, fed in order."""

    content_type: str
    slice_seconds: float | None = None
    """Encode chunks in slices of at most this many seconds (None: whole chunks)."""
    first_slice_seconds: float | None = None
    """The length of the stream's very first slice."""

    def prepare(self, rate: int) -> None:
        """Get ready for audio at ``rate`` (the likely rate) before it arrives; optional."""
        return None

    @abstractmethod
    def encode(self, pcm: bytes, rate: int) -> bytes:
        """Encode a chunk; returns whatever output is ready (maybe nothing yet)."""

    @abstractmethod
    def finish(self) -> bytes:
        """Flush the encoder and end the stream; returns the remaining output."""

    def close(self) -> None:
        """Release resources of an encoder that will not be finished (the client went away)."""
        return None


class PcmEncoder(Encoder):
    """Raw s16le mono at 24 kHz; other rates are resampled as a stream (no seams between chunks)."""

    content_type = CONTENT_TYPES["pcm"]

    def __init__(self) -> None:
        self._resampler: Resampler | None = None

    def encode(self, pcm: bytes, rate: int) -> bytes:
        if self._resampler is None:
            self._resampler = Resampler(rate, PCM_RATE)
        return self._resampler.process(pcm)

    def finish(self) -> bytes:
        if self._resampler is None:
            return b""
        return self._resampler.process(b"", last=True)


class WavEncoder(Encoder):
    """A WAV header with the streaming sizes (0xFFFFFFFF, as OpenAI sends), then PCM at the engine's rate."""

    content_type = CONTENT_TYPES["wav"]

    def __init__(self, fallback_rate: int) -> None:
        self._fallback_rate = fallback_rate
        self._started = False

    def encode(self, pcm: bytes, rate: int) -> bytes:
        if not self._started:
            self._started = True
            return wav_header(rate) + pcm
        return pcm

    def finish(self) -> bytes:
        # A job without audio still answers a valid (empty) WAV.
        return b"" if self._started else wav_header(self._fallback_rate)


class _Sink:
    """A write-only, non-seekable file for PyAV: muxers then never seek back, and we take bytes as they come."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


_AV_SPECS: dict[str, dict[str, Any]] = {
    "mp3": {
        "format": "mp3",
        "codec": "libmp3lame",
        "bit_rate": 64_000,
        "rates": (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000),
        # No Xing/Info frame or ID3 tag: the stream starts with audio frames (players on iOS mis-time Xing
        # frames whose counts are unknown).
        "options": {"write_xing": "0", "id3v2_version": "0"},
    },
    "opus": {
        "format": "ogg",
        "codec": "libopus",
        "bit_rate": 48_000,
        "rates": (8000, 12000, 16000, 24000, 48000),
        # Short Ogg pages: the default holds a second of audio before the first page goes out.
        "options": {"page_duration": "100000"},
    },
    "aac": {
        "format": "adts",
        "codec": "aac",
        "bit_rate": 64_000,
        "rates": (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000),
        "options": {},
    },
    "flac": {
        "format": "flac",
        "codec": "flac",
        "bit_rate": 0,
        "rates": None,
        "options": {},
    },
}


def _pick_rate(rate: int, allowed: tuple[int, ...] | None) -> int:
    """The engine's rate when the codec takes it, else the next rate up (or the highest)."""
    if allowed is None or rate in allowed:
        return rate
    higher = [r for r in allowed if r > rate]
    return min(higher) if higher else max(allowed)


class AvEncoder(Encoder):
    """A PyAV (FFmpeg) encoder and muxer writing one continuous stream for the whole response."""

    slice_seconds = SLICE_SECONDS
    first_slice_seconds = FIRST_SLICE_SECONDS

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.content_type = CONTENT_TYPES[fmt]
        self._spec = _AV_SPECS[fmt]
        self._sink = _Sink()
        self._container: Any = None
        self._stream: Any = None
        self._resampler: Resampler | None = None
        self._in_rate = 0
        self._rate = 0
        self._pts = 0
        if fmt == "flac":
            self.first_slice_seconds = SLICE_SECONDS  # FLAC blocks are 4608 samples: a shorter slice gives nothing

    def _set_input_rate(self, rate: int) -> None:
        self._in_rate = rate
        self._resampler = Resampler(rate, self._rate) if rate != self._rate else None

    def _open(self, rate: int) -> None:
        import av  # heavy: only once a response needs it

        self._rate = _pick_rate(rate, self._spec["rates"])
        self._set_input_rate(rate)
        options = {"flush_packets": "1", **self._spec["options"]}
        self._container = av.open(self._sink, mode="w", format=self._spec["format"], options=options)
        self._stream = self._container.add_stream(self._spec["codec"], rate=self._rate, layout="mono")
        if self._spec["bit_rate"]:
            self._stream.bit_rate = self._spec["bit_rate"]
        self._stream.codec_context.open(strict=False)  # now, not on the first chunk's clock

    def prepare(self, rate: int) -> None:
        if self._container is None:
            self._open(rate)

    def _mux(self, samples: np.ndarray | None) -> None:
        import av

        frame = None
        if samples is not None:
            if samples.size == 0:
                return
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = self._rate
            frame.pts = self._pts
            self._pts += samples.size
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def encode(self, pcm: bytes, rate: int) -> bytes:
        if self._container is None:
            self._open(rate)
        elif rate != self._in_rate and self._pts == 0:  # prepared for another rate than the audio has
            self._set_input_rate(rate)
        if self._resampler is not None:
            pcm = self._resampler.process(pcm)
        self._mux(np.frombuffer(pcm, dtype="<i2"))
        return self._sink.take()

    def finish(self) -> bytes:
        if self._container is None:
            self._open(PCM_RATE)
        if self._resampler is not None:
            self._mux(np.frombuffer(self._resampler.process(b"", last=True), dtype="<i2"))
        if self._pts == 0:
            # No sample came (the streamer sends silence for a text with nothing to say; this is for any other
            # source that ends empty): an MP3 or AAC stream without a frame has no header at all and an Ogg one no
            # page a player reads, so the answer is one frame of silence, a file every player opens.
            self._mux(np.zeros(self._stream.codec_context.frame_size or 1024, dtype="<i2"))
        self._mux(None)  # drain the codec
        self._container.close()
        self._container = None
        return self._sink.take()

    def close(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # a half-written stream nobody will read
                _LOGGER.debug("Closing an abandoned %s encoder failed", self.fmt, exc_info=True)
            self._container = None


def make_encoder(fmt: str, fallback_rate: int = PCM_RATE) -> Encoder:
    """The encoder for a ``response_format``; ``fallback_rate`` heads a WAV that gets no audio."""
    if fmt == "pcm":
        return PcmEncoder()
    if fmt == "wav":
        return WavEncoder(fallback_rate)
    if fmt in _AV_SPECS:
        return AvEncoder(fmt)
    raise ValueError(f"unknown format {fmt!r}")


class EncodeStream:
    """Runs an encoder on a thread pool, one call at a time and in order, and yields its output."""

    def __init__(self, encoder: Encoder, executor: Executor) -> None:
        self.encoder = encoder
        self._executor = executor
        self._last: Future[Any] | None = None
        self._fed = False

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._last is not None and not self._last.done():
            await asyncio.wrap_future(self._last)  # in order: the pool has several threads
        self._last = self._executor.submit(fn, *args)
        return await asyncio.wrap_future(self._last)

    def prepare(self, rate: int) -> None:
        """Open the encoder on the pool now (while the engine works), for audio likely at ``rate``."""
        self._last = self._executor.submit(self.encoder.prepare, rate)

    def _slices(self, pcm: bytes, rate: int) -> list[bytes]:
        if not self.encoder.slice_seconds:
            return [pcm]
        out, start = [], 0
        while start < len(pcm):
            seconds = self.encoder.slice_seconds if self._fed else self.encoder.first_slice_seconds
            step = max(2, int(rate * (seconds or self.encoder.slice_seconds)) * 2)
            out.append(pcm[start : start + step])
            start += step
            self._fed = True
        return out

    async def feed(self, pcm: bytes, rate: int) -> AsyncIterator[bytes]:
        """Encode one chunk, in slices for compressed formats; yields non-empty output as it is ready."""
        for piece in self._slices(pcm, rate):
            out = await self._call(self.encoder.encode, piece, rate)
            if out:
                yield out

    async def finish(self) -> bytes:
        """End the stream; the encoder's last bytes."""
        return await self._call(self.encoder.finish)

    def close(self) -> None:
        """Drop an unfinished encoder, on the pool after any call still running (never on the loop)."""
        last = self._last
        if last is not None:
            last.cancel()  # not started yet: never runs

        def close_after() -> None:
            if last is not None and not last.cancelled():
                wait([last])
            self.encoder.close()

        self._executor.submit(close_after)
