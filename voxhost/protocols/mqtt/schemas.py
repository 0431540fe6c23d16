"""Payloads: what voxhost accepts on its topics and from Hermes, checked with clear errors that name the field."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from ...errors import InvalidRequestError, TextTooLongError, TooLargeError
from ...operations import (
    ConvertParams,
    DefaultName,
    Language,
    Operation,
    SpeechParams,
    SpeechRequest,
    TranscribeParams,
    check_text,
    null_is_default,
    parse,
    whole_number,
)
from .chars import unfit_character
from .glance import top_level
from .ids import NumberId
from .names import reply_topic_problem

AudioFormat = Literal["pcm", "wav", "both", "none"]
MAX_ID = 128
BOM = b"\xef\xbb\xbf"
"""A UTF-8 byte order mark: what Windows tools write at the start of a text file (``mosquitto_pub -f`` after
PowerShell's ``Set-Content``); it is no part of the request (RFC 8259 lets a JSON parser ignore it)."""


def _check_id(value: Any) -> str | None:
    """Request ids appear in topics: plain strings (numbers are accepted and turned into strings)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("must be a string or an integer")
    text = str(value)
    if not text or len(text) > MAX_ID or any(c in text for c in "/+#") or text.isspace():
        raise ValueError(f"must be 1-{MAX_ID} characters without '/', '+' or '#'")
    return _check_level(text)


def _request_id(value: Any) -> str | None:
    """A request id, checked as ``_check_id`` does; one sent as a number is a ``NumberId``, echoed as a number."""
    text = _check_id(value)
    return NumberId(text) if text is not None and isinstance(value, int) else text


def _request_id_field(value: Any, _handler: ValidatorFunctionWrapHandler) -> str | None:
    """``_request_id`` as a field's whole validation (validated as ``str``, a ``NumberId`` would be a plain one)."""
    return _request_id(value)


def _check_hermes_id(value: Any) -> str | int | None:
    """A Hermes say's id: checked as a request id, kept as sent (clients match replies by the value they sent);
    ``""`` is no id, as in older rhasspy-hermes messages, whose unset fields are empty strings."""
    if value != "":
        _check_id(value)
    return value


def _no_language(value: Any) -> Any:
    """A Hermes say's ``lang``: ``""`` is none (older rhasspy-hermes messages; Rhasspy's services then speak their
    own language)."""
    return None if value == "" else value


def _default_site(value: Any) -> Any:
    """A Hermes ``siteId``: null (how rhasspy clients write a field they leave unset) or ``""`` (older rhasspy-hermes)
    is Rhasspy's default site."""
    return "default" if value is None or value == "" else value


def _echoed_id(value: Any) -> str | int | None:
    """An id that is only echoed (it names no topic): a string or an integer, kept as sent."""
    if value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError("must be a string or an integer")


def _check_level(value: str) -> str:
    """A value that names one topic level (an id, a Hermes site): no ``/``, wildcards or characters MQTT forbids."""
    if not value or any(c in value for c in "/+#"):
        raise ValueError("must be a single topic level (not empty, without '/', '+' or '#')")
    if found := unfit_character(value):
        # In a topic it would make the broker drop voxhost's connection (and paho resend it on every reconnect).
        raise ValueError(f"contains a character MQTT forbids in topic names ({found})")
    return value


def _check_topic(value: str | None) -> str | None:
    if value is not None and (problem := reply_topic_problem(value)):
        raise ValueError(f"must be a topic name without wildcards or a leading '$': {problem}")
    return value


def _audio_base64(value: Any) -> Any:
    """An audio file given as base64 text (a ``data:...;base64,`` prefix is allowed)."""
    if not isinstance(value, str):
        return value
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be the audio file in base64") from None


RequestId = Annotated[str | None, WrapValidator(_request_id_field)]
"""A request's id: it may name a topic level, so no wildcards or ``/``; a number is kept as a ``NumberId`` (text that
replies echo as the number)."""
HermesId = Annotated[str | int | None, BeforeValidator(_check_hermes_id)]
"""A Hermes say's id: a request id that keeps its JSON type, so a number is echoed as a number."""
EchoedId = Annotated[str | int | None, BeforeValidator(_echoed_id)]
"""An id a reply echoes as sent (Rhasspy's getVoices): a number stays a number."""
TopicName = Annotated[str | None, AfterValidator(_check_topic)]
"""A topic a request's replies or audio go to: no wildcards."""
TopicLevel = Annotated[str, AfterValidator(_check_level)]
"""A value that names one topic level (a Hermes site)."""
AudioFile = Annotated[bytes, BeforeValidator(_audio_base64)]
"""An audio file (WAV, FLAC, OGG, MP3, ...): base64 in JSON (a ``data:...;base64,`` prefix is allowed)."""


class _Delivery(Operation):
    """Where and how a request's replies and audio go: shared by say and convert requests. A field sent as null takes
    its default, as over HTTP (a Node-RED object, a Home Assistant payload built with ``to_json``)."""

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        return null_is_default(data, frozenset({"text", "audio", "voice"}))

    id: RequestId = None
    """Echoed in every status reply; names the audio topic; used to drop redeliveries."""
    format: AudioFormat | None = None
    """pcm (streamed chunks), wav (one file), both, or none; default from settings."""
    chunk_bytes: Annotated[int | None, BeforeValidator(whole_number)] = Field(None, ge=256)
    """Smaller chunks for a small client (never above the configured size)."""
    audio_topic: TopicName = None
    """Publish the audio under this prefix instead of ``<base>/<node>/audio/<id>``."""
    reply_to: TopicName = None
    """Topic for status replies (MQTT 3.1.1 clients; MQTT 5 clients may use Response Topic instead)."""

    def check_chunk_bytes(self, most: int) -> None:
        """Refuse chunks larger than the configured size (``most``)."""
        if self.chunk_bytes is not None and self.chunk_bytes > most:
            raise InvalidRequestError(f"chunk_bytes may be at most {most}", param="chunk_bytes")


class SayCommand(SpeechParams, _Delivery):
    """A say request on ``<base>/<node>/say`` or ``<base>/say`` (plain text is ``{"text": ...}``).

    How to speak (voice, language, speaker, speed, instructions, seed, options) and its limits are the shared
    ``SpeechParams``; this adds the text and the MQTT delivery fields.
    """

    text: str
    """What to say (at most the door's ``max_text`` characters)."""
    engine: DefaultName = None
    """Restrict voice lookup to one engine."""

    @model_validator(mode="before")
    @classmethod
    def _lang(cls, data: Any) -> Any:
        # Hermes and Rhasspy say "lang"; accepted as the shared "language" (both at once: "lang" is unknown).
        if isinstance(data, dict) and "lang" in data and "language" not in data:
            data = {("language" if key == "lang" else key): value for key, value in data.items()}
        return data

    def speech_request(self, voice: str | None) -> SpeechRequest:
        """The core's request: this command's speech parameters, with ``voice`` (the default voice filled in)."""
        fields = self.model_dump(include=set(SpeechParams.model_fields))
        return parse(
            SpeechRequest,
            {**fields, "voice": voice, "text": self.text, "engine": self.engine, "door": "mqtt", "client": self.id},
        )


class ConvertCommand(ConvertParams, _Delivery):
    """A convert request on ``<base>/<node>/convert`` or ``<base>/convert``: speech in, the same speech in ``voice``.

    The target and engine are the shared ``ConvertParams``. As JSON, ``audio`` is the audio file in base64; as a raw
    audio payload the other fields are MQTT 5 user properties.
    """

    audio: AudioFile
    """The audio file (WAV, FLAC, OGG, MP3, ...): base64 in JSON (a ``data:...;base64,`` prefix is allowed)."""

    def params(self) -> ConvertParams:
        """The core's request: target voice, engine and options."""
        return parse(ConvertParams, self.model_dump(include=set(ConvertParams.model_fields)))


class TranscribeCommand(Operation):
    """A transcribe request on ``<base>/<node>/transcribe`` or ``<base>/transcribe``: speech in, its text out.

    How to recognize it (language, prompt, engine, word timings, options) is the shared ``TranscribeParams``. As
    JSON, ``audio`` is the audio file in base64; as a raw audio payload the other fields are MQTT 5 user
    properties (or the language and id come in the topic). A field sent as null takes its default, as a say's.
    """

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        return null_is_default(data, frozenset({"audio"}))

    audio: AudioFile
    """The audio file (WAV, FLAC, OGG, MP3, ...): base64 in JSON (a ``data:...;base64,`` prefix is allowed)."""
    id: RequestId = None
    """Echoed in every status reply; used to drop redeliveries."""
    reply_to: TopicName = None
    """Topic for status replies (MQTT 3.1.1 clients; MQTT 5 clients may use Response Topic instead)."""
    language: str | None = None
    """The language spoken (``en``, ``de_DE``); none or ``auto``: detected."""
    prompt: str | None = None
    """Text that came before, or names and words to expect."""
    engine: DefaultName = None
    """The recognizing engine (default: the first running engine that transcribes)."""
    word_timestamps: bool = False
    """Also time every word (in the segments of the reply)."""
    segments: bool = False
    """Put the segments (start, end, text, words) in the ``done`` reply."""
    options: dict[str, Any] = Field(default_factory=dict)
    """The recognizing engine's own options (beam_size, vad_filter, temperature)."""
    task: Literal["transcribe", "translate"] = "transcribe"
    """``translate``: the text in English, whatever the language spoken (an engine that translates)."""

    def params(self) -> TranscribeParams:
        """The core's request."""
        fields = self.model_dump(include=set(TranscribeParams.model_fields) - {"door"})
        return parse(TranscribeParams, {**fields, "door": "mqtt"})


TRANSCRIBE_PROPERTIES = (
    "language",
    "id",
    "engine",
    "prompt",
    "word_timestamps",
    "segments",
    "options",
    "task",
    "reply_to",
)
"""MQTT 5 user properties read from a raw-audio transcribe request."""

CONVERT_PROPERTIES = ("voice", "id", "engine", "options", "format", "chunk_bytes", "audio_topic", "reply_to")
"""MQTT 5 user properties read from a raw-audio convert request (others are ignored: brokers and tools add some)."""


class StopCommand(BaseModel):
    """A stop request: everything this node's MQTT door started, one request (``id``), or every job (``all``)."""

    model_config = ConfigDict(extra="forbid")

    id: RequestId = None
    all: bool = False


class VoicesQuery(BaseModel):
    """A voice list request (every field optional)."""

    model_config = ConfigDict(extra="forbid")

    id: RequestId = None
    language: Language | None = None
    """Only voices that speak this language (its base language matches, as everywhere in voxhost)."""
    engine: str | None = None
    reply_to: TopicName = None


class VoiceSet(BaseModel):
    """A default-voice change as JSON (plain text is accepted too)."""

    model_config = ConfigDict(extra="forbid")

    voice: str | None = None


class HermesSay(BaseModel):
    """``hermes/tts/say`` (Rhasspy's camelCase keys; unknown keys are ignored as Rhasspy does)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    text: str
    site_id: Annotated[TopicLevel, BeforeValidator(_default_site)] = Field("default", alias="siteId")
    """Names a level of the ``playBytes`` topic (null or empty: ``default``)."""
    lang: Annotated[str | None, BeforeValidator(_no_language)] = None
    id: HermesId = None
    """Names the ``playBytes`` topic's last level (as text; ``""`` is no id); echoed as sent."""
    session_id: str | None = Field(None, alias="sessionId")
    volume: float | None = Field(None, ge=0.0, le=1.0)

    def echo(self) -> HermesEcho:
        """What the replies to this say echo."""
        return HermesEcho(self.site_id, self.id, self.session_id)


@dataclass(frozen=True)
class HermesEcho:
    """The fields a Hermes say's error and ``sayFinished`` echo: its site, id and session."""

    site_id: str = "default"
    id: str | int | None = None
    session_id: str | None = None


class HermesGetVoices(BaseModel):
    """``rhasspy/tts/getVoices``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: EchoedId = None
    """Echoed in ``rhasspy/tts/voices`` as sent (a Hermes say's id may be a number too)."""
    site_id: Annotated[str, BeforeValidator(_default_site)] = Field("default", alias="siteId")
    """The site asking (null or empty: ``default``)."""

    def echo(self) -> HermesEcho:
        """What the answers to this request echo (it has no session)."""
        return HermesEcho(self.site_id, self.id)


# -- parsing ---------------------------------------------------------------------------------------------


def decode(payload: bytes, limit: int) -> str:
    """The payload as text (without a byte order mark), within ``limit`` bytes."""
    if len(payload) > limit:
        raise InvalidRequestError(f"the payload is {len(payload)} bytes; at most {limit} are accepted", param="payload")
    try:
        return payload.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidRequestError(f"the payload is not UTF-8 (byte {err.start})", param="payload") from None


def load_json(text: str | bytes) -> Any:
    """Parse JSON, naming the position of a syntax error; a document nested too deeply is one too.

    Python's parser recurses once per nesting level and raises ``RecursionError`` past the interpreter's stack
    limit, which no request handler expects: it is a request error like any other. (The parser is kept because it
    reads every string JSON allows, so that a lone surrogate escape reaches validation, and the reply names the
    request's ``id``.)
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        reason = err.msg.removesuffix(" at")  # "Invalid control character at", said before the place
        raise InvalidRequestError(
            f"invalid JSON: {reason} at line {err.lineno} column {err.colno}", param="payload"
        ) from None
    except (ValueError, RecursionError) as err:  # bytes that are not UTF-8; nesting deeper than the stack
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise InvalidRequestError(f"invalid JSON: {reason}", param="payload") from None


def looks_like_json(text: str) -> bool:
    """A JSON object or string; anything else on a say topic is the text itself."""
    return text.lstrip()[:1] in ("{", '"')


def validation_problem(err: ValidationError) -> InvalidRequestError:
    """The first problem of a pydantic error, in words, with the field as ``param``."""
    # An unknown field first: a typo ("voise") explains the missing field it causes.
    problem = min(err.errors(), key=lambda p: p["type"] != "extra_forbidden")
    field = ".".join(str(part) for part in problem["loc"]) or "payload"
    if problem["type"] == "extra_forbidden":
        message = f"unknown field {field!r}"
    elif problem["type"] == "missing":
        message = f"missing field {field!r}"
    else:
        message = f"invalid field {field!r}: {problem['msg'].removeprefix('Value error, ')}"
    extra = len(err.errors()) - 1
    if extra:
        message += f" (and {extra} more problem{'s' if extra > 1 else ''})"
    return InvalidRequestError(message, param=field)


_TOPIC_CHECKS = (_check_id, _request_id_field, _check_hermes_id, _check_topic, _check_level)
"""The validators of values that name topics: stricter than ``check_text``, and they name the character."""


@cache
def _unchecked_keys(model: type[BaseModel]) -> frozenset[str]:
    """The keys of ``model``'s fields that name topics, whose own check (``_TOPIC_CHECKS``) refuses more."""
    return frozenset(
        key
        for name, info in model.model_fields.items()
        if any(getattr(meta, "func", None) in _TOPIC_CHECKS for meta in info.metadata)
        for key in (name, info.alias)
        if key is not None
    )


@cache
def _known_keys(model: type[BaseModel]) -> frozenset[str] | None:
    """The keys ``model`` reads, when it ignores others (Hermes); None when others are refused anyway."""
    if model.model_config.get("extra") != "ignore":
        return None
    return frozenset(key for name, info in model.model_fields.items() for key in (name, info.alias) if key is not None)


def _not_text(value: str) -> str | None:
    """Why ``value`` is no text voxhost takes (``check_text``: a NUL character, a lone surrogate), or None."""
    try:
        check_text(value)
    except ValueError as err:
        return str(err)
    return None


def _first_not_text(value: Any) -> tuple[str, str, bool] | None:
    """The first string in ``value`` (a request's fields, and the lists and objects they hold, keys included) that
    is no text: its dotted path (empty: a key of ``value`` itself), why, and whether it is a key."""
    # A stack rather than recursion: a document nested nearly as deep as the parser allows must not overflow here.
    pending: list[tuple[str, Any]] = [("", value)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if problem := _not_text(value):
                return path, problem, False
        elif isinstance(value, dict):
            for key in value:
                if problem := _not_text(key):  # checked before it becomes part of a path
                    return path, problem, True
            pending.extend((f"{path}.{key}" if path else key, item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            pending.extend((f"{path}.{index}", item) for index, item in reversed(list(enumerate(value))))
    return None


def check_values(model: type[BaseModel], data: dict[str, Any]) -> None:
    """Refuse a request with a value (or a key) that is no Unicode text, as text to speak is refused, naming where
    it is: a reply would otherwise echo it, and an engine or the core see it."""
    known = _known_keys(model)
    skip = _unchecked_keys(model)
    fields = {key: value for key, value in data.items() if key not in skip and (known is None or key in known)}
    found = _first_not_text(fields)
    if found is None:
        return
    path, problem, is_key = found
    if is_key:
        where = f"field {path!r}" if path else "the payload"
        raise InvalidRequestError(f"invalid key in {where}: {problem}", param=path or "payload")
    raise InvalidRequestError(f"invalid field {path!r}: {problem}", param=path)


def parse_model(model: type[BaseModel], data: Any, *, strict: bool = True) -> Any:
    """Validate ``data`` against ``model``; an object is required, and every value in it must be text
    (``check_values``). A JSON payload keeps its types (``strict``: ``true`` is no speed, ``"yes"`` no boolean, as
    over HTTP); user properties, text by nature, are converted (``strict=False``)."""
    if not isinstance(data, dict):
        raise InvalidRequestError("the payload must be a JSON object", param="payload")
    check_values(model, data)
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as err:
        raise validation_problem(err) from None


def parse_say(payload: bytes, max_bytes: int, max_text: int) -> SayCommand:
    """A say request from plain text, a JSON string or a JSON object."""
    text = decode(payload, max_bytes)
    if looks_like_json(text):
        try:
            data = load_json(text)
        except InvalidRequestError:
            if text.lstrip().startswith("{"):
                raise
            # Plain text that opens with a quote (Home Assistant's notify sends '"Dinner" is ready.' as it is).
            data = text
        command: SayCommand = parse_model(SayCommand, {"text": data} if isinstance(data, str) else data)
    else:
        command = parse_model(SayCommand, {"text": text})
    command.text = spoken_text(command.text, max_text)
    return command


def spoken_text(text: str, max_text: int) -> str:
    """A request's text as the door takes it (voxhost's say topics and Hermes alike): without the white space
    around it, not empty, and at most ``max_text`` characters."""
    text = text.strip()
    if not text:
        raise InvalidRequestError("the text is empty", param="text")
    if len(text) > max_text:
        raise TextTooLongError(
            f"the text is {len(text)} characters; at most {max_text} are accepted over MQTT", param="text"
        )
    return text


def parse_optional(model: type[BaseModel], payload: bytes, max_bytes: int) -> Any:
    """A command whose payload may be empty or not JSON at all (e.g. Home Assistant's button ``PRESS``)."""
    text = decode(payload, max_bytes).strip()
    if not text.startswith("{"):
        return model()
    return parse_model(model, load_json(text))


def peek(payload: bytes, max_bytes: int) -> dict[str, Any]:
    """``id`` and ``reply_to`` of a payload that failed validation, when they are usable, for the error reply."""
    if len(payload) > max_bytes:
        return {}
    try:
        data = load_json(payload)
    except InvalidRequestError:
        return {}
    return _address(data) if isinstance(data, dict) else {}


ADDRESS = ("id", "reply_to")
"""The fields an error reply is addressed by."""


def glance(payload: bytes, max_bytes: int) -> dict[str, Any]:
    """``peek`` without parsing the payload: only its top-level fields are followed, and only ``id`` and
    ``reply_to`` read (fast enough for the event loop whatever the size of the rest); ``NotJson`` for a payload the
    parser refuses."""
    if len(payload) > max_bytes:
        return {}
    return _address(top_level(payload, ADDRESS))


def _address(data: dict[str, Any]) -> dict[str, Any]:
    """The usable ``id`` and ``reply_to`` among a request's fields."""
    out: dict[str, Any] = {}
    try:
        out["id"] = _request_id(data.get("id"))
    except ValueError:
        pass
    try:
        reply_to = data.get("reply_to")
        if isinstance(reply_to, str):
            out["reply_to"] = _check_topic(reply_to)
    except ValueError:
        pass
    return out


def peek_hermes(data: Any) -> HermesEcho:
    """``siteId``, ``id`` and ``sessionId`` of a Hermes say that failed validation, for its error and ``sayFinished``:
    each as sent when it is valid, else Rhasspy's default (a refused value is named in the error, never echoed)."""
    fields: dict[str, Any] = data if isinstance(data, dict) else {}
    site, session = fields.get("siteId"), fields.get("sessionId")
    return HermesEcho(
        site_id=_valid(_check_level, _default_site(site), "default") if isinstance(site, str) else "default",
        id=_valid(_check_hermes_id, fields.get("id")),
        session_id=session if isinstance(session, str) and _not_text(session) is None else None,
    )


def peek_get_voices(data: Any) -> HermesEcho:
    """``siteId`` and ``id`` of a ``getVoices`` that failed validation, for its error and voices answer: each as sent
    when it is valid, else Rhasspy's default (a refused value is named in the error, never echoed)."""
    fields: dict[str, Any] = data if isinstance(data, dict) else {}
    site, request_id = fields.get("siteId"), _valid(_echoed_id, fields.get("id"))
    return HermesEcho(
        site_id=site if isinstance(site, str) and _not_text(site) is None else "default",
        id=None if isinstance(request_id, str) and _not_text(request_id) is not None else request_id,
    )


def _valid(check: Callable[[Any], Any], value: Any, default: Any = None) -> Any:
    """``check(value)``, or ``default`` when it refuses the value."""
    try:
        return check(value)
    except ValueError:
        return default


def is_json_object(payload: bytes) -> bool:
    """A JSON request; audio files never start with ``{`` (nor with a byte order mark)."""
    return payload.removeprefix(BOM).lstrip()[:1] == b"{"


def json_limit(max_audio: int, max_command: int) -> int:
    """The most bytes a JSON request with ``max_audio`` bytes of audio may have."""
    return -(-max_audio // 3) * 4 + max_command  # base64 is 4/3 of the audio, plus the other fields


def _no_check(_value: object) -> None:
    pass


def _options_property(fields: dict[str, Any]) -> None:
    """The user property ``options`` as JSON (empty: no options)."""
    if "options" in fields:
        try:
            fields["options"] = load_json(fields["options"]) if fields["options"].strip() else {}
        except InvalidRequestError as err:
            message = f"the user property 'options' is not JSON: {err.message.removeprefix('invalid JSON: ')}"
            raise InvalidRequestError(message, param="options") from None


M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class AudioForm(Generic[M]):
    """How one kind of request that carries audio is read: a JSON object with base64 ``audio``, or the raw audio
    file with MQTT 5 user properties."""

    model: type[M]
    accepted: tuple[str, ...]
    """The user properties read from a raw request (others are ignored: brokers and tools add some)."""
    raw: Callable[[dict[str, Any]], None] = _no_check
    """Checks and converts the fields of a raw request (its user properties and topic fields)."""
    check: Callable[[M], None] = _no_check
    """Checks (and tidies) a request that parsed."""

    def parse(
        self,
        payload: bytes,
        properties: tuple[tuple[str, str], ...],
        max_audio: int,
        max_command: int,
        defaults: dict[str, str] | None = None,
    ) -> M:
        """A request from its payload and user properties; ``defaults`` (fields from the topic) apply where it names
        none. Decoding seconds of base64 is slow enough to keep off the event loop: call this on a thread."""
        defaults = defaults or {}
        command: Any
        if is_json_object(payload):
            limit = json_limit(max_audio, max_command)
            if len(payload) > limit:
                raise TooLargeError(f"the request is {len(payload)} bytes; at most {limit} are accepted", param="audio")
            data = load_json(decode(payload, limit))
            command = parse_model(self.model, {**defaults, **data} if isinstance(data, dict) else data)
        else:
            fields: dict[str, Any] = {**defaults}
            fields.update((name, value) for name, value in properties if name in self.accepted)
            self.raw(fields)
            if len(payload) > max_audio:
                raise TooLargeError(
                    f"the audio is {len(payload)} bytes; at most {max_audio} are accepted", param="audio"
                )
            command = parse_model(self.model, {**fields, "audio": payload}, strict=False)
        if not command.audio:
            raise InvalidRequestError("the audio is empty", param="audio")
        if len(command.audio) > max_audio:
            raise TooLargeError(
                f"the audio is {len(command.audio)} bytes; at most {max_audio} are accepted", param="audio"
            )
        self.check(command)
        return command


def require_field(fields: dict[str, Any], name: str, what: str, topic: str) -> None:
    """A raw-audio request must name ``name`` (``what``), in its ``topic`` or as a user property."""
    if name not in fields:
        raise InvalidRequestError(
            f"raw audio needs {what}: in the topic ({topic}) or the MQTT 5 user property {name!r}", param=name
        )


def _raw_convert(fields: dict[str, Any]) -> None:
    require_field(fields, "voice", "the target voice", "<base>/<node>/convert/<voice>")
    _options_property(fields)


def _check_convert(command: ConvertCommand) -> None:
    command.voice = command.voice.strip()
    if not command.voice:
        raise InvalidRequestError("voice is required: the voice-library voice to convert into", param="voice")


def _raw_transcribe(fields: dict[str, Any]) -> None:
    for flag in ("word_timestamps", "segments"):
        if flag in fields:
            value = str(fields[flag]).strip().lower()
            if value not in ("true", "false"):
                raise InvalidRequestError(f"the user property {flag!r} must be true or false", param=flag)
            fields[flag] = value == "true"
    _options_property(fields)


CONVERT = AudioForm(ConvertCommand, CONVERT_PROPERTIES, _raw_convert, _check_convert)
"""A convert request (voice and id may come in the topic)."""
TRANSCRIBE = AudioForm(TranscribeCommand, TRANSCRIBE_PROPERTIES, _raw_transcribe)
"""A transcribe request (language and id may come in the topic)."""


def peek_audio_request(
    payload: bytes,
    properties: tuple[tuple[str, str], ...],
    max_bytes: int,
    defaults: dict[str, str] | None = None,
    read: Callable[[bytes, int], dict[str, Any]] = peek,
) -> dict[str, Any]:
    """``id`` and ``reply_to`` of a request with audio that failed validation, for the error reply; ``read`` reads
    them from a JSON payload (``glance`` on the event loop)."""
    seen = peek(json.dumps({**(defaults or {}), **dict(properties)}).encode(), max_bytes)
    if is_json_object(payload):
        seen.update(read(payload, max_bytes))
    return seen


def topic_fields(rest: str, names: tuple[str, ...], usage: str) -> dict[str, str]:
    """Fields from the levels after a request's topic: ``names`` in order, the last one (if given) its ``id``.

    ``usage`` is the error for more levels than names, or an empty one.
    """
    levels = rest.split("/")
    if len(levels) > len(names) or not all(levels):
        raise InvalidRequestError(usage, param="topic")
    fields = dict(zip(names, levels, strict=False))  # fewer levels than names: the rest are not given
    if "id" in fields:
        try:
            fields["id"] = _check_id(fields["id"]) or ""
        except ValueError as err:
            raise InvalidRequestError(f"invalid id in the topic: {err}", param="id") from None
    return fields


def transcribe_topic_fields(rest: str) -> dict[str, str]:
    """Language and id from the levels after ``.../transcribe/``: ``<language>`` or ``<language>/<id>``."""
    usage = "a transcribe topic ends in transcribe, transcribe/<language> or transcribe/<language>/<id>"
    return topic_fields(rest, ("language", "id"), usage)


def convert_topic_fields(rest: str) -> dict[str, str]:
    """Voice and id from the levels after ``.../convert/``: ``<voice>`` or ``<voice>/<id>``."""
    usage = "a convert topic ends in convert, convert/<voice> or convert/<voice>/<id>"
    return topic_fields(rest, ("voice", "id"), usage)
