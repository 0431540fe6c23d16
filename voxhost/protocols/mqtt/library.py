"""The voice library over MQTT: add a voice (its reference audio in, the stored voice out), delete one.

An add request comes in the convert topic's forms: a JSON object with base64 ``audio``, the raw audio file with MQTT
5 user properties (``name``, ``language``, ``transcript``, ``id``, ``reply_to``), or the raw audio file with the name
(and language, and id) in the topic (``<base>/<node>/voices/add/<name>[/<language>[/<id>]]``, for MQTT 3.1.1
clients). It goes through the same core path as an HTTP upload: with a running recognizer, a missing transcript is
heard, a wrong one refused, and the words timed. One reply, ``done`` with the stored voice (or ``error``), goes to
the Response Topic, ``reply_to``, or ``<base>/<node>/response``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict

from ...api import CoreAPI
from ...audio import MAX_SPEECH_RATE, decode_audio
from ...errors import InvalidRequestError, VoxhostError
from ...operations import MAX_REFERENCE_SECONDS, VoiceCreate, parse
from ...voices import LibraryVoice
from .audio_request import AudioTopic, receive, release_if_refused, start
from .connection import Incoming
from .context import Handler, MqttContext, Service
from .reply import Reply, check_delivery, check_response_topic
from .schemas import (
    AudioFile,
    AudioForm,
    RequestId,
    TopicName,
    decode,
    load_json,
    looks_like_json,
    parse_model,
    peek,
    require_field,
    topic_fields,
)

_LOGGER = logging.getLogger(__name__)

ADD_PROPERTIES = ("name", "language", "transcript", "id", "reply_to")
"""MQTT 5 user properties read from a raw-audio add request (others are ignored: brokers and tools add some)."""


class VoiceAddCommand(VoiceCreate):
    """An add request on ``<base>/<node>/voices/add``: the new voice's fields (the shared ``VoiceCreate``: name,
    language, transcript), its reference audio, and where the reply goes."""

    audio: AudioFile
    """The reference recording (WAV, FLAC, OGG, MP3, ...): base64 in JSON (a ``data:...;base64,`` prefix is allowed)."""
    id: RequestId = None
    """Echoed in the reply; used to drop redeliveries (a voice is not stored twice)."""
    reply_to: TopicName = None
    """Topic for the reply (MQTT 3.1.1 clients; MQTT 5 clients may use Response Topic instead)."""

    def voice(self) -> VoiceCreate:
        """The core's request: the new voice's fields."""
        return parse(VoiceCreate, self.model_dump(include=set(VoiceCreate.model_fields)))


class VoiceDeleteCommand(BaseModel):
    """A delete request on ``<base>/<node>/voices/delete``: the voice-library id (plain text works too)."""

    model_config = ConfigDict(extra="forbid")

    voice: str
    id: RequestId = None
    reply_to: TopicName = None


def _raw_add(fields: dict[str, Any]) -> None:
    require_field(fields, "name", "the voice's name", "<base>/<node>/voices/add/<name>")


ADD = AudioForm(VoiceAddCommand, ADD_PROPERTIES, _raw_add)
"""An add request (name, language and id may come in the topic)."""


def add_topic_fields(rest: str) -> dict[str, str]:
    """Name, language and id from the levels after ``.../voices/add/``: ``<name>[/<language>[/<id>]]``."""
    usage = (
        "an add topic ends in voices/add, voices/add/<name>, voices/add/<name>/<language> or "
        "voices/add/<name>/<language>/<id>"
    )
    fields = topic_fields(rest, ("name", "language", "id"), usage)
    if fields.get("language") == "auto":  # auto: the recognizer detects it
        del fields["language"]
    return fields


def parse_delete(payload: bytes, max_bytes: int, voice: str | None) -> VoiceDeleteCommand:
    """A delete request: the voice id as plain text, a JSON string, or a JSON object (``voice`` from the topic
    applies where the request names none)."""
    text = decode(payload, max_bytes).strip()
    data: Any = load_json(text) if looks_like_json(text) else (text or None)
    if not isinstance(data, dict):
        data = {"voice": data} if data is not None else {}
    if voice is not None:
        data = {"voice": voice, **data}
    command: VoiceDeleteCommand = parse_model(VoiceDeleteCommand, data)
    command.voice = command.voice.strip()
    if not command.voice:
        raise InvalidRequestError("voice is required: the id of the voice-library voice to delete", param="voice")
    return command


def voice_fields(core: CoreAPI, voice: LibraryVoice) -> dict[str, Any]:
    """A stored voice as JSON, with the catalog ids the cloning engines speak it under."""
    return {
        "id": voice.id,
        "name": voice.name,
        "language": voice.language,
        "transcript": voice.transcript,
        "seconds": voice.seconds,
        "sample_rate": voice.sample_rate,
        "created_at": voice.created_at,
        "tags": list(voice.tags),
        "notes": voice.notes,
        "engines": [entry.id for entry in core.voices() if entry.kind == "cloned" and entry.voice == voice.id],
    }


def _for_mqtt(err: VoxhostError) -> VoxhostError:
    """The core names the reference ``audio_sample`` (HTTP's form field); here it is ``audio``."""
    if err.param == "audio_sample":
        err.param = "audio"
    return err


class LibraryService(Service):
    """Handlers for ``<base>/<node>/voices/add`` and ``<base>/<node>/voices/delete`` (no pool topics: each node
    has its own library)."""

    def __init__(self, ctx: MqttContext) -> None:
        super().__init__(ctx)
        prefixes = (f"{self.topics.voices_add}/",)
        self.upload = AudioTopic("voice upload", "voice-add", prefixes, add_topic_fields, ADD.parse)

    def subscriptions(self) -> list[str]:
        """Topic filters to subscribe to on every connect (``/#`` matches the bare topic too)."""
        return [f"{self.topics.voices_add}/#", f"{self.topics.voices_delete}/#"]

    def handlers(self) -> dict[str, Handler]:
        """Exact topic → handler; the forms with fields in the topic go through ``route``."""
        return {self.topics.voices_add: self.on_add, self.topics.voices_delete: self.on_delete}

    def route(self, topic: str) -> Handler | None:
        """``.../voices/add/<name>...`` and ``.../voices/delete/<voice>``."""
        if topic.startswith(f"{self.topics.voices_add}/"):
            return self.on_add
        if topic.startswith(f"{self.topics.voices_delete}/"):
            return self.on_delete
        return None

    # -- add ----------------------------------------------------------------------------------------------

    def on_add(self, msg: Incoming) -> None:
        """Hand the request to a task: base64 and audio decoding happen on threads."""
        if msg.retain:
            _LOGGER.warning("Ignoring a retained voice upload on %s", msg.topic)
            return
        start(self.ctx, msg, self.upload, self._add(msg))

    async def _add(self, msg: Incoming) -> None:
        received = await receive(self.ctx, msg, self.upload)
        if received is None:
            return
        command, reply = received
        core = self.ctx.core
        try:
            voice = command.voice()
            # Mono at most at the stored rate as it is decoded: a small file may claim 8 channels at 192 kHz.
            samples, rate = await asyncio.to_thread(
                decode_audio, command.audio, MAX_REFERENCE_SECONDS, "audio", MAX_SPEECH_RATE
            )
            # Shielded: a shutdown mid-write still leaves a complete, announced voice (or none at all).
            stored = await asyncio.shield(core.store_voice(voice, samples, rate))
        except VoxhostError as err:
            _LOGGER.info("Rejected voice upload %s: %s", command.id, err.message)
            reply.error(_for_mqtt(err))
            release_if_refused(self.ctx, msg, self.upload, command, reply)
            return
        heard = voice.transcript is None and stored.transcript is not None
        reply.send("done", voice=voice_fields(core, stored), transcribed=heard)

    # -- delete -------------------------------------------------------------------------------------------

    def on_delete(self, msg: Incoming) -> None:
        """Check the request here; the files are removed by a task."""
        if msg.retain:
            _LOGGER.warning("Ignoring a retained voice delete on %s", msg.topic)
            return
        prefix = f"{self.topics.voices_delete}/"
        try:
            check_response_topic(self.ctx, msg)
            voice: str | None = None
            if msg.topic.startswith(prefix):
                voice = msg.topic[len(prefix) :]
                if not voice or "/" in voice:
                    message = "a delete topic ends in voices/delete or voices/delete/<voice>"
                    raise InvalidRequestError(message, param="topic")
            command = parse_delete(msg.payload, self.settings.max_command_bytes, voice)
            check_delivery(self.ctx, command.reply_to)
        except VoxhostError as err:
            seen = peek(msg.payload, self.settings.max_command_bytes)
            Reply.to(self.ctx, msg, seen.get("reply_to"), seen.get("id")).error(err)
            return
        reply = Reply.to(self.ctx, msg, command.reply_to, command.id)
        self.ctx.tracker.spawn(self._delete(command, reply), name="mqtt-voice-delete")

    async def _delete(self, command: VoiceDeleteCommand, reply: Reply) -> None:
        try:
            voice = await asyncio.shield(self.ctx.core.delete_voice(command.voice))
        except VoxhostError as err:
            reply.error(err)
            return
        reply.send("done", voice={"id": voice.id, "name": voice.name}, deleted=True)
