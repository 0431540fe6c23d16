"""A test engine plugin that runs away: text with ``RUNAWAY`` gets audio for ever, as a model caught in a loop.

Every sentence is a constant sample value, so a test can tell the sentences apart in what a door sent: ``RUNAWAY``
sentences are ``RUNAWAY_LEVEL``, others ``SPOKEN_LEVEL`` (``SECONDS_PER_CHAR`` of it per character). Its voice
``runaway:v`` runs in-process; ``runaway_worker:v`` is the same engine meant for a worker process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import voxhost

RATE = 24000
RUNAWAY_LEVEL = 3000
SPOKEN_LEVEL = 7000
SECONDS_PER_CHAR = 0.02
CHUNK_SECONDS = 0.15


class RunawayEngine(voxhost.Engine):
    """Constant audio per sentence; endless for ``RUNAWAY``."""

    engine_id = "runaway"
    display_name = "Runaway"
    capabilities = frozenset({voxhost.Capability.TTS, voxhost.Capability.STREAM})
    enabled_by_default = True

    def voices(self) -> list[voxhost.VoiceInfo]:
        """One voice."""
        return [voxhost.VoiceInfo(id="v", name=self.engine_id, languages=("en_US",), sample_rate=RATE)]

    def load(self) -> None:
        """Nothing to load."""

    def synthesize(self, request: voxhost.SynthesisRequest) -> Iterator[voxhost.PCM]:
        """``SECONDS_PER_CHAR`` per character, or audio for ever (50 times faster than real time) for ``RUNAWAY``."""
        chunk = int(CHUNK_SECONDS * RATE)
        if "RUNAWAY" in request.text:
            while True:
                time.sleep(CHUNK_SECONDS / 50)
                yield voxhost.PCM(RUNAWAY_LEVEL.to_bytes(2, "little", signed=True) * chunk, RATE)
        samples = int(SECONDS_PER_CHAR * len(request.text) * RATE)
        yield voxhost.PCM(SPOKEN_LEVEL.to_bytes(2, "little", signed=True) * samples, RATE)


class RunawayWorkerEngine(RunawayEngine):
    """The same, under another id (run in a worker process by the test's settings)."""

    engine_id = "runaway_worker"
    display_name = "Runaway (worker)"


@voxhost.hookimpl
def register_engines(register: Any) -> None:
    """Both engines."""
    for engine in (RunawayEngine, RunawayWorkerEngine):
        register(engine)
