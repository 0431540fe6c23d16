"""Jobs: one request's text, its sentences as they become known, and its life as a stream of events."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .audio import Resampler
from .catalog import Resolved
from .engine import PCM, SynthesisRequest
from .errors import CancelledError, VoxhostError
from .events import (
    TERMINAL,
    Event,
    JobAccepted,
    JobAudio,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobStarted,
)
from .text import SentenceSplitter


@dataclass
class SpeechRequest:
    """What a door asks of the core; validated by ``Core.submit``."""

    text: str | None
    """The whole text, or None for a job whose text streams in with ``Job.feed``."""
    voice: str | None = None
    language: str | None = None
    speaker: str | None = None
    speed: float = 1.0
    options: dict[str, Any] = field(default_factory=dict)
    instructions: str | None = None
    seed: int | None = None
    engine: str | None = None
    """Restrict voice lookup to one engine (e.g. from an HTTP ``model``)."""
    door: str = "api"
    """Which door made the request, for events and metrics."""
    client: str | None = None
    """A client-chosen id, echoed in status messages."""


_counter = itertools.count(1)


def new_job_id() -> str:
    """Short, unique, sortable-enough job id."""
    return f"{next(_counter):x}-{secrets.token_hex(3)}"


class Job:
    """A request on its way through the scheduler; doors read its events."""

    def __init__(
        self,
        resolved: Resolved,
        template: SynthesisRequest,
        request: SpeechRequest,
        publish: Callable[[Event], None],
        max_sentence_chars: int,
        on_text: Callable[[Job], None],
    ) -> None:
        self.id = new_job_id()
        self.resolved = resolved
        self.voice = resolved.voice
        self.template = template
        self.request = request
        self._publish = publish
        self._on_text = on_text
        self._splitter = SentenceSplitter(max_sentence_chars)
        self._sentences: deque[str] = deque()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._next_index = 0
        self.text_complete = False
        self.in_flight = 0
        """Sentences being synthesized right now (more than one when the engine has a spare slot)."""
        self._emit_index = 0
        self._held: dict[int, list[PCM]] = {}
        self._finished_sentences: set[int] = set()
        self.state = "queued"
        self.accepted_at = time.monotonic()
        self.started_at: float | None = None
        self.first_audio_at: float | None = None
        self.last_served = 0.0
        self.sentences_done = 0
        self.compute_seconds = 0.0
        self.audio_seconds = 0.0
        self.chars = 0
        self.rate: int | None = None
        self._resampler: Resampler | None = None
        self.transform: Callable[[AsyncIterator[PCM]], AsyncIterator[PCM]] | None = None
        """Applied to the engine's audio of each sentence (pipeline voices convert it)."""

    # -- text ---------------------------------------------------------------------------------------

    def accepted(self) -> None:
        """Announce the job (called once it is queued)."""
        self._emit(
            JobAccepted(
                job_id=self.id,
                voice=self.voice.id,
                engine=self.voice.engine,
                door=self.request.door,
                chars=len(self.request.text or ""),
            )
        )

    def feed(self, text: str) -> None:
        """Add text to a streaming job; complete sentences become work at once."""
        if self.text_complete or self.done:
            return
        self.chars += len(text)
        self._sentences.extend(self._splitter.feed(text))
        self._on_text(self)

    def finish_text(self) -> None:
        """No more text will come; the rest of the buffer is the last sentence."""
        if self.text_complete or self.done:
            return
        self._sentences.extend(self._splitter.finish())
        self.text_complete = True
        self._on_text(self)

    @property
    def done(self) -> bool:
        """Whether the job has ended (finished, failed or cancelled)."""
        return self.state in ("finished", "failed", "cancelled")

    def has_work(self) -> bool:
        """A sentence is ready for the engine."""
        return not self.done and bool(self._sentences)

    def next_request(self) -> SynthesisRequest:
        """Take the next sentence as an engine request."""
        text = self._sentences.popleft()
        index, self._next_index = self._next_index, self._next_index + 1
        final = self.text_complete and not self._sentences
        return replace(self.template, text=text, index=index, final=final)

    def ready_to_finish(self) -> bool:
        """All text is in and spoken."""
        return self.text_complete and not self._sentences and self.in_flight == 0 and not self.done

    @property
    def sentences_total(self) -> int | None:
        """Known once the text is complete."""
        return self._next_index + len(self._sentences) if self.text_complete else None

    # -- progress (called by the scheduler) --------------------------------------------------------

    def started(self) -> None:
        """The engine took the job's first sentence."""
        if self.started_at is None:
            self.started_at = time.monotonic()
            self.state = "running"
            self._emit(JobStarted(job_id=self.id, wait=round(self.started_at - self.accepted_at, 4)))

    def audio(self, pcm: PCM, sentence: int) -> None:
        """Pass a chunk of audio on in sentence order (a sentence computed ahead waits for the one before)."""
        if self.done or not pcm.data:
            return
        if sentence != self._emit_index:
            self._held.setdefault(sentence, []).append(pcm)
            return
        self._emit_audio(pcm, sentence)

    def _emit_audio(self, pcm: PCM, sentence: int) -> None:
        data = pcm.data
        if self.rate is None:
            self.rate = pcm.rate
        elif pcm.rate != self.rate:
            if self._resampler is None or self._resampler.rate_in != pcm.rate:
                self._resampler = Resampler(pcm.rate, self.rate)
            data = self._resampler.process(data)
        if self.first_audio_at is None:
            self.first_audio_at = time.monotonic()
        self.audio_seconds += len(data) / 2 / self.rate
        self._emit(JobAudio(job_id=self.id, audio=data, rate=self.rate, sentence=sentence))

    def sentence_done(self, sentence: int, compute_seconds: float) -> None:
        """One sentence finished; release the audio of later sentences that were computed ahead."""
        self.compute_seconds += compute_seconds
        self._finished_sentences.add(sentence)
        while self._emit_index in self._finished_sentences and not self.done:
            self._finished_sentences.discard(self._emit_index)
            self.sentences_done += 1
            self._emit(
                JobProgress(
                    job_id=self.id,
                    sentences_done=self.sentences_done,
                    sentences_total=self.sentences_total,
                    audio_seconds=round(self.audio_seconds, 3),
                )
            )
            self._emit_index += 1
            for pcm in self._held.pop(self._emit_index, []):
                self._emit_audio(pcm, self._emit_index)

    def finish(self) -> None:
        """All sentences spoken."""
        if self.done:
            return
        self.state = "finished"
        now = time.monotonic()
        ttfa = None if self.first_audio_at is None else round(self.first_audio_at - self.accepted_at, 4)
        rtf = round(self.compute_seconds / self.audio_seconds, 4) if self.audio_seconds else None
        self._emit(
            JobFinished(
                job_id=self.id,
                ttfa=ttfa,
                rtf=rtf,
                audio_seconds=round(self.audio_seconds, 3),
                elapsed=round(now - self.accepted_at, 4),
                sentences=self.sentences_done,
            )
        )

    def fail(self, err: VoxhostError) -> None:
        """The job cannot go on."""
        if self.done:
            return
        self.state = "failed"
        self.error = err
        self._emit(JobFailed(job_id=self.id, code=err.code, message=err.message))

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop the job: its pending sentences are dropped and the engine moves on."""
        if self.done:
            return
        self.state = "cancelled"
        self.error: VoxhostError = CancelledError(f"job cancelled: {reason}")
        self._sentences.clear()
        self._emit(JobCancelled(job_id=self.id, reason=reason))
        self._on_text(self)

    # -- consumption (doors) -----------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self._queue.put_nowait(event)
        self._publish(event)

    async def events(self) -> AsyncIterator[Event]:
        """This job's events, ending with its terminal event."""
        while True:
            event = await self._queue.get()
            yield event
            if isinstance(event, TERMINAL):
                return

    async def pcm(self) -> AsyncIterator[PCM]:
        """Just the audio; raises the job's error if it fails or is cancelled."""
        async for event in self.events():
            if isinstance(event, JobAudio):
                yield PCM(event.audio, event.rate)
            elif isinstance(event, (JobFailed, JobCancelled)):
                raise self.error
