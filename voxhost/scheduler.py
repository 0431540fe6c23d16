"""Per-engine scheduling at sentence granularity, fair across jobs.

Each engine has one scheduler task. It picks the next sentence from the jobs that have one ready: jobs that have
had no audio yet first (so every client hears its first sentence after about one sentence of compute), then the
least recently served. A bounded number of jobs per engine keeps the backlog finite.
"""

from __future__ import annotations

import asyncio
import logging
import time

from .engine import SynthesisRequest
from .errors import BusyError, EngineError, VoxhostError
from .jobs import Job
from .runner import EngineRunner

_LOGGER = logging.getLogger(__name__)

MAX_AHEAD = 2
"""Sentences of one job in flight at once: the one being heard next, and one computed ahead."""


class EngineScheduler:
    """Feeds one engine runner with sentences from its jobs, up to ``concurrency`` at a time (one per job)."""

    def __init__(self, runner: EngineRunner, max_jobs: int, concurrency: int = 1) -> None:
        self.runner = runner
        self.max_jobs = max_jobs
        self.concurrency = max(1, concurrency)
        self.jobs: list[Job] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._serving: dict[asyncio.Task[None], Job] = {}

    @property
    def depth(self) -> int:
        """Jobs waiting or running."""
        return len(self.jobs)

    @property
    def busy(self) -> bool:
        """Whether any job is queued or running."""
        return bool(self.jobs) or bool(self._serving)

    def start(self) -> None:
        """Start the scheduling task."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"scheduler-{self.runner.engine_id}")

    async def stop(self) -> None:
        """Stop scheduling (jobs left are cancelled by the caller first)."""
        tasks = list(self._serving) + ([self._task] if self._task else [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None

    def add(self, job: Job) -> None:
        """Queue a job, or raise BusyError when the engine's queue is full."""
        if len(self.jobs) >= self.max_jobs:
            raise BusyError(
                f"engine {self.runner.engine_id} is busy ({len(self.jobs)} jobs queued); try again shortly",
                retry_after=2.0,
            )
        self.jobs.append(job)
        self.wake(job)

    def wake(self, job: Job) -> None:
        """A job changed (text arrived, text ended, cancelled): reconsider."""
        if job.done:
            if job in self.jobs:
                self.jobs.remove(job)
            for task, served in list(self._serving.items()):
                if served is job:
                    task.cancel()  # free the engine now, not after the sentence
        elif job.ready_to_finish():
            job.finish()
            self.jobs.remove(job)
        self._wake.set()

    def _pick(self) -> Job | None:
        ready = [job for job in self.jobs if job.has_work()]
        # First every job with nothing in flight: no audio yet first (first audio after about one sentence of
        # compute for every client), then the least recently served.
        idle = [job for job in ready if job.in_flight == 0]
        if idle:
            fresh = [job for job in idle if job.first_audio_at is None and job.sentences_done == 0]
            return min(fresh or idle, key=lambda job: job.last_served)
        # A spare slot and no job waiting: compute a running job's next sentence ahead (its audio is held back
        # until the sentence before it is done, so order is kept). Not before the job's first audio: its first
        # sentence gets the whole machine, so it is heard as soon as possible.
        ahead = [job for job in ready if job.in_flight < MAX_AHEAD and job.first_audio_at is not None]
        return min(ahead, key=lambda job: job.last_served) if ahead else None

    async def _loop(self) -> None:
        while True:
            picked: list[tuple[Job, SynthesisRequest]] = []
            while len(self._serving) + len(picked) < self.concurrency and (job := self._pick()) is not None:
                job.in_flight += 1
                picked.append((job, job.next_request()))  # taken now, so the next pick sees what is left
            shared = len(self._serving) + len(picked) > 1
            for job, request in picked:
                request.shared = shared
                task = asyncio.create_task(self._serve(job, request))
                self._serving[task] = job
                task.add_done_callback(self._served)
            self._wake.clear()
            await self._wake.wait()

    def _served(self, task: asyncio.Task[None]) -> None:
        self._serving.pop(task, None)
        self._wake.set()

    async def _serve(self, job: Job, request: SynthesisRequest) -> None:
        job.last_served = time.monotonic()
        started = time.monotonic()
        try:
            job.started()
            chunks = self.runner.synthesize(request)
            stream = job.transform(chunks) if job.transform else chunks
            try:
                async for pcm in stream:
                    job.audio(pcm, request.index)
            finally:
                await stream.aclose()  # type: ignore[attr-defined]
                if stream is not chunks:
                    await chunks.aclose()
            job.in_flight -= 1
            job.sentence_done(request.index, time.monotonic() - started)
        except asyncio.CancelledError:
            job.in_flight -= 1
            return
        except VoxhostError as err:
            job.in_flight -= 1
            job.fail(err)
        except Exception as err:
            job.in_flight -= 1
            _LOGGER.exception("Engine %s failed on job %s", self.runner.engine_id, job.id)
            job.fail(EngineError(f"engine {self.runner.engine_id} failed: {type(err).__name__}: {err}"))
        finally:
            self.wake(job)
