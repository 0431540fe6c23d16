"""Notices another client taking this node's client id on the broker (two nodes given one ``node_id``).

A broker lets one connection per client id live: the newcomer's CONNECT closes the older one. Two daemons with
the same id then push each other off, each reconnecting at once, for good. MQTT 5 brokers may say so (reason
0x8E, Session taken over), older ones (mosquitto 2.0.11) only close the socket, so a run of connections that end
soon after the broker accepted them is taken as the same sign.
"""

from __future__ import annotations

import time

SESSION_TAKEN_OVER = 0x8E
"""MQTT 5 DISCONNECT reason: another connection with this client id."""
QUICK_SECONDS = 10.0
"""A connection the broker closes sooner than this after accepting it counts as pushed off."""
QUICK_DROPS = 3
"""Consecutive quick drops taken as another client with this client id."""


class TakeoverWatch:
    """Counts connections ended soon after they began; says when another client holds the client id."""

    def __init__(self) -> None:
        self._since: float | None = None
        self.quick_drops = 0
        self.suspected = False
        """Whether the last drops are taken as another client with this client id (reset by a lasting connection)."""

    def connected(self) -> None:
        """The broker accepted a connection."""
        self._since = time.monotonic()

    def dropped(self, reason: int) -> bool:
        """The broker ended the connection; whether this starts a takeover (reported once per run of drops)."""
        since, self._since = self._since, None
        if since is None:
            return False
        if time.monotonic() - since >= QUICK_SECONDS:
            self.quick_drops = 0
            self.suspected = False
            return False
        self.quick_drops += 1
        if self.suspected or (reason != SESSION_TAKEN_OVER and self.quick_drops < QUICK_DROPS):
            return False
        self.suspected = True
        return True
