"""The OpenAPI 3.1 document of the whole HTTP surface (``/openapi.json``), and a self-contained docs page (``/docs``).

The schemas are generated from the door's models (``schemas.py``: pydantic's JSON Schema, their ``$defs`` as
``components/schemas``), so the limits are the models' own. The document is built from the running server: the
longest ``input`` is the configured one, and the names a request may use (models, voices, speakers, languages,
engines) are listed from the same functions the handlers resolve them with (``names.py``).
"""

from __future__ import annotations

import copy
import html
import json
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter

from ... import __version__
from ...api import CoreAPI
from ...errors import EngineTimeoutError, InvalidAudioError, TooLargeError, UnsupportedError
from ...operations import MAX_REFERENCE_SECONDS, MIN_REFERENCE_SECONDS
from . import lab, names
from .auth import needs_key
from .encoders import CONTENT_TYPES
from .keys import CORE, SETTINGS
from .schemas import (
    AudioModelList,
    CatalogVoice,
    CreateConversionRequest,
    CreateVoiceRequest,
    Engine,
    EngineList,
    EngineModelList,
    ErrorResponse,
    EventsQuery,
    Health,
    ListVoicesQuery,
    LiveEvent,
    Model,
    ModelList,
    PullStarted,
    SpeechStreamEvent,
    Voice,
    VoiceDeleted,
    VoiceLibrary,
    VoiceList,
)
from .settings import HttpSettings
from .speech import body_model

REF = "#/components/schemas/{model}"

