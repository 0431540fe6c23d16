"""Speech recognition for doors and for the core: transcription requests, reference transcripts, sentence checks.

Every transcription runs through the recognizing engine's scheduler as one-shot work (``Scheduler.exclusive``), so
it takes a slot before any look-ahead sentence of that engine; a person waiting (a door's request, a voice upload)
goes before the checking of generated speech. An uploaded file (``EncodedAudio``) is decoded once the slot is
granted, so the memory that decoded audio takes follows the engine's concurrency, not the requests queued for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import numpy as np

from .audio import EncodedAudio
from .engine import PCM, Capability, Segment, Transcript, TranscriptInfo, TranscriptionRequest, TranscriptPart
from .errors import BusyError, EngineError, InvalidAudioError, InvalidRequestError, UnsupportedError, VoxhostError
from .events import EventBus, Transcribed
from .langid import primary_language
from .operations import SpeechRequest, TranscribeParams, VoiceCreate, engine_options
from .transcripts import WordTiming, wer
from .validation import SentenceCheck, merge
from .voices import Resolved

if TYPE_CHECKING:
    from .registry import EngineRegistry, EngineSlot
    from .settings import Settings

_LOGGER = logging.getLogger(__name__)

PERSON = 1
"""Scheduling priority of a transcript someone waits for (checks of generated speech have 0)."""
PAD_SECONDS = 0.5
"""Silence around a reference or a sentence before it is heard: Whisper misreads words at the very edges."""


def base_language(language: str | None) -> str | None:
    """``en_US`` → ``en``; None stays None."""
    return primary_language(language) if language else None


class Recognition:
    """The core's speech recognition over the running engines that transcribe."""

    def __init__(self, settings: Settings, registry: EngineRegistry, bus: EventBus) -> None:
        self._settings = settings.recognition
        self._registry = registry
        self._bus = bus
        self._warned: set[str] = set()

    # -- which engine ------------------------------------------------------------------------------------

    def engines(self) -> list[str]:
        """Running engines that transcribe, the configured recognizer first."""
        ids = [slot.id for slot in self._registry.able(Capability.TRANSCRIBE)]
        chosen = self._settings.engine
        return sorted(ids, key=lambda engine_id: engine_id != chosen)

    def languages(self, engine_id: str) -> set[str]:
        """Base languages an engine's models transcribe."""
        engine = self._registry.get(engine_id).engine
        return {lang for model in engine.transcription_models() for lang in model.languages}

    def recognizer(self, language: str | None = None) -> str | None:
        """The engine the core uses (for ``language``, when given), or None when none can."""
        for engine_id in self.engines():
            if language is None or base_language(language) in self.languages(engine_id):
                return engine_id
        return None

    def check(self, params: TranscribeParams) -> TranscribeParams:
        """Resolve the engine, and check the language and the options, before any audio."""
        engines = self.engines()
        if not engines:
            raise UnsupportedError(
                "no running engine transcribes speech; install voxhost[asr] (the whisper engine) or enable one"
            )
        translators = [e for e in engines if self._registry.get(e).can(Capability.TRANSLATE)]
        translate = params.task == "translate"
        engine_id = params.engine or (translators[0] if translate and translators else engines[0])
        slot = self._registry.get(engine_id)
        if not slot.can(Capability.TRANSCRIBE):
            raise UnsupportedError(
                f"engine {engine_id!r} does not transcribe speech; engines that do: {', '.join(engines)}",
                param="engine",
            )
        if translate and not slot.can(Capability.TRANSLATE):
            # An engine that only transcribes would answer in the language spoken, not in English.
            others = f"engines that do: {', '.join(translators)}" if translators else "no running engine does"
            raise InvalidRequestError(
                f"engine {engine_id!r} transcribes speech but cannot translate it into English; {others}",
                param="engine",
            )
        language = base_language(params.language)
        known = self.languages(engine_id)
        if language is not None and known and language not in known:
            models = ", ".join(model.name for model in slot.engine.transcription_models())
            shown = ", ".join(sorted(known)) if len(known) <= 12 else f"{len(known)} languages"
            raise InvalidRequestError(
                f"{engine_id} ({models}) does not transcribe language {params.language!r}; it transcribes {shown}",
                param="language",
            )
        self._options(slot, params.options)
        return params.model_copy(update={"engine": engine_id})

    @staticmethod
    def _options(slot: EngineSlot, options: dict[str, Any]) -> dict[str, Any]:
        return engine_options(slot.id, slot.engine.Options, options)

    # -- transcription -----------------------------------------------------------------------------------

    async def stream(
        self, audio: PCM | EncodedAudio, params: TranscribeParams, priority: int = PERSON
    ) -> AsyncGenerator[TranscriptPart, None]:
        """A ``TranscriptInfo``, then segments as they are recognized; closing the stream cancels the work."""
        params = self.check(params)
        assert params.engine is not None
        slot = self._registry.get(params.engine)
        request = TranscriptionRequest(
            language=base_language(params.language),
            prompt=params.prompt,
            word_timestamps=params.word_timestamps,
            options=self._options(slot, params.options),
            task=params.task,
        )
        started = time.monotonic()
        language: str | None = None
        chars = 0
        seconds = 0.0
        error: str | None = None
        try:
            async with slot.scheduler.exclusive(priority):
                # Decoded here rather than on arrival: the requests waiting for the engine hold their files only.
                pcm = await asyncio.to_thread(audio.decode) if isinstance(audio, EncodedAudio) else audio
                if not pcm.data or pcm.rate <= 0:
                    raise InvalidAudioError("the audio contains no samples", param="audio")
                seconds = pcm.seconds
                parts = slot.runner.transcribe(pcm, request)
                informed = False
                try:
                    async for part in parts:
                        if isinstance(part, TranscriptInfo):
                            language = part.language
                        else:
                            if not informed:  # the info comes first, with the audio's length, whatever the engine
                                yield TranscriptInfo(request.language, None, seconds)
                            chars += len(part.text.strip())
                        informed = True
                        yield part
                    if not informed:
                        yield TranscriptInfo(request.language, None, seconds)
                finally:
                    await parts.aclose()
        except VoxhostError as err:
            error = err.code
            raise
        except (asyncio.CancelledError, GeneratorExit):
            error = "cancelled"
            raise
        finally:
            self._bus.publish(
                Transcribed(
                    engine=slot.id,
                    door=params.door,
                    audio_seconds=round(seconds, 3),
                    elapsed=round(time.monotonic() - started, 4),
                    language=language,
                    chars=chars,
                    error=error,
                )
            )

    async def transcribe(
        self, audio: PCM | EncodedAudio, params: TranscribeParams, priority: int = PERSON
    ) -> Transcript:
        """The whole transcript."""
        info: TranscriptInfo | None = None
        segments: list[Segment] = []
        parts = self.stream(audio, params, priority)
        try:
            async for part in parts:
                if isinstance(part, TranscriptInfo):
                    info = part
                else:
                    segments.append(part)
        finally:
            await parts.aclose()
        assert info is not None  # the stream's first part
        return Transcript.collect(info, segments)

    # -- the voice library --------------------------------------------------------------------------------

    async def reference(
        self, voice: VoiceCreate, samples: np.ndarray, rate: int, priority: int = PERSON
    ) -> tuple[VoiceCreate, tuple[WordTiming, ...] | None]:
        """A new voice's transcript (heard when none is given; refused when the given one does not match the audio)
        and the timing of its words; unchanged, without timings, when no running recognizer knows its language."""
        engine_id = self.recognizer(voice.language) if self._settings.transcribe_references else None
        if engine_id is None:
            return voice, None
        pad = np.zeros(int(PAD_SECONDS * rate), dtype=np.float32)
        audio = PCM.from_float(np.concatenate([pad, samples.astype(np.float32), pad]), rate)
        params = TranscribeParams(language=voice.language, engine=engine_id, word_timestamps=True, door="library")
        try:
            heard = await self.transcribe(audio, params, priority)
        except (EngineError, BusyError) as err:  # a broken or busy recognizer must not stop voices being stored
            _LOGGER.warning("Storing voice %r without hearing it: %s", voice.name, err.message)
            return voice, None
        words = tuple(
            (round(max(0.0, w.start - PAD_SECONDS), 3), round(max(0.0, w.end - PAD_SECONDS), 3), w.text.strip())
            for w in heard.words
            if w.text.strip()
        )
        if voice.transcript is None:
            # Nothing heard (a hum, music): stored without a transcript, for engines that need none.
            return (voice.model_copy(update={"transcript": heard.text}) if heard.text else voice), words
        language = base_language(voice.language) or heard.language
        error_rate = wer(voice.transcript, heard.text, language)
        if error_rate > self._settings.mismatch_wer:
            said = f" (heard as {language})" if voice.language is None and language else ""
            raise InvalidRequestError(
                f"the transcript does not match the reference audio: a speech recognizer heard {heard.text!r}{said}, "
                f"a word error rate of {error_rate:.2f}. Correct the transcript, leave it out to have it transcribed, "
                "or give the audio's language if it is another one",
                param="transcript",
            )
        return voice, words

    # -- checking generated speech ----------------------------------------------------------------------

    def plan(self, resolved: Resolved, request: SpeechRequest, language: str | None) -> SentenceCheck | None:
        """How a job's sentences are checked, or None when they are not."""
        slot = self._registry.get(resolved.voice.engine)
        voice = resolved.voice
        names = (voice.id, voice.voice, *voice.aliases)
        by_voice = next((self._settings.voices[name] for name in names if name in self._settings.voices), None)
        policy = merge(slot.host.validate_speech, by_voice, request.validate_speech)
        if not policy.enabled:
            return None
        asked = request.validate_speech is not None and request.validate_speech.enabled
        engine_id = self.recognizer(language)
        if engine_id is None:
            if self.recognizer() is None:
                message = "checking speech needs a running engine that transcribes; install voxhost[asr]"
            else:
                message = f"no running speech recognizer knows language {language!r}, so its speech cannot be checked"
            if asked:
                raise UnsupportedError(message, param="validate")
            if voice.id not in self._warned:
                self._warned.add(voice.id)
                _LOGGER.warning("Not checking voice %s: %s", voice.id, message)
            return None
        recognizer: str = engine_id

        async def hear(audio: PCM, lang: str | None) -> str:
            pad = PCM(b"\0\0" * int(PAD_SECONDS * audio.rate), audio.rate)
            padded = PCM(pad.data + audio.data + pad.data, audio.rate)
            params = TranscribeParams(language=lang, engine=recognizer, door="check")
            return (await self.transcribe(padded, params, priority=0)).text

        return SentenceCheck(
            max_wer=policy.max_wer if policy.max_wer is not None else self._settings.max_wer,
            max_retries=policy.max_retries if policy.max_retries is not None else self._settings.max_retries,
            language=base_language(language),
            hear=hear,
        )
