"""``POST /v1/audio/speech``: OpenAI's speech request, validated in full before any audio is made."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ...api import CoreAPI
from ...errors import (
    InvalidRequestError,
    TextTooLongError,
    UnknownEngineError,
    UnknownVoiceError,
)
from ...operations import MAX_SPEED, MIN_SPEED, SpeechRequest
from .encoders import FORMATS
from .errors import BadValueError
from .keys import CORE, EXECUTOR, SETTINGS
from .settings import HttpSettings
from .streaming import AudioStreamer

_LOGGER = logging.getLogger(__name__)

MAX_INSTRUCTIONS = 4096
STREAM_FORMATS = ("audio", "sse")
AUTO = "auto"
"""A model mapped to ``auto`` lets the voice choose the engine."""


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 naming the problem."""
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidRequestError("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequestError("the request body must be a JSON object")
    return body


def _string(body: dict[str, Any], key: str, default: str | None = None) -> str | None:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidRequestError(f"{key} must be a string", param=key)
    return value


def _choice(body: dict[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = _string(body, key, default) or default
    if value not in choices:
        raise InvalidRequestError(f"invalid {key} {value!r}; use one of: {', '.join(choices)}", param=key)
    return value


@dataclass
class SpeechParams:
    """A checked ``/v1/audio/speech`` body."""

    input: str
    model: str = AUTO
    voice: str | None = None
    response_format: str = "mp3"
    speed: float = 1.0
    instructions: str | None = None
    stream_format: str = "audio"
    language: str | None = None
    speaker: str | None = None
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, body: dict[str, Any], max_chars: int) -> SpeechParams:
        """Check every field; unknown keys are ignored, as other OpenAI-compatible servers do."""
        text = body.get("input")
        if text is None:
            raise InvalidRequestError("input is required: the text to speak", param="input")
        if not isinstance(text, str):
            raise InvalidRequestError("input must be a string", param="input")
        if not text.strip():
            raise InvalidRequestError("input is empty", param="input")
        if len(text) > max_chars:
            raise TextTooLongError(f"input is {len(text)} characters long; the maximum is {max_chars}", param="input")
        params = cls(input=text)
        params.model = (_string(body, "model") or AUTO).strip() or AUTO
        params.voice = _voice(body.get("voice"))
        params.response_format = _choice(body, "response_format", FORMATS, "mp3")
        params.stream_format = _choice(body, "stream_format", STREAM_FORMATS, "audio")
        params.speed = _speed(body.get("speed"))
        params.instructions = _string(body, "instructions")
        if params.instructions is not None and len(params.instructions) > MAX_INSTRUCTIONS:
            raise InvalidRequestError(
                f"instructions are {len(params.instructions)} characters long; the maximum is {MAX_INSTRUCTIONS}",
                param="instructions",
            )
        params.language = _string(body, "language")
        speaker = body.get("speaker")
        if isinstance(speaker, bool) or (speaker is not None and not isinstance(speaker, (str, int))):
            raise InvalidRequestError("speaker must be a name or a number", param="speaker")
        params.speaker = None if speaker is None else str(speaker)
        seed = body.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise InvalidRequestError("seed must be an integer", param="seed")
        params.seed = seed
        options = body.get("options")
        if options is not None and not isinstance(options, dict):
            raise InvalidRequestError("options must be an object of engine options", param="options")
        params.options = options or {}
        return params


def _voice(value: Any) -> str | None:
    """A voice name, or OpenAI's custom-voice object ``{"id": ...}``."""
    if value is None:
        return None
    if isinstance(value, dict):
        if set(value) != {"id"} or not isinstance(value["id"], str):
            raise InvalidRequestError('voice must be a name or an object {"id": "<voice id>"}', param="voice")
        value = value["id"]
    if not isinstance(value, str):
        raise InvalidRequestError('voice must be a name or an object {"id": "<voice id>"}', param="voice")
    return value.strip() or None


def _speed(value: Any) -> float:
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidRequestError("speed must be a number", param="speed")
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise InvalidRequestError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}; got {value:g}", param="speed")
    return float(value)


def resolve_model(core: CoreAPI, settings: HttpSettings, model: str) -> str | None:
    """The engine a ``model`` names (None: the voice decides)."""
    if model == AUTO:
        return None
    running = {engine.id for engine in core.engines()}
    if model in running:
        return model
    mapped = settings.models.get(model)
    if mapped is None:
        known = ", ".join(sorted(running | set(settings.models)))
        raise BadValueError(
            InvalidRequestError(f"unknown model {model!r}; models: {known}", param="model"), code="model_not_found"
        )
    if mapped == AUTO:
        return None
    if mapped not in running:
        raise BadValueError(
            InvalidRequestError(f"model {model!r} is served by engine {mapped!r}, which is not running", param="model"),
            code="model_not_found",
        )
    return mapped


def resolve_voice(
    core: CoreAPI, settings: HttpSettings, voice: str | None, engine: str | None, language: str | None
) -> str | None:
    """Map OpenAI voice names (alloy, echo, ...) to real voices; other names pass through to the catalog."""
    if voice is None:
        return None
    mapped = settings.voices.get(voice) or settings.voices.get(voice.lower())
    if mapped is None:
        return voice
    if language:
        return None  # an OpenAI name says nothing about language: let the language choose the voice
    if engine is not None:
        try:
            core.resolve_voice(mapped, engine=engine)
        except UnknownVoiceError:
            return None  # the model's engine does not have the mapped voice: use its default voice
    return mapped


def _usage(params: SpeechParams, seconds: float) -> dict[str, int]:
    """Counts for the SSE ``done`` event: input characters, and output audio in 20 ms frames."""
    out = int(seconds * 50)
    return {"input_tokens": len(params.input), "output_tokens": out, "total_tokens": len(params.input) + out}


async def create_speech(request: web.Request) -> web.StreamResponse:
    """Speak ``input``, streaming audio in ``response_format`` as it is made."""
    core = request.app[CORE]
    settings = request.app[SETTINGS]
    params = SpeechParams.parse(await read_json(request), settings.max_input_chars)
    engine = resolve_model(core, settings, params.model)
    voice = resolve_voice(core, settings, params.voice, engine, params.language)
    try:
        job = core.submit(
            SpeechRequest(
                text=params.input,
                voice=voice,
                language=params.language,
                speaker=params.speaker,
                speed=params.speed,
                options=params.options,
                instructions=params.instructions,
                seed=params.seed,
                engine=engine,
                door="http",
                client=request.remote,
            )
        )
    except (UnknownVoiceError, UnknownEngineError) as err:
        raise BadValueError(err) from None  # a name in the body, not a missing URL: 400
    streamer = AudioStreamer(
        request,
        params.response_format,
        request.app[EXECUTOR],
        sse=params.stream_format == "sse",
        fallback_rate=job.voice.sample_rate,
        headers={"X-Voxhost-Job": job.id, "X-Voxhost-Voice": job.voice.id},
        usage=lambda: _usage(params, job.audio_seconds),
    )
    try:
        return await streamer.run(job.pcm())
    except ConnectionResetError:
        _LOGGER.info("Client %s went away during job %s", request.remote, job.id)
        return streamer.response or web.Response(status=499)
    finally:
        if not job.done:
            job.cancel("the HTTP client went away")
