"""The aiohttp application: routes, and the middlewares for CORS, errors, the API key and request metrics."""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web
from aiohttp.typedefs import Middleware

from ...api import CoreAPI
from ...budget import AudioBudget
from ...door import peer_address
from . import (
    conversions,
    discovery,
    engines,
    health,
    jobs,
    lab,
    lexicon,
    library,
    live,
    openapi,
    outputs,
    speech,
    transcriptions,
    translations,
    voices,
)
from .auth import Handler, key_check
from .checks import Check, ExpectHandler, checking, expect_handler
from .errors import ShuttingDownError, error_middleware
from .guard import Guard
from .keys import CLIENT, CLOSING, CORE, CORS_HEADERS, EXECUTOR, IN_FLIGHT, METRICS, PULLS, SETTINGS
from .lingering import lingering_middleware
from .metrics import Metrics
from .paths import normalize_path
from .settings import HttpSettings, normalize_origin
from .uploads import MAX_JSON_BYTES, admit, budget_middleware

_LOGGER = logging.getLogger(__name__)

OUTPUT_ID = r"(?!(?:delete|archive)$)[^{}/]+"
"""An output id in a path: any segment but the names of the routes beside it, so ``/v1/outputs/delete`` is never
taken for an output (a GET of it is a 405 naming POST), while an id that is no output's (``/v1/outputs/nope``)
reaches the handler and is a 404 saying there is no such output, not "no such route"."""


def _add_routes(app: web.Application, expect: ExpectHandler) -> None:
    """Every route; each answers ``Expect: 100-continue`` with ``expect`` (the door's checks, ``checks``)."""
    router = app.router
    get, post, put, patch, delete = (
        functools.partial(add, expect_handler=expect)
        for add in (router.add_get, router.add_post, router.add_put, router.add_patch, router.add_delete)
    )
    post("/v1/audio/speech", speech.create_speech, name="speech")
    post("/v1/audio/conversions", conversions.create_conversion, name="conversions")
    post("/v1/audio/transcriptions", transcriptions.create_transcription, name="transcriptions")
    post("/v1/audio/translations", translations.create_translation, name="translations")
    get("/v1/models", discovery.list_models, name="models")
    get("/v1/models/{model}", discovery.get_model, name="model")
    get("/v1/audio/models", discovery.list_audio_models, name="audio_models")
    get("/v1/audio/voices", discovery.list_voices, name="voices")
    post("/v1/audio/voices", voices.create_voice, name="create_voice")
    get("/v1/audio/voices/{voice_id}", voices.get_voice, name="voice")
    delete("/v1/audio/voices/{voice_id}", voices.delete_voice, name="delete_voice")
    get("/v1/library/voices", voices.list_library, name="library")
    get("/v1/engines", engines.list_engines, name="engines")
    post("/v1/engines/{engine}/load", engines.load_engine, name="load_engine")
    post("/v1/engines/{engine}/unload", engines.unload_engine, name="unload_engine")
    get("/v1/engines/{engine}/models", engines.list_models, name="engine_models")
    post("/v1/engines/{engine}/models/{model}/pull", engines.pull_model, name="pull_model")
    get("/v1/events", live.events, name="events")
    get("/v1/jobs", jobs.list_jobs, name="jobs")
    get("/v1/jobs/{job_id}", jobs.get_job, name="job")
    delete("/v1/jobs/{job_id}", jobs.delete_job, name="delete_job")
    get("/v1/jobs/{job_id}/audio", jobs.job_audio, name="job_audio")
    get("/v1/outputs", outputs.list_outputs, name="outputs")
    post("/v1/outputs/delete", outputs.delete_outputs, name="delete_outputs")
    get("/v1/outputs/archive", outputs.outputs_archive, name="outputs_archive")
    get(f"/v1/outputs/{{output_id:{OUTPUT_ID}}}", outputs.get_output, name="output")
    delete(f"/v1/outputs/{{output_id:{OUTPUT_ID}}}", outputs.delete_output, name="delete_output")
    get(f"/v1/outputs/{{output_id:{OUTPUT_ID}}}/audio", outputs.output_audio, name="output_audio")
    patch("/v1/audio/voices/{voice_id}", library.update_voice, name="update_voice")
    put("/v1/audio/voices/{voice_id}/audio", library.replace_voice_audio, name="replace_voice_audio")
    post("/v1/library/voices/delete", library.delete_voices, name="delete_voices")
    get("/v1/library/export", library.export_voices, name="export_voices")
    post("/v1/library/import", library.import_voices, name="import_voices")
    get("/v1/lexicon", lexicon.list_lexicon, name="lexicon")
    post("/v1/lexicon", lexicon.add_lexicon_entry, name="add_lexicon_entry")
    delete("/v1/lexicon/{entry_id}", lexicon.delete_lexicon_entry, name="delete_lexicon_entry")
    get("/", lab.page, name="lab")
    get("/static/{name}", lab.static_file, name="static")
    get("/health", health.health, name="health")
    get("/metrics", health.metrics, name="metrics")
    get("/openapi.json", openapi.openapi_json, name="openapi")
    get("/docs", openapi.docs_page, name="docs")


