"""Speech-to-text over MQTT: audio in on ``transcribe``, its text out as a status reply.

A request comes in the convert topic's forms: a JSON object with base64 ``audio``, or the raw audio file with MQTT 5
user properties (``language``, ``id``, ...), or with the language and id in the topic
(``<base>/<node>/transcribe/<language>[/<id>]``, for MQTT 3.1.1 clients). Replies go to the request's Response
Topic, ``reply_to``, or ``<base>/<node>/response``: ``queued``, then ``done`` with ``text`` (or ``error``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import asdict

from ...audio import decode_audio
from ...engine import PCM, Transcript
from ...errors import VoxhostError
from .connection import Incoming
from .context import Handler, MqttContext
from .names import shared
from .reply import Reply
from .schemas import TranscribeCommand, parse_transcribe, peek_convert, transcribe_topic_fields

_LOGGER = logging.getLogger(__name__)


class TranscribeService:
    """Handlers for ``<base>/<node>/transcribe`` and the pool topic ``<base>/transcribe``."""

    def __init__(self, ctx: MqttContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.topics = ctx.topics

    def subscriptions(self) -> list[str]:
        """Topic filters to subscribe to on every connect (``/#`` matches the bare topic too)."""
        t = self.topics
        return [f"{t.transcribe}/#", shared(f"{t.pool_transcribe}/#", self.settings.shared_group)]

    def handlers(self) -> dict[str, Handler]:
        """Exact topic → handler; ``.../transcribe/<language>[/<id>]`` goes through ``route``."""
        return {self.topics.transcribe: self.on_transcribe, self.topics.pool_transcribe: self.on_transcribe}

    def route(self, topic: str) -> Handler | None:
        """``<base>/<node>/transcribe/...`` or ``<base>/transcribe/...``: language (and id) in the topic."""
        if topic.startswith((f"{self.topics.transcribe}/", f"{self.topics.pool_transcribe}/")):
            return self.on_transcribe
        return None

    def _topic_fields(self, topic: str) -> dict[str, str]:
        for prefix in (f"{self.topics.transcribe}/", f"{self.topics.pool_transcribe}/"):
            if topic.startswith(prefix):
                return transcribe_topic_fields(topic[len(prefix) :])
        return {}

    def on_transcribe(self, msg: Incoming) -> None:
        """Hand the request to a task: base64 and audio decoding happen on threads."""
        if msg.retain:
            _LOGGER.warning("Ignoring a retained transcribe message on %s", msg.topic)
            return
        self.ctx.tracker.spawn(self._serve(msg), name="mqtt-transcribe")

    async def _serve(self, msg: Incoming) -> None:
        s = self.settings
        defaults: dict[str, str] = {}
        try:
            defaults = self._topic_fields(msg.topic)
            command = await asyncio.to_thread(
                parse_transcribe, msg.payload, msg.user_properties, s.max_convert_bytes, s.max_command_bytes, defaults
            )
        except VoxhostError as err:
            limit = -(-s.max_convert_bytes // 3) * 4 + s.max_command_bytes
            seen = await asyncio.to_thread(peek_convert, msg.payload, msg.user_properties, limit, defaults)
            _LOGGER.info("Rejected transcribe request on %s: %s", msg.topic, err.message)
            Reply.to(self.ctx, msg, seen.get("reply_to"), seen.get("id")).error(err)
            return
        key = command.id or (msg.correlation_data.hex() if msg.correlation_data else None)
        if key is not None and self.ctx.dedupe.seen(f"transcribe:{key}"):
            _LOGGER.info("Dropping a repeated transcribe request %s", key)
            return
        reply = Reply.to(self.ctx, msg, command.reply_to, command.id)
        reply.id = command.id or f"transcribe-{uuid.uuid4().hex[:12]}"
        try:
            params = self.ctx.core.check_transcribe(command.params())
            samples, rate = await asyncio.to_thread(decode_audio, command.audio, s.max_transcribe_seconds, "audio")
            audio = PCM.from_float(samples, rate)
            reply.send("queued", engine=params.engine, input_duration=round(audio.seconds, 3))
            started = time.monotonic()
            transcript = await self.ctx.core.transcribe(audio, params)
        except VoxhostError as err:
            _LOGGER.info("Transcribe request %s failed: %s", reply.id, err.message)
            reply.error(err)
            return
        reply.send("done", **_done(command, transcript, round(time.monotonic() - started, 4)))


def _done(command: TranscribeCommand, transcript: Transcript, elapsed: float) -> dict[str, object]:
    fields: dict[str, object] = {
        "text": transcript.text,
        "language": transcript.language,
        "duration": round(transcript.duration, 3),
        "elapsed": elapsed,
    }
    if command.segments or command.word_timestamps:
        fields["segments"] = [
            {
                "start": segment.start,
                "end": segment.end,
                "text": segment.text.strip(),
                **({"words": [asdict(word) for word in segment.words]} if command.word_timestamps else {}),
            }
            for segment in transcript.segments
        ]
    return fields
