"""Discovery: models in OpenAI's list shape, and the voice catalog as objects with ``id`` and ``name``.

Open WebUI reads ``GET /audio/models`` (``{"models": [...]}``) and ``GET /audio/voices``
(``{"voices": [{"id", "name"}, ...]}``) and sends no API key for them; both can be left open by config.
"""

from __future__ import annotations

from aiohttp import web

from ...api import CoreAPI
from ...errors import UnknownEngineError
from ...voices import CatalogVoice
from . import names
from .engines import UnknownModelError
from .errors import BadValueError
from .keys import CORE, SETTINGS
from .parsing import answer, query
from .schemas import AudioModel, AudioModelList, ListVoicesQuery, Model, ModelList, VoiceList
from .schemas import CatalogVoice as VoiceObject
from .settings import HttpSettings


def all_models(core: CoreAPI, settings: HttpSettings) -> dict[str, Model]:
    """Every model name by id: speech models first, then transcription models (a name both take is listed once)."""
    out: dict[str, Model] = {}
    created = int(core.started_at)
    for model_id, engine in names.models(core, settings).items():
        out[model_id] = Model(id=model_id, created=created, engine=engine)
    for model_id, engine in names.transcription_models(core, settings).items():
        out.setdefault(model_id, Model(id=model_id, created=created, engine=engine, kind="transcription"))
    return out


async def list_models(request: web.Request) -> web.Response:
    """``GET /v1/models``: every model name ``/v1/audio/speech`` and ``/v1/audio/transcriptions`` accept."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    return answer(ModelList(data=list(all_models(core, settings).values())))


async def get_model(request: web.Request) -> web.Response:
    """``GET /v1/models/{model}``."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    wanted = request.match_info["model"]
    table = all_models(core, settings)
    if wanted not in table:
        raise UnknownModelError(f"no model {wanted!r}; see /v1/models", param="model")  # OpenAI's code for it
    return answer(table[wanted])


async def list_audio_models(request: web.Request) -> web.Response:
    """``GET /v1/audio/models``: the same models in the ``{"models": [...]}`` shape Open WebUI reads."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    models = [
        AudioModel(id=model_id, name=model_id if engine is None else f"{model_id} ({engine})", engine=engine)
        for model_id, engine in names.models(core, settings).items()
    ]
    return answer(AudioModelList(models=models))


def voice_object(voice: CatalogVoice, openai_names: list[str]) -> VoiceObject:
    """A catalog voice as the voices list shows it."""
    return VoiceObject(
        id=voice.id,
        name=voice.name,
        languages=list(voice.languages),
        engine=voice.engine,
        kind=voice.kind,
        sample_rate=voice.sample_rate,
        speakers=list(voice.speakers),
        aliases=list(voice.aliases) + openai_names,
        description=voice.description,
    )


async def list_voices(request: web.Request) -> web.Response:
    """``GET /v1/audio/voices``: every voice; ``?model=`` or ``?engine=`` keeps one engine's, ``?language=`` one
    language's."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    filters = query(request, ListVoicesQuery)
    voices = core.voices()
    engine = names.resolve_model(core, settings, filters.model)
    if filters.engine is not None:
        try:
            engine = core.engine(filters.engine).id
        except UnknownEngineError as err:
            raise BadValueError(err) from None
    if engine is not None:
        voices = [v for v in voices if v.engine == engine]
    if filters.language is not None:
        voices = [v for v in voices if core.speaks(v, filters.language)]
    by_target: dict[str, list[str]] = {}
    for name, target in settings.voices.items():
        by_target.setdefault(target, []).append(name)
    out = []
    for voice in voices:
        openai_names = by_target.get(voice.id, []) + [n for a in voice.aliases for n in by_target.get(a, [])]
        out.append(voice_object(voice, openai_names))
    return answer(VoiceList(voices=out))
