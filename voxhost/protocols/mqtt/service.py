"""voxhost's own topics: say (with status replies and streamed audio), stop, voices, the default voice."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ...api import JobHandle
from ...errors import VoxhostError
from ...events import (
    JobAudio,
    JobCancelled,
    JobCut,
    JobFailed,
    JobFinished,
    JobProgress,
    JobStarted,
)
from ...operations import nothing_to_say
from .connection import Incoming
from .context import Handler, Service
from .names import shared
from .reply import Reply, check_delivery, check_response_topic
from .schemas import (
    SayCommand,
    StopCommand,
    VoiceSet,
    VoicesQuery,
    decode,
    load_json,
    looks_like_json,
    parse_model,
    parse_optional,
    parse_say,
    peek,
)
from .stream import AudioStream

_LOGGER = logging.getLogger(__name__)

EXPIRED = "message expired before it could be spoken"
"""Cancel reason of a request whose MQTT 5 message expiry passed while it waited."""
UNDELIVERED = "undelivered: the MQTT broker is unreachable"
"""Cancel reason of a say request (or Hermes say) whose audio comes while the broker is gone: it is not kept to be
played late."""


class VoxhostService(Service):
    """Handlers for ``<base>/<node>/...`` and the pool topics under ``<base>``."""

    def subscriptions(self) -> list[str]:
        """Topic filters to subscribe to on every connect."""
        t = self.topics
        return [t.say, shared(t.pool_say, self.settings.shared_group), t.stop, t.pool_stop, t.voices_get, t.voice_set]

    def handlers(self) -> dict[str, Handler]:
        """Exact topic → handler (a shared subscription delivers under the plain topic)."""
        t = self.topics
        return {
            t.say: self.on_say,
            t.pool_say: self.on_say,
            t.stop: self.on_stop,
            t.pool_stop: self.on_stop,
            t.voices_get: self.on_voices,
            t.voice_set: self.on_voice_set,
        }

    # -- say -----------------------------------------------------------------------------------------

    def on_say(self, msg: Incoming) -> None:
        """Validate, deduplicate and queue a say request; its job is then followed by a task."""
        if msg.retain:
            # A retained command would be spoken again on every reconnect.
            _LOGGER.warning("Ignoring a retained say message on %s", msg.topic)
            return
        try:
            check_response_topic(self.ctx, msg)
            command = parse_say(msg.payload, self.settings.max_command_bytes, self.settings.max_text)
            check_delivery(self.ctx, command.reply_to, command.audio_topic)
        except VoxhostError as err:
            seen = peek(msg.payload, self.settings.max_command_bytes)
            _LOGGER.info("Rejected say request on %s: %s", msg.topic, err.message)
            Reply.to(self.ctx, msg, seen.get("reply_to"), seen.get("id")).error(err)
            return
        key = command.id or (msg.correlation_data.hex() if msg.correlation_data else None)
        if self.ctx.dedupe.redelivered(key, msg):  # a small payload: its digest is made here
            _LOGGER.info("Dropping a repeated say request %s", key)
            return
        reply = Reply.to(self.ctx, msg, command.reply_to, command.id)
        try:
            command.check_chunk_bytes(self.settings.chunk_bytes)
            voice = command.voice
            if voice is None and command.engine is None:
                voice = self.ctx.voice.for_language(command.language)
            job = self.ctx.core.submit(command.speech_request(voice))
        except VoxhostError as err:
            self.ctx.dedupe.forget(key)  # only an accepted request uses up its id
            reply.error(err)
            return
        except Exception as err:  # a bug must still answer the client, and never reach paho
            self.ctx.dedupe.forget(key)
            _LOGGER.exception("Say request %s failed", command.id)
            reply.send("error", code="internal_error", message=f"{type(err).__name__}: {err}")
            return
        try:
            self._queued(msg, command, job, reply)
        except Exception:
            # Nothing would read the job's events and audio: they would stay in memory, and the job in the tracker.
            _LOGGER.exception("Say request %s failed after its job was queued; cancelling it", command.id)
            job.cancel("the MQTT door could not serve the request")
            self.ctx.tracker.untrack(job)

    def _queued(self, msg: Incoming, command: SayCommand, job: JobHandle, reply: Reply) -> None:
        """Reply ``queued`` to an accepted say request and start following its job."""
        request_id = command.id or job.id
        reply.id = request_id
        prefix = command.audio_topic or self.topics.audio(request_id)
        fmt = command.format or self.settings.audio_format
        audio = AudioStream(self.ctx.conn, prefix, request_id, fmt, command.chunk_bytes or self.settings.chunk_bytes)
        self.ctx.tracker.track(request_id, job)
        reply.send(
            "queued",
            job=job.id,
            voice=job.voice.id,
            audio_topic=prefix if fmt != "none" else None,
            audio_format=fmt,
            **audio.describe(job.voice.sample_rate),
        )
        if msg.expiry is not None:
            asyncio.get_running_loop().call_later(msg.expiry, self._expire, job)
        self.ctx.tracker.spawn(self._follow(job, reply, audio), name=f"mqtt-say-{request_id}")

    @staticmethod
    def _expire(job: JobHandle) -> None:
        if job.started_at is None:
            job.cancel(EXPIRED)

    async def _follow(self, job: JobHandle, reply: Reply, audio: AudioStream) -> None:
        """Turn the job's events into status replies and audio messages."""
        warnings: list[str] = []
        try:
            async for event in job.events():
                if isinstance(event, JobAudio):
                    audio.add(event.audio, event.rate)
                    if audio.delivers and not self.ctx.conn.connected:
                        # The rest would be made for nobody; a WAV, published at the end, would go the way of the
                        # chunks (dropped) or be played late, a broker's outage after it was asked for.
                        job.cancel(UNDELIVERED)
                elif isinstance(event, JobStarted):
                    reply.send("started", job=job.id, wait=event.wait)
                elif isinstance(event, JobCut):
                    warnings.append(event.message)  # said in the done reply: the job goes on
                elif isinstance(event, JobProgress):
                    reply.send(
                        "progress",
                        sentences_done=event.sentences_done,
                        sentences_total=event.sentences_total,
                        audio_seconds=event.audio_seconds,
                    )
                elif isinstance(event, JobFinished):
                    if audio.rate is None and job.chars:
                        # Nothing to say (emoji or markup alone): the short silence the other doors give and a kept
                        # job stores, so that a speaker waiting for start/stop or a WAV gets audio it can play.
                        rate = job.voice.sample_rate
                        audio.add(nothing_to_say(rate), rate)
                    problem = await audio.finish("done", job.voice.sample_rate)
                    if problem:
                        reply.send("error", code="too_large", message=problem, param="format")
                    else:
                        reply.send(
                            "done",
                            duration=event.audio_seconds or audio.seconds,
                            ttfa=event.ttfa,
                            elapsed=event.elapsed,
                            rtf=event.rtf,
                            sentences=event.sentences,
                            chunks=audio.chunks,
                            bytes=audio.bytes,
                            **({"warnings": warnings} if warnings else {}),
                        )
                elif isinstance(event, JobFailed):
                    await audio.finish("error", job.voice.sample_rate)
                    reply.send("error", code=event.code, message=event.message)
                elif isinstance(event, JobCancelled):
                    await audio.finish("cancelled", job.voice.sample_rate)
                    code = "expired" if event.reason == EXPIRED else "cancelled"
                    reply.send("error", code=code, message=f"job cancelled: {event.reason}")
        finally:
            self.ctx.tracker.untrack(job)

    # -- stop ----------------------------------------------------------------------------------------

    def on_stop(self, msg: Incoming) -> None:
        """Cancel one request (``id``), everything this door started, or every job (``all``)."""
        if msg.retain:
            _LOGGER.warning("Ignoring a retained stop message on %s", msg.topic)
            return
        try:
            check_response_topic(self.ctx, msg)
            command = parse_optional(StopCommand, msg.payload, self.settings.max_command_bytes)
        except VoxhostError as err:
            seen = peek(msg.payload, self.settings.max_command_bytes)
            Reply.to(self.ctx, msg, None, seen.get("id")).error(err)
            return
        jobs = self.ctx.core.jobs() if command.all else self.ctx.tracker.jobs_for(command.id)
        conversions = self.ctx.tracker.conversions_for(command.id)
        for job in jobs:
            job.cancel("stop command")
        for task in conversions:
            task.cancel("stop command")
        _LOGGER.info(
            "Stop command on %s cancelled %d job(s) and %d conversion(s)", msg.topic, len(jobs), len(conversions)
        )

    # -- voices --------------------------------------------------------------------------------------

    def on_voices(self, msg: Incoming) -> None:
        """Reply with the catalog (optionally filtered by language or engine)."""
        try:
            check_response_topic(self.ctx, msg)
            query = parse_optional(VoicesQuery, msg.payload, self.settings.max_command_bytes)
            check_delivery(self.ctx, query.reply_to)
        except VoxhostError as err:
            seen = peek(msg.payload, self.settings.max_command_bytes)
            Reply.to(self.ctx, msg, seen.get("reply_to"), seen.get("id"), default=self.topics.voices).error(err)
            return
        voices = []
        for voice in self.ctx.core.voices():
            if query.engine and voice.engine != query.engine:
                continue
            if query.language and not self.ctx.core.speaks(voice, query.language):
                continue
            voices.append(
                {
                    "id": voice.id,
                    "name": voice.name,
                    "engine": voice.engine,
                    "languages": list(voice.languages),
                    "sample_rate": voice.sample_rate,
                    "kind": voice.kind,
                    "speakers": list(voice.speakers),
                    "aliases": list(voice.aliases),
                }
            )
        Reply.to(self.ctx, msg, query.reply_to, query.id, default=self.topics.voices).send(
            "ok", voices=voices, default=self.ctx.voice.effective()
        )

    def on_voice_set(self, msg: Incoming) -> None:
        """Set the default voice (Home Assistant's select): plain text or ``{"voice": ...}``."""
        if msg.retain:
            # Applied on every reconnect, it would undo each later choice (and a bad one answer an error each time).
            _LOGGER.warning("Ignoring a retained voice/set message on %s", msg.topic)
            return
        try:
            check_response_topic(self.ctx, msg)
            text = decode(msg.payload, self.settings.max_command_bytes).strip()
            sent: Any = load_json(text) if looks_like_json(text) else text
            # Plain text and a JSON string (what a JSON-minded client sends) are the voice, checked as the JSON form's.
            data = parse_model(VoiceSet, {"voice": sent} if isinstance(sent, str) else sent)
            voice = self.ctx.core.resolve_voice(data.voice).id if data.voice else None
        except VoxhostError as err:
            Reply.to(self.ctx, msg).error(err)
            return
        self.ctx.voice.set(voice)
