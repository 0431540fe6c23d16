"""``POST /v1/audio/transcriptions``: OpenAI's speech-to-text request, answered in every response format it names.

The form is read as the official ``openai`` client writes it (``timestamp_granularities[]`` parts, ``stream=true``);
everything is checked before the audio is decoded. ``json``, ``verbose_json`` are JSON; ``text``, ``srt`` and
``vtt`` are plain text; with ``stream=true`` the transcript comes as server-sent events, one
``transcript.text.delta`` per segment as it is recognized, then ``transcript.text.done``. A stream is ``json`` or
``text`` (the same events); ``srt``, ``vtt`` and ``verbose_json`` with ``stream=true`` are a 400 naming
``response_format`` (the model refuses them): the openai client reads a streamed answer as events, and no event
carries their cues, timings or segments. The file is decoded when the engine takes the request up, not while it
waits its turn, so requests queued for the engine hold what they sent and not minutes of samples.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from aiohttp import web

from ...api import CoreAPI
from ...audio import EncodedAudio
from ...engine import Segment, Transcript, TranscriptInfo
from ...errors import UnknownEngineError, UnsupportedError, VoxhostError
from ...operations import TranscribeParams, parse
from ...transcripts import LANGUAGE_NAMES, subtitles
from . import names
from .errors import BadValueError, error_body
from .keys import CLIENT, CORE, SETTINGS
from .parsing import answer, form
from .schemas import (
    CreateTranscriptionRequest,
    DurationUsage,
    ErrorResponse,
    SpeechStreamError,
    Transcription,
    TranscriptionFormat,
    TranscriptionSegment,
    TranscriptionVerbose,
    TranscriptionWord,
    TranscriptTextDelta,
    TranscriptTextDone,
)
from .streaming import SSE_CONTENT_TYPE

_LOGGER = logging.getLogger(__name__)

TEXT_TYPE = "text/plain"


def _params(core: CoreAPI, body: CreateTranscriptionRequest, engine: str | None) -> TranscribeParams:
    """The core's request; the temperature goes to engines whose options take one."""
    fields = {
        "language": body.language,
        "prompt": body.prompt,
        # Words are timed only for an answer that has them: OpenAI honours the granularities in verbose_json alone
        "word_timestamps": _returns_words(body),
    }
    return checked_params(core, engine, body.temperature, fields)


def checked_params(
    core: CoreAPI, engine: str | None, temperature: float | None, fields: Mapping[str, object]
) -> TranscribeParams:
    """The core's request from the form's ``fields``, checked before any audio is decoded (the engine's errors
    name ``model``, the form's name for it); the temperature goes to engines whose options take one."""
    options: dict[str, object] = {}
    if temperature is not None:
        target = engine or next(iter(core.transcribers()), None)
        schema = core.engine(target).options_schema if target else {}
        if "temperature" in schema.get("properties", {}):
            options["temperature"] = temperature
    given = {**fields, "engine": engine, "options": options, "door": "http"}
    try:
        return core.check_transcribe(parse(TranscribeParams, {k: v for k, v in given.items() if v is not None}))
    except VoxhostError as err:
        if err.param == "engine":
            err.param = "model"  # the form's name for the engine
        if isinstance(err, UnknownEngineError):
            raise BadValueError(err) from None
        raise


def _returns_words(body: CreateTranscriptionRequest) -> bool:
    """Whether the answer lists timed words (``verbose_json`` asked for them; streams and other formats never do)."""
    return (
        not body.stream
        and body.response_format == TranscriptionFormat.VERBOSE_JSON
        and "word" in body.timestamp_granularities
    )


