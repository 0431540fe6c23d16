"""How often each library voice is used, and when last: counted in memory, saved to one small JSON file.

Counting happens on the event loop as jobs are submitted; the file is rewritten (atomically) a moment later on a
thread, so a burst of requests costs one write.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

from .api import VoiceUsage
from .replacing import replacing

_LOGGER = logging.getLogger(__name__)

SAVE_DELAY = 2.0
"""Seconds between a use and the write that records it (later uses in that time share the write)."""


class UsageBook:
    """Uses and last use per library voice id."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._usage: dict[str, VoiceUsage] = {}
        self._save: asyncio.TimerHandle | None = None
        self._writing: asyncio.Task[None] | None = None

    def load(self) -> None:
        """Read the file (blocking; at start). A missing or unreadable file counts nothing."""
        try:
            data = json.loads(self.path.read_text())
            self._usage = {
                str(voice): VoiceUsage(int(entry["uses"]), entry.get("last_used")) for voice, entry in data.items()
            }
        except FileNotFoundError:
            self._usage = {}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
            _LOGGER.warning("Voice usage in %s cannot be read (%s); counting from zero", self.path, err)
            self._usage = {}

    def get(self, voice_id: str) -> VoiceUsage:
        """A voice's usage (never used: zero)."""
        return self._usage.get(voice_id, VoiceUsage())

    def use(self, voice_id: str) -> None:
        """Count one use now (on the loop); the file is written shortly."""
        before = self.get(voice_id)
        self._usage[voice_id] = VoiceUsage(before.uses + 1, round(self.clock(), 3))
        self._later()

    def forget(self, voice_id: str) -> None:
        """A voice was deleted."""
        if self._usage.pop(voice_id, None) is not None:
            self._later()

    def _later(self) -> None:
        if self._save is None:
            self._save = asyncio.get_running_loop().call_later(SAVE_DELAY, self._start_save)

    def _start_save(self) -> None:
        self._save = None
        snapshot = {k: {"uses": v.uses, "last_used": v.last_used} for k, v in self._usage.items()}
        self._writing = asyncio.get_running_loop().create_task(asyncio.to_thread(self._write, snapshot))

    def _write(self, snapshot: dict[str, dict[str, float | int | None]]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with replacing(self.path) as part:
                part.write_text(json.dumps(snapshot, indent=1))
        except OSError as err:
            _LOGGER.warning("Voice usage cannot be saved to %s: %s", self.path, err)

    async def flush(self) -> None:
        """Write what is counted now (at shutdown)."""
        if self._save is not None:
            self._save.cancel()
            self._start_save()
        if self._writing is not None:
            await self._writing
