"""A speech job: the record of one request, the text it is fed, and the stream of events a door reads.

The job's life (queued → running → finished, failed or cancelled) is the scheduler's business: it takes the
job's sentences, records progress here and delivers the events. A door only feeds text, cancels, and reads.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .api import JobState
from .engine import PCM, SynthesisRequest
from .errors import CancelledError, VoxhostError
from .events import TERMINAL, Event, JobAudio, JobCancelled, JobFailed
from .operations import SpeechRequest
from .spoken.frontend import Sentence, SpokenText
from .voices import Resolved

if TYPE_CHECKING:
    from .validation import SentenceCheck

_counter = itertools.count(1)

READ_AT_ONCE = 4096
"""Characters of a job's text read into spoken sentences as they are fed (a whole text of up to this many is read,
and any sentence it refuses refused, before the job is queued); the rest is read a slice at a time on later turns
of the event loop. Reading is Python work on the loop (about 2 ms per 1,000 characters of prose, up to 20 ms for
dense numbers or markup), so a 100,000-character text read at once held every door and client for a second."""
READ_SLICE = 256
"""Characters read on each later turn: a few milliseconds of the loop at most, so other clients are served between."""
READ_AHEAD = 3
"""Sentences kept read ahead of the engine: the rest of a long text is read as its sentences are taken, spread over
the synthesis instead of competing with the first sentence's."""

Cut = Callable[[float, str], None]
"""Told that the runaway bound cut a sentence's audio: the bound in seconds, and what happened, in words."""
Transform = Callable[[AsyncIterator[PCM], Cut], AsyncGenerator[PCM, None]]
"""Applied to the engine's audio of each sentence (pipeline voices convert it); it tells the cut of its own work."""


def new_job_id() -> str:
    """Short, unique, sortable-enough job id."""
    return f"{next(_counter):x}-{secrets.token_hex(3)}"


