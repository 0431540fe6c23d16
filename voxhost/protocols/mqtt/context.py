"""What the MQTT door's parts share: one ``MqttContext``, built by the door and handed to each part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ...api import CoreAPI
    from ...budget import AudioBudget
    from .connection import Incoming, MqttConnection
    from .dedupe import Deduper
    from .names import Topics
    from .settings import MqttSettings
    from .tracking import Tracker
    from .voice import DefaultVoice

Handler = Callable[["Incoming"], None]
"""Handles one message on the event loop; must return quickly (long work goes to a task)."""


@dataclass(frozen=True)
class MqttContext:
    """The broker connection, topics, settings and core, and the state the parts share."""

    core: CoreAPI
    settings: MqttSettings
    topics: Topics
    conn: MqttConnection
    dedupe: Deduper
    """Drops QoS 1 and 2 redeliveries of say, convert and Hermes requests."""
    tracker: Tracker
    """Request tasks, and the jobs and conversions they serve (stop commands, shutdown)."""
    voice: DefaultVoice
    """The default voice chosen over MQTT."""
    audio: AudioBudget
    """The requests with audio in progress (convert, transcribe, voice upload), and how many more may start."""


class Part(Protocol):
    """One group of topics the door serves (voxhost's own, conversion, Hermes, discovery)."""

    def subscriptions(self) -> list[str]:
        """Topic filters to subscribe to on every connect."""
        ...

    def handlers(self) -> dict[str, Handler]:
        """Exact topic → handler (a shared subscription delivers under the plain topic)."""
        ...

    def route(self, topic: str) -> Handler | None:
        """The handler of a topic that a wildcard subscription delivers, if it is this part's."""
        ...


class Service:
    """Base of the parts: the context, with its settings and topics at hand; no wildcard topics unless ``route``
    says otherwise."""

    def __init__(self, ctx: MqttContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.topics = ctx.topics

    def route(self, topic: str) -> Handler | None:
        """No wildcard topics here."""
        return None
