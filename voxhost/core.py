"""The core: the engine registry, the catalog, jobs, the voice library and events, behind ``CoreAPI``.

Doors and plugin hooks see this object only as ``voxhost.api.CoreAPI``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import numpy as np
from pydantic import ValidationError

from .api import EngineInfo, EngineState, JobHandle
from .catalog import Catalog
from .components import collect_engine_classes, engine_configs
from .door import Door
from .engine import PCM, Capability, SynthesisRequest
from .errors import (
    InvalidRequestError,
    TextTooLongError,
    UnknownVoiceError,
    UnsupportedError,
)
from .events import Event, EventBus, VoiceAdded, VoiceRemoved
from .jobs import Job, Transform
from .library import VoiceLibrary
from .operations import ConvertParams, SpeechRequest, VoiceCreate, invalid
from .pipelines import convert_stream
from .plugin_manager import Plugins
from .registry import EngineRegistry, build_slot
from .settings import Settings
from .voices import CatalogVoice, LibraryVoice, normalize_language

_LOGGER = logging.getLogger(__name__)


class Core:
    """Everything the doors share; implements ``CoreAPI``."""

    def __init__(self, settings: Settings, plugins: Plugins) -> None:
        self._settings = settings
        self.plugins = plugins
        self._bus = EventBus()
        self._bus.subscribe(self._observe)
        quota = settings.library
        self.library = VoiceLibrary(
            settings.state_path / "voices",
            max_voices=quota.max_voices,
            max_bytes=None if quota.max_megabytes is None else int(quota.max_megabytes * 2**20),
        )
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
        self.doors: list[Door] = []
        """Open doors (set by the daemon), for health pages."""
        self._started_at = time.time()

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
        """Start schedulers and load the engines marked for preloading (failures are logged, not fatal)."""
        await self.registry.start()

    async def drain(self, timeout: float) -> None:
        """Let running jobs finish for up to ``timeout`` seconds, then cancel the rest."""
        deadline = time.monotonic() + timeout
        while self.jobs() and time.monotonic() < deadline:  # noqa: ASYNC110 (jobs end on several schedulers)
            await asyncio.sleep(0.05)
        for job in self.jobs():
            _LOGGER.warning("Cancelling job %s at shutdown", job.id)
            job.cancel("daemon shutting down")

    async def close(self, grace: float = 10.0) -> None:
        """Stop schedulers and unload every engine (workers get ``grace`` seconds to exit, then are killed)."""
        await self.registry.close(grace)

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
        try:
            # Strict: options arrive as JSON values, and JSON's false is not a number (nor "0.5" one).
            options = engine.Options.model_validate(request.options, strict=True).model_dump(exclude_none=True)
        except ValidationError as err:
            problem = invalid(err, prefix="options").message
            raise InvalidRequestError(
                f"invalid options for engine {engine.engine_id}: {problem}", param="options"
            ) from None
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
        engine.validate_request(template)
        transform = self._pipeline(resolved.voice.pipeline) if resolved.voice.pipeline is not None else None
        return Job(resolved, template, request, self._settings.text.max_sentence_chars, transform)

    def _pipeline(self, pipeline_id: str) -> Transform:
        """Convert a pipeline voice's speech, sentence by sentence, with the converting engine."""
        pipeline = next(p for p in self._settings.pipelines if p.id == pipeline_id)
        runner = self.registry.get(pipeline.engine or self.converters()[0]).runner
        target = self.library.reference(pipeline.convert_to)  # UnknownVoiceError now, not mid-stream

        def transform(chunks: AsyncIterator[PCM]) -> AsyncGenerator[PCM, None]:
            return convert_stream(
                chunks,
                lambda segment: runner.convert(segment, target, pipeline.options),
                min_seconds=pipeline.min_segment_seconds,
                max_seconds=pipeline.max_segment_seconds,
            )

        return transform

    def submit(self, request: SpeechRequest) -> Job:
        """Validate and queue a request. With ``text=None`` the caller feeds text and then calls ``finish_text``."""
        job = self.prepare(request)
        self.registry.get(job.voice.engine).scheduler.add(job)  # BusyError here, before anything is announced
        if request.text is not None:
            job.feed(request.text)
            job.finish_text()
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
        """Store a cloned voice (files written on a thread) and announce its catalog entries."""
        self._check_voice(voice.transcript)
        stored = await asyncio.to_thread(self.library.add, voice, samples, rate)
        self._announce(stored.id, VoiceAdded)
        return stored

    async def delete_voice(self, voice_id: str) -> LibraryVoice:
        """Delete a stored voice (files removed on a thread) and announce it."""
        self.library.get(voice_id)  # UnknownVoiceError before any work
        ids = [entry.id for entry in self.voices() if entry.voice == voice_id]
        voice = await asyncio.to_thread(self.library.remove, voice_id)
        for entry_id in ids:
            self._bus.publish(VoiceRemoved(voice=entry_id))
        return voice

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

    async def convert(self, audio: PCM, params: ConvertParams) -> AsyncGenerator[PCM, None]:
        """Convert speech into a library voice, in a slot of the converting engine's queue."""
        params = self.check_convert(params)
        assert params.engine is not None
        slot = self.registry.get(params.engine)
        reference = self.library.reference(params.voice)
        async with slot.scheduler.exclusive():
            chunks = slot.runner.convert(audio, reference, params.options)
            try:
                async for pcm in chunks:
                    yield pcm
            finally:
                await chunks.aclose()

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

    # -- doors -----------------------------------------------------------------------------------------

    def door_status(self) -> dict[str, dict[str, Any]]:
        """Each open door's status."""
        return {door.name: door.status() for door in self.doors}
