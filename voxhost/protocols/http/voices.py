"""The voice library over HTTP, in OpenAI's custom-voice shape: create (multipart upload), get, delete.

Stored voices are shared by every cloning engine and every door: once added, ``voice: {"id": "voice_..."}`` works
in ``/v1/audio/speech`` and the voice shows in ``/v1/audio/voices`` (once per cloning engine).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from aiohttp import web

from ...api import CoreAPI
from ...audio import MAX_SPEECH_RATE, decode_audio
from ...errors import UnknownVoiceError
from ...operations import MAX_REFERENCE_SECONDS
from ...voices import LibraryVoice
from .discovery import voice_object
from .keys import CORE
from .parsing import answer, form, query
from .records import LibraryVoicesQuery
from .schemas import BrokenLibraryVoice, CreateVoiceRequest, Voice, VoiceDeleted, VoiceLibrary


def library_voice(core: CoreAPI, voice: LibraryVoice) -> Voice:
    """OpenAI's ``audio.voice`` object, plus what voxhost knows about the voice."""
    usage = core.voice_usage(voice.id)
    return Voice(
        id=voice.id,
        name=voice.name,
        created_at=voice.created_at,
        language=voice.language,
        transcript=voice.transcript,
        seconds=voice.seconds,
        sample_rate=voice.sample_rate,
        engines=[entry.id for entry in core.voices() if entry.kind == "cloned" and entry.voice == voice.id],
        tags=list(voice.tags),
        notes=voice.notes,
        updated_at=voice.updated_at,
        uses=usage.uses,
        last_used=usage.last_used,
    )


async def create_voice(request: web.Request) -> web.Response:
    """``POST /v1/audio/voices``: ``name`` + ``audio_sample`` (+ ``transcript``, ``language``) → a voice."""
    core = request.app[CORE]
    # Cheap checks first: nothing is decoded or written for a request that cannot succeed.
    body = await form(request, CreateVoiceRequest)
    samples, rate = await asyncio.to_thread(
        decode_audio, body.audio_sample, MAX_REFERENCE_SECONDS, "audio_sample", MAX_SPEECH_RATE
    )
    # Shielded: a client that leaves mid-write still gets a complete, announced voice (or none at all).
    stored = await asyncio.shield(core.store_voice(body.voice(), samples, rate))
    return answer(library_voice(core, stored))


async def list_library(request: web.Request) -> web.Response:
    """``GET /v1/library/voices``: voice-library voices that match (all by default), newest first, one page; also
    those no running engine speaks; and every broken voice."""
    core = request.app[CORE]
    params = query(request, LibraryVoicesQuery)
    page = await core.find_voices(params)
    broken = [BrokenLibraryVoice(**asdict(voice)) for voice in await core.broken_voices()]
    return answer(
        VoiceLibrary(
            data=[library_voice(core, voice) for voice in page.items],
            total=page.total,
            has_more=params.offset + len(page.items) < page.total,
            broken=broken,
        )
    )


async def get_voice(request: web.Request) -> web.Response:
    """``GET /v1/audio/voices/{voice_id}``: a library voice, or any catalog voice by its id."""
    core = request.app[CORE]
    voice_id = request.match_info["voice_id"]
    try:
        return answer(library_voice(core, core.library_voice(voice_id)))
    except UnknownVoiceError:
        pass
    for entry in core.voices():
        if entry.id == voice_id:
            return answer(voice_object(entry, []))
    for broken in await core.broken_voices():
        if broken.id == voice_id:  # said, so that the user knows to delete it (DELETE works on it)
            message = f"voice {voice_id!r} is broken ({broken.problem}); delete it to free its space"
            raise UnknownVoiceError(message, param="voice_id")
    raise UnknownVoiceError(f"no voice {voice_id!r}", param="voice_id")


async def delete_voice(request: web.Request) -> web.Response:
    """``DELETE /v1/audio/voices/{voice_id}``: remove a library voice (a second delete is a 404)."""
    core = request.app[CORE]
    voice = await asyncio.shield(core.delete_voice(request.match_info["voice_id"]))
    return answer(VoiceDeleted(id=voice.id))
