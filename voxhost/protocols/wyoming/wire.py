"""Wyoming framing with limits: read events from a stream without trusting its sizes, encode events to bytes.

The ``wyoming`` library's reader turns every problem into a silent end of stream and reads any ``payload_length``
it is given. This reader bounds the header line, the data block and the payload, and raises ``ProtocolError`` so
that one bad client loses only its own connection.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from wyoming.audio import AudioChunk
from wyoming.event import Event
from wyoming.version import __version__ as WYOMING_VERSION

from ...errors import VoxhostError

MAX_HEADER_BYTES = 64 * 1024
"""Longest header line accepted (the ``wyoming`` writer keeps headers tiny; data goes in the data block)."""
MAX_DATA_BYTES = 4 * 1024 * 1024
"""Largest ``data_length`` block accepted (room for the longest text the core takes)."""
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
"""Largest binary payload accepted; a text-to-speech server is never sent audio it needs."""


_BLANK_BURST = 512
"""Bytes of blank lines read between two turns of the event loop."""


class ProtocolError(VoxhostError):
    """The peer broke the framing; its connection is closed."""

    code = "protocol_error"
    http_status = 400


def _length(header: dict[str, Any], key: str, limit: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(f"{key} is not a non-negative integer: {value!r}")
    if value > limit:
        raise ProtocolError(f"{key} {value} exceeds the limit of {limit} bytes")
    return value


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ProtocolError(f"{what} is not valid JSON: {err}") from None
    except RecursionError:  # Python's parser recurses once per level: nesting deeper than its stack is hostile
        raise ProtocolError(f"{what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} is not a JSON object")
    return value


async def read_event(reader: asyncio.StreamReader) -> Event | None:
    """The next event, or None at a clean end of stream; ``ProtocolError`` on anything malformed.

    The reader's ``limit`` must be at least ``MAX_HEADER_BYTES`` (the servers set it to exactly that).
    """
    line = b""
    blank = 0  # bytes of blank lines before this header
    while not line.strip():  # tolerate blank lines between events (hand-typed sessions), as part of the header
        blank += len(line)
        if blank > MAX_HEADER_BYTES:
            raise ProtocolError(f"more than {MAX_HEADER_BYTES} bytes of blank lines")
        if line and blank % _BLANK_BURST < len(line):
            # A read of buffered lines does not wait: without this a flood of newlines, one loop turn per 128 KiB
            # buffered, would hold up every other connection (describe took 0.5 s).
            await asyncio.sleep(0)
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as err:
            if err.partial.strip():
                raise ProtocolError("the stream ended inside a header") from None
            return None
        except asyncio.LimitOverrunError:
            raise ProtocolError(f"header line longer than {MAX_HEADER_BYTES} bytes") from None
        if len(line) > MAX_HEADER_BYTES:
            raise ProtocolError(f"header line longer than {MAX_HEADER_BYTES} bytes")
    header = _json_object(line, "header")
    event_type = header.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise ProtocolError("header has no event type")
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise ProtocolError("header data is not a JSON object")
    data_length = _length(header, "data_length", MAX_DATA_BYTES)
    payload_length = _length(header, "payload_length", MAX_PAYLOAD_BYTES)
    try:
        if data_length:
            data = {**data, **_json_object(await reader.readexactly(data_length), "data block")}
        payload = await reader.readexactly(payload_length) if payload_length else None
    except asyncio.IncompleteReadError:
        raise ProtocolError("the stream ended inside an event") from None
    return Event(type=event_type, data=data, payload=payload)


def encode_event(event: Event) -> bytes:
    """The bytes the ``wyoming`` library's writer would send for ``event`` (data in its own block)."""
    return _head(event.type, event.data, len(event.payload or b"")) + (event.payload or b"")


def encode_audio(audio: bytes, rate: int, width: int, channels: int, chunk_bytes: int) -> bytes:
    """``audio`` as ``audio-chunk`` events of ``chunk_bytes`` each: the bytes ``encode_event`` gives for each chunk."""
    # A sentence is a dozen chunks that differ only in their payload, so their header is encoded once, not per chunk.
    chunk = AudioChunk(rate=rate, width=width, channels=channels, audio=b"").event()
    full = _head(chunk.type, chunk.data, chunk_bytes)
    parts: list[bytes] = []
    for start in range(0, len(audio), chunk_bytes):
        piece = audio[start : start + chunk_bytes]
        parts += (full if len(piece) == chunk_bytes else _head(chunk.type, chunk.data, len(piece)), piece)
    return b"".join(parts)


def _head(event_type: str, data: dict[str, Any] | None, payload_length: int) -> bytes:
    """An event's header line and data block, for a payload of ``payload_length`` bytes."""
    header: dict[str, Any] = {"type": event_type, "version": WYOMING_VERSION}
    data_bytes = b""
    if data:
        data_bytes = _json_bytes(data)
        header["data_length"] = len(data_bytes)
    if payload_length:
        header["payload_length"] = payload_length
    return _json_bytes(header) + b"\n" + data_bytes


def _json_bytes(value: dict[str, Any]) -> bytes:
    """``value`` as UTF-8 JSON, as the ``wyoming`` writer sends it; a lone surrogate (a client's ``"\\ud800"`` echoed
    in a ``pong`` or quoted in an error) cannot be UTF-8, so such a value goes escaped, as ASCII JSON."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value).encode("ascii")
