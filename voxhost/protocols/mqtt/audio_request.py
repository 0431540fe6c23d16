"""What every MQTT request that carries audio shares (convert, transcribe, voice upload): past the door's budget it
is answered ``busy``, it is read on a thread, one that does not parse gets one error reply, and a redelivery is
dropped."""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from ...errors import BusyError, InvalidRequestError, VoxhostError
from .connection import Incoming
from .context import Handler, MqttContext, Service
from .dedupe import Sent
from .glance import NotJson
from .names import shared
from .reply import Reply, check_delivery, check_response_topic
from .schemas import glance, json_limit, peek_audio_request

_LOGGER = logging.getLogger(__name__)


class Addressed(Protocol):
    """A request: its id, and where its replies go."""

    @property
    def id(self) -> str | None:
        """Echoed in the replies; the key of a redelivery."""
        ...

    @property
    def reply_to(self) -> str | None:
        """The topic for replies (else the Response Topic or the node's response topic)."""
        ...


C = TypeVar("C", bound=Addressed)

Parser = Callable[[bytes, tuple[tuple[str, str], ...], int, int, dict[str, str]], C]
"""Reads a request: payload, MQTT 5 user properties, the most audio bytes, the most other bytes, topic fields."""


@dataclass(frozen=True)
class AudioTopic(Generic[C]):
    """A topic that takes requests with audio, and how to read them."""

    name: str
    """What the logs call one request (``convert request``, ``voice upload``)."""
    key: str
    """Prefix of the request's key among recent ones (redeliveries are dropped)."""
    prefixes: tuple[str, ...]
    """The topics (each with a trailing ``/``) under which further levels carry fields."""
    fields: Callable[[str], dict[str, str]]
    """Fields from the levels after one of ``prefixes``."""
    parse: Parser[C]

    def defaults(self, topic: str) -> dict[str, str]:
        """The fields a message's topic carries."""
        for prefix in self.prefixes:
            if topic.startswith(prefix):
                return self.fields(topic[len(prefix) :])
        return {}


def start(ctx: MqttContext, msg: Incoming, topic: AudioTopic[C], serve: Coroutine[Any, Any, None]) -> None:
    """Serve ``msg`` in a task if the door's audio budget has room for it, else answer ``busy`` now."""
    weight = len(msg.payload)
    if not ctx.audio.take(weight):
        serve.close()
        refuse_busy(ctx, msg, topic)
        return
    task = ctx.tracker.spawn(serve, name=f"mqtt-{topic.key}")
    # A done callback, not a ``finally``: a task cancelled before its first step never runs its body.
    task.add_done_callback(lambda _: ctx.audio.give_back(weight))


def refuse_busy(ctx: MqttContext, msg: Incoming, topic: AudioTopic[C]) -> None:
    """Answer ``busy`` to a request the audio budget has no room for (its id is not used up: it may come again)."""
    s, budget = ctx.settings, ctx.audio
    try:
        defaults = topic.defaults(msg.topic)
    except VoxhostError:
        defaults = {}
    # Read here, not on a thread: a refusal waiting for a thread would keep its payload, which the budget is for.
    # Glanced, not parsed: parsing the largest JSON request (14 MB of base64) held the loop 15-20 ms.
    limit = json_limit(s.max_convert_bytes, s.max_command_bytes)
    try:
        seen = peek_audio_request(msg.payload, msg.user_properties, limit, defaults, glance)
    except NotJson as err:
        # The answer a parse gives it when there is room, echoing nothing read from the payload: it will not do
        # better when sent again.
        _LOGGER.info("Rejected %s on %s: %s", topic.name, msg.topic, err)
        seen = peek_audio_request(b"", msg.user_properties, limit, defaults)
        Reply.to(ctx, msg, seen.get("reply_to"), seen.get("id")).error(InvalidRequestError(str(err), param="payload"))
        return
    _LOGGER.info(
        "Refused %s on %s: %d requests with audio (%d bytes) in progress",
        topic.name,
        msg.topic,
        budget.requests,
        budget.bytes,
    )
    message = budget.refusal("max_audio_requests, max_audio_bytes")  # as the HTTP door words it
    Reply.to(ctx, msg, seen.get("reply_to"), seen.get("id")).error(BusyError(message))


