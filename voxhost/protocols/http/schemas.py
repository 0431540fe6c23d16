"""The HTTP door's wire models: one request model per operation, built on the core's operation models, and the
models of every answer and event. The OpenAPI document is generated from these (``openapi.py``), and the handlers
build their answers with them, so the document and the server cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from ...events import EVENT_TYPES
from ...operations import (
    MAX_PROMPT,
    MAX_REFERENCE_SECONDS,
    MAX_SEED,
    MIN_REFERENCE_SECONDS,
    DefaultName,
    Language,
    LexiconEntry,
    LexiconRule,
    Name,
    Operation,
    SpeechParams,
    SpeechRequest,
    VoiceCreate,
    VoiceQuery,
    check_text,
    null_is_default,
    whole_number,
)

# -- formats -------------------------------------------------------------------------------------------------


class ResponseFormat(StrEnum):
    """The audio format of an answer; ``opus`` is Ogg Opus, ``aac`` is ADTS, ``pcm`` raw 24 kHz s16le mono."""

    MP3 = "mp3"
    OPUS = "opus"
    AAC = "aac"
    FLAC = "flac"
    WAV = "wav"
    PCM = "pcm"


class TranscriptionFormat(StrEnum):
    """The form of a transcript: ``json`` (``{"text"}``), ``verbose_json`` (with segments, words and language),
    ``text``, ``srt`` or ``vtt`` (plain text)."""

    JSON = "json"
    TEXT = "text"
    SRT = "srt"
    VTT = "vtt"
    VERBOSE_JSON = "verbose_json"


STREAMED_TRANSCRIPTS = frozenset({TranscriptionFormat.JSON, TranscriptionFormat.TEXT})
"""The response formats a ``stream=true`` transcription may name (its events are the same for both)."""


class StreamFormat(StrEnum):
    """``audio``: the audio bytes, chunked; ``sse``: server-sent events with base64 audio deltas."""

    AUDIO = "audio"
    SSE = "sse"


# -- requests ------------------------------------------------------------------------------------------------


class VoiceReference(BaseModel):
    """OpenAI's custom-voice object: ``{"id": "voice_..."}``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: Name
    """A voice id, as ``voice`` takes it."""


def _voice_reference(value: Any) -> Any:
    # OpenAI's {"id": ...} form names a voice as a plain name does (an object with an empty id names none: not the
    # default, as an empty name is); the name itself is checked as ``DefaultName``.
    if isinstance(value, dict):
        if set(value) != {"id"} or not isinstance(value["id"], str) or not value["id"].strip():
            raise ValueError('voice must be a name or an object {"id": "<voice id>"}')
        return value["id"]
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("input is empty")
    return value


NOT_BLANK = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
"""JSON Schema's form of "not only white space, and no NUL" (what ``_not_blank`` and ``check_text`` check)."""

SpeechVoice = Annotated[
    DefaultName,
    BeforeValidator(_voice_reference, json_schema_input_type=DefaultName | VoiceReference),
]


def _nullable_optionals(schema: dict[str, Any]) -> None:
    """Say in the document that every optional field takes ``null`` (its default), as ``_null_is_default`` does."""
    required = set(schema.get("required", ()))
    for name, field in schema.get("properties", {}).items():
        if name in required or {"type": "null"} in field.get("anyOf", ()):
            continue
        outer = {key: field.pop(key) for key in ("default", "description", "title") if key in field}
        schema["properties"][name] = {"anyOf": [field, {"type": "null"}], **outer}


