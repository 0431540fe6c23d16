"""Messages on their way from paho's network thread to the event loop: bounded, and handled one at a time.

Handing each message to the loop as its own callback let a flood (thousands of say requests published at QoS 0
in a second) fill the loop's ready queue: the loop ran them all back to back, and every other door waited seconds
for its next turn. Here one task takes them in order and lets the loop run between two, and paho's thread waits
while too many bytes are waiting, so the broker, not voxhost's memory, holds the rest of a flood.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

_LOGGER = logging.getLogger(__name__)

MAX_WAITING_BYTES = 32 * 1024 * 1024
"""Payload bytes that may wait for the loop; one larger message is taken when nothing waits."""
MESSAGE_OVERHEAD = 512
"""What a waiting message costs beyond its payload (its copy, topic and properties), so a flood of empty ones is
bounded too."""
ROOM_CHECK = 1.0
"""Seconds between checks of a waiting network thread for a closed inbox."""


class Sized(Protocol):
    """A message: its payload is what it weighs."""

    @property
    def payload(self) -> bytes:
        """The message's payload."""
        ...


M = TypeVar("M", bound=Sized)


class Inbox(Generic[M]):
    """A queue filled by paho's thread (``put``) and emptied by one task on the event loop (``run``)."""

    def __init__(self, max_bytes: int = MAX_WAITING_BYTES) -> None:
        self.max_bytes = max_bytes
        self._messages: deque[M] = deque()
        self._bytes = 0
        self._room = threading.Condition()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = asyncio.Event()

    @staticmethod
    def _weight(message: M) -> int:
        return len(message.payload) + MESSAGE_OVERHEAD

    def put(self, message: M) -> None:
        """Queue a message (network thread); waits while the inbox is full, drops it once the inbox is closed."""
        weight = self._weight(message)
        with self._room:
            while not self._closed and self._bytes and self._bytes + weight > self.max_bytes:
                self._room.wait(ROOM_CHECK)
            if self._closed:
                return
            first = not self._messages
            self._messages.append(message)
            self._bytes += weight
        loop = self._loop
        if first and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._ready.set)

    def _take(self) -> M | None:
        with self._room:
            if not self._messages:
                return None
            message = self._messages.popleft()
            self._bytes -= self._weight(message)
            self._room.notify_all()
            return message

    async def run(self, handle: Callable[[M], None]) -> None:
        """Hand every message to ``handle`` in order, one per turn of the loop, until cancelled."""
        self._loop = asyncio.get_running_loop()
        while True:
            while (message := self._take()) is not None:  # first what came before the loop was known
                try:
                    handle(message)
                except Exception:  # a message that breaks its handler must not end the door's intake
                    _LOGGER.exception("Handling an MQTT message failed")
                await asyncio.sleep(0)  # other doors' work runs between two messages
            await self._ready.wait()
            self._ready.clear()

    def close(self) -> None:
        """Take no more messages, and release a network thread waiting for room."""
        with self._room:
            self._closed = True
            self._messages.clear()
            self._bytes = 0
            self._room.notify_all()
