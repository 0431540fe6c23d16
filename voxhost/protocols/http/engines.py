"""Engines and their models over HTTP: list, load, unload, and pull models with progress on ``/v1/events``.

A pull answers 202 at once and runs on a thread; its ``model_pull_*`` events go to the core's bus, so the voice
lab (and MQTT) watch it. One pull per model at a time: asking again while it runs joins the running one.

An engine whose list of models comes from the network (the Piper voice catalog) has it fetched, as ``voxhost models``
does, when it was never fetched (listing) or does not name the model asked for (pulling); a catalog that cannot be
fetched is a 503 saying why.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from ... import models
from ...api import CoreAPI, EngineInfo
from ...engine import ModelSpec
from ...errors import UnknownEngineError, VoxhostError
from ...events import (
    ModelPullFailed,
    ModelPullFinished,
    ModelPullProgress,
    ModelPullStarted,
)
from .keys import CORE, PULLS
from .parsing import answer
from .schemas import Engine, EngineList, EngineModel, EngineModelList, PullStarted

_LOGGER = logging.getLogger(__name__)


class UnknownModelError(VoxhostError):
    """An engine has no model of that name."""

    code = "model_not_found"
    http_status = 404


def _engine(core: CoreAPI, request: web.Request) -> EngineInfo:
    return core.engine(request.match_info["engine"])  # UnknownEngineError (404) naming the running engines


def engine_object(core: CoreAPI, status: dict[str, Any]) -> Engine:
    """One engine as ``/v1/engines`` lists it: ``CoreAPI.engine_status`` plus what the lab page shows."""
    engine = core.engine(status["id"])
    return Engine.model_validate(
        {
            **status,
            "name": engine.name,
            "voices": sum(1 for v in core.voices() if v.engine == engine.id),
            "needs_transcript": engine.needs_transcript,
            "models": len(engine.models),
            "fetches_models": engine.fetches_models,
            "options": engine.options_schema,
            "withheld_voices": [
                {"id": f"{engine.id}:{voice.id}", "languages": list(voice.languages), "reason": voice.reason}
                for voice in engine.withheld
            ],
        }
    )


async def _one(core: CoreAPI, engine_id: str) -> Engine:
    for status in await core.engine_status():
        if status["id"] == engine_id:
            return engine_object(core, status)
    raise UnknownEngineError(f"unknown engine {engine_id!r}")


async def list_engines(request: web.Request) -> web.Response:
    """``GET /v1/engines``: every running engine, loaded or not, with device and memory when it reports them."""
    core = request.app[CORE]
    return answer(EngineList(data=[engine_object(core, status) for status in await core.engine_status()]))


async def load_engine(request: web.Request) -> web.Response:
    """``POST /v1/engines/{engine}/load``: load now (waits until loaded; a failure is the engine's error)."""
    core = request.app[CORE]
    engine = _engine(core, request)
    await core.load_engine(engine.id)  # a client that leaves does not cut the load halfway
    return answer(await _one(core, engine.id))


async def unload_engine(request: web.Request) -> web.Response:
    """``POST /v1/engines/{engine}/unload``: free its memory; refused (503) while it has jobs."""
    core = request.app[CORE]
    engine = _engine(core, request)
    await core.unload_engine(engine.id)  # BusyError (503) while it has jobs
    return answer(await _one(core, engine.id))


def _model_object(st: models.ModelStatus, pulling: bool) -> EngineModel:
    spec = st.spec
    return EngineModel(
        engine=spec.engine,
        name=spec.name,
        repo=spec.repo,
        revision=spec.revision,
        description=spec.description,
        requires=list(spec.requires),
        installed=st.installed,
        size=st.size,
        path=str(st.path) if st.path else None,
        pulling=pulling,
        pull_command=spec.pull_command,
    )


async def list_models(request: web.Request) -> web.Response:
    """``GET /v1/engines/{engine}/models``: the models the engine can use and whether each is installed."""
    core = request.app[CORE]
    engine = _engine(core, request)
    if engine.fetches_models and not engine.models:  # a catalog never fetched: fetch it now (503 when offline)
        await core.refresh_models(engine.id)
        engine = _engine(core, request)
    pulls = request.app[PULLS]

    def statuses() -> list[models.ModelStatus]:  # globbing the models directory: a thread's work
        return [
            models.status(spec, engine.context.models_dir, search_hf_cache=engine.context.search_hf_cache)
            for spec in engine.models
        ]

    data = [_model_object(st, (engine.id, st.spec.name) in pulls) for st in await asyncio.to_thread(statuses)]
    return answer(EngineModelList(data=data))


async def _with_catalog(core: CoreAPI, engine: EngineInfo, name: str) -> tuple[EngineInfo, str | None]:
    """The engine with its list of models fetched again when it fetches one and lacks ``name`` (never fetched, or
    a model newer than the copy fetched before), and why that fetch failed (None: fetched, or nothing to fetch).
    With no copy fetched before, a failure is the answer (503)."""
    if not engine.fetches_models or any(spec.name == name for spec in engine.models):
        return engine, None
    try:
        await core.refresh_models(engine.id)
    except models.ModelDownloadError as err:
        if not engine.models:
            raise
        return engine, err.message
    return core.engine(engine.id), None


def _with_requirements(engine: EngineInfo, name: str, failure: str | None = None) -> list[ModelSpec]:
    """The model and the models it needs, needed ones first (``failure``: why the engine's list of models could
    not be fetched again, said with an unknown model)."""
    specs = {spec.name: spec for spec in engine.models}
    ordered: dict[str, ModelSpec] = {}

    def add(model: str, path: tuple[str, ...]) -> None:
        if model not in specs:
            names = ", ".join(specs) or "none"
            note = f"; fetching the list again failed: {failure}" if failure else ""
            raise UnknownModelError(
                f"engine {engine.id!r} has no model {model!r} (models: {names}){note}", param="model"
            )
        if model in ordered or model in path:
            return
        for required in specs[model].requires:
            add(required, (*path, model))
        ordered[model] = specs[model]

    add(name, ())
    return list(ordered.values())


async def _pull(core: CoreAPI, engine: EngineInfo, specs: list[ModelSpec]) -> None:
    loop = asyncio.get_running_loop()
    publish = core.bus.publish
    for spec in specs:
        publish(ModelPullStarted(engine=spec.engine, model=spec.name, repo=spec.repo))

        def progress(done: int, total: int | None, spec: ModelSpec = spec) -> None:
            event = ModelPullProgress(engine=spec.engine, model=spec.name, downloaded=done, total=total)
            loop.call_soon_threadsafe(publish, event)

        try:
            path = await asyncio.to_thread(models.pull, spec, engine.context.models_dir, progress=progress)
        except VoxhostError as err:
            _LOGGER.warning("Pulling %s %s failed: %s", spec.engine, spec.name, err.message)
            publish(ModelPullFailed(engine=spec.engine, model=spec.name, code=err.code, message=err.message))
            return
        except Exception as err:  # a failure of the hub library itself: still a failed pull, never a dead task
            _LOGGER.exception("Pulling %s %s failed", spec.engine, spec.name)
            publish(
                ModelPullFailed(
                    engine=spec.engine,
                    model=spec.name,
                    code="model_download_failed",
                    message=f"{type(err).__name__}: {err}",
                )
            )
            return
        _LOGGER.info("Pulled %s %s into %s", spec.engine, spec.name, path)
        publish(ModelPullFinished(engine=spec.engine, model=spec.name, path=str(path)))


async def pull_model(request: web.Request) -> web.Response:
    """``POST /v1/engines/{engine}/models/{model}/pull``: start downloading (202); progress goes to the events."""
    core = request.app[CORE]
    engine = _engine(core, request)
    name = request.match_info["model"]
    engine, failure = await _with_catalog(core, engine, name)  # 503 when a catalog was never had and cannot be
    specs = _with_requirements(engine, name, failure)  # 404 for an unknown model, before anything starts
    pulls = request.app[PULLS]
    key = (engine.id, name)
    if key not in pulls:
        task = asyncio.create_task(_pull(core, engine, specs), name=f"pull-{engine.id}-{name}")
        pulls[key] = task
        task.add_done_callback(lambda _: pulls.pop(key, None))
    return answer(PullStarted(engine=engine.id, model=name, models=[spec.name for spec in specs]), status=202)
