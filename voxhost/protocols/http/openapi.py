"""The OpenAPI 3.1 document of the whole HTTP surface (``/openapi.json``), and a self-contained docs page (``/docs``).

The schemas are generated from the door's models (``schemas.py``: pydantic's JSON Schema, their ``$defs`` as
``components/schemas``), so the limits are the models' own. The document is built from the running server: the
longest ``input`` is the configured one, and the names a request may use (models, voices, speakers, languages,
engines) are listed from the same functions the handlers resolve them with (``names.py``).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import json
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter

from ... import __version__
from ...api import CoreAPI
from ...errors import (
    ConflictError,
    EngineTimeoutError,
    InvalidArchiveError,
    InvalidAudioError,
    InvalidPatternError,
    NoAudioError,
    TooLargeError,
    UnsupportedError,
)
from ...operations import JOB_ID_PATTERN, MAX_REFERENCE_SECONDS, MIN_REFERENCE_SECONDS, LexiconEntry
from . import lab, names
from .auth import needs_key
from .discovery import all_models
from .encoders import CONTENT_TYPES
from .errors import ReadOnlyJobError
from .keys import CORE, SETTINGS
from .records import (
    AudioQuery,
    DeleteOutputsRequest,
    DeleteVoicesRequest,
    ExportVoicesQuery,
    ImportVoicesRequest,
    JobDeleted,
    LibraryVoicesQuery,
    ListJobsQuery,
    ListOutputsQuery,
    Output,
    OutputAudioQuery,
    OutputDeleted,
    OutputList,
    OutputsArchiveQuery,
    OutputsDeleted,
    ReplaceVoiceAudioRequest,
    SpeechJob,
    SpeechJobList,
    UpdateVoiceRequest,
    VoicesDeleted,
    VoicesImported,
)
from .schemas import (
    AudioModelList,
    BrokenLibraryVoice,
    CatalogVoice,
    CreateConversionRequest,
    CreateLexiconEntryRequest,
    CreateTranscriptionRequest,
    CreateTranslationRequest,
    CreateVoiceRequest,
    Engine,
    EngineList,
    EngineModelList,
    ErrorResponse,
    EventsQuery,
    Health,
    LexiconList,
    ListVoicesQuery,
    LiveEvent,
    Model,
    ModelList,
    PullStarted,
    SpeechStreamEvent,
    Transcription,
    TranscriptionVerbose,
    TranscriptStreamEvent,
    Translation,
    TranslationVerbose,
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
    403: "A page of another origin may not change anything here (`Origin`), or a `Host` this server does not answer;"
    + " or: "
    + (ReadOnlyJobError.__doc__ or "Read-only"),
    404: "No such resource (for a job's audio also: " + (NoAudioError.__doc__ or "no audio") + ")",
    408: "The request body stopped arriving",
    409: ConflictError.__doc__ or "Another change came in between",
    413: TooLargeError.__doc__ or "Too large",
    415: "The body is not of the type the operation takes (JSON, or a multipart form)",
    416: "A `Range` this file cannot serve (past its end, several ranges, a malformed one); `Content-Range` names its "
    "size",
    422: (InvalidAudioError.__doc__ or "Audio that cannot be used")
    + " Or: "
    + (InvalidArchiveError.__doc__ or "an archive that cannot be used")
    + " Or: "
    + (InvalidPatternError.__doc__ or "a lexicon pattern that does not compile"),
    500: "The engine failed, or a directory voxhost writes to is read-only",
    501: UnsupportedError.__doc__ or "Not supported",
    503: "Busy, an engine's model is missing or its model catalog cannot be fetched, too many connections or uploads "
    "in progress, or stopping; retry after `Retry-After` seconds",
    504: EngineTimeoutError.__doc__ or "The engine made no progress",
    507: "No space left on the disk, or the voice library's quota is reached; nothing was stored",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}}},
    416: {
        "Content-Range": {"description": "bytes */size", "schema": {"type": "string", "pattern": "^bytes \\*/[0-9]+$"}}
    },
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
            "transcription": CreateTranscriptionRequest,
            "translation": CreateTranslationRequest,
            "voice": CreateVoiceRequest,
            "voices_query": ListVoicesQuery,
            "events_query": EventsQuery,
            **QUERIES,
            "delete_outputs": DeleteOutputsRequest,
            "update_voice": UpdateVoiceRequest,
            "replace_voice_audio": ReplaceVoiceAudioRequest,
            "delete_voices": DeleteVoicesRequest,
            "import_voices": ImportVoicesRequest,
            "lexicon": CreateLexiconEntryRequest,
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
                BrokenLibraryVoice,
                VoiceLibrary,
                Engine,
                EngineList,
                EngineModelList,
                PullStarted,
                Health,
                SpeechJob,
                SpeechJobList,
                JobDeleted,
                Output,
                OutputList,
                OutputDeleted,
                OutputsDeleted,
                VoicesDeleted,
                VoicesImported,
                LexiconEntry,
                LexiconList,
                Transcription,
                TranscriptionVerbose,
                Translation,
                TranslationVerbose,
            )
        }
        answers["SpeechStreamEvent"] = SpeechStreamEvent
        answers["TranscriptStreamEvent"] = TranscriptStreamEvent
        answers["LiveEvent"] = LiveEvent
        inputs = [(key, "validation", TypeAdapter(model)) for key, model in requests.items()]
        inputs += [(key, "serialization", TypeAdapter(model)) for key, model in answers.items()]
        mapping, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF)  # type: ignore[arg-type]
        self.schemas: dict[str, Any] = definitions.get("$defs", {})
        for key in ("SpeechStreamEvent", "TranscriptStreamEvent", "LiveEvent"):  # unions have no name: name them
            self.schemas[key] = mapping[(key, "serialization")]
        query_keys = ("voices_query", "events_query", *QUERIES)
        self.queries = {key: self.schemas.pop(requests[key].__name__) for key in query_keys}
        self._refine()

    # -- the names the server takes now ------------------------------------------------------------------

    def _refine(self) -> None:
        core, settings, schemas = self.core, self.settings, self.schemas
        speech = schemas["CreateSpeechRequest"]["properties"]
        models = names.model_names(core, settings)
        voices = names.voice_names(core, settings)
        _only(speech["model"], [*models, ""])  # empty: the default, as none
        _only(speech["voice"], [*voices, ""])
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
        speaking = [engine for engine in core.engines() if engine.capabilities - names.LISTENING]
        options = [engine.options_schema for engine in speaking if "$defs" not in engine.options_schema]
        if options and len(options) == len(speaking):
            speech["options"] = {"description": speech["options"]["description"], "anyOf": [*options, {"type": "null"}]}
        voice_query = self.queries["voices_query"]["properties"]
        _only(voice_query["model"], [*models, ""])
        _only(voice_query["engine"], [*(engine.id for engine in core.engines()), ""])
        converters = core.converters()
        if converters:  # with none, every conversion is a 501 whatever it names
            conversion = schemas["CreateConversionRequest"]["properties"]
            _only(conversion["model"], [*converters, names.AUTO, ""])
            if cloned := names.cloned_voice_names(core):
                _only(conversion["voice"], cloned)
        transcription = schemas["CreateTranscriptionRequest"]["properties"]
        transcribers = names.transcription_models(core, settings)
        if transcribers:  # with none, every transcription is a 501 whatever it names
            _only(transcription["model"], [*transcribers, names.AUTO, ""])  # empty: the default, as none
            languages = sorted({lang for e in core.engines() for m in e.transcription_models for lang in m.languages})
            _narrow_pattern(
                transcription["language"], names.language_pattern(languages) + r"|^\s*([Aa][Uu][Tt][Oo])?\s*$"
            )
        if translating := names.translation_models(core, settings):  # with none, every translation is a 501
            _only(schemas["CreateTranslationRequest"]["properties"]["model"], [*translating, names.AUTO, ""])
        for form in (
            "CreateConversionRequest",
            "CreateVoiceRequest",
            "ReplaceVoiceAudioRequest",
            "ImportVoicesRequest",
            "CreateTranscriptionRequest",
            "CreateTranslationRequest",
        ):
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
        """One operation; 401 is added where the API key is needed, and ``security: []`` where it is not; 403 (the
        Host and Origin guard) everywhere; 408 and 415 wherever a body is read."""
        secured = needs_key(self.settings, route)
        guarded = {403, 408, 415} if body is not None else {403}
        statuses = sorted({*errors, *guarded, *({401} if secured else set())})
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
        paths = self._core_paths()
        speech = paths["/v1/audio/speech"]["post"]
        speech["responses"]["202"] = {
            "description": 'Accepted (with `"async": true`): the job; its audio comes from its `audio_url`',
            "headers": {"Location": {"description": "The job's URL", "schema": _TEXT}},
            "content": {"application/json": {"schema": _ref("SpeechJob")}},
        }
        speech["description"] += (
            ' With `"async": true` the answer is `202` with the job at once; `"keep": true` keeps the audio as a '
            "stored output in `/v1/outputs`."
        )
        paths["/v1/library/voices"]["get"]["parameters"] = _query(self.queries["library_query"])
        paths["/v1/library/voices"]["get"]["responses"].update(self._errors((400,)))
        paths["/v1/audio/voices/{voice_id}"]["patch"] = self.op(
            "update_voice",
            "Change a library voice",
            "Change its name, language, transcript, tags or notes without a new recording; fields left out stay as "
            "they are, `null` clears one (not the name). The catalog entries it adds or loses are announced on "
            "`/v1/events`.",
            _json(_ref("Voice")),
            (400, 404, 409),
            tag="voices",
            body={"application/json": {"schema": _ref("UpdateVoiceRequest")}},
            parameters=[_path("voice_id", "A voice-library id.")],
        )
        paths.update(self._record_paths())
        return paths

    def _errors(self, statuses: tuple[int, ...]) -> dict[str, Any]:
        return {
            str(status): {
                "description": _ERRORS[status],
                "content": {"application/json": {"schema": _ref("ErrorResponse")}},
            }
            for status in statuses
        }

    def _record_paths(self) -> dict[str, Any]:
        """Jobs, stored outputs and voice-library management."""
        op = self.op
        job_id = _path("job_id", "A job's id (in `X-Voxhost-Job`, and in the job's events).")
        output_id = _path("output_id", "A stored output's id (its job's id).")
        for param in (job_id, output_id):
            param["schema"]["pattern"] = JOB_ID_PATTERN
        voice_id = _path("voice_id", "A voice-library id.")
        fetched = {
            "200": {
                "description": "The audio in `response_format`: what exists now, then the rest as it is made "
                "(chunked; a job that fails later ends the stream short)",
                "headers": {"X-Voxhost-Job": {"description": "The job's id", "schema": _TEXT}},
                "content": {_media(ctype): {"schema": _BINARY} for ctype in CONTENT_TYPES.values()},
            },
            "206": {
                "description": "One byte range of the WAV file (`Range: bytes=...`), where the audio is whole on disk",
                "headers": {"Content-Range": {"description": "bytes start-end/size", "schema": _TEXT}},
                "content": {_media(CONTENT_TYPES["wav"]): {"schema": _BINARY}},
            },
        }
        archive = {
            "200": {
                "description": "A zip archive with a `manifest.json` of every member's size and SHA-256",
                "headers": {"Content-Disposition": {"description": "A file name to save it as", "schema": _TEXT}},
                "content": {"application/zip": {"schema": _BINARY}},
            }
        }
        return {
            "/v1/jobs": {
                "get": op(
                    "jobs",
                    "List recent jobs",
                    "Recent jobs from every door (`[jobs] recent` of them, and jobs whose audio is kept), newest "
                    "first, with state, progress, timings and errors.",
                    _json(_ref("SpeechJobList")),
                    (400,),
                    tag="jobs",
                    parameters=_query(self.queries["jobs_query"]),
                )
            },
            "/v1/jobs/{job_id}": {
                "get": op(
                    "job",
                    "Get a job",
                    "A job's state (`queued`, `running`, `finished`, `failed`, `cancelled`), progress (sentences, "
                    "audio seconds), timings and error. Jobs that were running when the daemon stopped are "
                    "`failed` with the code `interrupted`.",
                    _json(_ref("SpeechJob")),
                    (404,),
                    tag="jobs",
                    parameters=[job_id],
                ),
                "delete": op(
                    "delete_job",
                    "Cancel and remove a job",
                    "Cancels the job if it runs and removes it with its kept audio (a stored output too). Jobs of "
                    "other doors are read-only here (403).",
                    _json(_ref("JobDeleted")),
                    (403, 404),
                    tag="jobs",
                    parameters=[job_id],
                ),
            },
            "/v1/jobs/{job_id}/audio": {
                "get": op(
                    "job_audio",
                    "Fetch a job's audio",
                    "The audio of a job whose audio is kept (`async` or `keep`), in `response_format`: while it is "
                    "made, what exists and then the rest as it comes. 404 (`no_audio`) when the job kept no audio "
                    "or failed. A finished job's `wav` is its file, served in byte ranges (`Range`; 416 with "
                    "`Content-Range: bytes */size` for one outside it).",
                    fetched,
                    (400, 404, 416),
                    tag="jobs",
                    parameters=[job_id, *_query(self.queries["job_audio_query"])],
                )
            },
            "/v1/outputs": {
                "get": op(
                    "outputs",
                    "Search the stored outputs",
                    "Finished jobs kept with their audio, newest first: search the text (as given and as spoken), "
                    "filter by voice, door, engine and time, one page at a time.",
                    _json(_ref("OutputList")),
                    (400,),
                    tag="outputs",
                    parameters=_query(self.queries["outputs_query"]),
                )
            },
            "/v1/outputs/delete": {
                "post": op(
                    "delete_outputs",
                    "Delete stored outputs",
                    'The outputs named by `ids`, by conditions, or `all`. Nothing is deleted without `"confirm": '
                    "true`: then the answer lists what would be.",
                    _json(_ref("OutputsDeleted")),
                    (400,),
                    tag="outputs",
                    body={"application/json": {"schema": _ref("DeleteOutputsRequest")}},
                )
            },
            "/v1/outputs/archive": {
                "get": op(
                    "outputs_archive",
                    "Download stored outputs",
                    "The outputs named by `ids` or by conditions (none given: all) as one zip: each one's "
                    "`audio.wav` and `record.json`.",
                    archive,
                    (400,),
                    tag="outputs",
                    parameters=_query(self.queries["outputs_archive_query"]),
                )
            },
            "/v1/outputs/{output_id}": {
                "get": op(
                    "output",
                    "Get a stored output",
                    "Its record: the text as given and as spoken, voice, engine, options, seed, timings, and the "
                    "word error rate where it was checked.",
                    _json(_ref("Output")),
                    (404,),
                    tag="outputs",
                    parameters=[output_id],
                ),
                "delete": op(
                    "delete_output",
                    "Delete a stored output",
                    "Deleting twice is a 404.",
                    _json(_ref("OutputDeleted")),
                    (404,),
                    tag="outputs",
                    parameters=[output_id],
                ),
            },
            "/v1/outputs/{output_id}/audio": {
                "get": op(
                    "output_audio",
                    "Download a stored output's audio",
                    "`wav` (the default) is the stored file, served in byte ranges too (`Range`; 416 with "
                    "`Content-Range: bytes */size` for one outside it); other formats are encoded as they stream.",
                    fetched,
                    (400, 404, 416),
                    tag="outputs",
                    parameters=[output_id, *_query(self.queries["output_audio_query"])],
                )
            },
            "/v1/audio/voices/{voice_id}/audio": {
                "put": op(
                    "replace_voice_audio",
                    "Replace a library voice's recording",
                    f"A new {MIN_REFERENCE_SECONDS:g}-{MAX_REFERENCE_SECONDS:g} s sample (at most "
                    f"{self.settings.max_upload_mb:g} MiB), checked as a new voice's is; the id, name and "
                    "transcript stay.",
                    _json(_ref("Voice")),
                    (400, 404, 409, 413, 422, 503),
                    tag="voices",
                    body={"multipart/form-data": {"schema": _ref("ReplaceVoiceAudioRequest")}},
                    parameters=[voice_id],
                )
            },
            "/v1/library/voices/delete": {
                "post": op(
                    "delete_voices",
                    "Delete library voices",
                    'The voices named by `ids`, a `tag`, or `all`. Nothing is deleted without `"confirm": true`: '
                    "then the answer lists what would be.",
                    _json(_ref("VoicesDeleted")),
                    (400, 404),
                    tag="voices",
                    body={"application/json": {"schema": _ref("DeleteVoicesRequest")}},
                )
            },
            "/v1/library/export": {
                "get": op(
                    "export_voices",
                    "Export library voices",
                    "The named voices (none named: the whole library) as one zip: per voice `reference.wav`, "
                    "`voice.json` and `transcript.txt`, and a `manifest.json` with sizes and SHA-256 hashes.",
                    archive,
                    (400, 404),
                    tag="voices",
                    parameters=_query(self.queries["export_query"]),
                )
            },
            "/v1/library/import": {
                "post": op(
                    "import_voices",
                    "Import library voices",
                    f"An archive as `/v1/library/export` writes it (at most {self.settings.max_import_mb:g} MiB). "
                    "Every name, size, hash, metadata field and recording is checked before anything is written; "
                    "one bad voice refuses the whole archive (422) and nothing is stored. A voice whose id is "
                    "already in the library is skipped, or replaced with `duplicates=replace`.",
                    _json(_ref("VoicesImported")),
                    (400, 413, 422, 503),
                    tag="voices",
                    body={"multipart/form-data": {"schema": _ref("ImportVoicesRequest")}},
                )
            },
        }

    def _core_paths(self) -> dict[str, Any]:
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
                    "X-Voxhost-Nothing-To-Say": {
                        "description": "`true` where the text had nothing to say (emoji or markup alone): the audio "
                        "is 0.1 s of silence",
                        "schema": _TEXT,
                    },
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
            "/v1/audio/transcriptions": {
                "post": op(
                    "transcriptions",
                    "Transcribe speech",
                    "OpenAI's transcription endpoint, served by an engine that transcribes (501 when none runs). "
                    "`response_format` `json` and `verbose_json` answer JSON; `text`, `srt` and `vtt` plain text. "
                    "With `stream=true` the answer is server-sent events: a `transcript.text.delta` per segment as it "
                    "is recognized, then `transcript.text.done` (an `error` event if it fails midway); a stream is "
                    "`json` or `text` (the same events), and `srt`, `vtt` or `verbose_json` with `stream=true` is a "
                    "400 naming `response_format`. The openai "
                    "client's other fields are accepted and not used.",
                    {
                        "200": {
                            "description": "The transcript",
                            "content": {
                                "application/json": {
                                    "schema": {"anyOf": [_ref("Transcription"), _ref("TranscriptionVerbose")]}
                                },
                                "text/plain": {"schema": _TEXT},
                                "text/event-stream": {"schema": _event_stream("TranscriptStreamEvent")},
                            },
                        }
                    },
                    (400, 413, 422, 500, 501, 503),
                    tag="speech",
                    body={"multipart/form-data": {"schema": _ref("CreateTranscriptionRequest")}},
                )
            },
            "/v1/audio/translations": {
                "post": op(
                    "translations",
                    "Translate speech into English",
                    "OpenAI's translation endpoint: speech in a language the model knows, its English text out, "
                    "served by an engine that translates (501 when none runs; a `model` whose engine only "
                    "transcribes is a 400). `response_format` `json` and `verbose_json` answer JSON; `text`, `srt` "
                    "and `vtt` plain text.",
                    {
                        "200": {
                            "description": "The English text",
                            "content": {
                                "application/json": {
                                    "schema": {"anyOf": [_ref("Translation"), _ref("TranslationVerbose")]}
                                },
                                "text/plain": {"schema": _TEXT},
                            },
                        }
                    },
                    (400, 413, 422, 500, 501, 503),
                    tag="speech",
                    body={"multipart/form-data": {"schema": _ref("CreateTranslationRequest")}},
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
                    parameters=[_path("model", "A model name.", list(all_models(self.core, self.settings)))],
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
                    (400, 403, 408, 413, 415, 422, 500, 503, 507),
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
                    "Deleting twice is a 404. A broken voice (listed under `broken` in `/v1/library/voices`) is "
                    "deleted too.",
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
                    "an engine that needs one); `broken` lists those whose metadata or recording cannot be used "
                    "(delete them by id to free their space).",
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
                    "The models the engine can use (as `voxhost models list`) and whether each is installed. An "
                    "engine whose models come from a catalog it fetches (`fetches_models` in `/v1/engines`: Piper) "
                    "fetches it when it has none yet; 503 `model_catalog_unavailable` says why it could not.",
                    _json(_ref("EngineModelList")),
                    (404, 503),
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
                    "`model_pull_finished` or `model_pull_failed`. Asking again while it runs joins that pull. "
                    "A model missing from a fetched catalog fetches it again first; 503 "
                    "`model_catalog_unavailable` when that cannot be done.",
                    _json(_ref("PullStarted"), "Pull started", status=202),
                    (403, 404, 503),
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
            "/v1/lexicon": {
                "get": op(
                    "lexicon",
                    "List the lexicon",
                    "The user lexicon: how words and names are said (docs/text.md). Entries of the config file "
                    "(`[[text.lexicon]]`, source `config`) come first, then those added here (source `api`).",
                    _json(_ref("LexiconList")),
                    tag="text",
                ),
                "post": op(
                    "add_lexicon_entry",
                    "Add a lexicon entry",
                    "A word, phrase or regular expression and what to say instead (a respelling, phonemes, or "
                    "both), for every voice and language or only one. Stored in the state directory; jobs that "
                    "start from now on use it.",
                    _json(_ref("LexiconEntry"), "Created", status=201),
                    (400, 422),
                    tag="text",
                    body={"application/json": {"schema": _ref("CreateLexiconEntryRequest")}},
                ),
            },
            "/v1/lexicon/{entry_id}": {
                "delete": op(
                    "delete_lexicon_entry",
                    "Delete a lexicon entry",
                    "Removes an entry added over HTTP; an entry of the config file is refused (400), an unknown "
                    "id is a 404.",
                    _json(_ref("LexiconEntry")),
                    (400, 404),
                    tag="text",
                    parameters=[_path("entry_id", "A lexicon entry's id.")],
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


QUERIES: dict[str, type[Any]] = {
    "jobs_query": ListJobsQuery,
    "job_audio_query": AudioQuery,
    "outputs_query": ListOutputsQuery,
    "output_audio_query": OutputAudioQuery,
    "outputs_archive_query": OutputsArchiveQuery,
    "library_query": LibraryVoicesQuery,
    "export_query": ExportVoicesQuery,
}
"""The query models of the jobs, outputs and library routes (their fields become query parameters)."""


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


DOCS_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "code,pre{background:#f4f4f4;padding:.1rem .3rem}h2{border-bottom:1px solid #ccc}"
    ".m{font-weight:bold;display:inline-block;min-width:4.5rem}"
)
"""The docs page's one style sheet, inline."""


def _style_source(style: str) -> str:
    """A CSP source that allows exactly one inline style sheet: its SHA-256."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'"


# The docs page loads nothing and runs no script: it may only apply its own inline style (by hash, so markup that
# reached the page could not add another), and its one link (/openapi.json) is a plain navigation.
DOCS_HEADERS = lab.security_headers(f"default-src 'none'; style-src {_style_source(DOCS_STYLE)}; form-action 'none'")


def render_docs(doc: dict[str, Any]) -> str:
    """A plain HTML page listing every operation of the document (no scripts, no CDN)."""
    e = html.escape
    schemas = doc["components"]["schemas"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>voxhost API</title>",
        f"<style>{DOCS_STYLE}</style></head><body>",
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
    return web.Response(text=render_docs(await _document(request)), content_type="text/html", headers=DOCS_HEADERS)
