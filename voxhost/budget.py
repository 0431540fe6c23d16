"""The bytes that requests carrying a payload (audio, an archive) may hold together while they are served.

A door reads such a request's payload into memory and keeps it until the request is answered, while it waits for a
decoding thread and an engine. Only a bound on those requests keeps a flood of uploads from holding more memory than
a small machine has; past it a door answers ``busy`` at once rather than reading or queueing the payload.

A door shows its budget in its status as ``uploads`` (``AudioBudget.status``), where health pages and metrics read it.
"""

from __future__ import annotations

_MIB = 1024 * 1024


class AudioBudget:
    """The payload requests in progress: at most ``max_requests`` of them, holding at most ``max_bytes`` of payload
    together (one larger request is taken when none is in progress, so a byte limit below a door's largest upload
    still serves one request at a time). The count bounds what they decode to: a small FLAC may hold minutes."""

    def __init__(self, max_requests: int, max_bytes: int) -> None:
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.bytes = 0
        """Payload bytes held by the requests in progress."""
        self.requests = 0
        """Requests in progress."""
        self.refused = 0
        """Requests refused for want of room, since the door opened."""

    def take(self, weight: int, hold: bool = True) -> bool:
        """Count a request of ``weight`` bytes in, if it fits; False: it does not, and nothing was counted but the
        refusal. ``hold=False`` only asks whether it fits now (a client that waits to be told to send its payload),
        and counts a refusal all the same: that request is answered ``busy`` too."""
        if self.requests and (self.requests >= self.max_requests or self.bytes + weight > self.max_bytes):
            self.refused += 1
            return False
        if hold:
            self.bytes += weight
            self.requests += 1
        return True

    def grow(self, weight: int) -> bool:
        """Count ``weight`` more bytes for a request in progress whose size was not known when it was taken (a
        chunked upload, counted as it is read), if they fit; False: they do not, and nothing was counted."""
        if self.requests > 1 and self.bytes + weight > self.max_bytes:
            self.refused += 1
            return False
        self.bytes += weight
        return True

    def give_back(self, weight: int) -> None:
        """A request of ``weight`` bytes was answered (or ended otherwise)."""
        self.bytes -= weight
        self.requests -= 1

    def refusal(self, limits: str) -> str:
        """Why a request is answered ``busy``, in the words of every door; ``limits`` names the door's settings for
        the count and the bytes (``max_upload_requests, max_uploads_mb``)."""
        return (
            f"too many uploads in progress ({self.requests}, holding {self.bytes / _MIB:.1f} MiB; at most "
            f"{self.max_requests} and {self.max_bytes / _MIB:g} MiB: {limits}); try again shortly"
        )

    def status(self) -> dict[str, int]:
        """What is held and refused, and the bounds, as a door's status shows them."""
        return {
            "requests": self.requests,
            "bytes": self.bytes,
            "refused": self.refused,
            "max_requests": self.max_requests,
            "max_bytes": self.max_bytes,
        }
