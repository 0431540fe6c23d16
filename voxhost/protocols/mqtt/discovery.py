"""Home Assistant MQTT discovery (device-based): one message declares a notify, a select, a sensor and a button.

Sent on every connect and again, after a random delay, whenever Home Assistant's birth message
(``<prefix>/status`` = ``online``) arrives, so a restarted Home Assistant finds voxhost without retained state;
births within the delay share one announcement.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

from ... import __version__
from ...events import EngineLoaded, EngineUnloaded, Event, VoiceAdded, VoiceRemoved
from .connection import Incoming
from .context import Handler, MqttContext, Service

_LOGGER = logging.getLogger(__name__)

ACTIVITY_STATES = ["idle", "queued", "speaking"]
CATALOG_CHANGES = (VoiceAdded, VoiceRemoved, EngineLoaded, EngineUnloaded)
"""Events that change the voices the select offers."""


MAX_BIRTH = 64
"""Longest Home Assistant birth message read (``online``, with some white space)."""


class Discovery(Service):
    """Builds and publishes the discovery message."""

    def __init__(self, ctx: MqttContext) -> None:
        super().__init__(ctx)
        self._pending: asyncio.TimerHandle | None = None
        self.sent = 0
        self._trimmed: tuple[int, int] | None = None
        """(offered, of) voices in the select when the last announcement had to leave some out (logged once)."""

    def subscriptions(self) -> list[str]:
        """Home Assistant's birth topic."""
        return [self.topics.ha_status]

    def handlers(self) -> dict[str, Handler]:
        """Exact topic → handler."""
        return {self.topics.ha_status: self.on_ha_status}

    def observe(self, event: Event) -> None:
        """Announce again when the voices change."""
        if isinstance(event, CATALOG_CHANGES):
            self.publish()

    def on_ha_status(self, msg: Incoming) -> None:
        """Home Assistant came online: announce again after a random delay (many devices answer at once)."""
        if len(msg.payload) > MAX_BIRTH or msg.payload.strip().lower() != b"online":
            return  # the length first: anyone may publish here, megabytes too, which the loop would copy twice
        if self._pending is not None:
            # Joins the announcement already due: restarting the delay let a flapping Home Assistant (or any client
            # saying online more often than discovery_delay) hold every announcement off.
            return
        delay = random.uniform(0, self.settings.discovery_delay)
        self._pending = asyncio.get_running_loop().call_later(delay, self.publish)

    def cancel(self) -> None:
        """Drop a scheduled announcement (door stopping)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def publish(self) -> None:
        """Send the discovery message (it serves an announcement still due, too)."""
        self.cancel()
        self.ctx.conn.publish_json(self.topics.discovery, self.payload(), retain=self.settings.discovery_retain)
        self.sent += 1

    def payload(self) -> dict[str, Any]:
        """The device discovery document, its voice list cut to what the broker takes (the other entities stay)."""
        voices = [voice.id for voice in self.ctx.core.voices()]
        document = self._document(voices)
        if self._fits(document):
            self._trimmed = None
            return document
        # Too large, the whole document was refused, and Home Assistant lost the notify, sensor and button with
        # the select. The current voice stays among the options: a select whose state is not one of them is invalid.
        current = self.ctx.voice.effective()
        ordered = ([current] if current in voices else []) + [v for v in voices if v != current]
        low, high = 0, len(ordered)  # the most options that fit lie in [low, high)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (
                (middle, high) if self._fits(self._document(self._kept(voices, ordered[:middle]))) else (low, middle)
            )
        document = self._document(self._kept(voices, ordered[:low]))
        if self._trimmed != (low, len(voices)):
            self._trimmed = (low, len(voices))
            _LOGGER.warning(
                "Home Assistant's voice select offers %d of the %d voices: the discovery message may have at most %d "
                "bytes (max_publish_bytes, or the broker's Maximum Packet Size)",
                low,
                len(voices),
                self.ctx.conn.max_payload,
            )
        return document

    @staticmethod
    def _kept(voices: list[str], chosen: list[str]) -> list[str]:
        """``chosen`` in catalog order."""
        keep = set(chosen)
        return [voice for voice in voices if voice in keep]

    def _fits(self, document: dict[str, Any]) -> bool:
        """Whether the document may be published (measured as ``publish_json`` encodes it)."""
        size = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode(errors="surrogatepass"))
        return self.ctx.conn.fits(self.topics.discovery, size)

    def _document(self, voices: list[str]) -> dict[str, Any]:
        """The discovery document offering ``voices`` in the select (none: no select)."""
        t = self.topics
        oid = t.object_id
        components: dict[str, dict[str, Any]] = {
            "say": {
                "p": "notify",
                "name": "Say",
                "unique_id": f"{oid}_say",
                "command_topic": t.say,
                "icon": "mdi:account-voice",
            },
            "activity": {
                "p": "sensor",
                "name": "Activity",
                "unique_id": f"{oid}_activity",
                "state_topic": t.state,
                "value_template": "{{ value_json.state }}",
                "json_attributes_topic": t.state,
                "device_class": "enum",
                "options": ACTIVITY_STATES,
                "icon": "mdi:waveform",
            },
            "stop": {
                "p": "button",
                "name": "Stop",
                "unique_id": f"{oid}_stop",
                "command_topic": t.stop,
                "payload_press": "PRESS",
                "icon": "mdi:stop",
            },
        }
        if voices:
            components["voice"] = {
                "p": "select",
                "name": "Voice",
                "unique_id": f"{oid}_voice",
                "command_topic": t.voice_set,
                "state_topic": t.voice,
                "options": voices,
                "entity_category": "config",
                "icon": "mdi:account-music",
            }
        return {
            "dev": {
                "ids": [oid],
                "name": f"voxhost {t.node}",
                "mf": "voxhost",
                "mdl": "Text-to-speech daemon",
                "sw": __version__,
            },
            "o": {"name": "voxhost", "sw": __version__},
            "availability_topic": t.availability,
            "qos": self.settings.qos,
            "cmps": components,
        }
