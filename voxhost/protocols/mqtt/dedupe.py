"""Drop QoS 1 redeliveries: remember request keys for a while."""

from __future__ import annotations

import time
from collections import OrderedDict

MAX_KEYS = 10_000
"""Keys remembered at most, whatever the window (a flood of unique ids must not grow memory without bound)."""


class Deduper:
    """Remembers keys for ``window`` seconds; ``seen(key)`` is True for a repeat inside the window."""

    def __init__(self, window: float, max_keys: int = MAX_KEYS) -> None:
        self.window = window
        self.max_keys = max_keys
        self._keys: OrderedDict[str, float] = OrderedDict()

    def seen(self, key: str, now: float | None = None) -> bool:
        """Record ``key``; whether it was already recorded within the window."""
        if self.window <= 0:
            return False
        now = time.monotonic() if now is None else now
        self._expire(now)
        if key in self._keys:
            return True
        self._keys[key] = now
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return False

    def redelivered(self, key: str | None, qos: int) -> bool:
        """Whether a request received at ``qos`` repeats an earlier one of ``key`` within the window (and record it).

        Only a message received at QoS 1 or 2 can be a redelivery; one received at QoS 0 (Home Assistant's
        ``mqtt.publish`` default, Rhasspy's only QoS) is delivered at most once, so a repeated id there is a new
        request (an automation's fixed ``"id": "doorbell"``), not a copy to drop."""
        return key is not None and qos > 0 and self.seen(key)

    def forget(self, key: str | None) -> None:
        """Forget ``key``: its request was refused, and a retry with the same id must be answered."""
        if key is not None:
            self._keys.pop(key, None)

    def _expire(self, now: float) -> None:
        while self._keys:
            key, at = next(iter(self._keys.items()))
            if now - at < self.window:
                return
            del self._keys[key]
