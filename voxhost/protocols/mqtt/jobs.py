"""Jobs over MQTT: a job's record and its kept audio by the job's id (from any door: a say request kept with
``"keep": true``, an asynchronous HTTP job, ...), or a page of recent jobs.

A request on ``<base>/<node>/jobs/get`` names the job (``job``); the reply is the job's record (status ``job``),
then its audio as a say request's is published (start / chunk / stop, or one WAV: what exists now, then the rest as
it is made), then ``done``, or ``error`` when the job kept no audio. Without ``job`` the reply (status ``ok``) lists
recent jobs.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from pydantic import Field

from ...api import JobRecord
from ...errors import VoxhostError
from ...operations import JobId, JobQuery
from .connection import Incoming
from .context import Handler, Service
from .reply import Reply, check_delivery, check_response_topic
from .schemas import _Delivery, parse_optional, peek
from .stream import AudioStream

_LOGGER = logging.getLogger(__name__)


class JobsCommand(JobQuery, _Delivery):
    """A job request: ``job`` for one job's record and audio; without it, a page of recent jobs (``door``,
    ``state``, ``limit``, ``offset``)."""

    job: JobId | None = Field(None)
    """The job's id (in the ``queued`` reply of a say request, in events, in HTTP's ``X-Voxhost-Job``)."""


def summary(record: JobRecord) -> dict[str, Any]:
    """A job's record as JSON (fields without a value left out)."""
    return {key: value for key, value in dataclasses.asdict(record).items() if value is not None}


class JobsService(Service):
    """The handler of ``<base>/<node>/jobs/get``."""

    def subscriptions(self) -> list[str]:
        """Topic filters to subscribe to on every connect."""
        return [self.topics.jobs_get]

    def handlers(self) -> dict[str, Handler]:
        """Exact topic → handler."""
        return {self.topics.jobs_get: self.on_jobs}

    def on_jobs(self, msg: Incoming) -> None:
        """Answer a job request; audio is published by a task."""
        if msg.retain:
            _LOGGER.warning("Ignoring a retained job request on %s", msg.topic)
            return
        try:
            check_response_topic(self.ctx, msg)
            command: JobsCommand = parse_optional(JobsCommand, msg.payload, self.settings.max_command_bytes)
            check_delivery(self.ctx, command.reply_to, command.audio_topic)
        except VoxhostError as err:
            seen = peek(msg.payload, self.settings.max_command_bytes)
            Reply.to(self.ctx, msg, seen.get("reply_to"), seen.get("id"), default=self.topics.jobs).error(err)
            return
        reply = Reply.to(self.ctx, msg, command.reply_to, command.id, default=self.topics.jobs)
        core = self.ctx.core
        if command.job is None:
            page = core.job_records(JobQuery(**command.model_dump(include=set(JobQuery.model_fields))))
            reply.send("ok", jobs=[summary(record) for record in page.items], total=page.total)
            return
        try:
            command.check_chunk_bytes(self.settings.chunk_bytes)
            record = core.job_record(command.job)
        except VoxhostError as err:
            reply.error(err)
            return
        reply.send("job", job=summary(record))
        fmt = command.format or self.settings.audio_format
        if fmt == "none":
            reply.send("done", job=record.id)
            return
        self.ctx.tracker.spawn(self._publish(record, command, fmt, reply), name=f"mqtt-job-{record.id}")

    async def _publish(self, record: JobRecord, command: JobsCommand, fmt: str, reply: Reply) -> None:
        """The job's kept audio as a say request's audio, then ``done`` (or ``error``)."""
        request_id = command.id or record.id
        prefix = command.audio_topic or self.topics.audio(request_id)
        audio = AudioStream(self.ctx.conn, prefix, request_id, fmt, command.chunk_bytes or self.settings.chunk_bytes)
        rate = record.rate or 22050
        try:
            async for pcm in self.ctx.core.job_audio(record.id):
                audio.add(pcm.data, pcm.rate)
                rate = pcm.rate
        except VoxhostError as err:
            await audio.finish("error", rate)
            reply.error(err)
            return
        problem = await audio.finish("done", rate)
        if problem:
            reply.send("error", code="too_large", message=problem, param="format")
            return
        reply.send(
            "done", job=record.id, audio_topic=prefix, duration=audio.seconds, chunks=audio.chunks, bytes=audio.bytes
        )
