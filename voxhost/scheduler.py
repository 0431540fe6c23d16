"""Per-engine scheduling at sentence granularity, fair across jobs; the scheduler owns each job's life.

Each engine has one scheduler task. It takes the next sentence from the jobs that have one ready: jobs that have
had no audio yet first (so every client hears its first sentence after about one sentence of compute), then the
least recently served. A spare slot computes a running job's next sentence ahead; its audio is held back until the
sentence before it is done. One-shot work (voice conversion, a transcript) takes a slot through ``exclusive``,
ahead of look-ahead sentences; among one-shot work, higher priority first (a person waiting for a transcript before
the checking of generated speech). A bounded number of jobs per engine keeps the backlog finite.

The scheduler moves each job through queued → running → finished, failed or cancelled, records its progress on
the job and delivers its events (to the job's stream and the bus); jobs call nothing back.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from .audio import Resampler
from .engine import PCM, SynthesisRequest
from .errors import BusyError, CancelledError, EngineError, VoxhostError
from .events import (
    Event,
    JobAccepted,
    JobAudio,
    JobCancelled,
    JobChecked,
    JobCut,
    JobFailed,
    JobFinished,
    JobProgress,
    JobSentence,
    JobStarted,
)
from .jobs import Cut, Job
from .pace import Pace
from .validation import retry_seed

_LOGGER = logging.getLogger(__name__)

MAX_AHEAD = 2
"""Sentences of one job in flight at once: the one being heard next, and one computed ahead."""


class Synthesizer(Protocol):
    """What the scheduler needs of an engine runner."""

    @property
    def engine_id(self) -> str:
        """The engine's id, for messages."""
        ...

    def synthesize(
        self, request: SynthesisRequest, on_cut: Callable[[float], None] | None = None
    ) -> AsyncGenerator[PCM, None]:
        """Speak one sentence (``on_cut``: called with the runaway bound where it cuts the audio); closing the stream
        cancels the work."""
        ...


@dataclass
class _Track:
    """What the scheduler keeps per job while it runs: sentences in flight and audio held for order."""

    in_flight: int = 0
    emit_index: int = 0
    held: dict[int, list[PCM]] = field(default_factory=dict)
    finished: set[int] = field(default_factory=set)
    resampler: Resampler | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    running: dict[int, tuple[float, int, bool]] = field(default_factory=dict)
    """Sentences being made: index → (started, characters, shared)."""
    checking: int = 0
    """Sentences made and being heard by the recognizer (checked jobs); the engine is free for the next one."""


