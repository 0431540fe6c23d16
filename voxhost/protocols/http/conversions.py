"""``POST /v1/audio/conversions``: speech audio in, the same speech in a library voice out (voice conversion).

Served by an engine with the ``convert`` capability; with none running the answer is 501 in OpenAI's shape.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ...audio import decode_audio
from ...engine import PCM
from ...errors import (
    InvalidRequestError,
    UnknownEngineError,
    UnknownVoiceError,
    UnsupportedError,
)
from ...operations import ConvertParams, parse
from .encoders import FORMATS
from .errors import BadValueError
from .keys import CORE, EXECUTOR, SETTINGS
from .speech import STREAM_FORMATS
from .streaming import AudioStreamer
from .uploads import read_form

_LOGGER = logging.getLogger(__name__)


async def create_conversion(request: web.Request) -> web.StreamResponse:
    """Convert ``audio`` into ``voice``; the result streams in ``response_format`` (default mp3)."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    if not core.converters():
        raise UnsupportedError(
            "no running engine can convert voices; enable one with the convert capability (e.g. chatterbox)"
        )
    form = await read_form(request, ("audio",), int(settings.max_upload_mb * 1024 * 1024))
    fmt = form.text("response_format") or "mp3"
    if fmt not in FORMATS:
        raise InvalidRequestError(
            f"invalid response_format {fmt!r}; use one of: {', '.join(FORMATS)}", param="response_format"
        )
    stream_format = form.text("stream_format") or "audio"
    if stream_format not in STREAM_FORMATS:
        raise InvalidRequestError(f"invalid stream_format {stream_format!r}; use audio or sse", param="stream_format")
    target = form.text("voice")
    if not target:
        raise InvalidRequestError("voice is required: the id of a voice-library voice", param="voice")
    engine = form.text("model")
    if engine in ("auto", None):
        engine = None
    try:
        params = core.check_convert(parse(ConvertParams, {"voice": target, "engine": engine}))
    except (UnknownVoiceError, UnknownEngineError) as err:
        raise BadValueError(err) from None
    data = form.files.get("audio")
    if not data:
        raise InvalidRequestError("audio is required: the speech to convert", param="audio")
    samples, rate = await asyncio.to_thread(decode_audio, data, settings.max_conversion_seconds, "audio")
    source = PCM.from_float(samples, rate)
    streamer = AudioStreamer(
        request, fmt, request.app[EXECUTOR], sse=stream_format == "sse", headers={"X-Voxhost-Voice": params.voice}
    )
    chunks = core.convert(source, params)
    try:
        return await streamer.run(chunks)
    except ConnectionResetError:
        _LOGGER.info("Client %s went away during a conversion", request.remote)
        return streamer.response or web.Response(status=499)
    finally:
        await chunks.aclose()
