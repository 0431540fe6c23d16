"""Publishing one request's audio: ``start`` / ``chunk`` ... / ``stop`` messages and optionally one WAV."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ...audio import chunked, to_wav
from .connection import MqttConnection
from .ids import echoed

_LOGGER = logging.getLogger(__name__)

SAMPLE_WIDTH, CHANNELS = 2, 1
AUDIO_PARTS = ("start", "chunk", "stop", "wav")
"""The last level of each kind of audio message under a request's audio topic."""


class AudioStream:
    """The audio of one request under ``<prefix>/start|chunk|stop|wav``."""

    def __init__(self, conn: MqttConnection, prefix: str, request_id: str, fmt: str, chunk_bytes: int) -> None:
        self.conn = conn
        self.prefix = prefix
        self.request_id = request_id
        self.stream = fmt in ("pcm", "both")
        self.wav = fmt in ("wav", "both")
        # A broker that announces a small Maximum Packet Size gets smaller chunks rather than none.
        room = conn.max_payload - len(f"{prefix}/chunk".encode())
        size = max(2, min(chunk_bytes, room))
        self.chunk_bytes = size - size % 2
        self.rate: int | None = None
        self.chunks = 0
        self.bytes = 0
        self._parts: list[bytes] = []

    @property
    def delivers(self) -> bool:
        """Whether the request's audio is published (streamed, as one WAV, or both)."""
        return self.stream or self.wav

    def describe(self, rate: int) -> dict[str, Any]:
        """The PCM format, as every audio message states it."""
        return {"rate": rate, "width": SAMPLE_WIDTH, "channels": CHANNELS, "encoding": "s16le"}

    def add(self, audio: bytes, rate: int) -> None:
        """Publish a piece of PCM as chunks of at most ``chunk_bytes`` (the first one after ``start``)."""
        if self.rate is None:
            self.rate = rate
            if self.stream:
                self.conn.publish_json(f"{self.prefix}/start", {"id": echoed(self.request_id), **self.describe(rate)})
        self.bytes += len(audio)
        if self.stream:
            for piece in chunked(audio, self.chunk_bytes):
                self.conn.publish(f"{self.prefix}/chunk", piece, content_type="audio/L16")
                self.chunks += 1
        if self.wav:
            self._parts.append(audio)

    @property
    def seconds(self) -> float:
        """Audio published so far."""
        return round(self.bytes / SAMPLE_WIDTH / self.rate, 3) if self.rate else 0.0

    async def finish(self, status: str, fallback_rate: int) -> str | None:
        """Close the stream (``stop``) and publish the WAV; returns a problem to report, if any."""
        problem = None
        if self.wav and status == "done":
            rate = self.rate or fallback_rate
            parts, self._parts = self._parts, []
            # Joining and framing seconds of audio is kept off the event loop.
            wav = await asyncio.to_thread(lambda: to_wav(b"".join(parts), rate))
            topic = f"{self.prefix}/wav"
            if not self.conn.fits(topic, len(wav)):
                problem = (
                    f"the WAV is {len(wav)} bytes, above the {self.conn.max_payload} byte message limit; "
                    "use the streamed format"
                )
            else:
                self.conn.publish(topic, wav, content_type="audio/wav")
        if self.stream and self.rate is not None:
            self.conn.publish_json(
                f"{self.prefix}/stop",
                {
                    "id": echoed(self.request_id),
                    "status": status if problem is None else "error",
                    "chunks": self.chunks,
                    "bytes": self.bytes,
                    "seconds": self.seconds,
                    **self.describe(self.rate),
                },
            )
        return problem
