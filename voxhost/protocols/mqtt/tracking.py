"""The requests the MQTT door serves: their tasks, and the jobs and conversions they follow."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from ...api import JobHandle

_LOGGER = logging.getLogger(__name__)

LAST_WAIT = 2.0
"""Seconds to wait for cancelled requests at shutdown."""


class Tracker:
    """Keeps request tasks referenced and logs their crashes; maps request ids to jobs and conversions."""

    def __init__(self) -> None:
        self.jobs: dict[str, tuple[str, JobHandle]] = {}
        """Job id → (request id, job), for the jobs this door is serving: requests may share an id (one received at
        QoS 0 is never dropped as a redelivery), and a stop naming it stops each."""
        self.conversions: dict[str, asyncio.Task[Any]] = {}
        """Request id → task, for the voice conversions this door is serving."""
        self.transcriptions: dict[str, asyncio.Task[Any]] = {}
        """Request id → task, for the transcriptions this door is serving (a stop that names one cancels it)."""
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def active(self) -> int:
        """Jobs, conversions and transcriptions in progress."""
        return len(self.jobs) + len(self.conversions) + len(self.transcriptions)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run a request's task, keeping a reference and logging a crash."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (err := task.exception()) is not None:
            _LOGGER.error("MQTT task %s failed", task.get_name(), exc_info=err)

    def track(self, request_id: str, job: JobHandle) -> None:
        """Remember a job this door serves."""
        self.jobs[job.id] = (request_id, job)

    def untrack(self, job: JobHandle) -> None:
        """Forget a finished job."""
        self.jobs.pop(job.id, None)

    def converting(self, request_id: str) -> AbstractContextManager[None]:
        """The current task serves conversion ``request_id`` while the block runs (a stop command cancels it)."""
        return _serving(self.conversions, request_id)

    def transcribing(self, request_id: str) -> AbstractContextManager[None]:
        """The current task serves transcription ``request_id`` while the block runs (a stop naming it cancels it)."""
        return _serving(self.transcriptions, request_id)

    def jobs_for(self, request_id: str | None) -> list[JobHandle]:
        """The job of one request, or every job this door serves (``None``)."""
        return [job for rid, job in self.jobs.values() if request_id in (None, rid)]

    def conversions_for(self, request_id: str | None) -> list[asyncio.Task[Any]]:
        """The conversion or transcription of one request, or every conversion this door serves (``None``: a stop
        of everything stops what sounds, not what another client waits to read)."""
        if request_id is None:
            return list(self.conversions.values())
        return [task for rid, task in (*self.conversions.items(), *self.transcriptions.items()) if rid == request_id]

    async def drain(self, timeout: float, reason: str) -> None:
        """Let the requests finish for up to ``timeout`` seconds, then cancel what is left."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        if not pending:
            return
        for _, job in list(self.jobs.values()):
            job.cancel(reason)
        for task in [*self.conversions.values(), *self.transcriptions.values()]:
            task.cancel(reason)
        await asyncio.wait(pending, timeout=LAST_WAIT)


@contextmanager
def _serving(tasks: dict[str, asyncio.Task[Any]], request_id: str) -> Iterator[None]:
    """The current task serves ``request_id`` in ``tasks`` while the block runs."""
    task = asyncio.current_task()
    assert task is not None
    tasks[request_id] = task
    try:
        yield
    finally:
        if tasks.get(request_id) is task:
            del tasks[request_id]