class Scheduler:
    """Feeds one engine with sentences from its jobs, up to ``concurrency`` at a time (one per job, or two ahead)."""

    def __init__(
        self,
        runner: Synthesizer,
        publish: Callable[[Event], None],
        max_jobs: int,
        concurrency: int = 1,
    ) -> None:
        self.runner = runner
        self._publish = publish
        self.max_jobs = max_jobs
        self.concurrency = max(1, concurrency)
        self.jobs: list[Job] = []
        self._tracks: dict[str, _Track] = {}
        self._serving = 0
        self._exclusive: list[tuple[int, int, asyncio.Future[None]]] = []
        """Waiting one-shot work as (-priority, arrival, waiter), granted in that order."""
        self._arrivals = itertools.count()
        self._exclusive_held = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.pace = Pace()
        """How fast this engine makes sentences alone and overlapped."""

    @property
    def depth(self) -> int:
        """Jobs and one-shot requests waiting or running."""
        return len(self.jobs) + len(self._exclusive) + self._exclusive_held

    @property
    def busy(self) -> bool:
        """Whether anything is queued or running."""
        return self.depth > 0 or self._serving > 0

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the scheduling task."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"scheduler-{self.runner.engine_id}")

    async def stop(self, reason: str = "daemon shutting down") -> None:
        """Stop scheduling; jobs still here are cancelled and their engine work stopped."""
        for job in list(self.jobs):
            job.cancel(reason)
            self._cancelled(job)
        tasks = [task for track in self._tracks.values() for task in track.tasks]
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _, _, waiter in self._exclusive:
            waiter.cancel()
        self._task = None

    # -- work in -------------------------------------------------------------------------------------

    def add(self, job: Job) -> None:
        """Queue a job and announce it, or raise ``BusyError`` when the engine's queue is full."""
        if self.depth >= self.max_jobs:
            raise BusyError(
                f"engine {self.runner.engine_id} is busy ({self.depth} jobs queued); try again shortly",
                retry_after=2.0,
            )
        self.jobs.append(job)
        self._tracks[job.id] = _Track()
        accepted = JobAccepted(
            job_id=job.id,
            voice=job.voice.id,
            engine=job.voice.engine,
            door=job.request.door,
            chars=len(job.request.text or ""),
        )
        job.deliver(accepted)
        self._publish(accepted)  # at once: the job's record exists when ``add`` returns (callers attach to it)
        job.attach(self._wake)

    @contextlib.asynccontextmanager
    async def exclusive(self, priority: int = 0) -> AsyncIterator[None]:
        """Hold one of the engine's slots for one-shot work; granted before any look-ahead sentence, and before
        waiting one-shot work of a lower ``priority``."""
        if self.depth >= self.max_jobs:
            raise BusyError(f"engine {self.runner.engine_id} is busy; try again shortly", retry_after=2.0)
        async with self._slot(priority):
            yield

    @contextlib.asynccontextmanager
    async def _slot(self, priority: int) -> AsyncIterator[None]:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (-priority, next(self._arrivals), waiter)
        heapq.heappush(self._exclusive, entry)
        self._wake.set()
        try:
            await waiter
        except BaseException:
            if entry in self._exclusive:
                self._exclusive.remove(entry)
                heapq.heapify(self._exclusive)
            elif waiter.done() and not waiter.cancelled():
                self._release_exclusive()  # granted just as the waiter was cancelled
            raise
        try:
            yield
        finally:
            self._release_exclusive()

    def _release_exclusive(self) -> None:
        self._exclusive_held -= 1
        self._wake.set()

    # -- the loop ------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            for job in list(self.jobs):
                track = self._tracks[job.id]
                if job.cancel_reason is not None:
                    self._cancelled(job)
                elif job.failure is not None:
                    self._failed(job, job.failure)
                elif self._complete(job, track):
                    self._finished(job)
            self._grant()
            await self._wake.wait()

    @staticmethod
    def _complete(job: Job, track: _Track) -> bool:
        """Whether a job that is still on has made all its audio: every sentence taken, none in flight or heard."""
        return (
            job.ended is None
            and job.cancel_reason is None
            and job.failure is None
            and job.all_taken
            and track.in_flight == 0
            and track.checking == 0
        )

    def _free(self) -> int:
        return self.concurrency - self._serving - self._exclusive_held

    def _grant(self) -> None:
        while self._free() > 0 and self._exclusive:
            _, _, waiter = heapq.heappop(self._exclusive)
            if not waiter.done():
                self._exclusive_held += 1
                waiter.set_result(None)
        picked: list[tuple[Job, SynthesisRequest]] = []
        while self._free() - len(picked) > 0 and (job := self._pick()) is not None:
            self._tracks[job.id].in_flight += 1
            picked.append((job, job.take_sentence()))  # taken now, so the next pick sees what is left
        shared = self._serving + len(picked) > 1
        for job, request in picked:
            request.shared = shared
            self._serving += 1
            serve = self._serve_checked if job.check is not None else self._serve
            task = asyncio.create_task(serve(job, request), name=f"serve-{job.id}-{request.index}")
            track = self._tracks[job.id]
            track.tasks.add(task)
            task.add_done_callback(track.tasks.discard)

    def _pick(self) -> Job | None:
        ready = [job for job in self.jobs if job.has_sentence()]
        # First every job with nothing in flight: no audio yet first (first audio after about one sentence of
        # compute for every client), then the least recently served.
        idle = [
            job for job in ready if self._tracks[job.id].in_flight == 0 and self._tracks[job.id].checking < MAX_AHEAD
        ]
        if idle:
            fresh = [job for job in idle if job.first_audio_at is None and job.sentences_done == 0]
            return min(fresh or idle, key=lambda job: job.last_served)
        # A spare slot and no job waiting: compute a running job's next sentence ahead (its audio is held back
        # until the sentence before it is done, so order is kept). Not before the job's first audio: its first
        # sentence gets the whole machine, so it is heard as soon as possible.
        ahead = [
            job
            for job in ready
            if self._tracks[job.id].in_flight < MAX_AHEAD and job.first_audio_at is not None and not self._waits(job)
        ]
        return min(ahead, key=lambda job: job.last_served) if ahead else None

    def _waits(self, job: Job) -> bool:
        """Whether the job's last sentence should wait for its sentence in flight and then have the engine alone:
        started beside it, it would run on an overlapping (slower) session to its end."""
        last, running = job.last_left, self._tracks[job.id].running
        if last is None or not running:
            return False
        now = time.monotonic()
        left = max(self.pace.left(chars, now - started, shared) for started, chars, shared in running.values())
        return self.pace.wait_for_wide(len(last), left)

    async def _serve(self, job: Job, request: SynthesisRequest) -> None:
        job.last_served = started = time.monotonic()
        track = self._tracks[job.id]
        track.running[request.index] = (started, len(request.text), request.shared)
        try:
            self._started(job)
            if (sentence := job.taken.pop(request.index, None)) is not None:
                self._emit(
                    job,
                    JobSentence(
                        job_id=job.id,
                        sentence=request.index,
                        text=sentence.text,
                        source=sentence.source,
                        language=sentence.language or None,
                    ),
                )
            chunks = self.runner.synthesize(request, self._on_cut(job, request.index))
            stream = job.transform(chunks, self._cut(job, request.index)) if job.transform else chunks
            try:
                async for pcm in stream:
                    self._audio(job, track, pcm, request.index)
            finally:
                await stream.aclose()
                if stream is not chunks:
                    await chunks.aclose()
            track.in_flight -= 1
            compute = time.monotonic() - started
            self.pace.record(len(request.text), compute, request.shared)
            self._sentence_done(job, track, request.index, compute)
        except asyncio.CancelledError:
            track.in_flight -= 1
        except VoxhostError as err:
            track.in_flight -= 1
            self._failed(job, err)
        except Exception as err:
            track.in_flight -= 1
            _LOGGER.exception("Engine %s failed on job %s", self.runner.engine_id, job.id)
            self._failed(job, EngineError(f"engine {self.runner.engine_id} failed: {type(err).__name__}: {err}"))
        finally:
            track.running.pop(request.index, None)
            self._serving -= 1
            self._wake.set()

    async def _collect(self, job: Job, request: SynthesisRequest) -> list[PCM]:
        """One whole sentence (through the job's transform), held back while it is checked."""
        chunks = self.runner.synthesize(request, self._on_cut(job, request.index))
        stream = job.transform(chunks, self._cut(job, request.index)) if job.transform else chunks
        try:
            return [pcm async for pcm in stream if pcm.data]
        finally:
            await stream.aclose()
            if stream is not chunks:
                await chunks.aclose()

    async def _serve_checked(self, job: Job, request: SynthesisRequest) -> None:
        """A checked sentence: made whole, heard by the recognizer while the engine makes the next sentence, made
        again with another seed (ahead of look-ahead work) while above the bound; the best attempt is released."""
        check = job.check
        assert check is not None
        job.last_served = time.monotonic()
        track = self._tracks[job.id]
        holding = True  # the engine slot the scheduler granted, until the first attempt is made
        try:
            self._started(job)
            started = time.monotonic()
            attempts = [(await self._collect(job, request), request.seed)]
            compute = time.monotonic() - started
            holding = False
            track.in_flight -= 1
            track.checking += 1
            self._serving -= 1
            self._wake.set()
            heard = [await check.score(attempts[0][0], request.text)]
            while (last := heard[-1]) is not None and last.wer > check.max_wer and len(attempts) <= check.max_retries:
                seed = retry_seed(request.seed, len(attempts))
                async with self._slot(0):  # a job's own sentence: never refused as busy
                    started = time.monotonic()
                    attempts.append((await self._collect(job, replace(request, seed=seed)), seed))
                    compute += time.monotonic() - started
                heard.append(await check.score(attempts[-1][0], request.text))
            scored = [(h.wer, i, h) for i, h in enumerate(heard) if h is not None]
            wer, best, kept = min(scored) if scored else (0.0, 0, None)  # unheard (recognizer down): as made
            for pcm in attempts[best][0]:
                self._audio(job, track, pcm, request.index)
            if kept is not None:
                self._emit(
                    job,
                    JobChecked(
                        job_id=job.id,
                        sentence=request.index,
                        wer=wer,
                        retries=len(attempts) - 1,
                        passed=wer <= check.max_wer,
                        heard=kept.text,
                    ),
                )
            track.checking -= 1
            self._sentence_done(job, track, request.index, compute)
        except asyncio.CancelledError:
            self._leave(track, holding)
        except VoxhostError as err:
            self._leave(track, holding)
            self._failed(job, err)
        except Exception as err:
            self._leave(track, holding)
            _LOGGER.exception("Checking a sentence of job %s failed", job.id)
            self._failed(job, EngineError(f"checking a sentence failed: {type(err).__name__}: {err}"))
        finally:
            if holding:
                self._serving -= 1
            self._wake.set()

    @staticmethod
    def _leave(track: _Track, holding: bool) -> None:
        if holding:
            track.in_flight -= 1
        else:
            track.checking -= 1

    # -- the job's life ------------------------------------------------------------------------------

    def _on_cut(self, job: Job, sentence: int) -> Callable[[float], None]:
        """What the runner calls when the runaway bound cuts a sentence: the job's events (and so its record) say so,
        not only the log."""

        def cut(seconds: float) -> None:
            self._cut(job, sentence)(
                seconds,
                f"the engine made more than {seconds:.0f} s of audio for it, as an engine caught in a loop does; it "
                f"was cut there (max_audio_factor and max_audio_floor in [engines.{self.runner.engine_id}])",
            )

        return cut

    def _cut(self, job: Job, sentence: int) -> Cut:
        """Tell the job's events (and so its record and the doors) that the bound cut a sentence's audio: the
        engine's, or a pipeline voice's conversion of it."""

        def cut(seconds: float, what: str) -> None:
            message = f"sentence {sentence + 1}: {what}"
            self._emit(job, JobCut(job_id=job.id, sentence=sentence, seconds=round(seconds, 3), message=message))

        return cut

    def _emit(self, job: Job, event: Event) -> None:
        """Give an event to the job's reader now, and to the bus just after the reader's turn."""
        job.deliver(event)
        # The reader (a door) runs first and sends the audio on its way; the bus's subscribers (job records,
        # metrics, MQTT status, plugins) follow in the same pass of the loop, before it reads any socket again,
        # so no client can see the difference. In order: the bus gets every job's events in the order made.
        asyncio.get_running_loop().call_soon(self._publish, event)

    def _started(self, job: Job) -> None:
        if job.started_at is None:
            job.started_at = time.monotonic()
            self._emit(job, JobStarted(job_id=job.id, wait=round(job.started_at - job.accepted_at, 4)))

    def _audio(self, job: Job, track: _Track, pcm: PCM, sentence: int) -> None:
        """Pass a chunk on in sentence order (a sentence computed ahead waits for the one before)."""
        if job.done or not pcm.data:
            return
        if sentence != track.emit_index:
            track.held.setdefault(sentence, []).append(pcm)
            return
        self._release_audio(job, track, pcm, sentence)

    def _release_audio(self, job: Job, track: _Track, pcm: PCM, sentence: int) -> None:
        data = pcm.data
        if job.rate is None:
            job.rate = pcm.rate
        elif pcm.rate != job.rate:
            # A pipeline or a multi-rate engine: one job, one rate.
            if track.resampler is None or track.resampler.rate_in != pcm.rate:
                track.resampler = Resampler(pcm.rate, job.rate)
            data = track.resampler.process(data)
        if job.first_audio_at is None:
            job.first_audio_at = time.monotonic()
        job.audio_seconds += len(data) / 2 / job.rate
        self._emit(job, JobAudio(job_id=job.id, audio=data, rate=job.rate, sentence=sentence))

    def _sentence_done(self, job: Job, track: _Track, sentence: int, compute_seconds: float) -> None:
        """One sentence finished (no longer in flight nor being heard); release the audio of later sentences that
        were computed ahead, and end the job when it has made all its audio."""
        job.compute_seconds += compute_seconds
        track.finished.add(sentence)
        while track.emit_index in track.finished and not job.done:
            track.finished.discard(track.emit_index)
            job.sentences_done += 1
            self._emit(
                job,
                JobProgress(
                    job_id=job.id,
                    sentences_done=job.sentences_done,
                    sentences_total=job.sentences_total,
                    audio_seconds=round(job.audio_seconds, 3),
                ),
            )
            track.emit_index += 1
            for pcm in track.held.pop(track.emit_index, []):
                self._release_audio(job, track, pcm, track.emit_index)
        if self._complete(job, track):
            self._finished(job)  # in this turn, not the loop's next: the door reads the end with the last audio

    def _finished(self, job: Job) -> None:
        job.ended = "finished"
        ttfa = None if job.first_audio_at is None else round(job.first_audio_at - job.accepted_at, 4)
        rtf = round(job.compute_seconds / job.audio_seconds, 4) if job.audio_seconds else None
        self._emit(
            job,
            JobFinished(
                job_id=job.id,
                ttfa=ttfa,
                rtf=rtf,
                audio_seconds=round(job.audio_seconds, 3),
                elapsed=round(time.monotonic() - job.accepted_at, 4),
                sentences=job.sentences_done,
            ),
        )
        self._forget(job)

    def _failed(self, job: Job, err: VoxhostError) -> None:
        if job.ended is not None or job.cancel_reason is not None:
            return
        job.ended = "failed"
        job.error = err
        self._emit(job, JobFailed(job_id=job.id, code=err.code, message=err.message))
        self._forget(job)

    def _cancelled(self, job: Job) -> None:
        if job.ended is not None:
            return
        job.ended = "cancelled"
        reason = job.cancel_reason or "cancelled"
        job.error = job.error or CancelledError(f"job cancelled: {reason}")
        self._emit(job, JobCancelled(job_id=job.id, reason=reason))
        self._forget(job)

    def _forget(self, job: Job) -> None:
        if job in self.jobs:
            self.jobs.remove(job)
        track = self._tracks.pop(job.id, None)
        current = asyncio.current_task()
        for task in track.tasks if track else ():
            if task is not current:  # a job finished by its own last sentence's task
                task.cancel()  # free the engine now, not after the sentence
        self._wake.set()
