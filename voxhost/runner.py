"""Engine runners: the same engine class run in-process on its own thread, or in a worker process.

Both give the scheduler one async interface (load, unload, synthesize, convert) and never block the event loop.
An engine serves one request at a time; fairness across jobs is the scheduler's business.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import runaway, wire
from .engine import (
    PCM,
    Engine,
    Reference,
    Segment,
    SynthesisRequest,
    TranscriptInfo,
    TranscriptionRequest,
    TranscriptPart,
    checked_pcm,
)
from .errors import EngineError, EngineTimeoutError, VoxhostError, WorkerCrashedError, storage_error
from .events import EngineLoaded, EngineUnloaded, EventBus
from .loader import DIR_PLUGIN_PREFIX
from .memory import trim_memory
from .settings import EngineHostSettings

_LOGGER = logging.getLogger(__name__)
_DONE = object()
NICE_ENV = "VOXHOST_WORKER_NICE"


def lower_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority by ``nice`` (Linux: per thread; elsewhere: best effort)."""
    if nice <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


class EngineRunner(ABC):
    """Runs one engine; owns its loaded state."""

    mode: str

    def __init__(self, engine: Engine, host: EngineHostSettings, bus: EventBus) -> None:
        self.engine = engine
        self.host = host
        self.bus = bus
        self.loaded = False
        self.load_error: str | None = None
        self.last_used = time.monotonic()
        self._load_lock = asyncio.Lock()

    @property
    def engine_id(self) -> str:
        """The engine's id."""
        return self.engine.engine_id

    async def ensure_loaded(self) -> None:
        """Load the engine if it is not loaded (first use, after idle unload, after a crash)."""
        if self.loaded:
            return
        async with self._load_lock:
            if self.loaded:
                return
            started = time.monotonic()
            _LOGGER.info("Loading engine %s (%s)", self.engine_id, self.mode)
            try:
                await self._load()
            except VoxhostError as err:
                self.load_error = err.message
                raise
            except Exception as err:
                self.load_error = f"{type(err).__name__}: {err}"
                _LOGGER.exception("Engine %s failed to load", self.engine_id)
                raise EngineError(f"engine {self.engine_id} failed to load: {self.load_error}") from err
            self.loaded, self.load_error = True, None
            seconds = time.monotonic() - started
            _LOGGER.info("Engine %s loaded in %.2f s", self.engine_id, seconds)
            self.bus.publish(EngineLoaded(engine=self.engine_id, seconds=round(seconds, 3), mode=self.mode))

    async def unload(self, reason: str = "requested") -> None:
        """Free the engine's memory; the next use loads it again."""
        async with self._load_lock:
            if not self.loaded:
                return
            self.loaded = False
            await self._unload()
            _LOGGER.info("Engine %s unloaded (%s)", self.engine_id, reason)
            self.bus.publish(EngineUnloaded(engine=self.engine_id, reason=reason))

    def synthesize(
        self, request: SynthesisRequest, on_cut: Callable[[float], None] | None = None
    ) -> AsyncGenerator[PCM, None]:
        """Speak one request; PCM chunks as they are made, up to the runaway bound (``on_cut`` is called with the
        bound where it cuts). Closing the iterator cancels the work."""
        voice = request.reference.voice_id if request.reference is not None else request.voice
        limit = runaway.text_limit(request.text, request.speed, self.host)
        work = f"a sentence of {len(request.text)} characters"
        return self._bounded(limit, voice, work, "synth", on_cut, request=request)

    def convert(
        self,
        audio: PCM,
        target: Reference,
        options: dict[str, Any],
        on_cut: Callable[[float], None] | None = None,
    ) -> AsyncGenerator[PCM, None]:
        """Voice conversion of ``audio`` into ``target``, up to the runaway bound (``on_cut`` is called with the
        bound where it cuts)."""
        limit = runaway.audio_limit(audio.seconds, self.host)
        work = f"a conversion of {audio.seconds:.1f} s"
        return self._bounded(
            limit, target.voice_id, work, "convert", on_cut, audio=audio, target=target, options=options
        )

    async def _bounded(
        self,
        limit: float | None,
        voice: str,
        work: str,
        op: str,
        on_cut: Callable[[float], None] | None,
        **kwargs: Any,
    ) -> AsyncGenerator[PCM, None]:
        """``_run``'s audio up to ``limit`` seconds: past it the engine is stopped (the stream closed) and a warning
        names it and the voice; the job goes on, so the client hears everything else."""

        def cut(seconds: float) -> None:
            _LOGGER.warning(
                "Engine %s (voice %s) made more than %.0f s of audio for %s, as an engine caught in a loop does; cut "
                "there and stopped (the bound: max_audio_factor and max_audio_floor in [engines.%s])",
                self.engine_id,
                voice,
                seconds,
                work,
                self.engine_id,
            )
            if on_cut is not None:
                on_cut(seconds)

        await self.ensure_loaded()
        self.last_used = time.monotonic()
        try:
            async with (
                contextlib.aclosing(self._run(op, **kwargs)) as chunks,
                contextlib.aclosing(runaway.capped(chunks, limit, cut)) as bounded,
            ):
                async for pcm in bounded:
                    yield pcm
        finally:
            self.last_used = time.monotonic()

    async def transcribe(self, audio: PCM, request: TranscriptionRequest) -> AsyncGenerator[TranscriptPart, None]:
        """Speech recognition of ``audio``: a ``TranscriptInfo``, then segments as they are recognized."""
        await self.ensure_loaded()
        self.last_used = time.monotonic()
        try:
            async for part in self._run("transcribe", audio=audio, request=request):
                yield part
        finally:
            self.last_used = time.monotonic()

    async def status(self) -> dict[str, Any]:
        """Engine-reported status (device, memory) when loaded."""
        return {}

    @abstractmethod
    async def _load(self) -> None: ...

    @abstractmethod
    async def _unload(self) -> None: ...

    @abstractmethod
    def _run(self, op: str, **kwargs: Any) -> AsyncGenerator[Any, None]:
        """Run one streaming operation (``synth``, ``convert``, ``transcribe``) and yield what it yields."""

    async def close(self, grace: float = 10.0) -> None:
        """Stop for good (daemon shutdown); a worker gets ``grace`` seconds to exit before it is killed."""
        await self.unload("shutdown")

    def _stalled(self) -> EngineTimeoutError:
        """The error of a request that got no audio for ``progress_timeout`` seconds."""
        return EngineTimeoutError(
            f"engine {self.engine_id} made no progress for {self.host.progress_timeout:g} s; the request was "
            f"stopped and the engine's {'worker process' if self.mode == 'worker' else 'thread'} replaced"
        )