def _cors_middleware(settings: HttpSettings) -> Middleware:
    origins = set(settings.cors_origins)
    any_origin = "*" in origins

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = bool(origin) and (any_origin or normalize_origin(origin or "") in origins)
        if not allowed:
            return await handler(request)
        assert origin is not None  # allowed implies an Origin header
        headers: dict[str, str] = {
            "Access-Control-Allow-Origin": "*" if any_origin else origin,
            "Access-Control-Expose-Headers": (
                "X-Voxhost-Job, X-Voxhost-Voice, X-Voxhost-Nothing-To-Say, Retry-After, Location, Content-Disposition"
            ),
        }
        if not any_origin:
            headers["Vary"] = "Origin"
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            headers.update(
                {
                    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                    "Access-Control-Allow-Headers": request.headers.get(
                        "Access-Control-Request-Headers", "Authorization, Content-Type"
                    ),
                    "Access-Control-Max-Age": "600",
                }
            )
            return web.Response(status=204, headers=headers)
        request[CORS_HEADERS] = headers  # added as the response is prepared (streams send headers early)
        return await handler(request)

    return cors


def _count(metrics: Metrics, request: web.Request, status: int) -> None:
    """Count one answered request, by its route."""
    route = request.match_info.route
    resource = route.resource if route is not None else None
    metrics.request_done(request.method, resource.canonical if resource is not None else "unmatched", status)


def _metrics_middleware(metrics: Metrics) -> Middleware:
    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        _count(metrics, request, response.status)
        return response

    return count


@web.middleware
async def _client_address(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Note the client's address while its connection is open (logs of a client that went away still name it)."""
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    request[CLIENT] = peer_address(peer, request.remote or "unknown")
    return await handler(request)


def _open(request: web.Request) -> None:
    """Refuse (503) a request once the door drains."""
    if request.app[CLOSING].is_set():
        raise ShuttingDownError("the server is stopping; try again shortly", retry_after=5)


@web.middleware
async def _in_flight(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Keep count of requests being answered; once the door drains, new ones get a 503 (and their connection ends)."""
    _open(request)
    task = asyncio.current_task()
    assert task is not None
    request.app[IN_FLIGHT].add(task)
    try:
        return await handler(request)
    finally:
        request.app[IN_FLIGHT].discard(task)


async def begin_shutdown(app: web.Application) -> None:
    """End event streams and model pulls, and take no new requests (the door's drain, and aiohttp's shutdown)."""
    app[CLOSING].set()  # event streams end now instead of holding the shutdown for its whole timeout
    for task in list(app[PULLS].values()):
        task.cancel()  # the download thread finishes on its own; nothing more is announced


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Headers every answer gets as it is prepared: those of a stream, an error page or a raised ``HTTPException``
    included (a middleware would come too late for a stream, whose headers are sent from inside its handler)."""
    if headers := request.get(CORS_HEADERS):
        response.headers.update(headers)
    for name, value in lab.ANSWER_HEADERS.items():
        response.headers.setdefault(name, value)  # an HTML page keeps its own policy


def build_app(
    core: CoreAPI, settings: HttpSettings, executor: ThreadPoolExecutor, metrics: Metrics, uploads: AudioBudget
) -> web.Application:
    """The door's application; the caller runs it (``AppRunner``) and owns the executor, metrics and upload budget."""
    guard, key = Guard(settings).check, key_check(settings)
    # What a request is refused for before its body is read, in the middlewares' order: also asked for ``Expect``.
    early: list[Check] = [guard, _open, key, functools.partial(admit, budget=uploads, hold=False)]
    app = web.Application(
        middlewares=[
            _client_address,
            _cors_middleware(settings),
            _metrics_middleware(metrics),
            lingering_middleware,  # sends the error answers below before the rest of their body is dropped
            error_middleware,
            checking(guard),
            normalize_path,  # ``/v1//audio/speech`` and ``/v1/models/``: a 308 to the route meant
            _in_flight,
            checking(key),
            # Last: an upload refused for want of a key or a route is not counted among those in progress.
            budget_middleware(uploads),
        ],
        client_max_size=MAX_JSON_BYTES,  # JSON bodies; uploads are streamed and limited per route (UPLOADS)
    )
    app[CORE] = core
    app[SETTINGS] = settings
    app[EXECUTOR] = executor
    app[METRICS] = metrics
    app[PULLS] = {}
    app[CLOSING] = asyncio.Event()
    app[IN_FLIGHT] = set()
    app[lab.STATIC] = lab.StaticFiles()
    app.on_response_prepare.append(_on_prepare)
    app.on_shutdown.append(begin_shutdown)
    _add_routes(app, expect_handler(early, functools.partial(_count, metrics)))
    return app
