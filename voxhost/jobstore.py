"""What the core remembers of jobs: it follows every job's events on the bus and keeps a record of each, and for a
job that asked for it (``keep``, ``hold``, or a door in ``[outputs] keep_doors``) it writes the audio to disk as it
is made, so that it can be fetched by id while the job runs, after it ended, and after a restart.

A kept job that finishes becomes a stored output in the history (``outputs.History``, with its limits); a held job
that is not kept stays fetchable for ``[jobs] result_minutes``. Jobs that were running when the daemon stopped are
recorded as failed, at shutdown or (after a crash) at the next start. File work runs on one writer thread, in
order; the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import statelock
from .api import JobHandle, JobRecord, OutputsStatus, Page
from .capture import HEADER_BYTES, AudioFile, read_header
from .engine import PCM
from .errors import CancelledError, EngineError, NoAudioError, UnknownJobError, storage_error
from .events import (
    Event,
    JobAccepted,
    JobAudio,
    JobCancelled,
    JobCut,
    JobEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobStarted,
)
from .operations import JobQuery, OutputQuery, OutputSelection, nothing_to_say
from .outputs import INTERRUPTED, INTERRUPTED_MESSAGE, History, OutputFiles, valid_id
from .settings import Settings

_LOGGER = logging.getLogger(__name__)

Clock = Callable[[], float]


def _unknown(job_id: str) -> UnknownJobError:
    return UnknownJobError(f"no job {job_id!r}: it never existed, was removed, or has expired", param="job_id")


class JobStore:
    """Records of recent jobs from every door, kept audio, stored outputs and their cleanup."""

    def __init__(self, root: Path, settings: Settings, clock: Clock = time.time) -> None:
        self.settings = settings
        self.clock = clock
        """Wall-clock time (``time.time``); tests inject their own to age outputs."""
        self.files = OutputFiles(root)
        self.history = History(settings.outputs, self._now)
        self._records: dict[str, JobRecord] = {}
        """Recent jobs and jobs whose audio is kept but that are not stored outputs, in the order they came."""
        self._ended: dict[str, None] = {}
        """The ids of ended records that may leave the list, oldest first: forgetting old jobs need not look at
        every record on each new one."""
        self._audio: dict[str, AudioFile] = {}
        self._voice_rates: dict[str, int] = {}
        """Kept jobs that have made no audio yet: their voice's rate, for the silence of one with nothing to say."""
        self._held: set[str] = set()
        """Running jobs that nobody reads but this store: their record and audio outlive a failure."""
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="voxhost-outputs")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cleaner: asyncio.Task[None] | None = None

    def _now(self) -> float:
        return self.clock()

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover the kept jobs and clean up periodically, unless a daemon (another process) owns the state dir."""
        with statelock.exclusive(self.settings.state_path) as owner:
            if not owner:
                # `voxhost say` beside the daemon: the jobs on disk are the daemon's, running, not interrupted ones.
                _LOGGER.debug("A daemon holds %s: its stored jobs are left alone", self.settings.state_path)
                return
            await self._recover()
        self._cleaner = asyncio.create_task(self._clean_periodically(), name="outputs-cleanup")

    async def _recover(self) -> None:
        """Read the kept jobs from disk (running ones become failed) and clean up."""
        try:
            records = await asyncio.to_thread(self.files.load, self._now())
        except OSError as err:
            # A read-only or full state directory: the daemon still speaks; keeping outputs fails, saying why.
            problem = storage_error(err, "the stored outputs")
            _LOGGER.warning("Stored outputs are unavailable: %s", problem.message if problem else err)
            records = []
        expires = self._expiry()
        for record in sorted(records, key=lambda r: (r.accepted_at, r.id)):
            if record.kept and record.state == "finished":
                self.history.add(record)
                continue
            if record.expires_at is None:  # ended by a crash: its record (and partial audio) stays a while
                record = dataclasses.replace(record, kept=False, expires_at=expires)
                await self._write(self.files.write, record)
            self._put(record)
            if record.audio:
                try:
                    rate, written = await asyncio.to_thread(read_header, self.files.audio(record.id))
                except (OSError, ValueError):
                    continue
                self._audio[record.id] = AudioFile.complete(self.files.audio(record.id), self._writer, rate, written)
        try:
            await self.cleanup()
        except OSError as err:
            _LOGGER.warning("Cleaning up the stored outputs failed: %s", err)

    async def _clean_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.settings.outputs.cleanup_interval)
            try:
                await self.cleanup()
            except Exception:
                _LOGGER.exception("Cleaning up the stored outputs failed")

    async def close(self) -> None:
        """Let the pending writes finish, stop cleaning up and reading held jobs, and end the writer thread."""
        await self.flush()
        tasks = [*self._tasks, *([self._cleaner] if self._cleaner else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(self._writer.shutdown, wait=True)

    def _write(self, fn: Callable[..., None], *args: Any) -> asyncio.Future[bool]:
        """Queue file work on the writer thread; the future says whether it worked (a failure is logged)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()

        def finished(future: asyncio.Future[None]) -> None:
            err = None if future.cancelled() else future.exception()
            if err is not None:
                _LOGGER.error("Writing a stored output failed: %s", err)
            if not done.done():
                done.set_result(err is None and not future.cancelled())

        try:
            asyncio.wrap_future(self._writer.submit(fn, *args)).add_done_callback(finished)
        except RuntimeError:  # the writer has stopped (shutdown)
            done.set_result(False)
        return done

    # -- following jobs ------------------------------------------------------------------------------

    def attach(self, job: JobHandle) -> None:
        """A job was just submitted: note how it was asked for, and start keeping its audio if it asked."""
        request = job.request
        record = self._records.get(job.id)
        if record is None:  # accepted before the store followed the bus (never, but do not fail a request)
            return
        keep = request.keep if request.keep is not None else request.door in self.settings.outputs.keep_doors
        record = record.evolve(
            dict(
                text=request.text,
                client=request.client,
                language=request.language,
                speaker=request.speaker,
                speed=request.speed,
                instructions=request.instructions,
                seed=request.seed,
                options=dict(request.options),
                kept=keep,
                audio=keep or request.hold,
            )
        )
        self._put(record)
        if record.audio:
            self._audio[job.id] = AudioFile(self.files.audio(job.id), self._writer)
            self._voice_rates[job.id] = job.voice.sample_rate
            self._write(self.files.write, record)
        if request.hold:
            self._held.add(job.id)
            self._spawn(self._drain(job), f"hold-{job.id}")

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _drain(job: JobHandle) -> None:
        # A held job has no reader of its own stream; read it, so that its audio does not pile up in memory.
        async for _ in job.events():
            pass

    def observe(self, event: Event) -> None:
        """Follow one core event (on the loop; cheap: disk work is queued on the writer thread)."""
        if not isinstance(event, JobEvent):
            return
        if isinstance(event, JobAccepted):
            self._accepted(event)
            return
        record = self._records.get(event.job_id)
        if record is None or record.done:
            return
        if isinstance(event, JobAudio):
            self._voice_rates.pop(event.job_id, None)
            if (audio := self._audio.get(event.job_id)) is not None:
                audio.append(event.audio, event.rate)
            if record.first_audio_at is None:
                self._update(record, first_audio_at=self._now(), rate=event.rate)
        elif isinstance(event, JobStarted):
            self._update(record, state="running", started_at=self._now(), wait=event.wait)
        elif isinstance(event, JobProgress):
            self._update(
                record,
                sentences_done=event.sentences_done,
                sentences_total=event.sentences_total,
                audio_seconds=event.audio_seconds,
            )
        elif isinstance(event, JobFinished):
            # A held job's expiry is known as it finishes: a client that polls the record sees both at once (the seal
            # that follows on the writer thread sets it again).
            expires = self._expiry() if record.audio and not record.kept else record.expires_at
            finished = dict(
                state="finished",
                expires_at=expires,
                ended_at=self._now(),
                ttfa=event.ttfa,
                rtf=event.rtf,
                elapsed=event.elapsed,
                audio_seconds=event.audio_seconds,
                sentences_done=event.sentences,
                sentences_total=event.sentences,
            )
            record = self._update(record, **(finished | self._silence(record)))
            if record.audio:
                self._spawn(self._seal(record.id), f"seal-{record.id}")
        elif isinstance(event, JobCut):
            self._update(record, warnings=[*record.warnings, event.message])
        elif isinstance(event, JobFailed):
            self._end(record, "failed", event.code, event.message)
        elif isinstance(event, JobCancelled):
            self._end(record, "cancelled", CancelledError.code, f"job cancelled: {event.reason}")
        else:
            self._noted(record, event)

    def _silence(self, record: JobRecord) -> dict[str, Any]:
        """A kept job that finished without audio (emoji or markup alone: nothing to say) keeps the short silence
        every door gives its client instead, so that its output, the archive and the job's audio agree (an output
        without audio was a 404 and left out of archives); the record's changes that say so."""
        rate = self._voice_rates.pop(record.id, None)
        audio = self._audio.get(record.id)
        if rate is None or audio is None or audio.rate is not None:
            return {}
        silence = nothing_to_say(rate)
        audio.append(silence, rate)
        return {"rate": rate, "audio_seconds": round(len(silence) / 2 / rate, 3)}

    def _noted(self, record: JobRecord, event: JobEvent) -> None:
        """Events this store does not know by type: the text as spoken (a ``spoken`` or ``spoken_text`` field, or
        the ``text`` of a sentence or spoken-text event), and the word error rate (``wer``) where it was checked."""
        spoken = getattr(event, "spoken", None) or getattr(event, "spoken_text", None)
        if spoken is None and ("sentence" in event.kind or "spoken" in event.kind):
            spoken = getattr(event, "text", None)
        if isinstance(spoken, str) and spoken.strip():
            record = self._update(
                record, spoken=f"{record.spoken} {spoken.strip()}" if record.spoken else spoken.strip()
            )
        wer = getattr(event, "wer", None)
        if isinstance(wer, int | float) and not isinstance(wer, bool):
            self._update(record, wer=max(float(wer), record.wer or 0.0))

    def _accepted(self, event: JobAccepted) -> None:
        self._put(
            JobRecord(
                id=event.job_id,
                door=event.door,
                voice=event.voice,
                engine=event.engine,
                state="queued",
                accepted_at=event.at,
                chars=event.chars,
            )
        )
        self._forget_old()

    def _update(self, record: JobRecord, **changes: Any) -> JobRecord:
        record = record.evolve(changes)
        if record.id in self._records:
            self._put(record)
        return record

    def _put(self, record: JobRecord) -> None:
        """Store a record, noting whether it may leave the list of recent jobs: ended, and not a held result
        (those expire on their own; a stored output that leaves the list stays in the history)."""
        self._records[record.id] = record
        if record.done and not (record.audio and not record.kept):
            self._ended[record.id] = None  # an id already there keeps its place
        else:
            self._ended.pop(record.id, None)

    def _drop(self, job_id: str) -> None:
        """Forget a record."""
        self._voice_rates.pop(job_id, None)
        self._records.pop(job_id, None)
        self._ended.pop(job_id, None)

    def _size(self, job_id: str) -> int:
        audio = self._audio.get(job_id)
        return audio.written + HEADER_BYTES if audio is not None and audio.rate else 0

    async def _seal(self, job_id: str) -> None:
        """A finished job's audio is complete: a kept one becomes a stored output, a held one waits to expire."""
        if (audio := self._audio.get(job_id)) is not None:
            await audio.finish()
        record = self._records.get(job_id)
        if record is None:
            return  # removed meanwhile
        record = self._update(record, size=self._size(job_id))
        self._held.discard(job_id)
        if record.kept:
            self.history.add(record)  # and still a recent job, until newer ones push it out of the list
            await self._write(self.files.write, record)
            await self._enforce()
        else:
            record = self._update(record, expires_at=self._expiry())
            await self._write(self.files.write, record)

    def _expiry(self) -> float:
        """When a held job's record and audio, ending now, are dropped."""
        return self._now() + self.settings.jobs.result_minutes * 60

    def _end(self, record: JobRecord, state: str, code: str, message: str) -> None:
        """A job failed or was cancelled: recorded now; its kept audio is closed on the writer thread."""
        self._voice_rates.pop(record.id, None)
        held = record.id in self._held  # its record stays until it expires, known now (as for a finished job)
        expires = self._expiry() if record.audio and held else record.expires_at
        record = self._update(
            record, state=state, ended_at=self._now(), error_code=code, error_message=message, expires_at=expires
        )
        if record.audio:
            self._spawn(self._close(record.id, code, message), f"close-{record.id}")

    async def _close(self, job_id: str, code: str, message: str) -> None:
        """A held job keeps its record (and the audio made) until it expires; an unfinished output is dropped."""
        if (audio := self._audio.get(job_id)) is not None:
            failure = CancelledError(message) if code == CancelledError.code else EngineError(message)
            failure.code = code
            await audio.finish(failure)
        record = self._records.get(job_id)
        if record is None:
            return
        if job_id in self._held:
            self._held.discard(job_id)
            record = self._update(
                record,
                kept=False,
                expires_at=self._expiry(),
                size=self._size(job_id),
            )
            await self._write(self.files.write, record)
        else:
            self._audio.pop(job_id, None)
            self._update(record, audio=False, kept=False)
            await self._write(self.files.remove, job_id)

    def interrupt(self, job_ids: Iterable[str]) -> None:
        """The daemon stops with these jobs unfinished: record them as failed now (they are cancelled next)."""
        for job_id in job_ids:
            record = self._records.get(job_id)
            if record is not None and not record.done:
                self._end(record, "failed", INTERRUPTED, INTERRUPTED_MESSAGE)

    async def flush(self) -> None:
        """Wait for the record and file work queued so far (at shutdown, and in tests)."""
        while pending := [task for task in self._tasks if not task.get_name().startswith("hold-")]:
            await asyncio.gather(*pending, return_exceptions=True)
        await self._write(_nothing)

    # -- cleanup -------------------------------------------------------------------------------------

    def _forget_old(self) -> None:
        """Keep at most ``[jobs] recent`` ended jobs in the list, besides held results, the oldest ended first."""
        while len(self._ended) > self.settings.jobs.recent:
            self._drop(next(iter(self._ended)))

    async def _enforce(self) -> None:
        for output_id in self.history.over_limits():
            self.history.remove(output_id)
            self._drop(output_id)
            self._audio.pop(output_id, None)
            await self._write(self.files.remove, output_id)
            _LOGGER.info("Removed stored output %s (retention limits)", output_id)

    async def cleanup(self) -> None:
        """Remove outputs past their limits and held results past their time; forget old jobs."""
        await self._enforce()
        now = self._now()
        for record in list(self._records.values()):
            if record.audio and record.done and record.expires_at is not None and record.expires_at <= now:
                self._drop(record.id)
                self._audio.pop(record.id, None)
                await self._write(self.files.remove, record.id)
        self._forget_old()

    # -- reading -------------------------------------------------------------------------------------

    def record(self, job_id: str) -> JobRecord:
        """One job's record (a recent job, a held result or a stored output)."""
        record = self._records.get(job_id) or self.history.get(job_id)
        if record is None:
            raise _unknown(job_id)
        return record

    def records(self, query: JobQuery) -> Page[JobRecord]:
        """Recent jobs (and held results), newest first."""
        found = [
            r
            for r in reversed(self._records.values())
            if (query.door is None or r.door == query.door) and (query.state is None or r.state == query.state)
        ]
        return Page(found[query.offset : query.offset + query.limit], len(found))

    def audio(self, job_id: str) -> AsyncGenerator[PCM, None]:
        """A job's kept audio, so far and then as it comes; ``NoAudioError`` when it has none, or failed."""
        record = self.record(job_id)
        audio = self._audio.get(job_id)
        if audio is None and record.audio and self.history.get(job_id) is not None:
            # A stored output from before a restart: its record names this audio, and its file is whole on disk.
            return self._stored_audio(job_id)
        if not record.audio or audio is None:
            raise NoAudioError(
                f"job {job_id} has no kept audio: ask with keep (or asynchronously) to fetch it later",
                param="job_id",
            )
        if record.state in ("failed", "cancelled"):
            raise NoAudioError(
                f"job {job_id} {record.state}: {record.error_message}; its audio is incomplete", param="job_id"
            )
        return audio.read()

    async def _stored_audio(self, job_id: str) -> AsyncGenerator[PCM, None]:
        """A stored output's audio, read from its file (``NoAudioError`` when the file is gone or not voxhost's)."""
        path = self.files.audio(job_id)
        try:
            rate, written = await asyncio.to_thread(read_header, path)
        except (OSError, ValueError):
            raise NoAudioError(f"job {job_id}'s audio file is missing or damaged", param="job_id") from None
        async for pcm in AudioFile.complete(path, self._writer, rate, written).read():
            yield pcm

    def whole_audio(self, job_id: str) -> Path | None:
        """A kept job's WAV file once it is whole on disk (its job finished and the file was sealed); None while it
        is being made, or when the job kept none or did not finish."""
        audio = self._audio.get(job_id)
        if audio is not None:
            return audio.path if audio.ended and audio.failure is None and audio.rate is not None else None
        if self.history.get(job_id) is not None and (path := self.files.audio(job_id)).is_file():
            return path  # a stored output from before a restart
        return None

    def audio_path(self, job_id: str) -> Path:
        """A stored output's WAV file; ``NoAudioError`` while it is not written (or its job made none)."""
        if self.history.get(job_id) is None:
            raise _unknown(job_id)
        path = self.files.audio(job_id)
        if not path.is_file():
            raise NoAudioError(f"output {job_id!r} has no audio (yet)", param="output_id")
        return path

    async def remove(self, job_id: str) -> JobRecord:
        """Forget a job with its kept audio (its folder is deleted on the writer thread)."""
        record = self.record(job_id)
        self._drop(job_id)
        self.history.remove(job_id)
        self._held.discard(job_id)
        audio = self._audio.pop(job_id, None)
        if audio is not None:
            # Wakes its readers, which end there (a reader waiting for the next chunk would wait for good).
            audio.abandon(UnknownJobError(f"job {job_id} was removed while its audio was read", param="job_id"))
        if record.audio and valid_id(job_id):
            await self._write(self.files.remove, job_id)
        return record

    # -- stored outputs ------------------------------------------------------------------------------

    def outputs(self, query: OutputQuery) -> Page[JobRecord]:
        """Stored outputs that match, newest first."""
        return self.history.query(query)

    def select(self, selection: OutputSelection) -> list[JobRecord]:
        """The stored outputs a selection names."""
        return self.history.select(selection)

    async def delete(self, ids: list[str]) -> list[str]:
        """Delete stored outputs; returns those that were there."""
        gone = []
        for output_id in dict.fromkeys(ids):
            if self.history.get(output_id) is not None:
                await self.remove(output_id)
                gone.append(output_id)
        return gone

    def status(self) -> OutputsStatus:
        """The stored outputs against their limits."""
        return self.history.status()

    def folder(self, output_id: str) -> Path:
        """A stored output's folder."""
        if self.history.get(output_id) is None:
            raise _unknown(output_id)
        return self.files.folder(output_id)


def _nothing() -> None:
    """A no-op for the writer thread: once it has run, everything queued before it has."""