def _as_engine_error(engine_id: str, err: BaseException) -> VoxhostError:
    if isinstance(err, VoxhostError):
        return err
    if isinstance(err, OSError) and (storage := storage_error(err)) is not None:
        return storage  # a cache the engine could not write: say so, not "engine failed"
    return EngineError(f"engine {engine_id} failed: {type(err).__name__}: {err}")


class ThreadRunner(EngineRunner):
    """In-process: every engine call runs on the engine's own single thread."""

    mode = "thread"

    def __init__(self, engine: Engine, host: EngineHostSettings, bus: EventBus, concurrency: int = 1) -> None:
        super().__init__(engine, host, bus)
        self._concurrency = concurrency
        self._executor = self._new_executor()

    def _new_executor(self) -> ThreadPoolExecutor:
        # The engine's own threads: as many as sentences it may synthesize at once (usually one, which
        # serialises load/synthesize/unload without locks in the engine).
        return ThreadPoolExecutor(
            self._concurrency,
            thread_name_prefix=f"engine-{self.engine.engine_id}",
            initializer=lower_priority,
            initargs=(self.host.nice or 0,),
        )

    async def _load(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self.engine.load)

    async def _unload(self) -> None:
        def unload() -> None:
            self.engine.unload()
            gc.collect()
            # The allocator keeps what the engine freed (a Piper voice's ~100 MiB): unloading would give nothing
            # back, and each load after it would take fresh memory in another thread's arena.
            trim_memory()

        await asyncio.get_running_loop().run_in_executor(self._executor, unload)

    async def status(self) -> dict[str, Any]:
        """The engine's own status (thread mode reads it directly)."""
        return self.engine.status() if self.loaded else {}

    async def _run(self, op: str, **kwargs: Any) -> AsyncGenerator[Any, None]:
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[Any] = asyncio.Queue()
        cancel = threading.Event()

        def produce() -> Iterator[Any]:
            if op == "synth":
                return self.engine.synthesize(kwargs["request"])
            if op == "transcribe":
                return self.engine.transcribe(kwargs["audio"], kwargs["request"])
            return self.engine.convert(kwargs["audio"], kwargs["target"], kwargs["options"])

        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(chunks.put_nowait, item)
            except RuntimeError:  # the loop closed during shutdown
                pass

        def work() -> None:
            ended = False  # a last chunk ends the reading side: telling it the thread returned would wake it again
            try:
                for pcm in produce():
                    put(pcm if op == "transcribe" else checked_pcm(pcm))
                    ended = ended or getattr(pcm, "last", False)
                    if cancel.is_set():
                        break
            except BaseException as err:  # reported to the job, never lost on the thread
                put(_as_engine_error(self.engine_id, err))
            finally:
                if not ended:
                    put(_DONE)

        # Not ``run_in_executor``: nothing awaits the thread's return, and its future would wake the loop for it.
        self._executor.submit(work)
        try:
            while True:
                try:
                    # ``timeout`` rather than ``wait_for``, which wraps each read in a task of its own (a turn of
                    # the loop per chunk).
                    async with asyncio.timeout(self.host.progress_timeout):
                        item = await chunks.get()
                except TimeoutError:
                    self._abandon_thread()
                    raise self._stalled() from None
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
                if getattr(item, "last", False):
                    # The engine's thread winds its generator down on its own: waiting for that would cost a
                    # wake-up of the thread (the GIL while this loop sends the audio) between sentences.
                    return
        finally:
            cancel.set()

    def _abandon_thread(self) -> None:
        """A thread that hangs inside the engine cannot be stopped: leave it, and serve on fresh threads."""
        _LOGGER.error(
            'Engine %s made no progress for %g s; leaving its stuck thread behind (run it with mode = "worker" '
            "to have such an engine restarted instead)",
            self.engine_id,
            self.host.progress_timeout,
        )
        stuck, self._executor = self._executor, self._new_executor()
        stuck.shutdown(wait=False, cancel_futures=True)

    async def close(self, grace: float = 10.0) -> None:
        """Unload and stop the engine thread."""
        await super().close(grace)
        self._executor.shutdown(wait=False, cancel_futures=True)