async def create_transcription(request: web.Request) -> web.StreamResponse:
    """Transcribe ``file``; the answer's form is ``response_format``, or events with ``stream=true``."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    if not core.transcribers():
        raise UnsupportedError(
            "no running engine transcribes speech; install voxhost[asr] (the whisper engine) or enable one"
        )
    body = await form(request, CreateTranscriptionRequest)
    engine = names.resolve_transcription_model(core, settings, body.model)
    params = _params(core, body, engine)
    audio = await EncodedAudio.received(body.file, settings.max_transcription_seconds, "file")
    if body.stream:
        return await _stream(request, core, audio, params)
    transcript = await core.transcribe(audio, params)
    return _answer(body, transcript)


def _answer(body: CreateTranscriptionRequest, transcript: Transcript) -> web.Response:
    usage = DurationUsage(seconds=round(transcript.duration, 3))
    fmt = body.response_format
    if fmt == TranscriptionFormat.JSON:
        return answer(Transcription(text=transcript.text, usage=usage))
    if fmt == TranscriptionFormat.VERBOSE_JSON:
        granularities = set(body.timestamp_granularities) or {"segment"}
        verbose = TranscriptionVerbose(
            language=LANGUAGE_NAMES.get(transcript.language or "", transcript.language or "unknown"),
            duration=round(transcript.duration, 3),
            text=transcript.text,
            segments=[segment_answer(s) for s in transcript.segments] if "segment" in granularities else None,
            words=[TranscriptionWord(word=w.text.strip(), start=w.start, end=w.end) for w in transcript.words]
            if _returns_words(body)
            else None,
            usage=usage,
        )
        return web.json_response(verbose.model_dump(mode="json", exclude_none=True))
    return plain_text(fmt, transcript)


def plain_text(fmt: TranscriptionFormat, transcript: Transcript) -> web.Response:
    """A ``text``, ``srt`` or ``vtt`` answer."""
    if fmt == TranscriptionFormat.TEXT:
        text = transcript.text + "\n"
    else:
        text = subtitles(transcript.segments, vtt=fmt == TranscriptionFormat.VTT)
    return web.Response(text=text, content_type=TEXT_TYPE, charset="utf-8")


def segment_answer(segment: Segment) -> TranscriptionSegment:
    """A recognized segment in OpenAI's shape."""
    return TranscriptionSegment(
        id=segment.id,
        seek=int(segment.start * 100),
        start=segment.start,
        end=segment.end,
        text=segment.text,
        tokens=list(segment.tokens),
        temperature=segment.temperature,
        avg_logprob=segment.avg_logprob,
        compression_ratio=segment.compression_ratio,
        no_speech_prob=segment.no_speech_prob,
    )


def _sse(event: TranscriptTextDelta | TranscriptTextDone | SpeechStreamError) -> bytes:
    return b"data: " + event.model_dump_json().encode() + b"\n\n"


async def _stream(
    request: web.Request, core: CoreAPI, audio: EncodedAudio, params: TranscribeParams
) -> web.StreamResponse:
    """Events as segments are recognized; nothing is sent before the recognizer has started (errors stay answers)."""
    parts = core.transcribe_stream(audio, params)
    try:
        first = await anext(parts)  # the info: queue, decoding, load and language detection done, or an error answer
    except BaseException:
        await parts.aclose()
        raise
    response = web.StreamResponse(
        status=200, headers={"Content-Type": SSE_CONTENT_TYPE, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    texts: list[str] = []
    duration = first.duration if isinstance(first, TranscriptInfo) else 0.0
    try:
        await response.prepare(request)
        try:
            async for part in parts:
                if isinstance(part, Segment) and part.text:
                    texts.append(part.text)
                    await response.write(_sse(TranscriptTextDelta(delta=part.text)))
        except VoxhostError as err:
            _LOGGER.warning("Transcript stream to %s ended early: %s", request[CLIENT], err.message)
            body = ErrorResponse.model_validate(
                error_body(err.http_status, err.message, param=err.param, code=err.code)
            )
            await response.write(_sse(SpeechStreamError(error=body.error)))
            await response.write_eof()
            return response
        usage = DurationUsage(seconds=round(duration, 3))
        await response.write(_sse(TranscriptTextDone(text="".join(texts).strip(), usage=usage)))
        await response.write_eof()
    except ConnectionResetError:
        _LOGGER.info("Client %s went away during a transcription", request[CLIENT])
    finally:
        await parts.aclose()
    return response
