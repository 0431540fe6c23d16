"""The core: engines and their runners, the catalog, the scheduler and jobs, the voice library and events.

Doors talk only to this object: ``submit`` a speech request, read the job's events; list voices; add voices.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from pydantic import ValidationError

from .catalog import Catalog, CatalogVoice
from .door import Door
from .engine import PCM, Capability, Engine, EngineContext, SynthesisRequest
from .errors import (
    ConfigError,
    InvalidRequestError,
    StartupError,
    TextTooLongError,
    UnknownEngineError,
    UnsupportedError,
    VoxhostError,
)
from .events import TERMINAL, Event, EventBus, VoiceAdded, VoiceRemoved
from .jobs import Job, SpeechRequest
from .library import LibraryVoice, VoiceLibrary
from .pipelines import check_pipelines, convert_stream
from .plugin_manager import Plugins
from .runner import EngineRunner, ThreadRunner, WorkerRunner
from .scheduler import EngineScheduler
from .settings import ENGINE_HOST_KEYS, EngineHostSettings, Settings, format_validation_error

_LOGGER = logging.getLogger(__name__)

MIN_SPEED, MAX_SPEED = 0.25, 4.0


def collect_engine_classes(plugins: Plugins, settings: Settings) -> dict[str, type[Engine]]:
    """Every engine class the plugins register, by id; duplicates are a startup error."""
    classes: dict[str, type[Engine]] = {}

    def register(engine_cls: type[Engine]) -> None:
        engine_id = getattr(engine_cls, "engine_id", None)
        if not isinstance(engine_id, str) or not engine_id or ":" in engine_id:
            raise StartupError(f"engine class {engine_cls!r} has no valid engine_id")
        if engine_id in classes and classes[engine_id] is not engine_cls:
            raise StartupError(f"two plugins register engine {engine_id!r}")
        classes[engine_id] = engine_cls

    plugins.call("register_engines", register=register, settings=settings)
    return classes


def collect_door_classes(plugins: Plugins, settings: Settings) -> dict[str, type[Door]]:
    """Every door class the plugins register, by name."""
    classes: dict[str, type[Door]] = {}

    def register(door_cls: type[Door]) -> None:
        if door_cls.name in classes and classes[door_cls.name] is not door_cls:
            raise StartupError(f"two plugins register door {door_cls.name!r}")
        classes[door_cls.name] = door_cls

    plugins.call("register_doors", register=register, settings=settings)
    return classes


def engine_configs(
    settings: Settings, classes: dict[str, type[Engine]]
) -> dict[str, tuple[EngineHostSettings, Any]]:
    """Validate every engine table: host keys and the engine's own settings; ``ConfigError`` names the key."""
    out = {}
    for engine_id, cls in classes.items():
        table = dict(settings.engines.get(engine_id, {}))
        host_part = {k: table.pop(k) for k in list(table) if k in ENGINE_HOST_KEYS}
        try:
            host = EngineHostSettings(**host_part)
            own = cls.Settings(**table)
        except ValidationError as err:
            raise ConfigError(format_validation_error(err, prefix=f"engines.{engine_id}")) from None
        out[engine_id] = (host, own)
    try:
        check_pipelines(settings.pipelines)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    for unknown in set(settings.engines) - set(classes):
        _LOGGER.warning("Config has [engines.%s] but no plugin provides that engine", unknown)
    return out


def engine_context(settings: Settings, engine_id: str) -> EngineContext:
    """Where an engine keeps its files."""
    return EngineContext(
        state_dir=str(settings.state_path),
        models_dir=str(settings.models_path),
        cache_dir=str(settings.state_path / "cache" / engine_id),
    )