class Job:
    """One request on its way through a scheduler: its record, its pending sentences, its event stream."""

    def __init__(
        self,
        resolved: Resolved,
        template: SynthesisRequest,
        request: SpeechRequest,
        spoken: SpokenText,
        transform: Transform | None = None,
    ) -> None:
        self.id = new_job_id()
        self.resolved = resolved
        self.voice = resolved.voice
        self.template = template
        self.request = request
        self.transform = transform
        self._spoken = spoken
        self._sentences: deque[Sentence] = deque()
        self._unread = ""
        self._read_to = 0
        """``_unread[_read_to:]`` is fed text not yet read into sentences."""
        self._finishing = False
        """The door has no more text; the job's text is complete once the rest is read."""
        self._reading: asyncio.Handle | None = None
        self.taken: dict[int, Sentence] = {}
        """Sentences taken by the engine and not yet announced (the scheduler announces each as it starts)."""
        self.failure: VoxhostError | None = None
        """Set when the text itself is refused mid-stream (a sentence too long to speak); the scheduler fails the
        job."""
        self.check: SentenceCheck | None = None
        """Set when each sentence is checked with speech recognition (and made again when not understood)."""
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._wake: asyncio.Event | None = None
        self.text_complete = False
        self.next_index = 0
        """Index of the next sentence to be taken."""
        self.cancel_reason: str | None = None
        """Set by ``cancel``; the scheduler ends the job."""
        self.error: VoxhostError | None = None
        # The record, kept by the scheduler.
        self.ended: JobState | None = None
        self.accepted_at = time.monotonic()
        self.started_at: float | None = None
        self.first_audio_at: float | None = None
        self.last_served = 0.0
        self.sentences_done = 0
        self.compute_seconds = 0.0
        self.audio_seconds = 0.0
        self.chars = 0
        self.rate: int | None = None

    # -- state ---------------------------------------------------------------------------------------

    @property
    def state(self) -> JobState:
        """Where the job is: ended, cancelled (asked, the scheduler ends it at once), running or queued."""
        if self.ended is not None:
            return self.ended
        if self.cancel_reason is not None:
            return "cancelled"
        return "running" if self.started_at is not None else "queued"

    @property
    def done(self) -> bool:
        """Whether the job has ended, or been asked to."""
        return self.state in ("finished", "failed", "cancelled")

    def attach(self, wake: asyncio.Event) -> None:
        """Signal ``wake`` whenever the job changes (its scheduler's event)."""
        self._wake = wake
        wake.set()
        self._read_later()

    def _changed(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # -- what a door does ------------------------------------------------------------------------------

    def feed(self, text: str) -> None:
        """Add text to a streaming job; complete sentences become work at once."""
        if self._finishing or self.done or self.failure is not None:
            return
        self.chars += len(text)
        self._unread += text
        self._read(READ_AT_ONCE)

    def finish_text(self) -> None:
        """No more text will come; the rest of the buffer is the last sentence."""
        if self._finishing or self.done or self.failure is not None:
            return
        self._finishing = True
        self._read(0)  # complete now if all is read; else once the rest is (read as sentences are taken)

    def _read(self, budget: int) -> None:
        """Read up to ``budget`` characters of the fed text; the rest on a later turn of the loop."""
        if budget and self._read_to < len(self._unread):
            piece = self._unread[self._read_to : self._read_to + budget]
            self._read_to += len(piece)
            if self._read_to == len(self._unread):
                self._unread, self._read_to = "", 0
            self._take_text(lambda: self._spoken.feed(piece))
        if self._unread:
            self._read_later()
        elif self._finishing and not self.text_complete and self.failure is None:
            self._take_text(self._spoken.finish)
            self.text_complete = True
            self._changed()

    def _read_later(self) -> None:
        """Read the next slice on the loop's next turn, while fewer than ``READ_AHEAD`` sentences wait (and once the
        job is queued: until then nothing would take them)."""
        if self._wake is not None and self._reading is None and self._unread and len(self._sentences) < READ_AHEAD:
            self._reading = asyncio.get_running_loop().call_soon(self._read_next)

    def _read_next(self) -> None:
        self._reading = None
        if self.done or self.failure is not None:
            self._unread, self._read_to = "", 0
            return
        self._read(READ_SLICE)

    def _take_text(self, step: Callable[[], list[Sentence]]) -> None:
        try:
            self._sentences.extend(step())
        except VoxhostError as err:
            if self._wake is None:
                raise  # not queued yet (a whole text): the caller gets the error before any audio
            self.failure = err
            self._sentences.clear()
            self._unread, self._read_to = "", 0
        self._changed()

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop the job: its pending sentences are dropped and the engine moves on."""
        if self.done:
            return
        self.cancel_reason = reason
        self.error = CancelledError(f"job cancelled: {reason}")
        self._sentences.clear()
        self._unread, self._read_to = "", 0
        self._changed()

    async def events(self) -> AsyncGenerator[Event, None]:
        """This job's events, ending with its terminal event."""
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, TERMINAL):
                return

    async def batches(self) -> AsyncGenerator[list[Event], None]:
        """This job's events as they come, those already waiting together; the last batch ends with the terminal
        event."""
        while True:
            batch = [await self._events.get()]
            while not isinstance(batch[-1], TERMINAL) and not self._events.empty():
                batch.append(self._events.get_nowait())
            yield batch
            if isinstance(batch[-1], TERMINAL):
                return

    async def pcm(self) -> AsyncGenerator[PCM, None]:
        """Just the audio; raises the job's error if it fails or is cancelled."""
        async for event in self.events():
            if isinstance(event, JobAudio):
                yield PCM(event.audio, event.rate)
            elif isinstance(event, (JobFailed, JobCancelled)):
                raise self.error or CancelledError("job cancelled")

    # -- what the scheduler reads ---------------------------------------------------------------------

    def has_sentence(self) -> bool:
        """A sentence is ready for the engine."""
        return not self.done and bool(self._sentences)

    def take_sentence(self) -> SynthesisRequest:
        """The next sentence as an engine request."""
        sentence = self._sentences.popleft()
        self._read_later()
        index, self.next_index = self.next_index, self.next_index + 1
        self.taken[index] = sentence
        return replace(self.template, text=sentence.text, index=index, final=self.text_complete and not self._sentences)

    @property
    def last_left(self) -> str | None:
        """The job's last sentence, when it is the only one left to take and the text is complete."""
        return self._sentences[0].text if self.text_complete and len(self._sentences) == 1 else None

    @property
    def all_taken(self) -> bool:
        """The text is complete and every sentence has been taken."""
        return self.text_complete and not self._sentences

    @property
    def sentences_total(self) -> int | None:
        """Known once the text is complete."""
        return self.next_index + len(self._sentences) if self.text_complete else None

    def deliver(self, event: Event) -> None:
        """Put an event on the job's own stream (the scheduler publishes it on the bus too)."""
        self._events.put_nowait(event)
