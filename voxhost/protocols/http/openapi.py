"""The OpenAPI 3.1 document of the whole HTTP surface (``/openapi.json``) and a self-contained docs page (``/docs``)."""

from __future__ import annotations

import html
import json
from typing import Any

from aiohttp import web

from ... import __version__
from .encoders import CONTENT_TYPES, FORMATS
from .keys import SETTINGS
from .settings import HttpSettings

_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def _errors(*statuses: int) -> dict[str, Any]:
    meaning = {
        400: "Invalid request (bad value, unknown voice or model, text too long)",
        401: "Missing or wrong API key",
        404: "No such resource",
        413: "Upload too large",
        422: "Audio that cannot be used (does not decode, silent, too short or too long)",
        501: "No running engine can do this",
        503: "Busy or loading; retry after `Retry-After` seconds",
    }
    return {
        str(s): {"description": meaning[s], "content": {"application/json": {"schema": _ERROR_REF}}} for s in statuses
    }


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_AUDIO_CONTENT = {
    ctype.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for ctype in CONTENT_TYPES.values()
}
_AUDIO_CONTENT["text/event-stream"] = {
    "schema": {"type": "string", "description": "SSE: `speech.audio.delta` events, then `speech.audio.done`"}
}

_SCHEMAS: dict[str, Any] = {
    "ErrorResponse": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message", "type", "param", "code"],
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string", "enum": ["invalid_request_error", "server_error"]},
                    "param": {"type": ["string", "null"]},
                    "code": {"type": ["string", "null"]},
                },
            }
        },
    },
    "CreateSpeechRequest": {
        "type": "object",
        "required": ["input"],
        "properties": {
            "model": {
                "type": "string",
                "description": "An engine id, or a configured name (tts-1, tts-1-hd, "
                "gpt-4o-mini-tts); `auto` or absent lets the voice choose the engine.",
            },
            "input": {
                "type": "string",
                "description": "The text to speak (at most `http.max_input_chars`, 4096 by default).",
            },
            "voice": {
                "description": "A catalog voice id or alias, an OpenAI voice name (mapped by config), a voice-library "
                'id, or `{"id": ...}`.',
                "oneOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "required": ["id"],
                        "properties": {"id": {"type": "string"}},
                        "additionalProperties": False,
                    },
                ],
            },
            "response_format": {
                "type": "string",
                "enum": list(FORMATS),
                "default": "mp3",
                "description": "pcm is raw 24 kHz s16le mono; streamed wav has 0xFFFFFFFF sizes.",
            },
            "speed": {"type": "number", "minimum": 0.25, "maximum": 4.0, "default": 1.0},
            "instructions": {
                "type": "string",
                "maxLength": 4096,
                "description": "Style instructions, passed to engines that use them.",
            },
            "stream_format": {"type": "string", "enum": ["audio", "sse"], "default": "audio"},
            "language": {
                "type": "string",
                "description": "voxhost extension: language (en_US, de) to pick a voice "
                "or to tell a multilingual engine.",
            },
            "speaker": {
                "type": ["string", "integer"],
                "description": "voxhost extension: speaker of a multi-speaker voice.",
            },
            "seed": {"type": "integer", "description": "voxhost extension: seed for engines that sample."},
            "options": {"type": "object", "description": "voxhost extension: the engine's own per-request options."},
        },
    },
    "Model": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "model"},
            "created": {"type": "integer"},
            "owned_by": {"type": "string"},
            "engine": {"type": ["string", "null"], "description": "The engine it maps to; null: the voice decides."},
        },
    },
    "ModelList": {
        "type": "object",
        "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": _ref("Model")}},
    },
    "AudioModels": {
        "type": "object",
        "properties": {
            "models": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "engine": {"type": ["string", "null"]},
                    },
                },
            }
        },
    },
    "CatalogVoice": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "string", "description": "`engine:voice`; use it as `voice`."},
            "object": {"const": "voice"},
            "name": {"type": "string"},
            "languages": {"type": "array", "items": {"type": "string"}},
            "engine": {"type": "string"},
            "kind": {"type": "string", "enum": ["builtin", "cloned"]},
            "sample_rate": {"type": "integer"},
            "speakers": {"type": "array", "items": {"type": "string"}},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "description": {"type": "string"},
        },
    },
    "VoiceList": {"type": "object", "properties": {"voices": {"type": "array", "items": _ref("CatalogVoice")}}},
    "Voice": {
        "type": "object",
        "description": "A voice-library voice (OpenAI's `audio.voice` object plus voxhost's fields).",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "audio.voice"},
            "name": {"type": "string"},
            "created_at": {"type": "integer"},
            "type": {"const": "audio_sample"},
            "language": {"type": ["string", "null"]},
            "transcript": {"type": ["string", "null"]},
            "seconds": {"type": "number"},
            "sample_rate": {"type": "integer"},
            "engines": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Catalog ids under which cloning engines speak this voice.",
            },
        },
    },
    "VoiceDeleted": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "deleted": {"type": "boolean"},
            "object": {"const": "audio.voice.deleted"},
        },
    },
    "CreateVoiceRequest": {
        "type": "object",
        "required": ["name", "audio_sample"],
        "properties": {
            "name": {"type": "string", "description": "1-64 letters, digits, spaces, . - _ ( )"},
            "audio_sample": {
                "type": "string",
                "format": "binary",
                "description": "1-30 s of speech (wav, flac, ogg, mp3, aac, m4a, webm).",
            },
            "transcript": {
                "type": "string",
                "description": "What the sample says; required when every running "
                "cloning engine needs one (F5-TTS, Qwen3-TTS).",
            },
            "language": {"type": "string", "description": "Language of the sample (en_US, de)."},
            "consent": {"type": "string", "description": "Accepted for OpenAI compatibility; not checked."},
            "type": {"const": "audio_sample"},
        },
    },
    "CreateConversionRequest": {
        "type": "object",
        "required": ["audio", "voice"],
        "properties": {
            "audio": {"type": "string", "format": "binary", "description": "The speech to convert."},
            "voice": {"type": "string", "description": "A voice-library id (or `engine:voice_...`)."},
            "model": {"type": "string", "description": "The converting engine (default: the first able one)."},
            "response_format": {"type": "string", "enum": list(FORMATS), "default": "mp3"},
            "stream_format": {"type": "string", "enum": ["audio", "sse"], "default": "audio"},
        },
    },
    "VoiceLibrary": {
        "type": "object",
        "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": _ref("Voice")}},
    },
    "Engine": {
        "type": "object",
        "description": "A running engine (configured and enabled), loaded or not.",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "engine"},
            "name": {"type": "string"},
            "mode": {"type": "string", "enum": ["thread", "worker"]},
            "loaded": {"type": "boolean"},
            "error": {"type": ["string", "null"], "description": "Why the last load failed."},
            "capabilities": {
                "type": "array",
                "items": {"type": "string", "enum": ["clone", "convert", "stream", "tts"]},
            },
            "queue": {"type": "integer", "description": "Jobs waiting or running."},
            "busy": {"type": "boolean"},
            "voices": {"type": "integer"},
            "models": {"type": "integer", "description": "How many models the engine declares."},
            "needs_transcript": {"type": "boolean", "description": "Cloned voices need a transcript."},
            "options": {"type": "object", "description": "JSON Schema of the engine's per-request `options`."},
            "withheld_voices": {
                "type": "array",
                "description": "Built-in voices not offered with this configuration, and what would offer them.",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "languages": {"type": "array", "items": {"type": "string"}},
                        "reason": {"type": "string"},
                    },
                },
            },
            "device": {"type": "string", "description": "When loaded and reported (cpu, cuda:0, mps)."},
            "memory": {"description": "When loaded and reported (bytes, or an object of the engine's figures)."},
        },
        "additionalProperties": True,
    },
    "EngineList": {
        "type": "object",
        "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": _ref("Engine")}},
    },
    "EngineModel": {
        "type": "object",
        "properties": {
            "object": {"const": "engine.model"},
            "engine": {"type": "string"},
            "name": {"type": "string"},
            "repo": {"type": "string", "description": "Hugging Face repository."},
            "revision": {"type": ["string", "null"]},
            "description": {"type": "string"},
            "requires": {"type": "array", "items": {"type": "string"}},
            "installed": {"type": "boolean"},
            "size": {"type": "integer", "description": "Bytes on disk."},
            "path": {"type": ["string", "null"]},
            "pulling": {"type": "boolean"},
            "pull_command": {"type": "string"},
        },
    },
    "EngineModelList": {
        "type": "object",
        "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": _ref("EngineModel")}},
    },
    "PullStarted": {
        "type": "object",
        "properties": {
            "object": {"const": "engine.model.pull"},
            "engine": {"type": "string"},
            "model": {"type": "string"},
            "state": {"const": "pulling"},
            "models": {
                "type": "array",
                "items": {"type": "string"},
                "description": "What is pulled, in order: the model's requirements, then the model.",
            },
        },
    },
    "Health": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "version": {"type": "string"},
            "uptime": {"type": "number"},
            "engines": {"type": "array", "items": {"type": "object"}},
            "doors": {"type": "object"},
            "voices": {"type": "integer"},
            "jobs": {"type": "integer"},
        },
    },
}