class SpeechBody(SpeechParams):
    """``POST /v1/audio/speech``: OpenAI's speech request, plus voxhost's ``language``, ``speaker``, ``seed`` and
    ``options``. Unknown keys are ignored, as OpenAI-compatible servers do; an optional field sent as ``null`` takes
    its default. ``speech_body`` sets the longest input."""

    model_config = ConfigDict(extra="ignore", strict=True, json_schema_extra=_nullable_optionals)

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        return null_is_default(data, frozenset({"input"}))

    input: Annotated[
        str,
        Field(min_length=1, json_schema_extra={"pattern": NOT_BLANK}),
        AfterValidator(_not_blank),
        AfterValidator(check_text),
    ]
    """The text to speak."""
    model: DefaultName = None
    """An engine id, or a configured model name (``tts-1``, ...); ``auto``, empty or none: the voice picks the
    engine."""
    voice: SpeechVoice = None
    """A catalog voice id or alias, an OpenAI voice name (mapped by configuration), a voice-library id, or
    ``{"id": ...}``; empty or none: the default voice."""
    seed: Annotated[Annotated[int, Field(ge=0, le=MAX_SEED)] | None, BeforeValidator(whole_number)] = None
    """Random seed, for engines that sample (the same seed gives the same audio)."""
    response_format: ResponseFormat = ResponseFormat.MP3
    """The audio format; streamed ``wav`` has ``0xFFFFFFFF`` sizes."""
    stream_format: StreamFormat = StreamFormat.AUDIO
    """``audio``: the audio bytes as they are made; ``sse``: ``speech.audio.delta`` events, then
    ``speech.audio.done``."""
    async_: bool = Field(False, alias="async")
    """Answer ``202`` at once with the job (``speech.job``) instead of the audio; follow it at
    ``/v1/jobs/{id}`` and fetch the audio from its ``audio_url`` (in ``response_format``), while it is made or
    for ``[jobs] result_minutes`` after."""

    def speech_request(self, *, voice: str | None, engine: str | None, client: str | None) -> SpeechRequest:
        """The core's request for this body, with the voice and engine the door resolved."""
        params = self.model_dump(include=set(SpeechParams.model_fields) - {"voice"})
        return SpeechRequest(
            **params, text=self.input, voice=voice, engine=engine, door="http", client=client, hold=self.async_
        )


@functools.cache
def speech_body(max_chars: int) -> type[SpeechBody]:
    """The speech request model whose ``input`` takes at most ``max_chars`` characters."""
    field = Annotated[
        str,
        Field(min_length=1, max_length=max_chars, json_schema_extra={"pattern": NOT_BLANK}),
        AfterValidator(_not_blank),
        AfterValidator(check_text),
    ]
    description = f"The text to speak (at most {max_chars} characters)."
    return create_model(  # type: ignore[no-any-return, call-overload]
        "CreateSpeechRequest",
        __base__=SpeechBody,
        __doc__=SpeechBody.__doc__,
        __module__=__name__,
        input=(field, Field(description=description)),
    )


class CreateConversionRequest(Operation):
    """``POST /v1/audio/conversions`` (multipart): speech in, the same speech in a voice-library voice out."""

    audio: bytes = Field(min_length=1)
    """The speech to convert (wav, flac, ogg, mp3, aac, m4a, webm)."""
    voice: Name
    """The target: a voice-library id, ``<engine>:<library id>``, a stored voice's name or an alias."""
    model: DefaultName = None
    """The converting engine; ``auto``, empty or none: the first running engine that converts."""
    response_format: ResponseFormat = ResponseFormat.MP3
    """The audio format of the answer."""
    stream_format: StreamFormat = StreamFormat.AUDIO
    """``audio`` or ``sse``, as for speech."""


class CreateVoiceRequest(VoiceCreate):
    """``POST /v1/audio/voices`` (multipart): a new voice-library voice from a recording."""

    audio_sample: bytes = Field(
        min_length=1,
        description=f"{MIN_REFERENCE_SECONDS:g}-{MAX_REFERENCE_SECONDS:g} s of speech "
        "(wav, flac, ogg, mp3, aac, m4a, webm).",
    )
    consent: str | None = None
    """Accepted for OpenAI compatibility; not checked."""
    type: Literal["audio_sample"] = "audio_sample"
    """The only kind of voice voxhost makes."""

    def voice(self) -> VoiceCreate:
        """The core's part of the request."""
        return VoiceCreate(**self.model_dump(include=set(VoiceCreate.model_fields)))


def _form_bool(value: Any) -> Any:
    # A form field is text: "true" or "false" (as the openai client writes it), nothing looser.
    if isinstance(value, str):
        if value.strip().lower() not in ("true", "false"):
            raise ValueError("must be true or false")
        return value.strip().lower() == "true"
    return value


def _auto(value: Any) -> Any:
    # OpenAI's clients send "auto" or nothing for "detect it".
    if isinstance(value, str) and value.strip().lower() in ("", "auto"):
        return None
    return value


