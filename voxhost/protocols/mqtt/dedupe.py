"""Drop QoS 1 redeliveries: remember request keys, and what each request carried, for a while."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass

from .connection import Incoming

MAX_KEYS = 10_000
"""Keys remembered at most, whatever the window (a flood of unique ids must not grow memory without bound)."""


@dataclass(frozen=True)
class Sent:
    """What a message carried, in brief: a redelivery carries the same, byte for byte. Compared size first, so two
    requests of different sizes differ without their digests being looked at."""

    size: int
    digest: bytes

    @classmethod
    def of(cls, msg: Incoming) -> Sent:
        """``msg``'s payload, topic and properties (a raw-audio request's fields are user properties). A full pass
        over the payload: for a large one, call it where the payload is read anyway, on a thread."""
        head = repr((msg.topic, msg.response_topic, msg.correlation_data, msg.user_properties)).encode()
        digest = hashlib.sha256(head)  # twice BLAKE2b's speed where CPUs have SHA instructions (x86, ARMv8)
        digest.update(msg.payload)
        return cls(len(msg.payload) + len(head), digest.digest())


class Deduper:
    """Remembers keys for ``window`` seconds; ``seen(key)`` is True for a repeat inside the window."""

    def __init__(self, window: float, max_keys: int = MAX_KEYS) -> None:
        self.window = window
        self.max_keys = max_keys
        self._keys: OrderedDict[str, tuple[float, Sent | None]] = OrderedDict()

    def seen(self, key: str, now: float | None = None, sent: Sent | None = None) -> bool:
        """Record ``key`` (and what its request carried); whether it was already recorded within the window with
        the same content (or either without a content to compare)."""
        if self.window <= 0:
            return False
        now = time.monotonic() if now is None else now
        self._expire(now)
        if key in self._keys:
            before = self._keys[key][1]
            if sent is None or before is None or before == sent:
                return True
            # The id again with something else to say: a new request (an automation's fixed "id": "doorbell"
            # announcing another text), not a copy. Only the newest is kept: a copy of the older one coming after
            # it (a redelivery held up behind a newer request) would be taken as new, which is rare and harmless
            # next to losing an announcement.
            del self._keys[key]  # and put back as the newest: the window is counted from it
        self._keys[key] = (now, sent)
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return False

    def redelivered(self, key: str | None, msg: Incoming, sent: Sent | None = None) -> bool:
        """Whether ``msg`` repeats an earlier request of ``key`` within the window (and record it).

        Only a message received at QoS 1 or 2 can be a redelivery; one received at QoS 0 (Home Assistant's
        ``mqtt.publish`` default, Rhasspy's only QoS) is delivered at most once, so a repeated id there is a new
        request (an automation's fixed ``"id": "doorbell"``), not a copy to drop. A redelivery carries the same
        bytes: a request that reuses an id with another payload is new too. ``sent`` is ``Sent.of(msg)`` where the
        caller made it off the event loop (a large payload); else it is made here."""
        if key is None or msg.qos == 0 or self.window <= 0:
            return False
        return self.seen(key, sent=sent or Sent.of(msg))

    def forget(self, key: str | None) -> None:
        """Forget ``key``: its request was refused, and a retry with the same id must be answered."""
        if key is not None:
            self._keys.pop(key, None)

    def _expire(self, now: float) -> None:
        while self._keys:
            key, (at, _) = next(iter(self._keys.items()))
            if now - at < self.window:
                return
            del self._keys[key]
