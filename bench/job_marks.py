"""When the core accepted each job and when its first audio reached the core, heard on the core's bus."""

from __future__ import annotations

import threading
import time

from voxhost.events import Event, JobAccepted, JobFinished


class JobMarks:
    """Give ``observe`` to ``core.bus.subscribe``; then ask for a job's marks on the monotonic clock."""

    def __init__(self) -> None:
        self._accepted: dict[str, float] = {}
        self._to_first_audio: dict[str, float] = {}
        self._changed = threading.Condition()  # the bus runs on the daemon's loop, the bench reads from its own

    def observe(self, event: Event) -> None:
        """The bus's subscriber: a job's accept when it is heard, its time to first audio when it ends."""
        # Not the bus's first ``JobAudio``: the bus hears of an event just after the job's reader (the door),
        # which has by then sent the chunk on its way, so a client could have it "before" the engine made it.
        # The job's own time from accept to first audio comes from the scheduler's clock, with no door inside.
        with self._changed:
            if isinstance(event, JobAccepted):
                self._accepted[event.job_id] = time.monotonic()
            elif isinstance(event, JobFinished) and event.ttfa is not None:
                self._to_first_audio[event.job_id] = event.ttfa
            else:
                return
            self._changed.notify_all()

    def accepted(self, job_id: str) -> float:
        """When the bus heard that the core accepted the job."""
        with self._changed:
            return self._accepted[job_id]

    def first_audio(self, job_id: str, timeout: float = 10.0) -> float:
        """When the job's first audio reached the core: its accept plus its own time to first audio."""
        with self._changed:
            if not self._changed.wait_for(lambda: job_id in self._to_first_audio, timeout):
                raise TimeoutError(f"job {job_id} did not end within {timeout} s")
            return self._accepted[job_id] + self._to_first_audio[job_id]