class Core:
    """Everything the doors share."""

    def __init__(self, settings: Settings, plugins: Plugins) -> None:
        self.settings = settings
        self.plugins = plugins
        self.bus = EventBus()
        self.bus.subscribe(self._observe)
        self.library = VoiceLibrary(settings.state_path / "voices")
        self.engine_classes = collect_engine_classes(plugins, settings)
        self.engines: dict[str, Engine] = {}
        self.runners: dict[str, EngineRunner] = {}
        self.schedulers: dict[str, EngineScheduler] = {}
        self.jobs: dict[str, Job] = {}
        self.doors: list[Door] = []
        """Open doors (set by the daemon), for health pages."""
        self.catalog = Catalog(settings, lambda: self.engines.values(), self.library)
        self.started_at = time.time()
        self._idle_task: asyncio.Task[None] | None = None
        self._build_engines()

    def _observe(self, event: Event) -> None:
        if isinstance(event, TERMINAL):
            self.jobs.pop(event.job_id, None)
        self.plugins.call("observe_event", event=event)

    def _build_engines(self) -> None:
        configs = engine_configs(self.settings, self.engine_classes)
        for engine_id, cls in self.engine_classes.items():
            host, own = configs[engine_id]
            enabled = host.enabled if host.enabled is not None else cls.enabled_by_default
            if not enabled:
                continue
            try:
                engine = cls(own, engine_context(self.settings, engine_id))
            except VoxhostError:
                raise
            except Exception as err:
                raise StartupError(f"engine {engine_id} could not be created: {type(err).__name__}: {err}") from err
            mode = host.mode or cls.default_mode
            concurrency = host.concurrency or cls.default_concurrency
            runner: EngineRunner
            if mode == "worker":
                # One pipe, one request at a time; scale a heavy engine with more machines, not threads.
                concurrency = 1
                runner = WorkerRunner(engine, host, self.bus, self.settings.state_path / "worker-path")
            else:
                runner = ThreadRunner(engine, host, self.bus, concurrency)
            self.engines[engine_id] = engine
            self.runners[engine_id] = runner
            self.schedulers[engine_id] = EngineScheduler(
                runner, self.settings.scheduler.max_jobs_per_engine, concurrency
            )

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start schedulers and load the engines marked for preloading (failures are logged, not fatal)."""
        for scheduler in self.schedulers.values():
            scheduler.start()
        preload = [r for r in self.runners.values() if r.host.preload]
        results = await asyncio.gather(*(r.ensure_loaded() for r in preload), return_exceptions=True)
        for runner, result in zip(preload, results):
            if isinstance(result, BaseException):
                _LOGGER.error("Engine %s did not load: %s", runner.engine_id, result)
        self._idle_task = asyncio.create_task(self._idle_unloader(), name="idle-unloader")

    async def drain(self, timeout: float) -> None:
        """Let running jobs finish for up to ``timeout`` seconds, then cancel the rest."""
        deadline = time.monotonic() + timeout
        while self.jobs and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for job in list(self.jobs.values()):
            _LOGGER.warning("Cancelling job %s at shutdown", job.id)
            job.cancel("daemon shutting down")

    async def close(self) -> None:
        """Stop schedulers and unload every engine (workers exit)."""
        if self._idle_task:
            self._idle_task.cancel()
        for scheduler in self.schedulers.values():
            await scheduler.stop()
        await asyncio.gather(*(runner.close() for runner in self.runners.values()), return_exceptions=True)

    async def _idle_unloader(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for engine_id, runner in self.runners.items():
                limit = runner.host.idle_unload
                if limit is None or not runner.loaded or self.schedulers[engine_id].busy:
                    continue
                if now - runner.last_used >= limit:
                    await runner.unload("idle")

    # -- requests ------------------------------------------------------------------------------------

    def voices(self) -> list[CatalogVoice]:
        """The catalog's voices."""
        return self.catalog.voices()

    def runner(self, engine_id: str) -> EngineRunner:
        """The runner of a running engine."""
        try:
            return self.runners[engine_id]
        except KeyError:
            known = ", ".join(self.runners) or "none"
            raise UnknownEngineError(f"unknown engine {engine_id!r}; running engines: {known}") from None

    def prepare(self, request: SpeechRequest) -> Job:
        """Validate a request and build its job (not yet queued). Raises typed errors, before any audio."""
        if request.text is not None:
            if not request.text.strip():
                raise InvalidRequestError("the text is empty", param="input")
            if len(request.text) > self.settings.text.max_chars:
                raise TextTooLongError(
                    f"the text is {len(request.text)} characters; at most {self.settings.text.max_chars} are accepted",
                    param="input",
                )
        if not MIN_SPEED <= request.speed <= MAX_SPEED:
            raise InvalidRequestError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}", param="speed")
        if request.engine is not None:
            self.runner(request.engine)
        resolved = self.catalog.resolve(
            request.voice, language=request.language, speaker=request.speaker, engine=request.engine
        )
        engine = self.engines[resolved.voice.engine]
        try:
            options = engine.Options(**request.options).model_dump(exclude_none=True)
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
            raise InvalidRequestError(f"invalid options for engine {engine.engine_id}: {problems}") from None
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
        job = Job(resolved, template, request, self.bus.publish, self.settings.text.max_sentence_chars, self._changed)
        if resolved.voice.pipeline is not None:
            job.transform = self._pipeline_transform(resolved.voice.pipeline)
        return job

    def _pipeline_transform(self, pipeline_id: str) -> Callable[[AsyncIterator[PCM]], AsyncIterator[PCM]]:
        """Convert a pipeline voice's speech, sentence by sentence, with the converting engine."""
        pipeline = next(p for p in self.settings.pipelines if p.id == pipeline_id)
        engine_id = pipeline.engine or self.converters()[0]
        runner = self.runner(engine_id)
        target = self.library.reference(pipeline.convert_to)  # UnknownVoiceError now, not mid-stream

        def transform(chunks: AsyncIterator[PCM]) -> AsyncIterator[PCM]:
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
        self.schedulers[job.voice.engine].add(job)  # BusyError here, before anything is announced
        self.jobs[job.id] = job
        job.accepted()
        if request.text is not None:
            job.feed(request.text)
            job.finish_text()
        return job

    def _changed(self, job: Job) -> None:
        self.schedulers[job.voice.engine].wake(job)

    async def speak(self, request: SpeechRequest) -> tuple[bytes, int]:
        """Synthesize a whole text to PCM (for the CLI and simple callers)."""
        job = self.submit(request)
        parts, rate = [], 0
        async for pcm in job.pcm():
            parts.append(pcm.data)
            rate = pcm.rate
        return b"".join(parts), rate or job.voice.sample_rate

    # -- voice library -------------------------------------------------------------------------------

    def check_voice(self, transcript: str | None) -> None:
        """Reject a new voice that no running cloning engine could speak (all of them need a transcript)."""
        cloners = [e for e in self.engines.values() if Capability.CLONE in e.capabilities]
        if cloners and not (transcript or "").strip() and all(e.needs_transcript for e in cloners):
            names = ", ".join(e.engine_id for e in cloners)
            raise InvalidRequestError(
                f"a transcript of the reference audio is required: the cloning engines ({names}) need one",
                param="transcript",
            )

    def add_voice(self, **fields: Any) -> LibraryVoice:
        """Store a cloned voice and announce its catalog entries (blocking disk work; doors use ``store_voice``)."""
        self.check_voice(fields.get("transcript"))
        voice = self.library.add(**fields)
        self._announce_voice(voice.id)
        return voice

    async def store_voice(self, **fields: Any) -> LibraryVoice:
        """``add_voice`` for callers on the event loop: the files are written on a thread."""
        self.check_voice(fields.get("transcript"))
        voice = await asyncio.to_thread(self.library.add, **fields)
        self._announce_voice(voice.id)
        return voice

    def _announce_voice(self, voice_id: str) -> None:
        for entry in self.voices():
            if entry.voice == voice_id:
                self.bus.publish(VoiceAdded(voice=entry.id))

    def remove_voice(self, voice_id: str) -> LibraryVoice:
        """Delete a cloned voice and announce it (blocking disk work; doors use ``delete_voice``)."""
        ids = [entry.id for entry in self.voices() if entry.voice == voice_id]
        voice = self.library.remove(voice_id)
        for entry_id in ids:
            self.bus.publish(VoiceRemoved(voice=entry_id))
        return voice

    async def delete_voice(self, voice_id: str) -> LibraryVoice:
        """``remove_voice`` for callers on the event loop: the files are removed on a thread."""
        self.library.get(voice_id)  # UnknownVoiceError before any work
        ids = [entry.id for entry in self.voices() if entry.voice == voice_id]
        voice = await asyncio.to_thread(self.library.remove, voice_id)
        for entry_id in ids:
            self.bus.publish(VoiceRemoved(voice=entry_id))
        return voice

    # -- voice conversion ----------------------------------------------------------------------------

    def converters(self) -> list[str]:
        """Running engines that can convert voices."""
        return [e.engine_id for e in self.engines.values() if Capability.CONVERT in e.capabilities]

    async def convert(
        self, audio: PCM, voice_id: str, engine: str | None = None, options: dict[str, Any] | None = None
    ) -> AsyncIterator[PCM]:
        """Convert speech into a library voice with a conversion-capable engine."""
        candidates = [engine] if engine else self.converters()
        if engine and engine in self.engines and engine not in self.converters():
            raise UnsupportedError(f"engine {engine!r} cannot convert voices")
        if not candidates:
            raise UnsupportedError("no running engine can convert voices (enable one, e.g. chatterbox)")
        reference = self.library.reference(voice_id)
        runner = self.runner(candidates[0])
        async for pcm in runner.convert(audio, reference, options or {}):
            yield pcm

    # -- status --------------------------------------------------------------------------------------

    async def engine_status(self) -> list[dict[str, Any]]:
        """One entry per running engine, for health pages and ``voxhost engines``."""
        out = []
        for engine_id, runner in self.runners.items():
            out.append(
                {
                    "id": engine_id,
                    "mode": runner.mode,
                    "loaded": runner.loaded,
                    "error": runner.load_error,
                    "capabilities": sorted(c.value for c in self.engines[engine_id].capabilities),
                    "queue": self.schedulers[engine_id].depth,
                    **(await runner.status()),
                }
            )
        return out


def describe_engine_classes(classes: Iterable[type[Engine]]) -> list[dict[str, Any]]:
    """Static facts about engine classes (for ``voxhost engines`` without a daemon)."""
    return [
        {
            "id": cls.engine_id,
            "name": cls.display_name or cls.engine_id,
            "capabilities": sorted(c.value for c in cls.capabilities),
            "mode": cls.default_mode,
            "enabled_by_default": cls.enabled_by_default,
            "module": cls.__module__,
        }
        for cls in classes
    ]