class CreateTranscriptionRequest(BaseModel):
    """``POST /v1/audio/transcriptions`` (multipart): OpenAI's transcription request, as the official client sends it
    (``timestamp_granularities[]``, ``stream=true``). The client's other fields (``include[]``, ``chunking_strategy``,
    ``keywords[]``, ...) are accepted and not used; any other field is an error naming it."""

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        populate_by_name=True,
        # the document says what ``_streams`` checks: no stream, or one in json or text
        json_schema_extra={
            "anyOf": [
                {"properties": {"stream": {"const": False}}},
                {"properties": {"response_format": {"enum": [f.value for f in sorted(STREAMED_TRANSCRIPTS)]}}},
            ]
        },
    )

    file: bytes = Field(min_length=1)
    """The audio (wav, flac, ogg, mp3, aac, m4a, webm)."""
    model: DefaultName = None
    """``whisper-1``, ``gpt-4o-transcribe`` ... (configured names), an engine id, or a model name the engine serves;
    ``auto``, empty or none: the first engine that transcribes."""
    language: Annotated[Language | None, BeforeValidator(_auto)] = None
    """The language spoken (ISO-639-1, e.g. ``en``); none or ``auto``: detected."""
    prompt: str | None = Field(None, max_length=MAX_PROMPT)
    """Text that came before, or names and words to expect."""
    stream: Annotated[bool, BeforeValidator(_form_bool)] = False  # before response_format, whose check reads it
    """Send the transcript as server-sent events: ``transcript.text.delta`` per segment, then
    ``transcript.text.done``; with ``response_format`` ``json`` or ``text`` only (the events are the same)."""
    response_format: TranscriptionFormat = TranscriptionFormat.JSON
    """The form of the answer; with ``stream``, ``json`` or ``text`` (``srt``, ``vtt`` and ``verbose_json`` do
    not stream: a 400)."""
    temperature: float | None = Field(None, ge=0, le=1)
    """Sampling temperature; 0 decodes deterministically."""
    timestamp_granularities: list[Literal["word", "segment"]] = Field(
        default_factory=list, alias="timestamp_granularities[]"
    )
    """``segment`` and/or ``word`` timings in ``verbose_json`` (default: segments)."""
    include: list[str] = Field(default_factory=list, alias="include[]")
    """Accepted, not used (``logprobs``: no log probabilities are returned)."""
    chunking_strategy: str | None = None
    """Accepted, not used (``auto``): the recognizer works on the whole file."""
    chunking_strategy_type: str | None = Field(None, alias="chunking_strategy[type]")
    """Accepted, not used (``server_vad``)."""
    chunking_strategy_prefix_padding_ms: str | None = Field(None, alias="chunking_strategy[prefix_padding_ms]")
    """Accepted, not used."""
    chunking_strategy_silence_duration_ms: str | None = Field(None, alias="chunking_strategy[silence_duration_ms]")
    """Accepted, not used."""
    chunking_strategy_threshold: str | None = Field(None, alias="chunking_strategy[threshold]")
    """Accepted, not used."""
    keywords: list[str] = Field(default_factory=list, alias="keywords[]")
    """Accepted, not used (give words to expect as ``prompt``)."""
    languages: list[str] = Field(default_factory=list, alias="languages[]")
    """Accepted, not used (give one ``language``)."""
    known_speaker_names: list[str] = Field(default_factory=list, alias="known_speaker_names[]")
    """Accepted, not used (no diarization)."""
    known_speaker_references: list[str] = Field(default_factory=list, alias="known_speaker_references[]")
    """Accepted, not used (no diarization)."""

    @field_validator("response_format")
    @classmethod
    def _streams(cls, fmt: TranscriptionFormat, info: ValidationInfo) -> TranscriptionFormat:
        # The openai client reads a stream=true answer as events, and no event carries cues, timings or segments:
        # sent as events they would be dropped, sent as they are the client would see an empty stream. OpenAI's
        # streaming models answer json (and text, as its guide streams) alone.
        if info.data.get("stream") and fmt not in STREAMED_TRANSCRIPTS:
            raise ValueError(
                f"response_format {fmt.value!r} does not stream: with stream=true use json or text "
                f"(the transcript.text.delta and transcript.text.done events), or leave stream out for {fmt.value}"
            )
        return fmt


