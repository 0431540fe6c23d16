"""Per-engine scheduling at sentence granularity, fair across jobs.

Each engine has one scheduler task. It picks the next sentence from the jobs that have one ready: jobs that have
had no audio yet first (so every client hears its first sentence after about one sentence of compute), then the
least recently served. A bounded number of jobs per engine keeps the backlog finite.
"""

from __future__ import annotations

import asyncio
import logging
import time

from .errors import BusyError, EngineError, VoxhostError
from .jobs import Job
from .runner import EngineRunner

_LOGGER = logging.getLogger(__name__)


class EngineScheduler:
    """Feeds one engine runner with sentences from its jobs."""

    def __init__(self, runner: EngineRunner, max_jobs: int) -> None:
        self.runner = runner
        self.max_jobs = max_jobs
        self.jobs: list[Job] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._serving: asyncio.Task[None] | None = None
        self._serving_job: Job | None = None

    @property
    def depth(self) -> int:
        """Jobs waiting or running."""
        return len(self.jobs)

    @property
    def busy(self) -> bool:
        """Whether any job is queued or running."""
        return bool(self.jobs)

    def start(self) -> None:
        """Start the scheduling task."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"scheduler-{self.runner.engine_id}")

    async def stop(self) -> None:
        """Stop scheduling (jobs left are cancelled by the caller first)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
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
            if self._serving_job is job and self._serving is not None:
                self._serving.cancel()  # free the engine now, not after the sentence
        elif job.ready_to_finish():
            job.finish()
            self.jobs.remove(job)
        self._wake.set()

    def _pick(self) -> Job | None:
        ready = [job for job in self.jobs if job.has_work()]
        if not ready:
            return None
        fresh = [job for job in ready if job.first_audio_at is None and job.sentences_done == 0]
        return min(fresh or ready, key=lambda job: job.last_served)

    async def _loop(self) -> None:
        while True:
            job = self._pick()
            if job is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            self._serving_job = job
            self._serving = asyncio.create_task(self._serve(job))
            try:
                await asyncio.shield(self._serving)
            except asyncio.CancelledError:
                if self._task is not None and self._task.cancelling():
                    self._serving.cancel()
                    raise
            finally:
                self._serving_job = self._serving = None

    async def _serve(self, job: Job) -> None:
        request = job.next_request()
        job.in_flight = True
        job.last_served = time.monotonic()
        started = time.monotonic()
        try:
            job.started()
            chunks = self.runner.synthesize(request)
            try:
                async for pcm in chunks:
                    job.audio(pcm, request.index)
            finally:
                await chunks.aclose()
            job.in_flight = False
            job.sentence_done(time.monotonic() - started)
        except asyncio.CancelledError:
            job.in_flight = False
            return
        except VoxhostError as err:
            job.in_flight = False
            job.fail(err)
        except Exception as err:
            job.in_flight = False
            _LOGGER.exception("Engine %s failed on job %s", self.runner.engine_id, job.id)
            job.fail(EngineError(f"engine {self.runner.engine_id} failed: {type(err).__name__}: {err}"))
        finally:
            self.wake(job)
