"""One Wyoming connection: read events while earlier requests are still speaking, write their audio in order.

Home Assistant's two exchanges (reference §3.4, §3.5):
* one-shot ``synthesize`` → one ``audio-start``, ``audio-chunk``s sentence by sentence, exactly one ``audio-stop``;
* ``synthesize-start``, ``synthesize-chunk``*, the compatibility ``synthesize`` (ignored), ``synthesize-stop`` →
  one ``audio-start``/``audio-chunk``*/``audio-stop`` group per sentence as soon as it is spoken, then
  ``synthesize-stopped``.
and speech-to-text (see ``listen``): ``transcribe``, ``audio-start``, ``audio-chunk``*, ``audio-stop`` → ``transcript``.
Reading never waits for synthesis: text chunks feed the job while earlier sentences are being spoken. Requests
on one connection answer in the order they came, and at most ``MAX_PENDING`` of them are outstanding: a client
that sends more is read no further until one is answered, so one connection cannot fill an engine's queue.

A failed request gets an ``error`` event (Home Assistant shows its text, on both paths) and the connection ends
gracefully: no more work is read, voxhost half-closes its side, and reads and drops what the client still sends for
up to ``LINGER`` seconds before closing. Closing at once would reset the connection under a client that is still
streaming its text, and the client would see "connection reset" or "broken pipe" instead of the error. A refused
transcription ends the connection the same way, its ``error`` after the answers to earlier requests.

A client that closes its side after a one-shot request still reads its answer; one that closes it while a
transcription is pending has left (Home Assistant reads the transcript on the open connection), and the
transcription is cancelled.

A connection that sends nothing for ``idle_timeout`` seconds while nothing is being spoken for it is closed (a text
stream that stopped sending gets an error first); a client that stops reading its audio gets as long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.ping import Ping, Pong
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
)

from ...api import CoreAPI, JobHandle
from ...engine import PCM, Segment, TranscriptInfo
from ...errors import InvalidRequestError, TextTooLongError, VoxhostError
from ...events import JobAudio, JobCancelled, JobFailed, JobFinished, JobProgress
from ...operations import SpeechRequest, TranscribeParams, nothing_to_say, parse
from .listen import Listening, params_of
from .requests import ChunkData, StartData, SynthesizeData, speech_request
from .wire import ProtocolError, encode_audio, encode_event, read_event

_LOGGER = logging.getLogger(__name__)

WIDTH, CHANNELS = 2, 1
"""voxhost's audio is always 16-bit mono."""
MAX_PENDING = 2
"""Answers one connection may have outstanding: the one being sent and the next, whose job is made meanwhile (so
its first audio is not delayed). Answers go out in order, so more would only hold engine queue slots that other
clients need; the next request is read when one of them is done."""
_ASR_EVENTS = frozenset(("transcribe", "audio-start", "audio-chunk", "audio-stop"))
LINGER = 2.0
"""Seconds to read (and drop) what a client still sends after its error, before the connection closes."""


class IdleTimeoutError(VoxhostError):
    """A text stream that stopped sending."""

    code = "timeout"
    http_status = 408


@dataclass
class _Stream:
    """A streaming request between ``synthesize-start`` and ``synthesize-stop``."""

    job: JobHandle
    chars: int = 0
    fed: bool = False
    compat: dict[str, Any] | None = None
    """The compatibility ``synthesize`` as sent: read only when no chunk brought text (see ``_stop_stream``)."""


