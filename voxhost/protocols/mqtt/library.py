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

from pydantic import BaseModel, ConfigDict, field_validator

from ...api import CoreAPI
from ...audio import decode_audio
from ...errors import InvalidRequestError, TooLargeError, VoxhostError
from ...operations import MAX_REFERENCE_SECONDS, VoiceCreate, parse
from ...voices import LibraryVoice
from .connection import Incoming
from .context import Handler, MqttContext
from .reply import Reply
from .schemas import (
    _audio_base64,
    _check_id,
    _check_topic,
    decode,
    is_json_object,
    load_json,
    looks_like_json,
    parse_model,
    peek,
    peek_convert,
)

_LOGGER = logging.getLogger(__name__)

ADD_PROPERTIES = ("name", "language", "transcript", "id", "reply_to")
"""MQTT 5 user properties read from a raw-audio add request (others are ignored: brokers and tools add some)."""


class VoiceAddCommand(VoiceCreate):
    """An add request on ``<base>/<node>/voices/add``: the new voice's fields (the shared ``VoiceCreate``: name,
    language, transcript), its reference audio, and where the reply goes."""

    audio: bytes
    """The reference recording (WAV, FLAC, OGG, MP3, ...): base64 in JSON (a ``data:...;base64,`` prefix is allowed)."""
    id: str | None = None
    """Echoed in the reply; used to drop redeliveries (a voice is not stored twice)."""
    reply_to: str | None = None
    """Topic for the reply (MQTT 3.1.1 clients; MQTT 5 clients may use Response Topic instead)."""

    @field_validator("audio", mode="before")
    @classmethod
    def _base64(cls, value: Any) -> Any:
        return _audio_base64(value)

    @field_validator("id", mode="before")
    @classmethod
    def _valid_id(cls, value: Any) -> str | None:
        return _check_id(value)

    @field_validator("reply_to")
    @classmethod
    def _valid_topic(cls, value: str | None) -> str | None:
        return _check_topic(value)

    def voice(self) -> VoiceCreate:
        """The core's request: the new voice's fields."""
        return parse(VoiceCreate, self.model_dump(include=set(VoiceCreate.model_fields)))


class VoiceDeleteCommand(BaseModel):
    """A delete request on ``<base>/<node>/voices/delete``: the voice-library id (plain text works too)."""

    model_config = ConfigDict(extra="forbid")

    voice: str
    id: str | None = None
    reply_to: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _valid_id(cls, value: Any) -> str | None:
        return _check_id(value)

    @field_validator("reply_to")
    @classmethod
    def _valid_topic(cls, value: str | None) -> str | None:
        return _check_topic(value)


def parse_add(
    payload: bytes,
    properties: tuple[tuple[str, str], ...],
    max_audio: int,
    max_command: int,
    defaults: dict[str, str] | None = None,
) -> VoiceAddCommand:
    """An add request: JSON with base64 ``audio``, or the raw audio file with MQTT 5 user properties (``defaults``:
    name, language and id from the topic). Call it on a thread: base64 of seconds of audio is slow to decode."""
    defaults = defaults or {}
    if is_json_object(payload):
        limit = -(-max_audio // 3) * 4 + max_command  # base64 is 4/3 of the audio, plus the other fields
        if len(payload) > limit:
            raise TooLargeError(f"the request is {len(payload)} bytes; at most {limit} are accepted", param="audio")
        data = load_json(decode(payload, limit))
        command: VoiceAddCommand = parse_model(
            VoiceAddCommand, {**defaults, **data} if isinstance(data, dict) else data
        )
    else:
        fields: dict[str, Any] = {**defaults}
        fields.update((name, value) for name, value in properties if name in ADD_PROPERTIES)
        if "name" not in fields:
            raise InvalidRequestError(
                "raw audio needs the voice's name: in the topic (<base>/<node>/voices/add/<name>) or the MQTT 5 user "
                "property 'name'",
                param="name",
            )
        if len(payload) > max_audio:
            raise TooLargeError(f"the audio is {len(payload)} bytes; at most {max_audio} are accepted", param="audio")
        command = parse_model(VoiceAddCommand, {**fields, "audio": payload})
    if not command.audio:
        raise InvalidRequestError("the audio is empty", param="audio")
    if len(command.audio) > max_audio:
        raise TooLargeError(f"the audio is {len(command.audio)} bytes; at most {max_audio} are accepted", param="audio")
    return command


def add_topic_fields(rest: str) -> dict[str, str]:
    """Name, language and id from the levels after ``.../voices/add/``: ``<name>[/<language>[/<id>]]``."""
    levels = rest.split("/")
    if len(levels) > 3 or not all(levels):
        raise InvalidRequestError(
            "an add topic ends in voices/add, voices/add/<name>, voices/add/<name>/<language> or "
            "voices/add/<name>/<language>/<id>",
            param="topic",
        )
    fields = {"name": levels[0]}
    if len(levels) > 1 and levels[1] != "auto":  # auto: the recognizer detects it
        fields["language"] = levels[1]
    if len(levels) == 3:
        try:
            fields["id"] = _check_id(levels[2]) or ""
        except ValueError as err:
            raise InvalidRequestError(f"invalid id in the topic: {err}", param="id") from None
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


class LibraryService:
    """Handlers for ``<base>/<node>/voices/add`` and ``<base>/<node>/voices/delete`` (no pool topics: each node
    has its own library)."""

    def __init__(self, ctx: MqttContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.topics = ctx.topics

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
        self.ctx.tracker.spawn(self._add(msg), name="mqtt-voice-add")

    async def _add(self, msg: Incoming) -> None:
        s = self.settings
        defaults: dict[str, str] = {}
        prefix = f"{self.topics.voices_add}/"
        try:
            if msg.topic.startswith(prefix):
                defaults = add_topic_fields(msg.topic[len(prefix) :])
            command = await asyncio.to_thread(
                parse_add, msg.payload, msg.user_properties, s.max_convert_bytes, s.max_command_bytes, defaults
            )
        except VoxhostError as err:
            limit = -(-s.max_convert_bytes // 3) * 4 + s.max_command_bytes
            seen = await asyncio.to_thread(peek_convert, msg.payload, msg.user_properties, limit, defaults)
            _LOGGER.info("Rejected voice upload on %s: %s", msg.topic, err.message)
            Reply.to(self.ctx, msg, seen.get("reply_to"), seen.get("id")).error(err)
            return
        key = command.id or (msg.correlation_data.hex() if msg.correlation_data else None)
        if key is not None and self.ctx.dedupe.seen(f"voice-add:{key}"):
            _LOGGER.info("Dropping a repeated voice upload %s", key)
            return
        reply = Reply.to(self.ctx, msg, command.reply_to, command.id)
        core = self.ctx.core
        try:
            voice = command.voice()
            samples, rate = await asyncio.to_thread(decode_audio, command.audio, MAX_REFERENCE_SECONDS, "audio")
            # Shielded: a shutdown mid-write still leaves a complete, announced voice (or none at all).
            stored = await asyncio.shield(core.store_voice(voice, samples, rate))
        except VoxhostError as err:
            _LOGGER.info("Rejected voice upload %s: %s", command.id, err.message)
            reply.error(_for_mqtt(err))
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
            voice: str | None = None
            if msg.topic.startswith(prefix):
                voice = msg.topic[len(prefix) :]
                if not voice or "/" in voice:
                    message = "a delete topic ends in voices/delete or voices/delete/<voice>"
                    raise InvalidRequestError(message, param="topic")
            command = parse_delete(msg.payload, self.settings.max_command_bytes, voice)
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
