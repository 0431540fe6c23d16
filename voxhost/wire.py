"""Framing between the daemon and an engine's worker process: a JSON header, then optional raw bytes.

A frame is a 4-byte big-endian header length, the UTF-8 JSON header, then ``header["n"]`` payload bytes
(PCM travels raw, never as JSON). Shared by both sides; imports only the standard library.
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

_LEN = struct.Struct(">I")
MAX_HEADER = 16 * 1024 * 1024


def encode(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """One frame."""
    if payload:
        header = {**header, "n": len(payload)}
    raw = json.dumps(header, ensure_ascii=False).encode()
    return _LEN.pack(len(raw)) + raw + payload


def read_frame(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """Read one frame from a blocking stream; None at EOF."""
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    (size,) = _LEN.unpack(head)
    if size > MAX_HEADER:
        raise ValueError(f"frame header too large: {size}")
    header = json.loads(stream.read(size))
    payload = stream.read(header["n"]) if header.get("n") else b""
    return header, payload


async def read_frame_async(reader: Any) -> tuple[dict[str, Any], bytes] | None:
    """Read one frame from an ``asyncio.StreamReader``; None at EOF."""
    import asyncio

    try:
        (size,) = _LEN.unpack(await reader.readexactly(_LEN.size))
        if size > MAX_HEADER:
            raise ValueError(f"frame header too large: {size}")
        header = json.loads(await reader.readexactly(size))
        payload = await reader.readexactly(header["n"]) if header.get("n") else b""
    except asyncio.IncompleteReadError:
        return None
    return header, payload