def _op(
    summary: str, description: str, responses: dict[str, Any], *, tag: str, secured: bool = True, **extra: Any
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "description": description, "tags": [tag], "responses": responses}
    if not secured:
        op["security"] = []
    op.update(extra)
    return op


def build_document(settings: HttpSettings) -> dict[str, Any]:
    """The document, reflecting which routes the settings leave open."""
    open_discovery = settings.open_discovery
    voice_path = {"name": "voice_id", "in": "path", "required": True, "schema": {"type": "string"}}
    engine_path = {"name": "engine", "in": "path", "required": True, "schema": {"type": "string"}}
    paths: dict[str, Any] = {
        "/v1/audio/speech": {
            "post": _op(
                "Speak text",
                "OpenAI's speech endpoint. Audio streams as it is made (chunked) in every format; with "
                "`stream_format: sse` the audio comes as base64 `speech.audio.delta` events and a final "
                "`speech.audio.done` with `usage`. Everything is checked before the first byte; a later failure ends "
                "the stream (SSE: an `error` event).",
                {"200": {"description": "Audio stream", "content": _AUDIO_CONTENT}, **_errors(400, 401, 503)},
                tag="speech",
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": _ref("CreateSpeechRequest")}},
                },
            )
        },
        "/v1/audio/conversions": {
            "post": _op(
                "Convert speech into a library voice",
                "Voice conversion by an engine with the convert capability; 501 when none is running.",
                {
                    "200": {"description": "Audio stream", "content": _AUDIO_CONTENT},
                    **_errors(400, 401, 413, 422, 501, 503),
                },
                tag="voices",
                requestBody={
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _ref("CreateConversionRequest")}},
                },
            )
        },
        "/v1/models": {
            "get": _op(
                "List models",
                "Engine ids and the configured OpenAI model names.",
                {**_json(_ref("ModelList")), **_errors(401)},
                tag="discovery",
                secured=not open_discovery,
            )
        },
        "/v1/models/{model}": {
            "get": _op(
                "Get a model",
                "One model.",
                {**_json(_ref("Model")), **_errors(401, 404)},
                tag="discovery",
                secured=not open_discovery,
                parameters=[{"name": "model", "in": "path", "required": True, "schema": {"type": "string"}}],
            )
        },
        "/v1/audio/models": {
            "get": _op(
                "List speech models",
                'The models in the `{"models": [...]}` shape Open WebUI reads.',
                {**_json(_ref("AudioModels")), **_errors(401)},
                tag="discovery",
                secured=not open_discovery,
            )
        },
        "/v1/audio/voices": {
            "get": _op(
                "List voices",
                "Every voice of every running engine, cloned voices included. `?model=` keeps one engine's voices, "
                "`?language=` one language's.",
                {**_json(_ref("VoiceList")), **_errors(400, 401)},
                tag="discovery",
                secured=not open_discovery,
                parameters=[
                    {"name": "model", "in": "query", "required": False, "schema": {"type": "string"}},
                    {"name": "language", "in": "query", "required": False, "schema": {"type": "string"}},
                ],
            ),
            "post": _op(
                "Add a voice to the voice library",
                "Upload a 1-30 s sample (at most `http.max_upload_mb`); it is stored on disk, shared by every "
                "cloning engine and every door, and survives restarts.",
                {**_json(_ref("Voice")), **_errors(400, 401, 413, 422)},
                tag="voices",
                requestBody={
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _ref("CreateVoiceRequest")}},
                },
            ),
        },
        "/v1/audio/voices/{voice_id}": {
            "get": _op(
                "Get a voice",
                "A library voice (`audio.voice`), or a catalog voice by its id.",
                {**_json({"oneOf": [_ref("Voice"), _ref("CatalogVoice")]}), **_errors(401, 404)},
                tag="voices",
                parameters=[voice_path],
            ),
            "delete": _op(
                "Delete a library voice",
                "Deleting twice is a 404.",
                {**_json(_ref("VoiceDeleted")), **_errors(401, 404)},
                tag="voices",
                parameters=[voice_path],
            ),
        },
        "/v1/library/voices": {
            "get": _op(
                "List the voice library",
                "Every stored voice, newest first, also those no running engine "
                "speaks (e.g. no transcript for an engine that needs one).",
                {**_json(_ref("VoiceLibrary")), **_errors(401)},
                tag="voices",
            )
        },
        "/v1/engines": {
            "get": _op(
                "List engines",
                "Every running engine, loaded or not, with queue, device and memory when the "
                "engine reports them, and the JSON Schema of its per-request options.",
                {**_json(_ref("EngineList")), **_errors(401)},
                tag="engines",
            )
        },
        "/v1/engines/{engine}/load": {
            "post": _op(
                "Load an engine",
                "Loads it now and answers when it is loaded.",
                {**_json(_ref("Engine")), **_errors(401, 404, 503)},
                tag="engines",
                parameters=[engine_path],
            )
        },
        "/v1/engines/{engine}/unload": {
            "post": _op(
                "Unload an engine",
                "Frees its memory; the next request loads it again. Refused (503) while it has jobs.",
                {**_json(_ref("Engine")), **_errors(401, 404, 503)},
                tag="engines",
                parameters=[engine_path],
            )
        },
        "/v1/engines/{engine}/models": {
            "get": _op(
                "List an engine's models",
                "The models the engine can use (as `voxhost models list`) and whether each is installed.",
                {**_json(_ref("EngineModelList")), **_errors(401, 404)},
                tag="engines",
                parameters=[engine_path],
            )
        },
        "/v1/engines/{engine}/models/{model}/pull": {
            "post": _op(
                "Pull a model",
                "Starts downloading the model (and the models it needs) from Hugging Face "
                "and answers 202 at once. Progress comes on `/v1/events`: `model_pull_started`, "
                "`model_pull_progress` (`downloaded`, `total` bytes), then `model_pull_finished` or "
                "`model_pull_failed` (`code`, `message`). Asking again while it runs joins that pull.",
                {
                    "202": {
                        "description": "Pull started",
                        "content": {"application/json": {"schema": _ref("PullStarted")}},
                    },
                    **_errors(401, 404),
                },
                tag="engines",
                parameters=[
                    engine_path,
                    {"name": "model", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
            )
        },
        "/v1/events": {
            "get": _op(
                "Live events",
                "Server-sent events: one `data:` line of JSON per core event, from every door (Wyoming, MQTT, "
                "HTTP): `job_accepted` (voice, engine, door, chars), `job_started` (wait), `job_progress`, "
                "`job_finished` (ttfa, rtf, audio_seconds, elapsed), `job_failed` (code, message), "
                "`job_cancelled`, `engine_loaded`, `engine_unloaded`, `voice_added`, `voice_removed` and "
                "`model_pull_*`. The stream starts with `hello` listing the jobs in progress. Audio is never sent; "
                "`?audio=true` adds `job_audio` events with byte counts. Browsers' EventSource cannot send "
                "headers, so the API key may also be given as `?api_key=`.",
                {
                    "200": {
                        "description": "Event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    **_errors(401),
                },
                tag="operations",
                parameters=[
                    {"name": "api_key", "in": "query", "required": False, "schema": {"type": "string"}},
                    {"name": "audio", "in": "query", "required": False, "schema": {"type": "boolean"}},
                ],
            )
        },
        "/": {
            "get": _op(
                "Voice lab",
                "A web page to try voices, clone voices and watch the daemon; it uses this API "
                "(never needs the API key itself; it asks for the key).",
                {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
                tag="lab",
                secured=False,
            )
        },
        "/static/{name}": {
            "get": _op(
                "Voice lab files",
                "The page's scripts and styles.",
                {"200": {"description": "A file"}, **_errors(404)},
                tag="lab",
                secured=False,
                parameters=[{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            )
        },
        "/health": {
            "get": _op(
                "Health",
                "Engines and doors (never needs the API key).",
                _json(_ref("Health")),
                tag="operations",
                secured=False,
            )
        },
        "/metrics": {
            "get": _op(
                "Prometheus metrics",
                "Jobs, time to first audio, real-time factor and queue depth, by door and engine.",
                {
                    "200": {
                        "description": "Text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **_errors(401),
                },
                tag="operations",
                secured=not settings.open_metrics,
            )
        },
        "/openapi.json": {
            "get": _op(
                "This document", "The OpenAPI document.", _json({"type": "object"}), tag="operations", secured=False
            )
        },
        "/docs": {
            "get": _op(
                "API docs page",
                "A readable page of this document.",
                {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
                tag="operations",
                secured=False,
            )
        },
    }
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "voxhost",
            "version": __version__,
            "description": "voxhost's OpenAI-compatible speech API, voice library, voice conversion, engines, "
            "models and live events.",
        },
        "paths": paths,
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    if settings.api_key:
        doc["security"] = [{"bearer": []}]
    return doc


async def openapi_json(request: web.Request) -> web.Response:
    """``GET /openapi.json``."""
    return web.json_response(build_document(request.app[SETTINGS]))


def render_docs(doc: dict[str, Any]) -> str:
    """A plain HTML page listing every operation of the document (no scripts, no CDN)."""
    e = html.escape
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
            body = op.get("requestBody", {}).get("content", {})
            for ctype, media in body.items():
                name = media["schema"].get("$ref", "").rsplit("/", 1)[-1]
                schema = doc["components"]["schemas"].get(name, {})
                parts.append(f"<p>Body (<code>{e(ctype)}</code>):</p><ul>")
                for field, spec in schema.get("properties", {}).items():
                    required = " (required)" if field in schema.get("required", []) else ""
                    text = spec.get("description", "")
                    if "enum" in spec:
                        text = f"one of {', '.join(map(str, spec['enum']))}. {text}"
                    parts.append(f"<li><code>{e(field)}</code>{required}: {e(text)}</li>")
                parts.append("</ul>")
            for param in op.get("parameters", []):
                parts.append(f"<p>Parameter <code>{e(param['name'])}</code> ({e(param['in'])})</p>")
            statuses = ", ".join(f"{code} {e(r['description'])}" for code, r in op["responses"].items())
            parts.append(f"<p><small>Responses: {statuses}</small></p>")
    parts.append("<h2>Document</h2><pre>" + e(json.dumps(doc["components"]["schemas"], indent=1)[:20000]) + "</pre>")
    parts.append("</body></html>")
    return "".join(parts)


async def docs_page(request: web.Request) -> web.Response:
    """``GET /docs``."""
    return web.Response(text=render_docs(build_document(request.app[SETTINGS])), content_type="text/html")
