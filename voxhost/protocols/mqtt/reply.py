"""Status replies of one request: to its Response Topic (with Correlation Data), its ``reply_to``, or the default."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import InvalidRequestError, VoxhostError
from .connection import Incoming, MqttConnection
from .context import MqttContext
from .names import reply_topic_problem


@dataclass
class Reply:
    """Where one request's status replies go: a topic, MQTT 5 correlation data, and the id echoed in them."""

    conn: MqttConnection
    topic: str
    node: str
    id: str | None = None
    correlation: bytes | None = None
    sent: list[str] = field(default_factory=list)

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

        A Response Topic that cannot be published to is passed over, so the refusal of its request has somewhere to go.
        """
        response_topic = msg.response_topic if usable_response_topic(msg) else None
        topic = response_topic or reply_to or default or ctx.topics.response
        return cls(ctx.conn, topic, ctx.topics.node, request_id, msg.correlation_data)

    def send(self, status: str, **fields: Any) -> None:
        """Publish one status message."""
        payload = {"id": self.id, "status": status, "node": self.node}
        payload.update({key: value for key, value in fields.items() if value is not None})
        self.conn.publish_json(self.topic, payload, correlation=self.correlation)
        self.sent.append(status)

    def error(self, err: VoxhostError) -> None:
        """Publish an error status naming the problem."""
        self.send("error", code=err.code, message=err.message, param=err.param)


def usable_response_topic(msg: Incoming) -> bool:
    """Whether ``msg`` has a Response Topic that replies can be published to."""
    return msg.response_topic is not None and reply_topic_problem(msg.response_topic) is None


def check_response_topic(msg: Incoming) -> None:
    """Refuse a request whose MQTT 5 Response Topic is no topic name to publish to (a wildcard, a leading ``$``)."""
    if msg.response_topic is not None and (problem := reply_topic_problem(msg.response_topic)):
        raise InvalidRequestError(f"invalid Response Topic {msg.response_topic!r}: {problem}", param="response_topic")
