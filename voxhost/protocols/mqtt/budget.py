"""The payload bytes that requests with audio (convert, transcribe, voice upload) may hold while they are served.

Each such request holds its payload (up to ~13 MB of base64) from the moment the inbox hands it over until it is
answered, while it waits for a decoding thread and an engine. The inbox bounds only what waits for the event loop, so
a flood of uploads became a pile of tasks, each keeping its payload. Past this budget a request is answered ``busy``
at once rather than held: holding the inbox would also hold stop commands, say requests and the keepalive for as long
as the decodes and engines take.
"""

from __future__ import annotations


class AudioBudget:
    """The audio requests in progress: at most ``max_requests`` of them, holding at most ``max_bytes`` of payload
    together (one larger request is taken when none is in progress, so a byte limit below ``max_convert_bytes``
    still serves one request at a time). The count bounds what they decode to: a small FLAC may hold minutes."""

    def __init__(self, max_requests: int, max_bytes: int) -> None:
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.bytes = 0
        """Payload bytes held by the requests in progress."""
        self.requests = 0
        """Requests in progress."""

    def take(self, weight: int) -> bool:
        """Count a request of ``weight`` bytes in, if it fits; False: it does not, and nothing was counted."""
        if self.requests and (self.requests >= self.max_requests or self.bytes + weight > self.max_bytes):
            return False
        self.bytes += weight
        self.requests += 1
        return True

    def give_back(self, weight: int) -> None:
        """A request of ``weight`` bytes was answered (or ended otherwise)."""
        self.bytes -= weight
        self.requests -= 1
