"""Pipeline voices: one voice's speech, converted into a cloned voice by a converting engine.

A ``[[pipelines]]`` table defines a catalog voice such as "Piper's Joe, in grandma's voice"::

    [[pipelines]]
    id = "grandma-piper"
    source = "piper:en_US-joe-medium"   # any catalog voice
    convert_to = "voice_grandma"        # a voice-library id
    engine = "chatterbox"               # optional: the first engine that converts

The core synthesizes with the source voice as usual (sentence by sentence) and feeds the audio through
``convert_stream``, which hands it to the converting engine in sentence-sized segments, so the first
converted audio follows the first sentence.

Wiring: the catalog lists each pipeline as a voice whose job runs on the source voice's engine; where the
scheduler iterates ``runner.synthesize(request)`` for such a job it iterates
``convert_stream(runner.synthesize(request), convert, ...)`` instead, with ``convert`` bound to the converting
engine's runner: ``lambda segment: runner.convert(segment, library.reference(convert_to), options)``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .engine import PCM

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")

Converter = Callable[[PCM], AsyncIterable[PCM]]
"""Converts one segment of speech; the core binds the converting engine's runner, target and options."""


class PipelineSettings(BaseModel):
    """One ``[[pipelines]]`` table."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """Catalog id of the pipeline voice (letters, digits, ``_ . -``; no ``:``)."""
    source: str
    """The catalog voice that speaks, e.g. ``piper:en_US-joe-medium``."""
    convert_to: str
    """The voice-library id the speech is converted into, e.g. ``voice_grandma``."""
    engine: str | None = None
    """The converting engine; unset means the first running engine that can convert."""
    name: str | None = None
    """Display name; the default names both voices."""
    languages: list[str] | None = None
    """Languages to list; the default is the source voice's."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Options for the converting engine."""
    min_segment_seconds: float = Field(1.0, ge=0, le=30)
    """Source audio is gathered up to at least this length before a conversion (short sentences join)."""
    max_segment_seconds: float = Field(20.0, ge=1, le=120)
    """Longer source chunks are cut into pieces of this length."""

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError("must be 1-80 letters, digits, '_', '.' or '-', starting with a letter or digit")
        return value

    @field_validator("source")
    @classmethod
    def _check_source(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a catalog voice")
        return value.strip()

    @property
    def display_name(self) -> str:
        """The name voice lists show."""
        return self.name or f"{self.source} as {self.convert_to}"


def check_pipelines(pipelines: Iterable[PipelineSettings]) -> dict[str, PipelineSettings]:
    """Pipelines by id; a repeated id is an error naming it."""
    out: dict[str, PipelineSettings] = {}
    for pipeline in pipelines:
        if pipeline.id in out:
            raise ValueError(f"pipelines: id {pipeline.id!r} is defined twice")
        out[pipeline.id] = pipeline
    return out


async def _aiter(source: AsyncIterable[PCM] | Iterable[PCM]) -> AsyncGenerator[PCM, None]:
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


async def convert_stream(
    source: AsyncIterable[PCM] | Iterable[PCM],
    convert: Converter,
    *,
    min_seconds: float = 1.0,
    max_seconds: float = 20.0,
) -> AsyncGenerator[PCM, None]:
    """Yield ``source`` converted segment by segment.

    Engines yield one chunk per sentence (or several for native streaming), so segments end on chunk
    boundaries once they hold ``min_seconds``; a chunk longer than ``max_seconds`` is cut, and a change of
    sample rate closes a segment.
    """
    if max_seconds <= 0 or min_seconds > max_seconds:
        raise ValueError("need 0 <= min_seconds <= max_seconds and max_seconds > 0")
    buffered: list[bytes] = []
    size, rate = 0, 0

    async def flush() -> AsyncGenerator[PCM, None]:
        nonlocal size
        if size:
            segment = PCM(b"".join(buffered), rate)
            buffered.clear()
            size = 0
            async for out in convert(segment):
                yield out

    async for chunk in _aiter(source):
        if not chunk.data:
            continue
        if rate and chunk.rate != rate:
            async for out in flush():
                yield out
        rate = chunk.rate
        limit = max(2, int(max_seconds * rate) * 2)
        data = chunk.data
        while data:
            room = limit - size
            buffered.append(data[:room])
            size += len(data[:room])
            data = data[room:]
            if size >= limit or (not data and size >= min_seconds * rate * 2):
                async for out in flush():
                    yield out
    async for out in flush():
        yield out