async def receive(ctx: MqttContext, msg: Incoming, topic: AudioTopic[C]) -> tuple[C, Reply] | None:
    """The request ``msg`` carries and where its replies go; None once it got an error reply, or if it is a repeat."""
    s = ctx.settings
    defaults: dict[str, str] = {}
    try:
        check_response_topic(ctx, msg)
        defaults = topic.defaults(msg.topic)
        command, sent = await asyncio.to_thread(_read, msg, topic, ctx, defaults)
        check_delivery(ctx, command.reply_to, getattr(command, "audio_topic", None))
    except VoxhostError as err:
        limit = json_limit(s.max_convert_bytes, s.max_command_bytes)
        seen = await asyncio.to_thread(peek_audio_request, msg.payload, msg.user_properties, limit, defaults)
        _LOGGER.info("Rejected %s on %s: %s", topic.name, msg.topic, err.message)
        Reply.to(ctx, msg, seen.get("reply_to"), seen.get("id")).error(err)
        return None
    key = request_key(msg, topic, command)
    if ctx.dedupe.redelivered(key, msg, sent):
        _LOGGER.info("Dropping a repeated %s %s", topic.name, key)
        return None
    return command, Reply.to(ctx, msg, command.reply_to, command.id)


def _read(msg: Incoming, topic: AudioTopic[C], ctx: MqttContext, defaults: dict[str, str]) -> tuple[C, Sent | None]:
    """The request ``msg`` carries, and what a redelivery of it would carry (None: it cannot be one): both read the
    whole payload, megabytes of it, so both are made here, on a thread."""
    s = ctx.settings
    command = topic.parse(msg.payload, msg.user_properties, s.max_convert_bytes, s.max_command_bytes, defaults)
    repeatable = msg.qos > 0 and request_key(msg, topic, command) is not None
    return command, Sent.of(msg) if repeatable else None


def request_key(msg: Incoming, topic: AudioTopic[C], command: C) -> str | None:
    """What a request's redeliveries are known by: its id, else its Correlation Data (None: not deduplicated)."""
    key = command.id or (msg.correlation_data.hex() if msg.correlation_data else None)
    return None if key is None else f"{topic.key}:{key}"


def release_if_refused(ctx: MqttContext, msg: Incoming, topic: AudioTopic[C], command: C, reply: Reply) -> None:
    """Forget the key of a request whose only answer was an error: only an accepted request uses up its id."""
    if reply.sent == ["error"] or reply.refused:
        ctx.dedupe.forget(request_key(msg, topic, command))


class AudioService(Service, Generic[C], abc.ABC):
    """Serves one kind of request with audio on ``<base>/<node>/<kind>`` and the pool topic ``<base>/<kind>``, with
    fields (and the id) in further topic levels for MQTT 3.1.1 clients; ``serve`` answers a request that parsed."""

    kind: ClassVar[str]
    """The topics' last level (``convert``): names the requests in logs, keys and tasks."""

    def __init__(
        self, ctx: MqttContext, topic: str, pool: str, parse: Parser[C], fields: Callable[[str], dict[str, str]]
    ) -> None:
        super().__init__(ctx)
        self.topic, self.pool = topic, pool
        prefixes = (f"{topic}/", f"{pool}/")
        self.request = AudioTopic(f"{self.kind} request", self.kind, prefixes, fields, parse)

    def subscriptions(self) -> list[str]:
        """Topic filters to subscribe to on every connect (``/#`` matches the bare topic too)."""
        return [f"{self.topic}/#", shared(f"{self.pool}/#", self.settings.shared_group)]

    def handlers(self) -> dict[str, Handler]:
        """Exact topic → handler; the forms with fields in the topic go through ``route``."""
        return {self.topic: self.on_request, self.pool: self.on_request}

    def route(self, topic: str) -> Handler | None:
        """``<base>/<node>/<kind>/...`` or ``<base>/<kind>/...``: fields (and id) in the topic."""
        return self.on_request if topic.startswith(self.request.prefixes) else None

    def on_request(self, msg: Incoming) -> None:
        """Hand the request to a task: parsing megabytes of base64 and decoding audio happen on threads."""
        if msg.retain:
            _LOGGER.warning("Ignoring a retained %s message on %s", self.kind, msg.topic)
            return
        start(self.ctx, msg, self.request, self._serve(msg))

    async def _serve(self, msg: Incoming) -> None:
        received = await receive(self.ctx, msg, self.request)
        if received is not None:
            await self.serve(*received)
            release_if_refused(self.ctx, msg, self.request, *received)

    @abc.abstractmethod
    async def serve(self, command: C, reply: Reply) -> None:
        """Answer a request that parsed (not a repeat)."""
