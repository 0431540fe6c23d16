"""Request ids: text wherever they name a topic, a job or a redelivery, echoed in replies as they were sent."""

from __future__ import annotations


class NumberId(str):
    """A request id sent as a JSON integer (``"id": 4711``): the text ``"4711"`` in topics, keys and stop commands,
    the number in the replies, since clients match replies by comparing the value they sent."""


def echoed(request_id: str | None) -> str | int | None:
    """A request id as its replies and audio messages carry it: a number stays a number."""
    return int(request_id) if isinstance(request_id, NumberId) else request_id
