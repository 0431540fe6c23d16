"""A test plugin of engines whose ``voices()`` fails: one raises, one lists a plain string beside a real voice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import voxhost


class RaisingVoices(voxhost.Engine):
    """``voices()`` raises (its voice folder is gone, say)."""

    engine_id = "raisingvoices"
    enabled_by_default = True
    capabilities = frozenset({voxhost.Capability.TTS})

    def voices(self) -> list[voxhost.VoiceInfo]:
        """Raise."""
        raise RuntimeError("no voices today")

    def load(self) -> None:
        """Nothing to load."""

    def synthesize(self, request: voxhost.SynthesisRequest) -> Iterator[voxhost.PCM]:
        """A little silence."""
        yield voxhost.PCM(b"\0\0" * 1600, 16000)


class StringVoices(RaisingVoices):
    """``voices()`` lists a string beside a real voice."""

    engine_id = "stringvoices"

    def voices(self) -> list[Any]:
        """One good voice, one string."""
        return ["just-a-name", voxhost.VoiceInfo(id="ok", name="OK", languages=("en_US",), sample_rate=16000)]


@voxhost.hookimpl
def register_engines(register: Any) -> None:
    """Both engines."""
    register(RaisingVoices)
    register(StringVoices)
