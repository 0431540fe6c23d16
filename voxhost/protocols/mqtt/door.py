"""The MQTT door: one broker connection serving voxhost's topics, Hermes and Home Assistant discovery.

The door builds what its parts share (an ``MqttContext``), hands it to each part, and routes messages to them; the
parts never see the door.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ...api import CoreAPI
from ...budget import AudioBudget
from ...door import Door, DoorSettings, Endpoint, host_port
from ...events import Event, JobAudio
from .connection import Incoming, MqttConnection
from .context import Handler, MqttContext, Part
from .convert import ConvertService
from .dedupe import Deduper
from .discovery import Discovery
from .hermes import HermesService
from .jobs import JobsService
from .library import LibraryService
from .names import Topics
from .service import VoxhostService
from .settings import MqttSettings
from .state import NodeState
from .tracking import Tracker
from .transcribe import TranscribeService
from .voice import DefaultVoice

_LOGGER = logging.getLogger(__name__)


class MqttDoor(Door):
    """Say requests, streamed audio and status over MQTT; Hermes compatible; discovered by Home Assistant."""

    name = "mqtt"
    Settings = MqttSettings

    @classmethod
    def endpoints(cls, settings: DoorSettings) -> list[Endpoint]:
        """The broker must answer."""
        assert isinstance(settings, MqttSettings)
        return [Endpoint("connect", settings.host, settings.port)]

    def __init__(self, core: CoreAPI, settings: DoorSettings) -> None:
        super().__init__(core, settings)
        assert isinstance(settings, MqttSettings)
        self.settings: MqttSettings = settings
        topics = Topics.from_settings(settings)
        self.conn = MqttConnection(
            settings,
            settings.client_id or f"voxhost-{settings.node_id}",
            topics.availability,
            self._subscriptions,
            self._dispatch,
            self._connected,
        )
        tracker = Tracker()
        voice_file = core.settings.state_path / "mqtt" / f"{settings.node_id}.json"
        self.ctx = MqttContext(
            core=core,
            settings=settings,
            topics=topics,
            conn=self.conn,
            dedupe=Deduper(settings.dedupe_window),
            tracker=tracker,
            voice=DefaultVoice(core, voice_file, tracker.spawn),
            audio=AudioBudget(settings.max_audio_requests, settings.max_audio_bytes),
        )
        self.state = NodeState(self.ctx)
        self.ctx.voice.listen(self.state.voice_changed)
        self.discovery = Discovery(self.ctx) if settings.discovery else None
        self.parts: list[Part] = [
            VoxhostService(self.ctx),
            ConvertService(self.ctx),
            JobsService(self.ctx),
            TranscribeService(self.ctx),
            LibraryService(self.ctx),
        ]
        if settings.hermes:
            self.parts.append(HermesService(self.ctx))
        if self.discovery is not None:
            self.parts.append(self.discovery)
        self._handlers: dict[str, Handler] = {}
        for part in self.parts:
            self._handlers.update(part.handlers())
        self._closing = False
        self._unsubscribe: Callable[[], None] | None = None

    def _subscriptions(self) -> list[str]:
        return [topic for part in self.parts for topic in part.subscriptions()]

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect in the background; wait a little for the first connection, then serve (and keep retrying)."""
        await self.ctx.voice.load()
        self._unsubscribe = self.core.bus.subscribe(self._observe)
        self.conn.start()
        if not await self.conn.wait_connected(self.settings.connect_timeout):
            _LOGGER.warning(
                "MQTT broker %s not reachable yet; voxhost keeps trying in the background",
                host_port(self.settings.host, self.settings.port),
            )

    async def drain(self, deadline: float) -> None:
        """Ignore new requests; let this door's requests (speech and conversions) finish until ``deadline``."""
        self._closing = True
        if self.discovery is not None:
            self.discovery.cancel()
        remaining = max(0.0, deadline - asyncio.get_running_loop().time())
        await self.ctx.tracker.drain(remaining, "daemon shutting down")

    async def stop(self) -> None:
        """Cancel what is left, say offline and disconnect."""
        self._closing = True
        if self.discovery is not None:
            self.discovery.cancel()
        await self.ctx.tracker.drain(0.0, "daemon shutting down")
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.conn.stop()

    def status(self) -> dict[str, Any]:
        """Broker, connection state and node, for health pages."""
        return {
            "broker": host_port(self.settings.host, self.settings.port),
            "protocol": self.settings.protocol,
            "connected": self.conn.connected,
            "node": self.settings.node_id,
            "say_topic": self.ctx.topics.say,
            "convert_topic": self.ctx.topics.convert,
            "transcribe_topic": self.ctx.topics.transcribe,
            "shared_group": self.settings.shared_group,
            "active": self.ctx.tracker.active,
            "uploads": self.ctx.audio.status(),
            "error": self.conn.last_error,
        }

    # -- messages ------------------------------------------------------------------------------------

    def _dispatch(self, msg: Incoming) -> None:
        """Route a message on the event loop; nothing a client sends may take the daemon down."""
        if self._closing:
            return
        handler = self._handlers.get(msg.topic)
        if handler is None:
            handler = next((h for part in self.parts if (h := part.route(msg.topic)) is not None), None)
        if handler is None:
            return
        try:
            handler(msg)
        except Exception:
            _LOGGER.exception("Handling a message on %s failed", msg.topic)

    def _connected(self) -> None:
        """After every (re)connect: state, default voice and discovery again."""
        self.state.republish()
        if self.discovery is not None:
            self.discovery.publish()

    def _observe(self, event: Event) -> None:
        """Core events → the events topic, the activity state, and discovery when voices change."""
        if isinstance(event, JobAudio) or not self.conn.connected:
            return
        self.state.observe(event)
        if self.discovery is not None:
            self.discovery.observe(event)
