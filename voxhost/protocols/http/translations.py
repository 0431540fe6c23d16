"""``POST /v1/audio/translations``: OpenAI's speech translation, speech in any language the model knows in, English
text out, answered in every response format it names.

It runs on the transcription machinery with Whisper's ``translate`` task, on an engine that translates: none running
is a 501 (as for transcriptions), a ``model`` whose engine only transcribes a 400 naming ``model`` (it would answer
in the language spoken). The limits are the transcriptions' (``max_transcription_mb``, ``max_transcription_seconds``).
"""

from __future__ import annotations

from aiohttp import web

from ...audio import EncodedAudio
from ...engine import Transcript
from ...errors import UnsupportedError
from . import names
from .keys import CORE, SETTINGS
from .parsing import answer, form
from .schemas import CreateTranslationRequest, TranscriptionFormat, Translation, TranslationVerbose
from .transcriptions import checked_params, plain_text, segment_answer


async def create_translation(request: web.Request) -> web.Response:
    """Translate the speech in ``file`` into English; the answer's form is ``response_format``."""
    core, settings = request.app[CORE], request.app[SETTINGS]
    if not names.translators(core):
        what = "translates speech into English" if core.transcribers() else "transcribes or translates speech"
        raise UnsupportedError(f"no running engine {what}; install voxhost[asr] (the whisper engine) or enable one")
    body = await form(request, CreateTranslationRequest)
    engine = names.resolve_translation_model(core, settings, body.model)
    params = checked_params(core, engine, body.temperature, {"prompt": body.prompt, "task": "translate"})
    audio = await EncodedAudio.received(body.file, settings.max_transcription_seconds, "file")
    return _answer(body.response_format, await core.transcribe(audio, params))


def _answer(fmt: TranscriptionFormat, transcript: Transcript) -> web.Response:
    if fmt == TranscriptionFormat.JSON:
        return answer(Translation(text=transcript.text))
    if fmt == TranscriptionFormat.VERBOSE_JSON:
        verbose = TranslationVerbose(
            duration=round(transcript.duration, 3),
            text=transcript.text,
            segments=[segment_answer(segment) for segment in transcript.segments],
        )
        return answer(verbose)
    return plain_text(fmt, transcript)
