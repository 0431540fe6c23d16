"""``POST /v1/audio/speech``: OpenAI's speech request, validated in full before any audio is made."""

from __future__ import annotations

import logging

from aiohttp import web

from ...api import CoreAPI
from ...errors import UnknownEngineError, UnknownVoiceError
from . import names
from .errors import BadValueError
from .keys import CLIENT, CORE, EXECUTOR, SETTINGS
from .parsing import answer, json_body
from .records import speech_job
from .schemas import SpeechBody, StreamFormat, speech_body
from .settings import HttpSettings
from .streaming import AudioStreamer

_LOGGER = logging.getLogger(__name__)


def input_limit(core: CoreAPI, settings: HttpSettings) -> int:
    """The longest ``input``: the door's limit, or the core's where that is lower."""
    return min(settings.max_input_chars, core.settings.text.max_chars)


def body_model(core: CoreAPI, settings: HttpSettings) -> type[SpeechBody]:
    """The speech request model as this server takes it."""
    return speech_body(input_limit(core, settings))


async def create_speech(request: web.Request) -> web.StreamResponse:
    """Speak ``input``, streaming audio in ``response_format`` as it is made."""
    core = request.app[CORE]
    settings = request.app[SETTINGS]
    body = await json_body(request, body_model(core, settings))
    engine = names.resolve_model(core, settings, body.model)
    names.check_language(core, body.language)
    voice = names.resolve_voice(core, settings, body.voice, engine, body.language)
    try:
        job = core.submit(body.speech_request(voice=voice, engine=engine, client=request[CLIENT]))
    except (UnknownVoiceError, UnknownEngineError) as err:
        raise BadValueError(err) from None  # a name in the body, not a missing URL: 400
    if body.async_:
        # The core reads the job's stream itself and keeps its audio: nothing here waits for it.
        job_answer = speech_job(core.job_record(job.id), body.response_format.value)
        response = answer(job_answer, status=202)
        response.headers.update({"Location": f"/v1/jobs/{job.id}", "X-Voxhost-Job": job.id})
        return response
    streamer = AudioStreamer(
        request,
        body.response_format,
        request.app[EXECUTOR],
        sse=body.stream_format == StreamFormat.SSE,
        fallback_rate=job.voice.sample_rate,
        headers={"X-Voxhost-Job": job.id, "X-Voxhost-Voice": job.voice.id},
        input_tokens=len(body.input),
    )
    try:
        return await streamer.run(job.pcm())
    except ConnectionResetError:
        _LOGGER.info("Client %s went away during job %s", request[CLIENT], job.id)
        return streamer.response or web.Response(status=499)
    finally:
        if not job.done:
            job.cancel("the HTTP client went away")
