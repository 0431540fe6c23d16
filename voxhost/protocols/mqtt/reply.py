"""Status replies of one request: to its Response Topic (with Correlation Data), its ``reply_to``, or the default."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import InvalidRequestError, TooLargeError, VoxhostError
from .connection import Incoming, MqttConnection, json_bytes
from .context import MqttContext
from .ids import echoed
from .names import reply_topic_problem
from .stream import AUDIO_PARTS


@dataclass
class Reply:
    """Where one request's status replies go: a topic, MQTT 5 correlation data, and the id echoed in them."""

    conn: MqttConnection
    topic: str
    node: str
    id: str | None = None
    correlation: bytes | None = None
    sent: list[str] = field(default_factory=list)
    refused: bool = False
    """Its error, though sent after ``queued``, refuses the request itself (audio that does not decode past its
    header): like a refusal, it does not use up the request's id."""

    @classmethod
    def to(
        cls,
        ctx: MqttContext,
        msg: Incoming,
        reply_to: str | None = None,
        request_id: str | None = None,
        *,
        default: str | None = None,
    ) -> Reply:
        """Replies to ``msg``: its Response Topic, else ``reply_to``, else ``default`` or the node's response topic.

        A Response Topic or ``reply_to`` that cannot be published to (or that voxhost takes requests on) is passed
        over, so the refusal of its request has somewhere to go.
        """
        response_topic = msg.response_topic if usable_response_topic(ctx, msg) else None
        if reply_to is not None and ctx.conn.takes(reply_to):
            reply_to = None
        topic = response_topic or reply_to or default or ctx.topics.response
        return cls(ctx.conn, topic, ctx.topics.node, request_id, msg.correlation_data)

    def send(self, status: str, **fields: Any) -> None:
        """Publish one status message; one too large for any message voxhost may send becomes a ``too_large`` error."""
        payload = {"id": echoed(self.id), "status": status, "node": self.node}
        payload.update({key: value for key, value in fields.items() if value is not None})
        data = json_bytes(payload)
        if status != "error" and not self.conn.fits(self.topic, len(data)):
            # Dropped, it would leave the client waiting for an answer that never comes (a page of long jobs).
            limit = self.conn.max_payload
            message = f"the {status!r} reply is {len(data)} bytes, above the {limit} byte message limit; ask for less"
            self.error(TooLargeError(message))
            return
        self.conn.publish(self.topic, data, content_type="application/json", correlation=self.correlation)
        self.sent.append(status)

    def error(self, err: VoxhostError) -> None:
        """Publish an error status naming the problem."""
        self.send("error", code=err.code, message=err.message, param=err.param)


TAKEN = "voxhost takes requests there"
"""Why a reply or audio topic that matches one of the door's subscriptions is refused: published there, it would come
back as a request (a say's WAV aimed at ``voices/add`` was stored as a library voice)."""


def usable_response_topic(ctx: MqttContext, msg: Incoming) -> bool:
    """Whether ``msg`` has a Response Topic that replies can be published to."""
    topic = msg.response_topic
    return topic is not None and reply_topic_problem(topic) is None and not ctx.conn.takes(topic)


def check_response_topic(ctx: MqttContext, msg: Incoming) -> None:
    """Refuse a request whose MQTT 5 Response Topic is no topic name to publish to (a wildcard, a leading ``$``), or
    one voxhost takes requests on."""
    topic = msg.response_topic
    if topic is not None and (problem := reply_topic_problem(topic) or (TAKEN if ctx.conn.takes(topic) else None)):
        raise InvalidRequestError(f"invalid Response Topic {topic!r}: {problem}", param="response_topic")


def check_delivery(ctx: MqttContext, reply_to: str | None, audio_topic: str | None = None) -> None:
    """Refuse a request whose ``reply_to``, or an audio message under its ``audio_topic``, is a topic voxhost takes
    requests on."""
    if reply_to is not None and ctx.conn.takes(reply_to):
        raise InvalidRequestError(f"invalid field 'reply_to': {TAKEN}", param="reply_to")
    if audio_topic is not None and (
        taken := next((part for part in AUDIO_PARTS if ctx.conn.takes(f"{audio_topic}/{part}")), None)
    ):
        raise InvalidRequestError(f"invalid field 'audio_topic': {TAKEN} ({audio_topic}/{taken})", param="audio_topic")