def _exit_words(code: int | None, stderr: list[str]) -> str:
    """How a worker ended, for its request's error: the signal by name, or the exit code and the last lines it
    wrote (a progress bar's last state only: its ``\\r`` updates filled the message a client sees)."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:  # it wrote nothing after the kill: what it wrote before is no reason for it
            return f"was killed by {name} (the kernel's out-of-memory killer sends it too)"
        how = f"was killed by {name}"
    else:
        how = f"exited (code {code})"
    lines = [line.rsplit("\r", 1)[-1].strip() for line in stderr[-3:]]
    tail = " | ".join(line for line in lines if line)
    return f"{how}: {tail}" if tail else how


class WorkerRunner(EngineRunner):
    """A worker process (``python -m voxhost.worker``) with the configured interpreter."""

    mode = "worker"

    def __init__(self, engine: Engine, host: EngineHostSettings, bus: EventBus, path_dir: Path) -> None:
        super().__init__(engine, host, bus)
        self._path_dir = path_dir
        self._proc: asyncio.subprocess.Process | None = None
        self._io_lock = asyncio.Lock()
        self._stderr: collections.deque[str] = collections.deque(maxlen=30)
        self._stderr_task: asyncio.Task[None] | None = None
        self._draining: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._exit_code: int | None = None
        self._exit_grace = 10.0
        self._rid = 0

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs."""
        return self._proc.pid if self._proc and self._proc.returncode is None else None

    def _import_spec(self) -> dict[str, Any]:
        cls = type(self.engine)
        spec: dict[str, Any] = {"module": cls.__module__, "cls": cls.__qualname__}
        if cls.__module__.startswith(DIR_PLUGIN_PREFIX):
            # A single-file plugin from a plugins directory: the worker imports it from its file.
            spec["file"] = sys.modules[cls.__module__].__file__
        return spec

    def _python_path(self) -> str:
        """A directory holding only links to voxhost (and the engine's own package), for the worker's path."""
        self._path_dir.mkdir(parents=True, exist_ok=True)
        packages = {"voxhost"}
        top = type(self.engine).__module__.split(".")[0]
        if top in sys.modules and getattr(sys.modules[top], "__path__", None):
            packages.add(top)
        for name in packages:
            source = Path(list(sys.modules[name].__path__)[0]).resolve()
            link = self._path_dir / name
            if link.is_symlink() and link.resolve() == source:
                continue
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(source, target_is_directory=True)
        return str(self._path_dir)

    async def _load(self) -> None:
        await self._start()
        try:
            await asyncio.wait_for(self._call({"op": "load"}), self.host.start_timeout)
        except BaseException:
            await self._stop_process()
            raise

    async def _start(self) -> None:
        await self._stop_process()
        python = self.host.python or sys.executable
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (self._python_path(), env.get("PYTHONPATH")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        env[NICE_ENV] = str(self.host.nice or 0)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                python,
                "-m",
                "voxhost.worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                limit=2**20,
                # Its own session: a terminal's Ctrl-C or hang-up reaches the daemon's whole process group, and the
                # daemon drains the engine's running jobs before it stops the worker; the worker must not die first.
                start_new_session=True,
            )
        except OSError as err:
            raise EngineError(f"cannot start the worker for engine {self.engine_id} with {python}: {err}") from err
        self._stderr.clear()
        self._exit_code = None
        self._stderr_task = asyncio.create_task(self._pump_stderr(self._proc))
        self._watcher = asyncio.create_task(self._watch(self._proc), name=f"worker-watch-{self.engine_id}")
        cls = type(self.engine)
        settings = self.engine.settings.model_dump(mode="json")
        init = {"op": "init", **self._import_spec(), "settings": settings, "context": asdict(self.engine.context)}
        _LOGGER.debug("Started worker %s for %s (%s)", self._proc.pid, self.engine_id, cls.__qualname__)
        await asyncio.wait_for(self._call(init), self.host.start_timeout)

    async def _pump_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            self._stderr.append(text)
            _LOGGER.info("[%s worker] %s", self.engine_id, text)

    async def _watch(self, proc: asyncio.subprocess.Process) -> None:
        """Notice a worker that exits on its own (killed, out of memory) while idle: the next request starts a new
        one instead of failing on the dead one."""
        code = await proc.wait()
        if self._proc is not proc:
            return  # stopped on purpose, or already replaced
        self._exit_code = code
        if not self._io_lock.locked():  # a request in progress reports the crash itself
            _LOGGER.warning(
                "The %s worker exited (code %s) while idle; it starts again on the next request", self.engine_id, code
            )
            self._on_death()

    def _alive(self) -> bool:
        """Whether the worker can take a request: running, and its pipe open."""
        proc = self._proc
        return (
            proc is not None
            and proc.returncode is None
            and proc.stdout is not None
            and not proc.stdout.at_eof()
            and proc.stdin is not None
            and not proc.stdin.is_closing()
        )

    async def ensure_loaded(self) -> None:
        """Load the engine; a worker found dead since its last request is started again first."""
        if self.loaded and not self._alive():
            _LOGGER.warning("The %s worker is gone; starting a new one", self.engine_id)
            self._on_death()
        await super().ensure_loaded()

    def _write(self, header: dict[str, Any], payload: bytes = b"") -> None:
        if self._proc is None or self._proc.stdin is None or self._proc.returncode is not None:
            raise self._crashed()
        self._proc.stdin.write(wire.encode(header, payload))

    async def _read(self) -> tuple[dict[str, Any], bytes]:
        assert self._proc is not None and self._proc.stdout is not None
        frame = await wire.read_frame_async(self._proc.stdout)
        if frame is None:
            await self._proc.wait()
            if self._stderr_task:
                await asyncio.wait([self._stderr_task], timeout=1)
            raise self._crashed()
        header, payload = frame
        if "error" in header:
            raise _error_from(header)
        return header, payload

    def _crashed(self) -> WorkerCrashedError:
        code = self._proc.returncode if self._proc else self._exit_code
        self._on_death()
        return WorkerCrashedError(f"the {self.engine_id} worker process {_exit_words(code, list(self._stderr))}")

    def _on_death(self) -> None:
        was_loaded, self.loaded = self.loaded, False
        self._proc = None
        if was_loaded:
            self.bus.publish(EngineUnloaded(engine=self.engine_id, reason="worker exited"))

    async def _call(self, header: dict[str, Any]) -> dict[str, Any]:
        async with self._io_lock:
            await self._settle()
            self._write(header)
            reply, _ = await self._read()
            return reply

    async def _settle(self) -> None:
        # A request abandoned mid-stream leaves frames in the pipe; finish reading them first.
        if self._draining is not None:
            task, self._draining = self._draining, None
            try:
                await task
            except VoxhostError:
                pass

    async def _run(self, op: str, **kwargs: Any) -> AsyncGenerator[Any, None]:
        async with self._io_lock:
            await self._settle()
            if self._proc is None:
                raise self._crashed()
            self._rid += 1
            if op == "synth":
                self._write({"op": "synth", "rid": self._rid, "request": kwargs["request"].to_dict()})
            elif op == "transcribe":
                sound: PCM = kwargs["audio"]
                request = kwargs["request"].to_dict()
                self._write({"op": "transcribe", "rid": self._rid, "rate": sound.rate, "request": request}, sound.data)
            else:
                audio: PCM = kwargs["audio"]
                header = {"op": "convert", "rid": self._rid, "rate": audio.rate, "options": kwargs["options"]}
                self._write({**header, "target": asdict(kwargs["target"])}, audio.data)
            finished = False
            try:
                while True:
                    try:
                        async with asyncio.timeout(self.host.progress_timeout):  # no task per frame
                            header, payload = await self._read()
                    except TimeoutError:
                        finished = True  # nothing to drain: the worker is killed
                        await self._kill_stalled()
                        raise self._stalled() from None
                    if header.get("done"):
                        finished = True
                        return
                    if "segment" in header:
                        yield Segment.from_dict(header["segment"])
                    elif "info" in header:
                        yield TranscriptInfo(**header["info"])
                    else:
                        yield PCM(payload, int(header["rate"]))
            except VoxhostError:
                finished = True
                raise
            finally:
                if not finished and self._proc is not None:
                    # Abandoned: tell the worker to stop after its current chunk; drain in the background.
                    try:
                        self._write({"op": "cancel"})
                    except VoxhostError:
                        pass
                    self._draining = asyncio.ensure_future(self._drain())

    async def _kill_stalled(self) -> None:
        """Replace a worker that stopped answering: kill it now, and the next request starts a new one."""
        proc = self._proc
        _LOGGER.error(
            "Engine %s made no progress for %g s; killing its worker (pid %s)",
            self.engine_id,
            self.host.progress_timeout,
            proc.pid if proc else None,
        )
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        self._exit_code = proc.returncode if proc else None
        self._on_death()

    async def _drain(self) -> None:
        while True:
            header, _ = await self._read()
            if header.get("done"):
                return

    async def _unload(self) -> None:
        await self._stop_process()

    async def close(self, grace: float = 10.0) -> None:
        """Stop for good; the worker gets ``grace`` seconds to exit, then it is killed."""
        self._exit_grace = grace
        await super().close(grace)

    async def _stop_process(self) -> None:
        proc, self._proc = self._proc, None
        if self._draining is not None:
            self._draining.cancel()
            self._draining = None
        if proc is None or proc.returncode is not None:
            return
        try:
            assert proc.stdin is not None
            proc.stdin.write(wire.encode({"op": "exit"}))
            proc.stdin.close()
            await asyncio.wait_for(proc.wait(), max(0.1, self._exit_grace))
        except (TimeoutError, ConnectionError, BrokenPipeError):
            proc.kill()
            await proc.wait()
        _LOGGER.debug("Worker for %s exited with %s", self.engine_id, proc.returncode)

    async def status(self) -> dict[str, Any]:
        """The worker's status report."""
        if not self.loaded:
            return {}
        try:
            reply = await asyncio.wait_for(self._call({"op": "status"}), 5)
        except (TimeoutError, VoxhostError):
            return {"pid": self.pid}
        return {"pid": self.pid, **reply.get("status", {})}


def _error_from(header: dict[str, Any]) -> VoxhostError:
    """Rebuild a typed error sent by a worker."""
    from . import errors

    cls = getattr(errors, str(header.get("type")), None)
    if isinstance(cls, type) and issubclass(cls, VoxhostError):
        return cls(str(header["error"]), param=header.get("param"))
    return EngineError(str(header["error"]))