class Session:
    """Serve one connection until the peer leaves, breaks the protocol, or a request fails."""

    def __init__(
        self,
        core: CoreAPI,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: str,
        info_event: Callable[[], Event],
        samples_per_chunk: int = 1024,
        listen_seconds: float = 300.0,
        transcript_streaming: bool = False,
        idle_timeout: float | None = None,
    ) -> None:
        self.core = core
        self.peer = peer
        self._reader = reader
        self._writer = writer
        self._info_event = info_event
        self._chunk_bytes = samples_per_chunk * WIDTH * CHANNELS
        self._write_lock = asyncio.Lock()
        self._stream: _Stream | None = None
        self._jobs: set[JobHandle] = set()
        self._tail: asyncio.Task[None] | None = None
        """The last queued reply; each reply waits for the one before it."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._read_task: asyncio.Task[bool] | None = None
        self._listen_seconds = listen_seconds
        self._transcript_streaming = transcript_streaming
        self._listening: Listening | None = None
        """The utterance being received, between ``transcribe`` (or ``audio-start``) and ``audio-stop``."""
        self._transcriptions: set[asyncio.Task[None]] = set()
        """Queued replies that are transcriptions (nothing is written for them until the transcript is ready)."""
        self._ending = False
        """An ``error`` is queued behind earlier answers (a refused transcription): no new work is taken."""
        self._idle_timeout = idle_timeout
        self._loop = asyncio.get_running_loop()
        self._last_sent = self._loop.time()
        self._failed_at: float | None = None
        """When an ``error`` was sent: from then on events are read and dropped, for ``LINGER`` seconds at most."""
        self.closed = False

    @property
    def busy(self) -> bool:
        """Whether a request is being answered."""
        return any(not job.done for job in self._jobs) or any(not t.done() for t in self._tasks)

    # -- lifecycle ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Read and answer events until the connection ends."""
        self._read_task = asyncio.create_task(self._read_loop(), name=f"wyoming-read-{self.peer}")
        try:
            clean_eof = await self._read_task
        except asyncio.CancelledError:
            if not self.closed:  # cancelled from outside (door stopping)
                self.abort("the server is stopping")
                raise
            clean_eof = False
        except ProtocolError as err:
            _LOGGER.warning("Wyoming client %s broke the protocol (%s); closing its connection", self.peer, err)
            if self._failed_at is None:
                # No event can be read any more, but the error is sent as after any failed request, and the bytes the
                # client still sends are dropped meanwhile and for the linger: a client still sending (a 5 MB text, a
                # header with no end) reads the error rather than a reset connection. The requests complete before
                # the broken frame are answered first, in their turn (a stream cut off by it can never be).
                refusal = ProtocolError(f"protocol error: {err.message}")
                self._listening = None
                if self._stream is not None:
                    await self._fail(refusal)
                else:
                    self._ending = True
                    failing = self._queue(lambda: self._fail(refusal))
                    await self._drop_input(until=failing)
                    await asyncio.wait([failing])  # a client that half-closed still reads its answers
                await self._drop_input()
            clean_eof = False
        except (ConnectionError, OSError) as err:
            _LOGGER.debug("Wyoming client %s: %s", self.peer, err)
            clean_eof = False
        except Exception:
            _LOGGER.exception("Wyoming connection %s failed; closing it", self.peer)
            clean_eof = False
        try:
            if clean_eof and not self.closed:
                if self._stream is not None:
                    # The text can never be completed: the client left mid-stream.
                    self.abort("the client closed the connection during a text stream")
                elif any(not task.done() for task in self._transcriptions):
                    # Home Assistant keeps its side open until it has read the transcript, so the end of the stream
                    # means the client is gone; a transcription writes nothing until it is done, so waiting would
                    # recognize the whole utterance for nobody, ahead of clients that are still waiting.
                    self.abort("the client closed the connection before its transcript")
                elif self._tail is not None:
                    # A client may half-close after its request and still read the answer; writes fail if it left.
                    await asyncio.wait([self._tail])
        finally:
            self.abort("connection closed")
            await self._wait_closed()

    def abort(self, reason: str) -> None:
        """Cancel this connection's jobs and replies and close it (idempotent)."""
        if self.closed:
            return
        self.closed = True
        for job in self._jobs:
            if not job.done:
                job.cancel(reason)
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        if self._read_task is not None and self._read_task is not current:
            self._read_task.cancel()
        self._writer.close()

    async def _drop_input(self, until: asyncio.Task[None] | None = None) -> None:
        """Read and drop what the client sends, as bytes, until it closes its side and then, after an error, until
        the linger ends, or else until ``until`` is done."""
        if until is None and self._failed_at is None:
            return  # no error went out (the client left): nothing to linger for
        reading: asyncio.Future[bytes] | None = None
        try:
            async with asyncio.timeout(LINGER if until is None else None):
                while not self.closed and not (until is not None and until.done()):
                    reading = reading or asyncio.ensure_future(self._reader.read(65536))
                    waits: set[asyncio.Future[Any]] = {reading} if until is None else {reading, until}
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    if reading.done():
                        if not reading.result():
                            return
                        reading = None
        except (TimeoutError, ConnectionError, OSError):
            pass
        finally:
            if reading is not None:
                reading.cancel()

    async def _wait_closed(self) -> None:
        try:
            await asyncio.wait_for(self._writer.wait_closed(), timeout=2.0)
        except (TimeoutError, ConnectionError, OSError):
            pass

    async def send(self, *events: Event | bytes) -> None:
        """Write events (or events already encoded) in one piece; raises ConnectionError when the peer is gone."""
        if self.closed or self._writer.is_closing():
            raise ConnectionResetError("connection closed")
        data = b"".join(event if isinstance(event, bytes) else encode_event(event) for event in events)
        async with self._write_lock:
            self._writer.write(data)
            try:
                # ``timeout`` rather than ``wait_for``, which would wrap even a drain that need not wait in a task.
                async with asyncio.timeout(self._idle_timeout):
                    await self._writer.drain()
            except TimeoutError:
                raise ConnectionResetError(f"the client read nothing for {self._idle_timeout:g} s") from None
            self._last_sent = self._loop.time()

    # -- reading --------------------------------------------------------------------------------

    async def _read_loop(self) -> bool:
        """True at a clean end of stream."""
        # One read runs across timeouts: cancelling it inside an event (after its header) would lose the framing.
        reading: asyncio.Future[Event | None] | None = None
        try:
            while not self.closed:
                if reading is None:
                    reading = asyncio.ensure_future(read_event(self._reader))
                done, _ = await asyncio.wait({reading}, timeout=self._read_timeout())
                if not done:
                    if self._failed_at is not None:
                        return False  # lingered long enough after an error
                    if await self._idle():
                        return False
                    continue
                event, reading = reading.result(), None
                if event is None:
                    return self._failed_at is None
                if self._failed_at is not None or self._ending:
                    continue  # after an error (or with one queued) nothing more is done: the rest is dropped
                in_stream = self._stream is not None
                try:
                    await self._handle(event)
                except VoxhostError as err:
                    if in_stream:
                        await self._fail(err)  # the refused text was the stream's: its answer ends with the error
                    else:
                        self._refuse(err)  # a request of its own: the answers to those before it are not cut off
            return False
        finally:
            if reading is not None:
                reading.cancel()

    def _read_timeout(self) -> float | None:
        """How long the next read may wait: the rest of the linger after an error, else the idle timeout."""
        if self._failed_at is not None:
            return max(0.0, self._failed_at + LINGER - self._loop.time())
        return self._idle_timeout

    async def _idle(self) -> bool:
        """The client sent nothing for ``idle_timeout``: True when the connection should end for it."""
        assert self._idle_timeout is not None
        if self._loop.time() - self._last_sent < self._idle_timeout:
            return False  # its audio is still flowing
        if self._stream is not None:
            await self._fail(
                IdleTimeoutError(f"the text stream sent nothing for {self._idle_timeout:g} s; closing the connection")
            )
            return False  # linger, then close
        if any(not task.done() for task in self._tasks):
            return False  # a one-shot answer is being spoken (a slow engine is not the client's fault)
        _LOGGER.debug("Wyoming client %s sent nothing for %g s; closing", self.peer, self._idle_timeout)
        return True

    async def _handle(self, event: Event) -> None:
        kind = event.type
        if Describe.is_type(kind):
            await self.send(self._info_event())
        elif Synthesize.is_type(kind):
            if self._stream is not None:
                # The compatibility copy inside a stream: its text already came as chunks, so it is not checked here.
                self._stream.compat = event.data
                return
            data = parse(SynthesizeData, event.data)
            await self._room()
            self._one_shot(data)
        elif SynthesizeStart.is_type(kind):
            if self._stream is None:
                await self._room()
            self._start_stream(event.data)
        elif SynthesizeChunk.is_type(kind):
            self._stream_chunk(event.data)
        elif SynthesizeStop.is_type(kind):
            if self._stream is None:
                await self._room()  # a stray stop is answered too
            self._stop_stream()
        elif kind in _ASR_EVENTS:
            await self._hear_event(event)
        elif Ping.is_type(kind):
            text = event.data.get("text")
            await self.send(Pong(text=text if isinstance(text, str) else None).event())
        else:
            _LOGGER.debug("Ignoring Wyoming event %r from %s", kind, self.peer)

    async def _room(self) -> None:
        """Wait until fewer than ``MAX_PENDING`` answers are outstanding, before a request that queues one."""
        while len(pending := [task for task in self._tasks if not task.done()]) >= MAX_PENDING:
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)

    def _submit(self, request: SpeechRequest) -> JobHandle:
        job = self.core.submit(request)  # validates: unknown voice, empty text, busy → VoxhostError
        self._jobs.add(job)
        return job

    def _one_shot(self, data: SynthesizeData) -> None:
        job = self._submit(speech_request(data.voice, data.text, self.peer))
        self._queue(lambda: self._speak(job, streaming=False))

    def _start_stream(self, data: dict[str, Any]) -> None:
        if self._stream is not None:
            # Neither dropped (the second stream's text would join the first) nor a silent restart (the first's
            # unfinished text would be lost, its ``synthesize-stopped`` never sent): the client is told.
            raise InvalidRequestError(
                "synthesize-start inside a text stream: send synthesize-stop to end the stream first"
            )
        job = self._submit(speech_request(parse(StartData, data).voice, None, self.peer))
        self._stream = _Stream(job)
        self._queue(lambda: self._speak(job, streaming=True))

    def _stream_chunk(self, data: dict[str, Any]) -> None:
        stream = self._stream
        if stream is None:
            return  # a chunk outside a stream has nothing to join
        self._feed(stream, parse(ChunkData, data).text)

    def _feed(self, stream: _Stream, text: str) -> None:
        """Add text to the stream's job, within ``text.max_chars`` for the whole stream (the job itself counts none)."""
        stream.chars += len(text)
        if stream.chars > self.core.settings.text.max_chars:
            raise TextTooLongError(
                f"the streamed text passed {self.core.settings.text.max_chars} characters", param="text"
            )
        if text:
            stream.fed = True
            stream.job.feed(text)

    def _stop_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            # A stray stop still gets its answer, or the client would wait for it forever.
            self._queue(lambda: self.send(SynthesizeStopped().event()))
            return
        compat_text = stream.compat.get("text") if stream.compat is not None else None
        if not stream.fed and isinstance(compat_text, str) and compat_text.strip():
            # A client that sent its text only in the compatibility event: checked as a one-shot text would be.
            self._feed(stream, parse(SynthesizeData, stream.compat).text)
        stream.job.finish_text()

    # -- speech-to-text -------------------------------------------------------------------------------

    async def _hear_event(self, event: Event) -> None:
        """``transcribe`` and audio events; a request refused midway ends the connection (see ``_refuse``)."""
        kind = event.type
        try:
            if Transcribe.is_type(kind):
                self._listen(event.data)
            elif AudioStart.is_type(kind):
                Listening.check_format(event.data)
                if self._listening is None:
                    self._listen({})  # audio with no transcribe before it: transcribe with the defaults
            elif AudioChunk.is_type(kind):
                if self._listening is None:
                    self._listen({})
                assert self._listening is not None
                self._listening.add(event.data, event.payload)
            elif AudioStop.is_type(kind):
                await self._room()
                # A stop with no audio before it is an utterance with nothing in it: the client is told so, in its
                # turn, rather than left waiting for a transcript until the idle timeout.
                listening, self._listening = self._listening or self._listen({}), None
                self._heard(listening)
        except VoxhostError as err:
            self._listening = None
            self._refuse(err)

    def _refuse(self, err: VoxhostError) -> None:
        """End the connection after a refused request (a transcription, a synthesize) as after a failed one, but in its
        turn: no new work is taken from now on, and the ``error`` follows the answers to earlier requests rather than
        cutting them off (then the half-close and the linger, during which the rest of what the client sends is read
        and dropped)."""
        self._ending = True
        self._queue(lambda: self._fail(err))

    def _listen(self, data: dict[str, Any]) -> Listening:
        transcribers = [engine for engine in self.core.engines() if "transcribe" in engine.capabilities]
        models = {engine.id: engine.id for engine in transcribers}
        models.update({model.name: engine.id for engine in transcribers for model in engine.transcription_models})
        params = self.core.check_transcribe(params_of(data, models))  # no recognizer, a language it lacks: now
        if self._listening is not None:
            # A ``transcribe`` inside an utterance changes how it is heard, not what was heard (wyoming-faster-whisper
            # reads it so too): the audio so far is kept.
            self._listening.params = params
        else:
            self._listening = Listening(params, self._listen_seconds)
        return self._listening

    def _heard(self, listening: Listening) -> None:
        """Queue the transcription of an utterance that has ended (its error when nothing in it can be heard)."""
        audio = listening.audio()
        self._transcriptions.add(self._queue(lambda: self._transcribe(audio, listening.params)))

    async def _transcribe(self, audio: PCM, params: TranscribeParams) -> None:
        """Recognize one utterance and send its transcript (Home Assistant reads ``transcript`` or ``error``)."""
        streaming = self._transcript_streaming
        segments: list[str] = []
        language: str | None = None
        parts = self.core.transcribe_stream(audio, params)
        try:
            async for part in parts:
                if isinstance(part, TranscriptInfo):
                    language = part.language
                    if streaming:
                        await self.send(TranscriptStart(language=language).event())
                elif isinstance(part, Segment):
                    segments.append(part.text)
                    if streaming and part.text.strip():
                        await self.send(TranscriptChunk(text=part.text).event())
        except VoxhostError as err:
            await self._fail(err)
            return
        finally:
            await parts.aclose()
        text = "".join(segments).strip()
        tail = [TranscriptStop().event()] if streaming else []
        await self.send(Transcript(text=text, language=language).event(), *tail)
        _LOGGER.debug("Wyoming transcript for %s: %r", self.peer, text)

    def _queue(self, reply: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run ``reply`` after every reply queued before it; its task."""
        previous = self._tail

        async def run() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            if self.closed:
                return
            try:
                await reply()
            except (ConnectionError, OSError) as err:
                _LOGGER.debug("Wyoming client %s went away: %s", self.peer, err)
                self.abort("the client went away")

        task = asyncio.create_task(run(), name=f"wyoming-reply-{self.peer}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._transcriptions.discard)
        self._tail = task
        return task

    # -- writing --------------------------------------------------------------------------------

    async def _speak(self, job: JobHandle, streaming: bool) -> None:
        """Turn a job's events into Wyoming audio events, a batch of them in one write (a one-shot text's last
        sentence and its ``audio-stop`` leave together)."""
        try:
            await self._write_job(job, streaming)
        finally:
            if job.done:  # answered: a long-lived connection holds only its open jobs (``abort`` cancels those)
                self._jobs.discard(job)

    async def _write_job(self, job: JobHandle, streaming: bool) -> None:
        started = False  # one-shot: audio-start sent
        heard = False  # some audio sent
        open_sentence: int | None = None  # streaming: the sentence whose audio group is open
        rate = job.voice.sample_rate
        async for batch in job.batches():
            out: list[Event | bytes] = []
            for event in batch:
                if isinstance(event, JobAudio):
                    rate = event.rate
                    if streaming and open_sentence != event.sentence:
                        if open_sentence is not None:
                            out.append(AudioStop().event())
                        out.append(AudioStart(rate=rate, width=WIDTH, channels=CHANNELS).event())
                        open_sentence = event.sentence
                    elif not streaming and not started:
                        out.append(AudioStart(rate=rate, width=WIDTH, channels=CHANNELS).event())
                        started = True
                    out.append(encode_audio(event.audio, rate, WIDTH, CHANNELS, self._chunk_bytes))
                    heard = heard or bool(event.audio)
                elif isinstance(event, JobProgress):
                    if streaming and open_sentence is not None:
                        out.append(AudioStop().event())
                        open_sentence = None
                elif isinstance(event, JobFinished):
                    if not heard and job.chars:  # text came, but nothing in it to say: a moment of silence
                        if streaming and open_sentence is None:
                            out.append(AudioStart(rate=rate, width=WIDTH, channels=CHANNELS).event())
                            open_sentence = -1  # the silence's own group, closed below
                        elif not streaming and not started:
                            out.append(AudioStart(rate=rate, width=WIDTH, channels=CHANNELS).event())
                            started = True
                        # Home Assistant takes the WAV's format from the first audio-chunk: with none, no WAV to play
                        silence = nothing_to_say(rate)  # WIDTH 2, CHANNELS 1: the door's own format
                        out.append(encode_audio(silence, rate, WIDTH, CHANNELS, self._chunk_bytes))
                    if streaming:
                        out += [AudioStop().event()] if open_sentence is not None else []
                        out.append(SynthesizeStopped().event())
                    else:
                        out += [] if started else [AudioStart(rate=rate, width=WIDTH, channels=CHANNELS).event()]
                        out.append(AudioStop().event())
                    _LOGGER.debug("Wyoming job %s for %s done (ttfa %s s)", job.id, self.peer, event.ttfa)
                elif isinstance(event, (JobFailed, JobCancelled)):
                    if not self.closed:
                        if out:
                            await self.send(*out)  # the audio made before the failure, then the error
                        await self._fail(job.error if isinstance(job.error, VoxhostError) else None, event)
                    return
            if out:
                await self.send(*out)

    async def _fail(self, err: VoxhostError | None, event: JobFailed | JobCancelled | None = None) -> None:
        """Tell the client what went wrong and end the connection gracefully (see the module's docstring)."""
        if self._failed_at is not None or self.closed:
            return
        if err is not None:
            text, code = err.message, err.code
        elif isinstance(event, JobFailed):
            text, code = event.message, event.code
        else:
            text, code = "the request was cancelled", "cancelled"
        _LOGGER.info("Wyoming request from %s failed: %s (%s)", self.peer, text, code)
        self._failed_at = self._loop.time()
        current = asyncio.current_task()
        for job in self._jobs:
            if not job.done:
                job.cancel(text)
        for task in self._tasks:
            if task is not current:
                task.cancel()  # no more audio after the error
        self._stream = None
        try:
            await asyncio.wait_for(self.send(Error(text=text, code=code).event()), timeout=5.0)
            if self._writer.can_write_eof():
                self._writer.write_eof()  # half-close: the client reads the error, then the end of the stream
        except (TimeoutError, ConnectionError, OSError, RuntimeError):
            self.abort(text)  # the client is gone: nothing to linger for
            return
        self._loop.call_later(LINGER, self.abort, text)  # whether or not the client closes its side by then
