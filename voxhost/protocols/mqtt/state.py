"""What a node publishes about itself: its activity and default voice (both retained), and the core's events."""

from __future__ import annotations

from ...events import TERMINAL, Event, JobAccepted, JobStarted
from .context import MqttContext


class NodeState:
    """``<root>/state``, ``<root>/voice`` and ``<root>/events``."""

    def __init__(self, ctx: MqttContext) -> None:
        self.ctx = ctx
        self._last: dict[str, object] | None = None

    def republish(self) -> None:
        """After a (re)connect: the retained state and voice again, whatever was sent before."""
        self._last = None
        self.publish()
        self.publish_voice()

    def publish(self) -> None:
        """The activity state (idle, queued, speaking), when it changed."""
        jobs = self.ctx.core.jobs()
        if any(job.state == "running" for job in jobs):
            activity = "speaking"
        elif jobs:
            activity = "queued"
        else:
            activity = "idle"
        state: dict[str, object] = {"state": activity, "jobs": len(jobs), "voice": self.ctx.voice.effective()}
        if state != self._last:
            self._last = state
            self.ctx.conn.publish_json(self.ctx.topics.state, state, retain=True)

    def publish_voice(self) -> None:
        """The default voice, retained (Home Assistant's select shows it)."""
        self.ctx.conn.publish(self.ctx.topics.voice, self.ctx.voice.effective() or "", retain=True)

    def voice_changed(self) -> None:
        """The default voice changed: both topics carry it."""
        self.publish_voice()
        self.publish()

    def observe(self, event: Event) -> None:
        """A core event: on the events topic, and the activity when a job begins or ends."""
        s = self.ctx.settings
        if s.events:
            self.ctx.conn.publish_json(self.ctx.topics.events, {"node": s.node_id, **event.summary()}, qos=0)
        if isinstance(event, (JobAccepted, JobStarted, *TERMINAL)):
            self.publish()
