"""A test plugin of engines whose audio chunks are wrong, as a careless third-party engine's may be.

Each offers one voice, ``<engine>:v``; its synthesize yields one kind of wrong chunk first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

import voxhost


class Faulty(voxhost.Engine):
    """Base: one English voice at 16 kHz, nothing to load."""

    enabled_by_default = True
    capabilities = frozenset({voxhost.Capability.TTS})

    def voices(self) -> list[voxhost.VoiceInfo]:
        """One voice."""
        return [voxhost.VoiceInfo(id="v", name=self.engine_id, languages=("en_US",), sample_rate=16000)]

    def load(self) -> None:
        """Nothing to load."""

    def chunk(self) -> Any:
        """The wrong chunk."""
        raise NotImplementedError

    def synthesize(self, request: voxhost.SynthesisRequest) -> Iterator[Any]:
        """The wrong chunk, first (so a door can still answer with its error)."""
        yield self.chunk()


class RawBytes(Faulty):
    engine_id = "rawbytes"

    def chunk(self) -> Any:
        return b"\0\1" * 100  # bytes, not PCM


class FloatArray(Faulty):
    engine_id = "floatarray"

    def chunk(self) -> Any:
        return np.zeros(160, dtype=np.float32)  # samples, not PCM


class TextData(Faulty):
    engine_id = "textdata"

    def chunk(self) -> Any:
        return voxhost.PCM("hello", 16000)  # type: ignore[arg-type]


class OddBytes(Faulty):
    engine_id = "oddbytes"

    def chunk(self) -> Any:
        return voxhost.PCM(b"\1\2\3", 16000)  # half a sample: every later one shifted by a byte


class ZeroRate(Faulty):
    engine_id = "zerorate"

    def chunk(self) -> Any:
        return voxhost.PCM(b"\0\0" * 160, 0)


@voxhost.hookimpl
def register_engines(register: Any) -> None:
    """The faulty engines."""
    for engine in (RawBytes, FloatArray, TextData, OddBytes, ZeroRate):
        register(engine)
