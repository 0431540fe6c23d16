"""The running engines: one ``EngineSlot`` (engine, runner, scheduler, host settings) per engine, in one registry."""

from __future__ import annotations

import asyncio
import copy
import functools
import importlib.metadata
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from .api import EngineInfo, EngineState
from .components import EngineConfig, engine_context
from .engine import Capability, Engine, EngineOptions
from .errors import BusyError, StartupError, UnknownEngineError, VoxhostError
from .events import EventBus
from .runner import EngineRunner, ThreadRunner, WorkerRunner
from .scheduler import Scheduler
from .settings import EngineHostSettings, Settings

_LOGGER = logging.getLogger(__name__)


@functools.lru_cache(maxsize=64)
def engine_version(cls: type[Engine]) -> str | None:
    """The version of an engine's package (looked up once: package metadata reads files); None when absent."""
    version = getattr(cls, "version", None)
    if isinstance(version, str):
        return version
    # An engine's distribution may live only in its worker's environment; then it has no version here.
    top = cls.__module__.split(".")[0]
    for candidate in [cls.package] if cls.package else ([] if top == "voxhost" else [top]):
        try:
            return importlib.metadata.version(candidate)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


@functools.lru_cache(maxsize=64)
def options_schema(options: type[EngineOptions]) -> dict[str, Any]:
    """The JSON schema of an engine's options (made once: doors read it on every describe and voice list)."""
    return options.model_json_schema()


@dataclass
class EngineSlot:
    """One running engine and what runs it."""

    engine: Engine
    host: EngineHostSettings
    runner: EngineRunner
    scheduler: Scheduler

    @property
    def id(self) -> str:
        """The engine's id."""
        return self.engine.engine_id

    def can(self, capability: Capability) -> bool:
        """Whether the engine has a capability."""
        return capability in self.engine.capabilities

    def info(self) -> EngineInfo:
        """What doors may know of this engine."""
        engine = self.engine
        return EngineInfo(
            id=engine.engine_id,
            name=engine.display_name or engine.engine_id,
            capabilities=frozenset(c.value for c in engine.capabilities),
            mode=self.runner.mode,
            needs_transcript=engine.needs_transcript,
            options_schema=copy.deepcopy(options_schema(engine.Options)),
            models=tuple(engine.models()),
            context=engine.context,
            attribution=(
                type(engine).attribution_name or engine.display_name or engine.engine_id,
                type(engine).attribution_url,
            ),
            version=engine_version(type(engine)),
            withheld=tuple(engine.withheld_voices()),
            transcription_models=tuple(engine.transcription_models()),
            fetches_models=type(engine).refresh_models is not Engine.refresh_models,
        )

    def state(self) -> EngineState:
        """Loaded, queue and busy, now."""
        return EngineState(
            id=self.id,
            loaded=self.runner.loaded,
            error=self.runner.load_error,
            queue=self.scheduler.depth,
            busy=self.scheduler.busy,
        )

    async def status(self) -> dict[str, Any]:
        """Mode, loaded state, queue and what the engine reports (device, memory)."""
        return {
            **asdict(self.state()),
            "mode": self.runner.mode,
            "capabilities": sorted(c.value for c in self.engine.capabilities),
            **(await self.runner.status()),
        }


def build_slot(settings: Settings, cls: type[Engine], config: EngineConfig, bus: EventBus) -> EngineSlot:
    """Create an engine, its runner (thread or worker process) and its scheduler."""
    engine_id = cls.engine_id
    try:
        engine = cls(config.own, engine_context(settings, engine_id))
    except VoxhostError:
        raise
    except Exception as err:
        raise StartupError(f"engine {engine_id} could not be created: {type(err).__name__}: {err}") from err
    host = config.host
    mode = host.mode or cls.default_mode
    concurrency = host.concurrency or cls.default_concurrency
    runner: EngineRunner
    if mode == "worker":
        # One pipe, one request at a time; scale a heavy engine with more machines, not threads.
        concurrency = 1
        runner = WorkerRunner(engine, host, bus, settings.state_path / "worker-path")
    else:
        runner = ThreadRunner(engine, host, bus, concurrency)
    scheduler = Scheduler(runner, bus.publish, settings.scheduler.max_jobs_per_engine, concurrency)
    return EngineSlot(engine, host, runner, scheduler)


class EngineRegistry:
    """The running engines by id, in registration order."""

    def __init__(self, slots: list[EngineSlot]) -> None:
        self._slots = {slot.id: slot for slot in slots}
        self._idle_task: asyncio.Task[None] | None = None

    def __iter__(self) -> Iterator[EngineSlot]:
        return iter(list(self._slots.values()))

    def __contains__(self, engine_id: object) -> bool:
        return engine_id in self._slots

    def __len__(self) -> int:
        return len(self._slots)

    def ids(self) -> list[str]:
        """Engine ids, in registration order."""
        return list(self._slots)

    def engines(self) -> list[Engine]:
        """The engine objects (for the catalog)."""
        return [slot.engine for slot in self._slots.values()]

    def get(self, engine_id: str) -> EngineSlot:
        """One slot, or ``UnknownEngineError`` naming the running engines."""
        try:
            return self._slots[engine_id]
        except KeyError:
            known = ", ".join(self._slots) or "none"
            raise UnknownEngineError(f"unknown engine {engine_id!r}; running engines: {known}") from None

    def able(self, capability: Capability) -> list[EngineSlot]:
        """Slots whose engine has a capability."""
        return [slot for slot in self._slots.values() if slot.can(capability)]

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the schedulers and load the engines marked for preloading (failures are logged, not fatal)."""
        for slot in self._slots.values():
            slot.scheduler.start()
        preload = [slot for slot in self._slots.values() if slot.host.preload]
        results = await asyncio.gather(*(slot.runner.ensure_loaded() for slot in preload), return_exceptions=True)
        for slot, result in zip(preload, results, strict=True):
            if isinstance(result, BaseException):
                _LOGGER.error("Engine %s did not load: %s", slot.id, result)
        self._idle_task = asyncio.create_task(self._idle_unloader(), name="idle-unloader")

    async def close(self, grace: float = 10.0) -> None:
        """Stop the schedulers (cancelling what is left) and unload every engine (workers get ``grace`` seconds to
        exit, then are killed)."""
        if self._idle_task:
            self._idle_task.cancel()
        await asyncio.gather(*(slot.scheduler.stop() for slot in self._slots.values()))
        await asyncio.gather(*(slot.runner.close(grace) for slot in self._slots.values()), return_exceptions=True)

    async def unload(self, engine_id: str, reason: str = "requested") -> None:
        """Free an engine's memory; refused while it has work."""
        slot = self.get(engine_id)
        if slot.scheduler.busy:
            raise BusyError(f"engine {engine_id} has jobs; unload it when they are done", retry_after=2)
        await slot.runner.unload(reason)

    async def _idle_unloader(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for slot in self._slots.values():
                limit = slot.host.idle_unload
                if limit is None or not slot.runner.loaded or slot.scheduler.busy:
                    continue
                if now - slot.runner.last_used >= limit:
                    await slot.runner.unload("idle")
