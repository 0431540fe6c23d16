"""The MQTT door: one broker connection serving voxhost's topics, Hermes and Home Assistant discovery."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from ...api import CoreAPI, JobHandle
from ...door import Door, DoorSettings
from ...errors import VoxhostError
from ...events import (
    TERMINAL,
    EngineLoaded,
    EngineUnloaded,
    Event,
    JobAccepted,
    JobAudio,
    JobStarted,
    VoiceAdded,
    VoiceRemoved,
)
from .connection import Incoming, MqttConnection
from .convert import ConvertService
from .dedupe import Deduper
from .discovery import Discovery
from .hermes import HermesService
from .names import Topics
from .service import VoxhostService
from .settings import MqttSettings

_LOGGER = logging.getLogger(__name__)


class MqttDoor(Door):
    """Say requests, streamed audio and status over MQTT; Hermes compatible; discovered by Home Assistant."""

    name = "mqtt"
    Settings = MqttSettings

    def __init__(self, core: CoreAPI, settings: DoorSettings) -> None:
        super().__init__(core, settings)
        assert isinstance(settings, MqttSettings)
        self.settings: MqttSettings = settings
        self.topics = Topics.from_settings(self.settings)
        self.dedupe = Deduper(self.settings.dedupe_window)
        self.active: dict[str, JobHandle] = {}
        """Request id → job, for the jobs this door is serving (stop commands)."""
        self.conversions: dict[str, asyncio.Task[Any]] = {}
        """Request id → task, for the voice conversions this door is serving (stop commands)."""
        self.default_voice: str | None = None
        self.service = VoxhostService(self)
        self.convert = ConvertService(self)
        self.hermes = HermesService(self) if self.settings.hermes else None
        self.discovery = Discovery(self) if self.settings.discovery else None
        self._handlers: dict[str, Callable[[Incoming], None]] = {}
        for part in self._parts():
            self._handlers.update(part.handlers())
        self.conn = MqttConnection(
            self.settings,
            self.settings.client_id or f"voxhost-{self.settings.node_id}",
            self.topics.availability,
            self._subscriptions,
            self._dispatch,
            self._connected,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._unsubscribe: Callable[[], None] | None = None
        self._state: dict[str, Any] | None = None

    def _parts(self) -> list[Any]:
        return [p for p in (self.service, self.convert, self.hermes, self.discovery) if p is not None]

    def _subscriptions(self) -> list[str]:
        topics: list[str] = []
        for part in self._parts():
            topics.extend(part.subscriptions())
        return topics

    @property
    def _voice_file(self) -> Path:
        return self.core.settings.state_path / "mqtt" / f"{self.settings.node_id}.json"

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect in the background; wait a little for the first connection, then serve (and keep retrying)."""
        self.default_voice = await asyncio.to_thread(self._load_voice)
        self._unsubscribe = self.core.bus.subscribe(self._observe)
        self.conn.start()
        if not await self.conn.wait_connected(self.settings.connect_timeout):
            _LOGGER.warning(
                "MQTT broker %s:%s not reachable yet; voxhost keeps trying in the background",
                self.settings.host,
                self.settings.port,
            )

    async def stop(self) -> None:
        """Ignore new requests, let this door's jobs finish (bounded), then say offline and disconnect."""
        self._closing = True
        if self.discovery is not None:
            self.discovery.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=self.core.settings.shutdown_timeout)
            if pending:
                for job in list(self.active.values()):
                    job.cancel("daemon shutting down")
                for task in list(self.conversions.values()):
                    task.cancel("daemon shutting down")
                await asyncio.wait(pending, timeout=2.0)
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.conn.stop()

    def status(self) -> dict[str, Any]:
        """Broker, connection state and node, for health pages."""
        return {
            "broker": f"{self.settings.host}:{self.settings.port}",
            "protocol": self.settings.protocol,
            "connected": self.conn.connected,
            "node": self.settings.node_id,
            "say_topic": self.topics.say,
            "convert_topic": self.topics.convert,
            "shared_group": self.settings.shared_group,
            "active": len(self.active) + len(self.conversions),
            "error": self.conn.last_error,
        }

    # -- messages ------------------------------------------------------------------------------------

    def _dispatch(self, msg: Incoming) -> None:
        """Route a message on the event loop; nothing a client sends may take the daemon down."""
        if self._closing:
            return
        handler = self._handlers.get(msg.topic)
        if handler is None and self.hermes is not None and self.hermes.matches_play_finished(msg.topic):
            handler = self.hermes.on_play_finished
        if handler is None and self.convert.matches(msg.topic):
            handler = self.convert.on_convert
        if handler is None:
            return
        try:
            handler(msg)
        except Exception:
            _LOGGER.exception("Handling a message on %s failed", msg.topic)

    def _connected(self) -> None:
        """After every (re)connect: state, default voice and discovery again."""
        self._state = None
        self._publish_state()
        self.conn.publish(self.topics.voice, self.effective_voice() or "", retain=True)
        if self.discovery is not None:
            self.discovery.publish()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run a request's task, keeping a reference and logging a crash."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (err := task.exception()) is not None:
            _LOGGER.error("MQTT task %s failed", task.get_name(), exc_info=err)

    def track(self, request_id: str, job: JobHandle) -> None:
        """Remember a job this door serves."""
        self.active[request_id] = job

    def untrack(self, job: JobHandle) -> None:
        """Forget a finished job."""
        for request_id, known in list(self.active.items()):
            if known is job:
                del self.active[request_id]

    # -- default voice -------------------------------------------------------------------------------

    def effective_voice(self) -> str | None:
        """The chosen default voice, else the daemon's own default."""
        if self.default_voice:
            return self.default_voice
        try:
            return self.core.resolve_voice(None).id
        except VoxhostError:
            return None

    def default_voice_for(self, language: str | None) -> str | None:
        """The chosen default voice when it fits the request's language (else the core picks by language)."""
        if self.default_voice is None:
            return None
        voice = next((v for v in self.core.voices() if v.id == self.default_voice), None)
        return self.default_voice if voice is not None and self.core.speaks(voice, language) else None

    def set_default_voice(self, voice: str | None) -> None:
        """Change the default voice, publish it (retained) and keep it for the next start."""
        self.default_voice = voice
        self.conn.publish(self.topics.voice, self.effective_voice() or "", retain=True)
        self._publish_state()
        self.spawn(asyncio.to_thread(self._save_voice, voice), name="mqtt-save-voice")

    def _load_voice(self) -> str | None:
        try:
            voice = json.loads(self._voice_file.read_text()).get("default_voice")
        except (OSError, ValueError, AttributeError):
            return None
        return voice if any(v.id == voice for v in self.core.voices()) else None

    def _save_voice(self, voice: str | None) -> None:
        path = self._voice_file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"default_voice": voice}))
        tmp.replace(path)

    # -- core events ---------------------------------------------------------------------------------

    def _observe(self, event: Event) -> None:
        """Events → the events topic, the activity state, and discovery when voices change."""
        if isinstance(event, JobAudio) or not self.conn.connected:
            return
        if self.settings.events:
            self.conn.publish_json(self.topics.events, {"node": self.settings.node_id, **event.summary()}, qos=0)
        if isinstance(event, (JobAccepted, JobStarted, *TERMINAL)):
            self._publish_state()
        elif isinstance(event, (VoiceAdded, VoiceRemoved, EngineLoaded, EngineUnloaded)) and self.discovery:
            self.discovery.publish()

    def _publish_state(self) -> None:
        jobs = self.core.jobs()
        if any(job.state == "running" for job in jobs):
            activity = "speaking"
        elif jobs:
            activity = "queued"
        else:
            activity = "idle"
        state = {"state": activity, "jobs": len(jobs), "voice": self.effective_voice()}
        if state != self._state:
            self._state = state
            self.conn.publish_json(self.topics.state, state, retain=True)
