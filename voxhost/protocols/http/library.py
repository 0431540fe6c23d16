"""Managing the voice library over HTTP: change a voice's metadata or its reference audio, delete many voices at
once (only with ``"confirm": true``), and export or import voices as one zip archive.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ...audio import MAX_SPEECH_RATE, decode_audio
from ...operations import MAX_REFERENCE_SECONDS
from .downloads import send_zip
from .keys import CLIENT, CORE
from .parsing import answer, form, json_body, query
from .records import (
    DeleteVoicesRequest,
    ExportVoicesQuery,
    ImportVoicesRequest,
    ReplaceVoiceAudioRequest,
    UpdateVoiceRequest,
    VoicesDeleted,
    VoicesImported,
)
from .voices import library_voice

_LOGGER = logging.getLogger(__name__)


async def update_voice(request: web.Request) -> web.Response:
    """``PATCH /v1/audio/voices/{voice_id}``: change name, language, transcript, tags or notes."""
    core = request.app[CORE]
    voice_id = request.match_info["voice_id"]
    core.library_voice(voice_id)  # 404 before the body is read
    body = await json_body(request, UpdateVoiceRequest)
    voice = await asyncio.shield(core.update_voice(voice_id, body))
    return answer(library_voice(core, voice))


async def replace_voice_audio(request: web.Request) -> web.Response:
    """``PUT /v1/audio/voices/{voice_id}/audio``: new reference audio (multipart ``audio_sample``)."""
    core = request.app[CORE]
    voice_id = request.match_info["voice_id"]
    core.library_voice(voice_id)
    body = await form(request, ReplaceVoiceAudioRequest)
    samples, rate = await asyncio.to_thread(
        decode_audio, body.audio_sample, MAX_REFERENCE_SECONDS, "audio_sample", MAX_SPEECH_RATE
    )
    voice = await asyncio.shield(core.replace_voice_audio(voice_id, samples, rate))
    return answer(library_voice(core, voice))


async def delete_voices(request: web.Request) -> web.Response:
    """``POST /v1/library/voices/delete``: delete the voices a selection names, only with ``"confirm": true``."""
    core = request.app[CORE]
    body = await json_body(request, DeleteVoicesRequest)
    matched = [voice.id for voice in await core.select_voices(body)]
    deleted = [v.id for v in await asyncio.shield(core.delete_voices(matched))] if body.confirm else []
    if deleted:
        _LOGGER.info("Deleted %d voice(s) for %s", len(deleted), request[CLIENT])
    return answer(VoicesDeleted(confirmed=body.confirm, matched=matched, deleted=deleted))


async def export_voices(request: web.Request) -> web.StreamResponse:
    """``GET /v1/library/export``: the named voices (or all) as one zip archive."""
    core = request.app[CORE]
    params = query(request, ExportVoicesQuery)
    chunks = core.export_voices(params.ids.split(",") if params.ids else None)  # unknown ids: 404 now
    return await send_zip(request, chunks, "voices")


async def import_voices(request: web.Request) -> web.Response:
    """``POST /v1/library/import``: check a voice archive in full, then store its voices (all or none)."""
    core = request.app[CORE]
    body = await form(request, ImportVoicesRequest)
    result = await asyncio.shield(core.import_voices(body.archive, body.duplicates))
    return answer(
        VoicesImported(
            imported=[library_voice(core, voice) for voice in result.imported],
            skipped=result.skipped,
            replaced=result.replaced,
        )
    )
