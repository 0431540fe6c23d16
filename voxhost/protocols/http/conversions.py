"""``POST /v1/audio/conversions``: speech audio in, the same speech in a library voice out (voice conversion).

Served by an engine with the ``convert`` capability; with none running the answer is 501 in OpenAI's shape.
"""

from __future__ import annotations

from aiohttp import web

from ...audio import MAX_SPEECH_RATE, EncodedAudio
from ...errors import UnknownEngineError, UnknownVoiceError, UnsupportedError, VoxhostError
from ...operations import ConvertParams, parse
from . import names
from .errors import BadValueError
from .keys import CORE, EXECUTOR, SETTINGS
from .parsing import form
from .schemas import CreateConversionRequest, StreamFormat
from .streaming import AudioStreamer


async def create_conversion(request: web.Request) -> web.StreamResponse:
    """Convert ``audio`` into ``voice``; the result streams in ``response_format`` (default mp3)."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    if not core.converters():
        raise UnsupportedError(
            "no running engine can convert voices; enable one with the convert capability (e.g. chatterbox)"
        )
    body = await form(request, CreateConversionRequest)
    engine = None if body.model in (names.AUTO, None) else body.model
    try:
        params = core.check_convert(parse(ConvertParams, {"voice": body.voice, "engine": engine}))
    except VoxhostError as err:
        raise _named_field(err, engine) from None
    source = await EncodedAudio.received(body.audio, settings.max_conversion_seconds, "audio", MAX_SPEECH_RATE)
    streamer = AudioStreamer(
        request,
        body.response_format,
        request.app[EXECUTOR],
        sse=body.stream_format == StreamFormat.SSE,
        headers={"X-Voxhost-Voice": params.voice},
    )
    chunks = core.convert(source, params)
    return await streamer.run_closing(chunks, "during a conversion")


def _named_field(err: VoxhostError, engine: str | None) -> VoxhostError:
    """The core's refusal in the form's terms: an engine that does not exist or cannot convert, named in ``model``
    (or as the ``voice``'s prefix), is the request's fault, a 400 the client does not retry, not a 501."""
    if err.param == "engine" or isinstance(err, UnknownEngineError):
        err.param = "model" if engine else "voice"  # the form's names for the converting engine
    if isinstance(err, UnknownVoiceError | UnknownEngineError):
        return BadValueError(err)
    if isinstance(err, UnsupportedError) and err.param in ("model", "voice"):
        return BadValueError(err)  # keeps code not_supported; 501 stays for "no engine converts at all"
    return err
