"""The core: the engine registry, the catalog, jobs, the voice library and events, behind ``CoreAPI``.

Doors and plugin hooks see this object only as ``voxhost.api.CoreAPI``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .api import (
    EngineInfo,
    EngineState,
    ImportResult,
    JobHandle,
    JobRecord,
    OutputsStatus,
    Page,
    VoiceUsage,
)
from .archives import stream_zip, write_zip
from .audio import EncodedAudio
from .catalog import Catalog
from .components import collect_engine_classes, engine_configs
from .door import Door
from .engine import PCM, Capability, Engine, Reference, SynthesisRequest, Transcript, TranscriptPart
from .errors import (
    InvalidRequestError,
    TextTooLongError,
    UnknownJobError,
    UnknownVoiceError,
    UnsupportedError,
    VoxhostError,
)
from .events import Event, EventBus, VoiceAdded, VoiceRemoved
from .jobs import Cut, Job, Transform
from .jobstore import JobStore
from .library import VoiceLibrary, check_reference
from .models import ModelCatalogError
from .operations import (
    ConvertParams,
    JobQuery,
    LexiconEntry,
    LexiconRule,
    LibraryQuery,
    OutputQuery,
    OutputSelection,
    SpeechRequest,
    TranscribeParams,
    VoiceCreate,
    VoiceSelection,
    VoiceUpdate,
    engine_options,
)
from .outputs import AUDIO, RECORD
from .pipelines import convert_stream
from .plugin_manager import Plugins
from .recognition import PERSON, Recognition
from .registry import EngineRegistry, build_slot
from .runaway import conversion_cut
from .settings import Settings, ensure_state_dir
from .spoken.detect import detector
from .spoken.frontend import Policy, SpokenText, warm_up
from .spoken.lexicon import LexiconStore
from .usage import UsageBook
from .voice_archive import import_archive, write_archive
from .voices import BrokenVoice, CatalogVoice, LibraryVoice, added_order, normalize_language

_LOGGER = logging.getLogger(__name__)

MODEL_CATALOG_TIMEOUT = 30.0
"""Seconds a door waits for an engine to fetch its list of models (the Piper voice catalog) before it answers that
the list could not be had; the fetch itself runs on a thread and ends with its own socket timeout."""


class Core:
    """Everything the doors share; implements ``CoreAPI``."""

    def __init__(self, settings: Settings, plugins: Plugins) -> None:
        self._settings = settings
        self.plugins = plugins
        ensure_state_dir(settings)  # one line naming the folder, not a traceback from the first file written there
        self._bus = EventBus()
        self._bus.subscribe(self._observe)
        quota = settings.library
        self.library = VoiceLibrary(
            settings.library_path,
            max_voices=quota.max_voices,
            max_bytes=quota.max_bytes,
        )
        self.usage = UsageBook(settings.state_path / "voice-usage.json")
        self.jobstore = JobStore(settings.state_path / "outputs", settings)
        self._bus.subscribe(self.jobstore.observe)
        classes = collect_engine_classes(plugins, settings)
        configs = engine_configs(settings, classes)
        self.registry = EngineRegistry(
            [
                build_slot(settings, cls, configs[engine_id], self._bus)
                for engine_id, cls in classes.items()
                if configs[engine_id].enabled
            ]
        )
        self.catalog = Catalog(settings, self.registry.engines, self.library)
        self.lexicon_store = LexiconStore(settings.text.lexicon, settings.state_path / "lexicon.json")
        warm_up()
        self.recognition = Recognition(settings, self.registry, self._bus)
        self.doors: list[Door] = []
        """Open doors (set by the daemon), for health pages."""
        self._started_at = time.time()
        self._annotating: asyncio.Task[None] | None = None
        self._default_options: dict[str, dict[str, Any]] = {}
        """Per engine: its options for a request that gives none, as checked once."""
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        """Per engine: the fetch of its model catalog now running, which every caller meanwhile waits for."""

    @property
    def settings(self) -> Settings:
        """The daemon's settings."""
        return self._settings

    @property
    def bus(self) -> EventBus:
        """Every core event."""
        return self._bus

    @property
    def started_at(self) -> float:
        """When the core started (``time.time()``)."""
        return self._started_at

    def _observe(self, event: Event) -> None:
        self.plugins.call("observe_event", event=event)

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start schedulers and load the engines marked for preloading (failures are logged, not fatal); voices
        stored before a recognizer was running get their word timings in the background. The voice library's
        folders are watched on a thread of their own, so a voice lookup never compares them on the loop."""
        await asyncio.to_thread(self.library.watch)  # its first look reads every voice: off the loop
        await asyncio.to_thread(self.usage.load)
        await self.jobstore.start()
        await self.registry.start()
        for key, voice in self.catalog.dangling():
            # otherwise found only when every request without a voice (or with that alias) is refused
            _LOGGER.warning("Config %s names voice %r, which no running engine or stored voice offers", key, voice)
        self._annotating = asyncio.create_task(self._annotate_library(), name="annotate-library")

    async def _annotate_library(self) -> None:
        """Time the words of stored references that lack timings (and transcribe those without a transcript)."""
        if not self._settings.recognition.transcribe_references or not self.recognition.engines():
            return
        for voice in await self.library_voices():
            if voice.words is not None:
                continue
            try:
                samples, rate = await asyncio.to_thread(self.library.samples, voice.id)
                create = VoiceCreate(name="annotate", language=voice.language, transcript=voice.transcript)
                heard, words = await self.recognition.reference(create, samples, rate, priority=0)
                if words is None:
                    continue
                await asyncio.to_thread(self.library.annotate, voice.id, words, heard.transcript, voice)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # one voice that cannot be read or heard must not stop the others
                _LOGGER.warning("Could not time the words of voice %s: %s", voice.id, err)

    async def drain(self, timeout: float) -> None:
        """Let running jobs finish for up to ``timeout`` seconds, then cancel the rest."""
        deadline = time.monotonic() + timeout
        while self.jobs() and time.monotonic() < deadline:  # noqa: ASYNC110 (jobs end on several schedulers)
            await asyncio.sleep(0.05)
        self.jobstore.interrupt(job.id for job in self.jobs())  # recorded as failed, not as cancelled by a client
        for job in self.jobs():
            _LOGGER.warning("Cancelling job %s at shutdown", job.id)
            job.cancel("daemon shutting down")

    async def close(self, grace: float = 10.0) -> None:
        """Stop schedulers and unload every engine (workers get ``grace`` seconds to exit, then are killed); finish
        writing records and usage; stop watching the voice library."""
        await asyncio.to_thread(self.library.stop)  # waits for a look under way: off the loop
        if self._annotating is not None:
            self._annotating.cancel()
            await asyncio.gather(self._annotating, return_exceptions=True)
        await self.registry.close(grace)
        await self.jobstore.close()
        await self.usage.flush()

    # -- speech ----------------------------------------------------------------------------------------

    def jobs(self) -> list[JobHandle]:
        """Jobs queued or running on every engine."""
        return [job for slot in self.registry for job in slot.scheduler.jobs if not job.done]

    def prepare(self, request: SpeechRequest) -> Job:
        """Resolve a request's voice and check it with its engine; the job is not yet queued."""
        if request.text is not None and len(request.text) > self._settings.text.max_chars:
            raise TextTooLongError(
                f"the text is {len(request.text)} characters; at most {self._settings.text.max_chars} are accepted",
                param="input",
            )
        if request.engine is not None:
            self.registry.get(request.engine)
        resolved = self.catalog.resolve(
            request.voice, language=request.language, speaker=request.speaker, engine=request.engine
        )
        engine = self.registry.get(resolved.voice.engine).engine
        options = self._options(engine, request.options)
        # The voice's language only when it has exactly one: a multi-language voice, or a cloned voice of unknown
        # language, leaves it to the engine (which may detect it from the text).
        if request.language:
            language: str | None = request.language
        elif resolved.reference is not None:
            language = resolved.reference.language
        else:
            language = resolved.voice.languages[0] if len(resolved.voice.languages) == 1 else None
        template = SynthesisRequest(
            text="",
            voice=resolved.voice.voice,
            speaker=resolved.speaker,
            language=language,
            speed=request.speed,
            options=options,
            reference=resolved.reference,
            instructions=request.instructions,
            seed=request.seed,
        )
        self._check_reference(engine, resolved.reference)
        engine.validate_request(template)
        transform = self._pipeline(resolved.voice.pipeline) if resolved.voice.pipeline is not None else None
        job = Job(resolved, template, request, SpokenText(self._policy(request, resolved.voice, language)), transform)
        job.check = self.recognition.plan(resolved, request, language)
        return job

    def _options(self, engine: Engine, given: dict[str, Any]) -> dict[str, Any]:
        """A request's options for its engine, checked; most requests give none, and get the engine's defaults
        as checked the first time."""
        if not given and (defaults := self._default_options.get(engine.engine_id)) is not None:
            return dict(defaults)
        options = engine_options(engine.engine_id, engine.Options, given)
        if not given:
            self._default_options[engine.engine_id] = dict(options)
        return options

    def _policy(self, request: SpeechRequest, voice: CatalogVoice, language: str | None) -> Policy:
        """How a job's text is read: the door's or request's choice, the language, and what the engine reads."""
        engine = self.registry.get(voice.engine).engine
        normalize = request.normalize
        if normalize is None:
            door = next((door for door in self.doors if door.name == request.door), None)
            normalize = bool(getattr(door.settings, "normalize", True)) if door is not None else True
        languages: tuple[str, ...] = ()
        if language is None:
            # A voice of several languages, or a cloned voice of unknown language: detect among the voice's, else
            # among every language the engine's voices speak.
            languages = tuple(voice.languages) or tuple(
                dict.fromkeys(lang for entry in self.catalog.voices() if entry.engine == voice.engine
                              for lang in entry.languages)
            )  # fmt: skip
        return Policy(
            settings=self._settings.text,
            normalize=normalize,
            language=language,
            languages=languages,
            detect=detector(languages) if len(languages) > 1 else None,
            voice=voice.id,
            reads_numbers=engine.reads_numbers,
            phonemes=engine.inline_phonemes,
            speed=request.speed,
            lexicon=self.lexicon_store.lexicon.for_voice(voice.id, (voice.voice,)),
            max_sentence_chars=self._settings.text.max_sentence_chars,
        )

    @staticmethod
    def _check_reference(engine: Engine, reference: Reference | None) -> None:
        """A reference longer than the engine uses is cut with its transcript, which needs its words' timings."""
        limit = engine.reference_seconds
        if reference is None or limit is None or not engine.needs_transcript or reference.words is not None:
            return
        if reference.seconds is not None and reference.seconds > limit + 0.05:
            raise InvalidRequestError(
                f"voice {reference.voice_id!r} has a {reference.seconds:.1f} s reference; {engine.engine_id} uses at "
                f"most {limit:g} s of it and needs the transcript of exactly that part. Install speech recognition "
                f"(voxhost[asr]) so that voxhost cuts the transcript with the audio, or store a reference of at most "
                f"{limit:g} s",
                param="voice",
            )

    def _pipeline(self, pipeline_id: str) -> Transform:
        """Convert a pipeline voice's speech, sentence by sentence, with the converting engine."""
        pipeline = next(p for p in self._settings.pipelines if p.id == pipeline_id)
        slot = self.registry.get(pipeline.engine or self.converters()[0])
        target = self.library.reference(pipeline.convert_to)  # UnknownVoiceError now, not mid-stream

        def transform(chunks: AsyncIterator[PCM], on_cut: Cut) -> AsyncGenerator[PCM, None]:
            def convert(segment: PCM) -> AsyncGenerator[PCM, None]:
                # The job's record and done reply name the cut, as a plain conversion's and a sentence's do.
                def cut(seconds: float) -> None:
                    on_cut(seconds, conversion_cut(slot.id, seconds, segment.seconds))

                return slot.runner.convert(segment, target, pipeline.options, cut)

            return convert_stream(
                chunks,
                convert,
                min_seconds=pipeline.min_segment_seconds,
                max_seconds=pipeline.max_segment_seconds,
            )

        return transform

    def submit(self, request: SpeechRequest) -> Job:
        """Validate and queue a request. With ``text=None`` the caller feeds text and then calls ``finish_text``."""
        job = self.prepare(request)
        if request.text is not None:
            # A whole text is read before the job is queued, so that a refused sentence is an error before audio.
            job.feed(request.text)
            job.finish_text()
        self.registry.get(job.voice.engine).scheduler.add(job)  # BusyError here, before anything is announced
        self.jobstore.attach(job)  # before any audio: the first chunk is made on a later turn of the loop
        if job.resolved.reference is not None:
            self.usage.use(job.resolved.reference.voice_id)
        return job

    async def speak(self, request: SpeechRequest) -> tuple[bytes, int]:
        """Synthesize a whole text to PCM (for the CLI and simple callers)."""
        job = self.submit(request)
        parts, rate = [], 0
        async for pcm in job.pcm():
            parts.append(pcm.data)
            rate = pcm.rate
        return b"".join(parts), rate or job.voice.sample_rate

    # -- voices ----------------------------------------------------------------------------------------

    def voices(self) -> list[CatalogVoice]:
        """The catalog's voices."""
        return self.catalog.voices()

    def resolve_voice(
        self,
        name: str | None = None,
        *,
        language: str | None = None,
        speaker: str | None = None,
        engine: str | None = None,
    ) -> CatalogVoice:
        """The voice a request would get."""
        return self.catalog.resolve(name, language=language, speaker=speaker, engine=engine).voice

    def speaks(self, voice: CatalogVoice, language: str | None) -> bool:
        """Whether the voice speaks the language's base language (any voice speaks no language in particular)."""
        if not language:
            return True
        wanted = (normalize_language(language) or "").split("_")[0]
        return any(lang.split("_")[0].lower() == wanted for lang in voice.languages)

    # -- the voice library -----------------------------------------------------------------------------

    async def library_voices(self) -> list[LibraryVoice]:
        """Every stored voice (the folder is read on a thread)."""
        return await asyncio.to_thread(self.library.list)

    def library_voice(self, voice_id: str) -> LibraryVoice:
        """One stored voice."""
        return self.library.get(voice_id)

    def _check_voice(self, transcript: str | None) -> None:
        """Reject a new voice that no running cloning engine could speak (all of them need a transcript)."""
        cloners = [slot.engine for slot in self.registry.able(Capability.CLONE)]
        if cloners and not (transcript or "").strip() and all(e.needs_transcript for e in cloners):
            names = ", ".join(e.engine_id for e in cloners)
            raise InvalidRequestError(
                f"a transcript of the reference audio is required: the cloning engines ({names}) need one",
                param="transcript",
            )

    def add_voice(self, voice: VoiceCreate, samples: np.ndarray, rate: int) -> LibraryVoice:
        """Store a cloned voice and announce it (blocking disk work: for callers off the event loop)."""
        self._check_voice(voice.transcript)
        stored = self.library.add(voice, samples, rate)
        self._announce(stored.id, VoiceAdded)
        return stored

    async def store_voice(self, voice: VoiceCreate, samples: np.ndarray, rate: int) -> LibraryVoice:
        """Store a cloned voice (files written on a thread) and announce its catalog entries. With a running
        recognizer, a missing transcript is filled in, a given one that does not match the audio is refused, and
        the words are timed."""
        check_reference(samples, rate)  # nothing is heard of audio that cannot be stored
        voice, words = await self.recognition.reference(voice, samples, rate)
        self._check_voice(voice.transcript)
        stored = await asyncio.to_thread(self.library.add, voice, samples, rate, words)
        self._announce(stored.id, VoiceAdded)
        return stored

    async def broken_voices(self) -> list[BrokenVoice]:
        """Stored voices whose metadata or recording cannot be used (the folder is read on a thread)."""
        return await asyncio.to_thread(self.library.broken)

    async def delete_voice(self, voice_id: str) -> LibraryVoice:
        """Delete a stored voice, or a broken one (files removed on a thread), and announce it."""
        return (await self.delete_voices([voice_id]))[0]

    def _announce(self, voice_id: str, event: type[VoiceAdded]) -> None:
        for entry in self.voices():
            if entry.voice == voice_id:
                self._bus.publish(event(voice=entry.id))

    # -- voice conversion ------------------------------------------------------------------------------

    def converters(self) -> list[str]:
        """Running engines that can convert voices."""
        return [slot.id for slot in self.registry.able(Capability.CONVERT)]

    def check_convert(self, params: ConvertParams) -> ConvertParams:
        """The conversion's engine and library voice, resolved and checked before any audio."""
        converters = self.converters()
        if not converters:
            raise UnsupportedError("no running engine can convert voices; enable one with the convert capability")
        engine, target = params.engine, params.voice
        named, _, rest = target.partition(":")
        if rest.startswith("voice_"):  # a catalog id (chatterbox:voice_grandma_1a2b) names the engine too
            engine, target = engine or named, rest
        target = self._library_id(target)
        if engine is not None:
            self.registry.get(engine)
            if engine not in converters:
                raise UnsupportedError(
                    f"engine {engine!r} cannot convert voices; engines that can: {', '.join(converters)}",
                    param="engine",
                )
        return params.model_copy(update={"engine": engine or converters[0], "voice": target})

    def _library_id(self, name: str) -> str:
        """A library id from an id, a stored voice's name (when unique) or a catalog alias of a cloned voice."""
        voices = self.library.list()
        if any(v.id == name for v in voices):
            return name
        named = [v for v in voices if v.name.lower() == name.lower()]
        if len(named) == 1:
            return named[0].id
        try:
            entry = self.catalog.resolve(name).voice
        except UnknownVoiceError:
            entry = None
        if entry is not None and entry.kind == "cloned":
            return entry.voice
        raise UnknownVoiceError(
            f"no voice {name!r} in the voice library; conversion needs a cloned voice as its target", param="voice"
        )

    async def convert(
        self,
        audio: PCM | EncodedAudio,
        params: ConvertParams,
        started: Callable[[], None] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> AsyncGenerator[PCM, None]:
        """Convert speech into a library voice, in a slot of the converting engine's queue (``started`` is called
        when the engine takes it up, ``warn`` with what went wrong without failing it: the runaway bound's cut)."""
        params = self.check_convert(params)
        assert params.engine is not None
        slot = self.registry.get(params.engine)
        reference = self.library.reference(params.voice)
        self.usage.use(params.voice)
        async with slot.scheduler.exclusive():
            if started is not None:
                started()
            # Decoded here rather than on arrival: the conversions waiting for the engine hold their files only.
            source = await asyncio.to_thread(audio.decode) if isinstance(audio, EncodedAudio) else audio

            def cut(seconds: float) -> None:
                if warn is not None:
                    warn(conversion_cut(slot.id, seconds, source.seconds))

            chunks = slot.runner.convert(source, reference, params.options, cut)
            try:
                async for pcm in chunks:
                    yield pcm
            finally:
                await chunks.aclose()

    # -- speech recognition ----------------------------------------------------------------------------

    def transcribers(self) -> list[str]:
        """Running engines that transcribe speech, the configured recognizer first."""
        return self.recognition.engines()

    def check_transcribe(self, params: TranscribeParams) -> TranscribeParams:
        """The transcription's engine resolved, its language and options checked, before any audio."""
        return self.recognition.check(params)

    async def transcribe(self, audio: PCM | EncodedAudio, params: TranscribeParams) -> Transcript:
        """Recognize the speech in ``audio``: the whole transcript."""
        return await self.recognition.transcribe(audio, params, PERSON)

    def transcribe_stream(
        self, audio: PCM | EncodedAudio, params: TranscribeParams
    ) -> AsyncGenerator[TranscriptPart, None]:
        """Recognize the speech in ``audio``: a ``TranscriptInfo``, then segments as they are recognized."""
        return self.recognition.stream(audio, params, PERSON)

    # -- engines ---------------------------------------------------------------------------------------

    def engines(self) -> list[EngineInfo]:
        """The running engines."""
        return [slot.info() for slot in self.registry]

    def engine(self, engine_id: str) -> EngineInfo:
        """One running engine."""
        return self.registry.get(engine_id).info()

    def engine_states(self) -> list[EngineState]:
        """Each running engine's state now."""
        return [slot.state() for slot in self.registry]

    async def engine_status(self) -> list[dict[str, Any]]:
        """One entry per running engine, for health pages and ``voxhost engines``."""
        return [await slot.status() for slot in self.registry]

    async def load_engine(self, engine_id: str) -> None:
        """Load an engine now; shielded, so a caller that leaves does not cut a load halfway."""
        await asyncio.shield(self.registry.get(engine_id).runner.ensure_loaded())

    async def unload_engine(self, engine_id: str) -> None:
        """Free an engine's memory; ``BusyError`` while it has jobs."""
        await asyncio.shield(self.registry.unload(engine_id))

    async def refresh_models(self, engine_id: str) -> None:
        """Let an engine fetch its list of downloadable models (``Engine.refresh_models``, as ``voxhost models``
        does) on a thread, waiting at most ``MODEL_CATALOG_TIMEOUT`` seconds; callers meanwhile share one fetch.
        ``ModelCatalogError`` (503) says why it could not be fetched."""
        engine = self.registry.get(engine_id).engine
        task = self._refreshing.get(engine_id)
        if task is None:
            task = asyncio.create_task(asyncio.to_thread(engine.refresh_models), name=f"refresh-models-{engine_id}")
            self._refreshing[engine_id] = task

            def done(finished: asyncio.Task[None]) -> None:
                if self._refreshing.get(engine_id) is finished:
                    del self._refreshing[engine_id]
                if not finished.cancelled():
                    finished.exception()  # retrieved here too: every caller may have stopped waiting

            task.add_done_callback(done)
        try:
            await asyncio.wait_for(asyncio.shield(task), MODEL_CATALOG_TIMEOUT)
        except TimeoutError:
            raise ModelCatalogError(
                f"the list of {engine_id} models could not be fetched in {MODEL_CATALOG_TIMEOUT:g} s "
                "(a slow or unreachable network)"
            ) from None
        except VoxhostError as err:
            raise ModelCatalogError(err.message) from err
        except Exception as err:  # an engine's own fetch failing its own way: still an answer that says why
            raise ModelCatalogError(
                f"the list of {engine_id} models could not be fetched: {type(err).__name__}: {err}"
            ) from err

    # -- the spoken-text lexicon -------------------------------------------------------------------------

    def lexicon(self) -> list[LexiconEntry]:
        """Every lexicon entry: the config file's, then those added over the API."""
        return self.lexicon_store.entries()

    async def add_lexicon_entry(self, rule: LexiconRule) -> LexiconEntry:
        """Store a lexicon entry (written on a thread); jobs that start from now on use it."""
        return await asyncio.to_thread(self.lexicon_store.add, rule)

    async def delete_lexicon_entry(self, entry_id: str) -> LexiconEntry:
        """Delete a lexicon entry added over the API."""
        return await asyncio.to_thread(self.lexicon_store.remove, entry_id)

    # -- doors -----------------------------------------------------------------------------------------

    def door_status(self) -> dict[str, dict[str, Any]]:
        """Each open door's status."""
        return {door.name: door.status() for door in self.doors}

    # -- job records and stored outputs ----------------------------------------------------------------

    def job_record(self, job_id: str) -> JobRecord:
        """A recent job, a held result or a stored output."""
        return self.jobstore.record(job_id)

    def job_records(self, query: JobQuery) -> Page[JobRecord]:
        """Recent jobs from every door, newest first."""
        return self.jobstore.records(query)

    def job_audio(self, job_id: str) -> AsyncGenerator[PCM, None]:
        """A job's kept audio, so far and then as it is made."""
        return self.jobstore.audio(job_id)

    async def remove_job(self, job_id: str) -> JobRecord:
        """Cancel a running job and forget it with its kept audio."""
        self.jobstore.record(job_id)  # UnknownJobError before anything is done
        for job in self.jobs():
            if job.id == job_id:
                job.cancel("removed by its client")
        return await self.jobstore.remove(job_id)

    def outputs(self, query: OutputQuery) -> Page[JobRecord]:
        """Stored outputs, newest first."""
        return self.jobstore.outputs(query)

    def select_outputs(self, selection: OutputSelection) -> list[JobRecord]:
        """The stored outputs a selection names."""
        return self.jobstore.select(selection)

    async def delete_outputs(self, ids: list[str]) -> list[str]:
        """Delete stored outputs."""
        return await self.jobstore.delete(ids)

    def output_file(self, output_id: str) -> Path:
        """A stored output's WAV file."""
        return self.jobstore.audio_path(output_id)

    def job_file(self, job_id: str) -> Path | None:
        """A kept job's WAV file once it is whole on disk; None while it is being made."""
        return self.jobstore.whole_audio(job_id)

    def export_outputs(self, ids: list[str]) -> AsyncGenerator[bytes, None]:
        """A zip of stored outputs: each one's WAV and record, and a manifest with hashes."""
        records = [self.jobstore.record(output_id) for output_id in dict.fromkeys(ids)]
        for record in records:
            if not record.kept:
                raise UnknownJobError(f"no stored output {record.id!r}", param="ids")
        # An output whose audio is not written yet (or whose job made none) is left out, not a broken archive.
        folders = [(r, self.jobstore.folder(r.id)) for r in records if (self.jobstore.folder(r.id) / AUDIO).is_file()]
        records = [r for r, _ in folders]
        members = [(f"{r.id}/{name}", folder / name) for r, folder in folders for name in (AUDIO, RECORD)]
        extra = {"outputs": [{"id": r.id, "voice": r.voice, "accepted_at": r.accepted_at} for r in records]}
        return stream_zip(
            self._settings.state_path / "tmp",
            lambda path: write_zip(path, "voxhost-outputs", members, extra),
        )

    def outputs_status(self) -> OutputsStatus:
        """The stored outputs against their limits."""
        return self.jobstore.status()

    # -- managing the voice library --------------------------------------------------------------------

    async def find_voices(self, query: LibraryQuery) -> Page[LibraryVoice]:
        """Stored voices matching a search, newest first."""
        voices = sorted(await self.library_voices(), key=added_order, reverse=True)
        words = (query.q or "").lower().split()
        base = (query.language or "").split("_")[0]

        def matches(voice: LibraryVoice) -> bool:
            if query.tag is not None and query.tag not in voice.tags:
                return False
            if base and (voice.language or "").split("_")[0].lower() != base:
                return False
            text = " ".join([voice.id, voice.name, voice.transcript or "", voice.notes or "", *voice.tags]).lower()
            return all(word in text for word in words)

        found = [voice for voice in voices if matches(voice)]
        return Page(found[query.offset : query.offset + query.limit], len(found))

    async def update_voice(self, voice_id: str, update: VoiceUpdate) -> LibraryVoice:
        """Change a stored voice's metadata; the catalog entries it adds or loses are announced."""
        stored = self.library.get(voice_id)
        words = None
        if "transcript" in update.model_fields_set:
            self._check_voice(update.transcript)
            if update.transcript is not None:
                # A new transcript is checked against the audio as an upload's is.
                samples, rate = await asyncio.to_thread(self.library.samples, voice_id)
                language = update.language if "language" in update.model_fields_set else stored.language
                heard = VoiceCreate(name=stored.name, language=language, transcript=update.transcript)
                _, words = await self.recognition.reference(heard, samples, rate)
        before = {entry.id for entry in self.voices() if entry.voice == voice_id}
        # One locked write: metadata and the timings of the words it was checked with (never one without the other).
        voice = await asyncio.to_thread(
            self.library.update, voice_id, update, words, stored if words is not None else None
        )
        self._reannounce(voice_id, before)
        return voice

    async def replace_voice_audio(self, voice_id: str, samples: np.ndarray, rate: int) -> LibraryVoice:
        """New reference audio for a stored voice (written on a thread)."""
        stored = self.library.get(voice_id)
        check_reference(samples, rate)  # nothing is heard of audio that cannot be stored
        # The new recording must say the voice's transcript (as an upload must), and its words are timed anew.
        heard = VoiceCreate(name=stored.name, language=stored.language, transcript=stored.transcript)
        heard, words = await self.recognition.reference(heard, samples, rate)
        # One locked write: the audio, its word timings and (for a voice stored without one) the transcript heard.
        voice = await asyncio.to_thread(
            self.library.replace_audio, voice_id, samples, rate, words, heard.transcript, stored.transcript
        )
        self._reannounce(voice_id, set())
        return voice

    def _reannounce(self, voice_id: str, before: set[str]) -> None:
        after = [entry.id for entry in self.voices() if entry.voice == voice_id]
        for entry_id in sorted(before - set(after)):
            self._bus.publish(VoiceRemoved(voice=entry_id))
        for entry_id in after:
            self._bus.publish(VoiceAdded(voice=entry_id))

    async def select_voices(self, selection: VoiceSelection) -> list[LibraryVoice]:
        """The stored voices a selection names, newest first."""
        voices = sorted(await self.library_voices(), key=added_order, reverse=True)
        # Broken voices (no tags: no tag selects one) by their ids or with all, so that "delete all" empties it.
        voices += [broken.stand_in() for broken in await self.broken_voices()]
        if selection.ids is not None:
            known = {voice.id for voice in voices}
            for voice_id in selection.ids:
                if voice_id not in known:
                    raise UnknownVoiceError(f"no voice {voice_id!r} in the voice library; nothing deleted", param="ids")
            wanted = set(selection.ids)
            voices = [voice for voice in voices if voice.id in wanted]
        elif selection.tag is None and not selection.all:
            return []  # nothing chosen: nothing selected, never everything
        return [voice for voice in voices if selection.tag is None or selection.tag in voice.tags]

    async def delete_voices(self, voice_ids: list[str]) -> list[LibraryVoice]:
        """Delete stored voices (broken ones too) all or none (files removed on a thread), each announced."""
        doomed = set(voice_ids)
        entries = [entry for entry in self.voices() if entry.voice in doomed]
        voices = await asyncio.to_thread(self.library.remove_all, voice_ids)
        for entry in entries:
            self._bus.publish(VoiceRemoved(voice=entry.id))
        for voice in voices:
            self.usage.forget(voice.id)
        return voices

    def voice_usage(self, voice_id: str) -> VoiceUsage:
        """A stored voice's uses and last use."""
        return self.usage.get(voice_id)

    def export_voices(self, voice_ids: list[str] | None = None) -> AsyncGenerator[bytes, None]:
        """A zip of stored voices with a manifest of hashes (unknown ids fail here, before any byte)."""
        voices = self.library.list() if voice_ids is None else [self.library.get(v) for v in voice_ids]
        return stream_zip(
            self._settings.state_path / "tmp",
            lambda path: write_archive(path, self.library.root, voices),
        )

    async def import_voices(self, archive: bytes, duplicates: Literal["skip", "replace"] = "skip") -> ImportResult:
        """Check an archive in full, then store its voices all at once (or none); each stored one is announced."""
        before: dict[str, set[str]] = {}
        for entry in self.voices():
            before.setdefault(entry.voice, set()).add(entry.id)
        # Shielded: a client that leaves mid-write still gets all of it, or none.
        result = await asyncio.shield(asyncio.to_thread(import_archive, self.library, archive, duplicates))
        for voice in result.imported:
            self._reannounce(voice.id, before.get(voice.id, set()))
        return result
