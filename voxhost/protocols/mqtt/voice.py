"""The default voice this node speaks with when a request names none: chosen over MQTT, kept across restarts."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from ...api import CoreAPI
from ...errors import VoxhostError, storage_error
from ...replacing import replacing

_LOGGER = logging.getLogger(__name__)


class DefaultVoice:
    """The chosen voice (or none), its file under the state directory, and who to tell when it changes."""

    def __init__(self, core: CoreAPI, path: Path, spawn: Callable[[Coroutine[Any, Any, Any], str], object]) -> None:
        self.core = core
        self.path = path
        self.chosen: str | None = None
        self._spawn = spawn
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every change."""
        self._listeners.append(listener)

    async def load(self) -> None:
        """Read the voice chosen before the last shutdown (dropped if no running engine has it now)."""
        voice = await asyncio.to_thread(self._read)
        self.chosen = voice if any(v.id == voice for v in self.core.voices()) else None

    def effective(self) -> str | None:
        """The chosen voice, else the daemon's own default."""
        if self.chosen:
            return self.chosen
        try:
            return self.core.resolve_voice(None).id
        except VoxhostError:
            return None

    def for_language(self, language: str | None) -> str | None:
        """The chosen voice when it speaks the request's language (else None: the core picks by language)."""
        if self.chosen is None:
            return None
        voice = next((v for v in self.core.voices() if v.id == self.chosen), None)
        return self.chosen if voice is not None and self.core.speaks(voice, language) else None

    def set(self, voice: str | None) -> None:
        """Change the voice, keep it for the next start (written on a thread) and tell the listeners."""
        self.chosen = voice
        self._spawn(asyncio.to_thread(self._write, voice), "mqtt-save-voice")
        for listener in self._listeners:
            listener()

    def _read(self) -> str | None:
        try:
            voice = json.loads(self.path.read_text()).get("default_voice")
        except (OSError, ValueError, AttributeError):
            return None
        return voice if isinstance(voice, str) else None

    def _write(self, voice: str | None) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with replacing(self.path) as part:
                part.write_text(json.dumps({"default_voice": voice}))
        except OSError as err:  # the voice is set all the same; only the next start forgets it
            problem = storage_error(err, "the default voice")
            _LOGGER.warning("%s; it is used until voxhost stops", problem.message if problem else err)
