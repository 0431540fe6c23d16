"""Discovery: models in OpenAI's list shape, and the voice catalog as objects with ``id`` and ``name``.

Open WebUI reads ``GET /audio/models`` (``{"models": [...]}``) and ``GET /audio/voices``
(``{"voices": [{"id", "name"}, ...]}``) and sends no API key for them; both can be left open by config.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...api import CoreAPI
from ...errors import UnknownEngineError
from ...voices import CatalogVoice
from .keys import CORE, SETTINGS
from .settings import HttpSettings
from .speech import AUTO, resolve_model


def model_ids(core: CoreAPI, settings: HttpSettings) -> list[tuple[str, str | None]]:
    """(model id, engine or None for auto): running engines first, then the configured names that work."""
    running = [engine.id for engine in core.engines()]
    out: list[tuple[str, str | None]] = [(engine_id, engine_id) for engine_id in running]
    for name, target in settings.models.items():
        if name in running:
            continue
        if target == AUTO:
            out.append((name, None))
        elif target in running:
            out.append((name, target))
    return out


def _model(core: CoreAPI, model_id: str, engine: str | None) -> dict[str, Any]:
    return {
        "id": model_id,
        "object": "model",
        "created": int(core.started_at),
        "owned_by": "voxhost",
        "engine": engine,
    }


async def list_models(request: web.Request) -> web.Response:
    """``GET /v1/models``: every model name ``/v1/audio/speech`` accepts."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    data = [_model(core, model_id, engine) for model_id, engine in model_ids(core, settings)]
    return web.json_response({"object": "list", "data": data})


async def get_model(request: web.Request) -> web.Response:
    """``GET /v1/models/{model}``."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    wanted = request.match_info["model"]
    for model_id, engine in model_ids(core, settings):
        if model_id == wanted:
            return web.json_response(_model(core, model_id, engine))
    raise UnknownEngineError(f"no model {wanted!r}", param="model")


async def list_audio_models(request: web.Request) -> web.Response:
    """``GET /v1/audio/models``: the same models in the ``{"models": [...]}`` shape Open WebUI reads."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    models = [
        {"id": model_id, "name": model_id if engine is None else f"{model_id} ({engine})", "engine": engine}
        for model_id, engine in model_ids(core, settings)
    ]
    return web.json_response({"models": models})


def voice_object(voice: CatalogVoice, openai_names: list[str]) -> dict[str, Any]:
    """A catalog voice as the voices list shows it."""
    return {
        "id": voice.id,
        "object": "voice",
        "name": voice.name,
        "languages": list(voice.languages),
        "engine": voice.engine,
        "kind": voice.kind,
        "sample_rate": voice.sample_rate,
        "speakers": list(voice.speakers),
        "aliases": list(voice.aliases) + openai_names,
        "description": voice.description,
    }


async def list_voices(request: web.Request) -> web.Response:
    """``GET /v1/audio/voices``: every voice; ``?model=`` keeps one engine's, ``?language=`` one language's."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    voices = core.voices()
    if model := request.query.get("model"):
        engine = resolve_model(core, settings, model)
        if engine is not None:
            voices = [v for v in voices if v.engine == engine]
    if language := request.query.get("language"):
        base = language.replace("-", "_").split("_")[0].lower()
        voices = [v for v in voices if any(lang.split("_")[0].lower() == base for lang in v.languages)]
    by_target: dict[str, list[str]] = {}
    for name, target in settings.voices.items():
        by_target.setdefault(target, []).append(name)
    out = []
    for voice in voices:
        names = by_target.get(voice.id, []) + [n for a in voice.aliases for n in by_target.get(a, [])]
        out.append(voice_object(voice, names))
    return web.json_response({"voices": out})
