"""The characters MQTT forbids in topic names (or lets a broker refuse), shared by settings, topics and requests."""

from __future__ import annotations

import re

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    chr(plane | low) for plane in range(0, 0x110000, 0x10000) for low in (0xFFFE, 0xFFFF)
)
_UNFIT_RE = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]")
"""What MQTT forbids in a topic name (U+0000, lone surrogates) or lets a broker refuse as a malformed packet
(control characters, noncharacters): mosquitto disconnects a client that publishes to such a topic."""


def unfit_character(value: str) -> str | None:
    """The first character of ``value`` that must not reach a topic name, described, or None."""
    if found := _UNFIT_RE.search(value):
        return f"U+{ord(found.group()):04X} at position {found.start()}"
    return None