class CreateTranslationRequest(BaseModel):
    """``POST /v1/audio/translations`` (multipart): OpenAI's translation request, speech in any language the model
    knows in, English text out. Any other field is an error naming it."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    file: bytes = Field(min_length=1)
    """The audio (wav, flac, ogg, mp3, aac, m4a, webm)."""
    model: DefaultName = None
    """``whisper-1`` ... (configured names), an engine id, or a model name the engine serves; ``auto``, empty or
    none: the first engine that translates."""
    prompt: str | None = Field(None, max_length=MAX_PROMPT)
    """Text that came before (in English), or names and words to expect."""
    response_format: TranscriptionFormat = TranscriptionFormat.JSON
    """The form of the answer: ``json``, ``verbose_json``, ``text``, ``srt`` or ``vtt``."""
    temperature: float | None = Field(None, ge=0, le=1)
    """Sampling temperature; 0 decodes deterministically."""


class ListVoicesQuery(VoiceQuery):
    """``GET /v1/audio/voices``: the query's filters; other query parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


class EventsQuery(BaseModel):
    """``GET /v1/events``: the query."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    audio: bool = False
    """Add ``job_audio`` events (byte counts only, never audio)."""
    api_key: str | None = None
    """The API key, for clients that cannot send headers (a browser's ``EventSource``)."""


# -- answers -------------------------------------------------------------------------------------------------


class Answer(BaseModel):
    """Base of the answers: field docs become schema descriptions."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class ErrorDetail(Answer):
    """What went wrong, in OpenAI's shape."""

    message: str
    type: Literal["invalid_request_error", "server_error"]
    param: str | None
    """The request field at fault, where there is one."""
    code: str | None
    """Machine-readable: ``invalid_request``, ``voice_not_found``, ``busy``, ..."""


class ErrorResponse(Answer):
    """Every error answer."""

    error: ErrorDetail


class Model(Answer):
    """A model name ``/v1/audio/speech`` or ``/v1/audio/transcriptions`` accepts."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "voxhost"
    engine: str | None
    """The engine it maps to; null: the voice decides (speech), or the first engine that transcribes."""
    kind: Literal["speech", "transcription"] = "speech"
    """Which endpoint takes it."""


class ModelList(Answer):
    """Every model name ``/v1/audio/speech`` and ``/v1/audio/transcriptions`` accept."""

    object: Literal["list"] = "list"
    data: list[Model]


class AudioModel(Answer):
    """A model as Open WebUI lists it."""

    id: str
    name: str
    engine: str | None


class AudioModelList(Answer):
    """The models in the ``{"models": [...]}`` shape Open WebUI reads."""

    models: list[AudioModel]


class CatalogVoice(Answer):
    """A voice of a running engine."""

    id: str
    """``engine:voice``; use it as ``voice``."""
    object: Literal["voice"] = "voice"
    name: str
    languages: list[str]
    engine: str
    kind: Literal["builtin", "cloned", "pipeline"]
    sample_rate: int
    speakers: list[str]
    aliases: list[str]
    """Other names of the voice, OpenAI voice names mapped to it included."""
    description: str


class VoiceList(Answer):
    """Every voice of every running engine."""

    voices: list[CatalogVoice]


class Voice(Answer):
    """A voice-library voice: OpenAI's ``audio.voice`` object plus voxhost's fields."""

    id: str
    object: Literal["audio.voice"] = "audio.voice"
    name: str
    created_at: int
    type: Literal["audio_sample"] = "audio_sample"
    language: str | None
    transcript: str | None
    seconds: float
    sample_rate: int
    engines: list[str]
    """Catalog ids under which cloning engines speak this voice."""
    tags: list[str] = Field(default_factory=list)
    notes: str | None = None
    updated_at: int | None = None
    """When its metadata or audio last changed."""
    uses: int = 0
    """Speech and conversion jobs that used it."""
    last_used: float | None = None
    """When it was last used (Unix seconds)."""


class VoiceDeleted(Answer):
    """A deleted voice."""

    id: str
    deleted: bool = True
    object: Literal["audio.voice.deleted"] = "audio.voice.deleted"


class CreateLexiconEntryRequest(LexiconRule):
    """``POST /v1/lexicon``: a word, phrase or pattern and how to say it. JSON types are kept (``0`` is no boolean)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class LexiconList(Answer):
    """The user lexicon: the config file's entries, then those added over HTTP."""

    object: Literal["list"] = "list"
    data: list[LexiconEntry]


class BrokenLibraryVoice(Answer):
    """A stored voice whose ``voice.json`` cannot be read: no engine speaks it, but its files take space and count
    towards the library's quota until it is deleted by its id."""

    id: str
    object: Literal["audio.voice.broken"] = "audio.voice.broken"
    problem: str
    """Why it cannot be used (its ``voice.json`` missing, damaged or not a voice's)."""
    bytes: int
    """What its files take."""
    modified_at: int
    """When its folder last changed (Unix seconds)."""


class VoiceLibrary(Answer):
    """Voice-library voices, newest first: one page of those that match the query."""

    object: Literal["list"] = "list"
    data: list[Voice]
    total: int = 0
    """How many voices match (every page)."""
    has_more: bool = False
    """More pages follow."""
    broken: list[BrokenLibraryVoice] = Field(default_factory=list)
    """Every broken voice, whatever the query: delete them to free their space."""


class WithheldVoice(Answer):
    """A voice an engine does not offer yet, and what would make it available."""

    id: str
    languages: list[str]
    reason: str


class Engine(Answer):
    """A running engine, loaded or not; engines may report more (``device``, ``memory``)."""

    model_config = ConfigDict(extra="allow")

    id: str
    object: Literal["engine"] = "engine"
    name: str
    mode: Literal["thread", "worker"]
    loaded: bool
    error: str | None
    """Why the last load failed."""
    capabilities: list[Literal["clone", "convert", "stream", "transcribe", "translate", "tts"]]
    queue: int
    """Jobs waiting or running."""
    busy: bool
    voices: int
    models: int
    """How many models the engine declares."""
    fetches_models: bool = False
    """Its list of models comes from the network (the Piper voice catalog): ``GET /v1/engines/{id}/models``
    fetches it when it was never fetched, so ``models`` may be 0 until then."""
    needs_transcript: bool
    """Cloned voices need a transcript."""
    options: dict[str, Any]
    """JSON Schema of the engine's per-request ``options``."""
    withheld_voices: list[WithheldVoice] = []
    """Voices the engine could offer but withholds, and why (e.g. no reference in that language yet)."""


class EngineList(Answer):
    """Every running engine."""

    object: Literal["list"] = "list"
    data: list[Engine]


class EngineModel(Answer):
    """A model an engine can use."""

    object: Literal["engine.model"] = "engine.model"
    engine: str
    name: str
    repo: str
    """Hugging Face repository."""
    revision: str | None
    description: str
    requires: list[str]
    installed: bool
    size: int
    """Bytes on disk."""
    path: str | None
    pulling: bool
    pull_command: str


class EngineModelList(Answer):
    """An engine's models."""

    object: Literal["list"] = "list"
    data: list[EngineModel]


class PullStarted(Answer):
    """A model download, started (or joined)."""

    object: Literal["engine.model.pull"] = "engine.model.pull"
    engine: str
    model: str
    state: Literal["pulling"] = "pulling"
    models: list[str]
    """What is pulled, in order: the model's requirements, then the model."""


class OutputsHealth(Answer):
    """The stored outputs against their limits."""

    count: int
    bytes: int
    oldest_at: float | None
    max_count: int
    max_bytes: int
    max_age_days: float
    near_limit: list[Literal["size", "count"]]
    """Limits the outputs are near: past them the oldest outputs are removed first."""


class Health(Answer):
    """Engines and doors."""

    status: Literal["ok", "degraded"]
    version: str
    uptime: float
    engines: list[dict[str, Any]]
    doors: dict[str, dict[str, Any]]
    voices: int
    jobs: int
    outputs: OutputsHealth | None = None


class DurationUsage(Answer):
    """What a transcription used: seconds of audio."""

    type: Literal["duration"] = "duration"
    seconds: float


class Transcription(Answer):
    """A transcript (``response_format: json``)."""

    text: str
    usage: DurationUsage


class TranscriptionSegment(Answer):
    """A stretch of speech and its timing (seconds)."""

    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float


class TranscriptionWord(Answer):
    """A word and its timing (seconds)."""

    word: str
    start: float
    end: float


class TranscriptionVerbose(Answer):
    """A transcript with its language, duration, segments and (when asked) words (``response_format:
    verbose_json``)."""

    task: Literal["transcribe"] = "transcribe"
    language: str
    """The language's English name, as OpenAI writes it (``english``)."""
    duration: float
    text: str
    segments: list[TranscriptionSegment] | None = None
    words: list[TranscriptionWord] | None = None
    usage: DurationUsage


class Translation(Answer):
    """A translation into English (``response_format: json``)."""

    text: str


class TranslationVerbose(Answer):
    """A translation with the audio's duration and the segments (``response_format: verbose_json``)."""

    task: Literal["translate"] = "translate"
    language: Literal["english"] = "english"
    """The language of the text: always English, as OpenAI writes it."""
    duration: float
    text: str
    segments: list[TranscriptionSegment] | None = None


# -- server-sent events --------------------------------------------------------------------------------------


class Usage(Answer):
    """Input characters and output audio in 20 ms frames (voxhost has no tokens)."""

    input_tokens: int
    output_tokens: int
    total_tokens: int


class SpeechAudioDelta(Answer):
    """The next bytes of the audio, in ``response_format``."""

    type: Literal["speech.audio.delta"] = "speech.audio.delta"
    audio: str = Field(json_schema_extra={"contentEncoding": "base64"})
    """Base64 of the bytes."""


class SpeechAudioDone(Answer):
    """The audio is complete."""

    type: Literal["speech.audio.done"] = "speech.audio.done"
    usage: Usage


class SpeechStreamError(Answer):
    """The stream failed after audio had started."""

    type: Literal["error"] = "error"
    error: ErrorDetail


SpeechStreamEvent = Annotated[SpeechAudioDelta | SpeechAudioDone | SpeechStreamError, Field(discriminator="type")]
"""One event of a ``stream_format: sse`` answer."""


class TranscriptTextDelta(Answer):
    """The next piece of the transcript (one segment)."""

    type: Literal["transcript.text.delta"] = "transcript.text.delta"
    delta: str


class TranscriptTextDone(Answer):
    """The whole transcript."""

    type: Literal["transcript.text.done"] = "transcript.text.done"
    text: str
    usage: DurationUsage


TranscriptStreamEvent = Annotated[
    TranscriptTextDelta | TranscriptTextDone | SpeechStreamError, Field(discriminator="type")
]
"""One event of a ``stream=true`` transcription."""


class JobSnapshot(Answer):
    """A job in progress when the event stream opened."""

    job_id: str
    voice: str
    engine: str
    door: str
    chars: int
    state: Literal["queued", "running", "finished", "failed", "cancelled"]


class Hello(Answer):
    """The first event of ``/v1/events``."""

    event: Literal["hello"] = "hello"
    version: str
    jobs: list[JobSnapshot]


def _event_model(kind: str, cls: type) -> type[BaseModel]:
    """A core event as ``Event.summary()`` writes it: ``event`` is its kind, bytes are counts, None is left out."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {"event": (Literal[kind], ...)}
    for field in dataclasses.fields(cls):
        annotation = hints[field.name]
        args = typing.get_args(annotation)
        if annotation is bytes:
            fields[f"{field.name}_bytes"] = (int, ...)
        elif type(None) in args:
            fields[field.name] = (typing.Union[tuple(a for a in args if a is not type(None))], None)  # noqa: UP007
        else:
            fields[field.name] = (annotation, ...)
    return create_model(cls.__name__, __doc__=cls.__doc__, __module__=__name__, **fields)  # type: ignore[no-any-return, call-overload]


CORE_EVENTS: tuple[type[BaseModel], ...] = tuple(_event_model(kind, cls) for kind, cls in EVENT_TYPES.items())
"""The models of the core's events, in the order of ``voxhost.events``."""

LiveEvent = Annotated[
    typing.Union[(Hello, *CORE_EVENTS)],  # type: ignore[valid-type]
    Field(discriminator="event"),
]
"""One event of ``/v1/events``."""