_ERRORS = {
    400: "Invalid request: a value the request model refuses, or a name (voice, model, language) the server lacks",
    401: "Missing or wrong API key",
    403: "A page of another origin may not change anything here (`Origin`), or a `Host` this server does not answer",
    404: "No such resource",
    408: "The request body stopped arriving",
    413: TooLargeError.__doc__ or "Too large",
    415: "The body is not of the type the operation takes (JSON, or a multipart form)",
    422: InvalidAudioError.__doc__ or "Audio that cannot be used",
    500: "The engine failed, or a directory voxhost writes to is read-only",
    501: UnsupportedError.__doc__ or "Not supported",
    503: "Busy, an engine's model is missing, too many connections, or stopping; retry after `Retry-After` seconds",
    504: EngineTimeoutError.__doc__ or "The engine made no progress",
    507: "No space left on the disk, or the voice library's quota is reached; nothing was stored",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
}
_TEXT = {"type": "string"}
_BINARY = {"type": "string", "format": "binary"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip()


class _Builder:
    """One document: the schemas generated from the models, then the operations that use them."""

    def __init__(self, core: CoreAPI, settings: HttpSettings, files: list[str]) -> None:
        self.core = core
        self.settings = settings
        self.files = files
        speech = body_model(core, settings)
        requests: dict[str, Any] = {
            "speech": speech,
            "conversion": CreateConversionRequest,
            "voice": CreateVoiceRequest,
            "voices_query": ListVoicesQuery,
            "events_query": EventsQuery,
        }
        answers: dict[str, Any] = {
            model.__name__: model
            for model in (
                ErrorResponse,
                Model,
                ModelList,
                AudioModelList,
                CatalogVoice,
                VoiceList,
                Voice,
                VoiceDeleted,
                VoiceLibrary,
                Engine,
                EngineList,
                EngineModelList,
                PullStarted,
                Health,
            )
        }
        answers["SpeechStreamEvent"] = SpeechStreamEvent
        answers["LiveEvent"] = LiveEvent
        inputs = [(key, "validation", TypeAdapter(model)) for key, model in requests.items()]
        inputs += [(key, "serialization", TypeAdapter(model)) for key, model in answers.items()]
        mapping, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF)  # type: ignore[arg-type]
        self.schemas: dict[str, Any] = definitions.get("$defs", {})
        for key in ("SpeechStreamEvent", "LiveEvent"):  # unions have no name of their own: name them here
            self.schemas[key] = mapping[(key, "serialization")]
        self.queries = {key: self.schemas.pop(requests[key].__name__) for key in ("voices_query", "events_query")}
        self._refine()

    # -- the names the server takes now ------------------------------------------------------------------

    def _refine(self) -> None:
        core, settings, schemas = self.core, self.settings, self.schemas
        speech = schemas["CreateSpeechRequest"]["properties"]
        models = names.model_names(core, settings)
        voices = names.voice_names(core, settings)
        _only(speech["model"], models)
        _only(speech["voice"], voices)
        _only(schemas["VoiceReference"]["properties"]["id"], voices)
        speakers, indices = names.speakers(core)
        if speakers:
            _only(speech["speaker"], speakers)
            speech["speaker"]["anyOf"].insert(1, {"type": "integer", "enum": indices})
        else:
            speech["speaker"].pop("anyOf")
            speech["speaker"]["type"] = "null"
            speech["speaker"]["description"] += " None of the running voices has several speakers."
        _narrow_pattern(speech["language"], names.language_pattern(names.spoken_bases(core)))
        speech["language"]["description"] += " It must be one that a running voice speaks (its base language)."
        options = [engine.options_schema for engine in core.engines() if "$defs" not in engine.options_schema]
        if options and len(options) == len(core.engines()):
            speech["options"] = {"description": speech["options"]["description"], "anyOf": options}
        voice_query = self.queries["voices_query"]["properties"]
        _only(voice_query["model"], models)
        _only(voice_query["engine"], [engine.id for engine in core.engines()])
        converters = core.converters()
        if converters:  # with none, every conversion is a 501 whatever it names
            conversion = schemas["CreateConversionRequest"]["properties"]
            _only(conversion["model"], [*converters, names.AUTO])
            if cloned := names.cloned_voice_names(core):
                _only(conversion["voice"], cloned)
        for form in ("CreateConversionRequest", "CreateVoiceRequest"):
            _no_null(schemas[form])  # a multipart field is sent or not; it cannot be null

    # -- operations ----------------------------------------------------------------------------------------

    def op(
        self,
        route: str,
        summary: str,
        description: str,
        ok: dict[str, Any],
        errors: tuple[int, ...] = (),
        *,
        tag: str,
        body: dict[str, Any] | None = None,
        parameters: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """One operation; 401 is added where the API key is needed, and ``security: []`` where it is not."""
        secured = needs_key(self.settings, route)
        statuses = sorted({*errors, 401} if secured else set(errors))
        responses = {**ok}
        for status in statuses:
            responses[str(status)] = {
                "description": _ERRORS[status],
                "content": {"application/json": {"schema": _ref("ErrorResponse")}},
            }
            if status in _HEADERS:
                responses[str(status)]["headers"] = _HEADERS[status]
        out: dict[str, Any] = {
            "operationId": route,
            "summary": summary,
            "description": description,
            "tags": [tag],
            "responses": responses,
        }
        if parameters:
            out["parameters"] = parameters
        if body is not None:
            out["requestBody"] = {"required": True, "content": body}
        if self.settings.api_key and not secured:
            out["security"] = []
        return out

    def document(self) -> dict[str, Any]:
        """The whole document."""
        doc: dict[str, Any] = {
            "openapi": "3.1.0",
            "info": {
                "title": "voxhost",
                "version": __version__,
                "description": "voxhost's OpenAI-compatible speech API, voice library, voice conversion, engines, "
                "models and live events.",
            },
            "paths": self._paths(),
            "components": {"schemas": self.schemas},
        }
        if self.settings.api_key:
            doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            doc["security"] = [{"bearer": []}]
        return doc

    def _paths(self) -> dict[str, Any]:
        op = self.op
        engine = _path("engine", "A running engine's id.", [info.id for info in self.core.engines()])
        voice_id = _path("voice_id", "A voice-library id, or a catalog voice id.")
        audio = {
            "200": {
                "description": "The audio as it is made: chunked bytes, or server-sent events with "
                "`stream_format: sse` (each event's `data` is one `SpeechStreamEvent`)",
                "headers": {
                    "X-Voxhost-Job": {"description": "The job's id (speech only)", "schema": _TEXT},
                    "X-Voxhost-Voice": {"description": "The catalog id of the voice that speaks", "schema": _TEXT},
                },
                "content": {
                    **{_media(ctype): {"schema": _BINARY} for ctype in CONTENT_TYPES.values()},
                    "text/event-stream": {"schema": _event_stream("SpeechStreamEvent")},
                },
            }
        }
        html_page = {"200": {"description": "HTML", "content": {"text/html": {"schema": _TEXT}}}}
        return {
            "/v1/audio/speech": {
                "post": op(
                    "speech",
                    "Speak text",
                    "OpenAI's speech endpoint. Audio streams as it is made (chunked) in every format; with "
                    "`stream_format: sse` the audio comes as base64 `speech.audio.delta` events and a final "
                    "`speech.audio.done` with `usage`. Everything is checked before the first byte; a later failure "
                    "ends the stream (SSE: an `error` event). Unknown body fields are ignored.",
                    audio,
                    (400, 403, 408, 413, 415, 500, 503, 504),
                    tag="speech",
                    body={"application/json": {"schema": _ref("CreateSpeechRequest")}},
                )
            },
            "/v1/audio/conversions": {
                "post": op(
                    "conversions",
                    "Convert speech into a library voice",
                    "Voice conversion by an engine with the convert capability; 501 when none is running.",
                    audio,
                    (400, 403, 408, 413, 415, 422, 500, 501, 503, 504),
                    tag="voices",
                    body={"multipart/form-data": {"schema": _ref("CreateConversionRequest")}},
                )
            },
            "/v1/models": {
                "get": op(
                    "models",
                    "List models",
                    "Engine ids and the configured OpenAI model names.",
                    _json(_ref("ModelList")),
                    tag="discovery",
                )
            },
            "/v1/models/{model}": {
                "get": op(
                    "model",
                    "Get a model",
                    "One model.",
                    _json(_ref("Model")),
                    (404,),
                    tag="discovery",
                    parameters=[_path("model", "A model name.", list(names.models(self.core, self.settings)))],
                )
            },
            "/v1/audio/models": {
                "get": op(
                    "audio_models",
                    "List speech models",
                    'The models in the `{"models": [...]}` shape Open WebUI reads.',
                    _json(_ref("AudioModelList")),
                    tag="discovery",
                )
            },
            "/v1/audio/voices": {
                "get": op(
                    "voices",
                    "List voices",
                    "Every voice of every running engine, cloned voices included. `?model=` or `?engine=` keeps "
                    "one engine's voices, `?language=` one language's.",
                    _json(_ref("VoiceList")),
                    (400,),
                    tag="discovery",
                    parameters=_query(self.queries["voices_query"]),
                ),
                "post": op(
                    "create_voice",
                    "Add a voice to the voice library",
                    f"Upload a {MIN_REFERENCE_SECONDS:g}-{MAX_REFERENCE_SECONDS:g} s sample (at most "
                    f"{self.settings.max_upload_mb:g} MiB); it is stored on disk, shared by every cloning engine "
                    "and every door, and survives restarts.",
                    _json(_ref("Voice")),
                    (400, 403, 408, 413, 415, 422, 500, 507),
                    tag="voices",
                    body={"multipart/form-data": {"schema": _ref("CreateVoiceRequest")}},
                ),
            },
            "/v1/audio/voices/{voice_id}": {
                "get": op(
                    "voice",
                    "Get a voice",
                    "A library voice (`audio.voice`), or a catalog voice by its id.",
                    _json({"anyOf": [_ref("Voice"), _ref("CatalogVoice")]}),
                    (404,),
                    tag="voices",
                    parameters=[voice_id],
                ),
                "delete": op(
                    "delete_voice",
                    "Delete a library voice",
                    "Deleting twice is a 404.",
                    _json(_ref("VoiceDeleted")),
                    (403, 404, 500),
                    tag="voices",
                    parameters=[voice_id],
                ),
            },
            "/v1/library/voices": {
                "get": op(
                    "library",
                    "List the voice library",
                    "Every stored voice, newest first, also those no running engine speaks (e.g. no transcript for "
                    "an engine that needs one).",
                    _json(_ref("VoiceLibrary")),
                    tag="voices",
                )
            },
            "/v1/engines": {
                "get": op(
                    "engines",
                    "List engines",
                    "Every running engine, loaded or not, with queue, device and memory when the engine reports "
                    "them, and the JSON Schema of its per-request options.",
                    _json(_ref("EngineList")),
                    tag="engines",
                )
            },
            "/v1/engines/{engine}/load": {
                "post": op(
                    "load_engine",
                    "Load an engine",
                    "Loads it now and answers when it is loaded.",
                    _json(_ref("Engine")),
                    (403, 404, 500, 503),
                    tag="engines",
                    parameters=[engine],
                )
            },
            "/v1/engines/{engine}/unload": {
                "post": op(
                    "unload_engine",
                    "Unload an engine",
                    "Frees its memory; the next request loads it again. Refused (503) while it has jobs.",
                    _json(_ref("Engine")),
                    (403, 404, 503),
                    tag="engines",
                    parameters=[engine],
                )
            },
            "/v1/engines/{engine}/models": {
                "get": op(
                    "engine_models",
                    "List an engine's models",
                    "The models the engine can use (as `voxhost models list`) and whether each is installed.",
                    _json(_ref("EngineModelList")),
                    (404,),
                    tag="engines",
                    parameters=[engine],
                )
            },
            "/v1/engines/{engine}/models/{model}/pull": {
                "post": op(
                    "pull_model",
                    "Pull a model",
                    "Starts downloading the model (and the models it needs) from Hugging Face and answers 202 at "
                    "once. Progress comes on `/v1/events`: `model_pull_started`, `model_pull_progress`, then "
                    "`model_pull_finished` or `model_pull_failed`. Asking again while it runs joins that pull.",
                    _json(_ref("PullStarted"), "Pull started", status=202),
                    (403, 404),
                    tag="engines",
                    parameters=[engine, _path("model", "One of the engine's models.")],
                )
            },
            "/v1/events": {
                "get": op(
                    "events",
                    "Live events",
                    "Server-sent events, never ending: each event's `data` is one `LiveEvent` (JSON), from every "
                    "door. The stream starts with `hello` listing the jobs in progress. Audio is never sent; "
                    "`?audio=true` adds `job_audio` events with byte counts. A browser's EventSource cannot send "
                    "headers, so the API key may also be given as `?api_key=`.",
                    {
                        "200": {
                            "description": "Event stream",
                            "content": {"text/event-stream": {"schema": _event_stream("LiveEvent")}},
                        }
                    },
                    (400,),
                    tag="operations",
                    parameters=_query(self.queries["events_query"]),
                )
            },
            "/": {
                "get": op(
                    "lab",
                    "Voice lab",
                    "A web page to try voices, clone voices and watch the daemon; it uses this API (it never "
                    "needs the API key itself; it asks for the key).",
                    {**html_page, "304": {"description": "Not modified (`If-None-Match`)"}},
                    tag="lab",
                )
            },
            "/static/{name}": {
                "get": op(
                    "static",
                    "Voice lab files",
                    "The page's scripts and styles.",
                    {
                        "200": {
                            "description": "A file",
                            "content": {_media(ctype): {"schema": _TEXT} for ctype in lab.CONTENT_TYPES.values()},
                        },
                        "304": {"description": "Not modified (`If-None-Match`)"},
                    },
                    (404,),
                    tag="lab",
                    parameters=[_path("name", "A file of the page.", self.files)],
                )
            },
            "/health": {
                "get": op(
                    "health",
                    "Health",
                    "Engines and doors (never needs the API key).",
                    _json(_ref("Health")),
                    tag="operations",
                )
            },
            "/metrics": {
                "get": op(
                    "metrics",
                    "Prometheus metrics",
                    "Jobs, time to first audio, real-time factor and queue depth, by door and engine.",
                    {"200": {"description": "Text exposition format", "content": {"text/plain": {"schema": _TEXT}}}},
                    tag="operations",
                )
            },
            "/openapi.json": {
                "get": op(
                    "openapi",
                    "This document",
                    "The OpenAPI document, built from the running server.",
                    _json({"type": "object"}),
                    tag="operations",
                )
            },
            "/docs": {
                "get": op("docs", "API docs page", "A readable page of this document.", html_page, tag="operations")
            },
        }


def _json(schema: dict[str, Any], description: str = "OK", status: int = 200) -> dict[str, Any]:
    return {str(status): {"description": description, "content": {"application/json": {"schema": schema}}}}


def _path(name: str, description: str, values: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if values:  # what exists now; any other value is a 404
        schema["enum"] = values
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def _event_stream(name: str) -> dict[str, Any]:
    """One server-sent event whose ``data`` is JSON of a component (how OpenAPI 3.1 tools read event streams)."""
    return {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": _ref(name)},
        },
    }


def _query(model_schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A query model's fields as query parameters."""
    required = set(model_schema.get("required", ()))
    out = []
    for name, prop in model_schema["properties"].items():
        schema = copy.deepcopy(prop)
        description = schema.pop("description", "")
        schema.pop("title", None)
        _no_null(schema)
        out.append(
            {"name": name, "in": "query", "required": name in required, "description": description, "schema": schema}
        )
    return out


def _strings(node: dict[str, Any]) -> list[dict[str, Any]]:
    """A property's string schemas: itself, or its ``anyOf`` branches that are strings."""
    if node.get("type") == "string":
        return [node]
    return [branch for branch in node.get("anyOf", ()) if branch.get("type") == "string"]


def _only(node: dict[str, Any], values: list[str]) -> None:
    """Restrict a property's strings to the names the server takes now."""
    for branch in _strings(node):
        branch["enum"] = values


def _narrow_pattern(node: dict[str, Any], pattern: str) -> None:
    for branch in _strings(node):
        branch["pattern"] = pattern


def _no_null(schema: dict[str, Any]) -> None:
    """Drop ``null`` from optional fields (multipart and query values are sent or not; never null)."""
    for prop in [schema, *schema.get("properties", {}).values()]:
        branches = prop.get("anyOf")
        if branches is None:
            continue
        kept = [branch for branch in branches if branch.get("type") != "null"]
        if len(kept) == 1:
            prop.pop("anyOf")
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept
        if prop.get("default", 0) is None:
            prop.pop("default")


def build_document(core: CoreAPI, settings: HttpSettings, files: list[str] | None = None) -> dict[str, Any]:
    """The document as this server answers now (``files``: the voice lab's files)."""
    return _Builder(core, settings, files or []).document()


async def _document(request: web.Request) -> dict[str, Any]:
    files = await request.app[lab.STATIC].names()
    return build_document(request.app[CORE], request.app[SETTINGS], files)


async def openapi_json(request: web.Request) -> web.Response:
    """``GET /openapi.json``."""
    return web.json_response(await _document(request))


def render_docs(doc: dict[str, Any]) -> str:
    """A plain HTML page listing every operation of the document (no scripts, no CDN)."""
    e = html.escape
    schemas = doc["components"]["schemas"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>voxhost API</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "code,pre{background:#f4f4f4;padding:.1rem .3rem}h2{border-bottom:1px solid #ccc}"
        ".m{font-weight:bold;display:inline-block;min-width:4.5rem}</style></head><body>",
        f"<h1>{e(doc['info']['title'])} API <small>{e(doc['info']['version'])}</small></h1>",
        f"<p>{e(doc['info']['description'])} The machine-readable document is "
        "<a href='/openapi.json'>/openapi.json</a>.</p>",
    ]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            lock = " (needs the API key)" if "security" in doc and op.get("security") != [] else ""
            parts.append(f"<h2><span class='m'>{e(method.upper())}</span> <code>{e(path)}</code>{lock}</h2>")
            parts.append(f"<p><b>{e(op['summary'])}.</b> {e(op['description'])}</p>")
            for ctype, media in op.get("requestBody", {}).get("content", {}).items():
                schema = schemas.get(media["schema"].get("$ref", "").rsplit("/", 1)[-1], {})
                parts.append(f"<p>Body (<code>{e(ctype)}</code>):</p><ul>")
                for field, spec in schema.get("properties", {}).items():
                    parts.append(_field(field, spec, field in schema.get("required", ()), schemas))
                parts.append("</ul>")
            params = op.get("parameters", [])
            if params:
                parts.append("<p>Parameters:</p><ul>")
                for param in params:
                    where = f"{param['name']} ({param['in']})"
                    parts.append(_field(where, {**param["schema"], **param}, param["required"], schemas))
                parts.append("</ul>")
            statuses = ", ".join(f"{code} {e(r['description'])}" for code, r in op["responses"].items())
            parts.append(f"<p><small>Responses: {statuses}</small></p>")
    parts.append("<h2>Schemas</h2><pre>" + e(json.dumps(schemas, indent=1)) + "</pre>")
    parts.append("</body></html>")
    return "".join(parts)


def _field(name: str, spec: dict[str, Any], required: bool, schemas: dict[str, Any]) -> str:
    """One field of a body or one parameter, with its allowed values or its bounds."""
    e = html.escape
    if "$ref" in spec:
        spec = {**schemas.get(spec["$ref"].rsplit("/", 1)[-1], {}), **spec}
    notes = [spec.get("description", "")]
    for branch in [spec, *spec.get("anyOf", ())]:
        if "enum" in branch:
            notes.append("one of " + ", ".join(map(str, branch["enum"])) + ".")
        bounds = [f"{key} {branch[key]}" for key in ("minLength", "maxLength", "minimum", "maximum") if key in branch]
        if bounds:
            notes.append("(" + ", ".join(bounds) + ")")
    text = " ".join(note for note in notes if note)
    return f"<li><code>{e(name)}</code>{' (required)' if required else ''}: {e(text)}</li>"


async def docs_page(request: web.Request) -> web.Response:
    """``GET /docs``."""
    return web.Response(text=render_docs(await _document(request)), content_type="text/html")
