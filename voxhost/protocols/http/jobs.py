"""Jobs over HTTP: recent jobs from every door, one job's state, its audio (so far, then as it is made), and
cancel-and-remove for this door's own jobs (jobs of other doors are read-only here).

A job's audio can be fetched when it was kept: an asynchronous speech request (``"async": true``) or one with
``"keep": true`` (or a door in ``[outputs] keep_doors``).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from .encoders import CONTENT_TYPES
from .errors import ReadOnlyJobError
from .keys import CORE, EXECUTOR
from .parsing import answer, page_answer, query
from .ranges import file_answer
from .records import READ_WRITE_DOOR, AudioQuery, JobDeleted, ListJobsQuery, SpeechJobList, speech_job
from .streaming import AudioStreamer

FALLBACK_RATE = 22050
"""The rate a stream announces before a job's first audio tells its real one."""


async def list_jobs(request: web.Request) -> web.Response:
    """``GET /v1/jobs``: recent jobs from every door (and jobs whose audio is kept), newest first."""
    params = query(request, ListJobsQuery)
    return page_answer(SpeechJobList, request.app[CORE].job_records(params), params.offset, speech_job)


async def get_job(request: web.Request) -> web.Response:
    """``GET /v1/jobs/{job_id}``: one job's state, progress, timings and error."""
    return answer(speech_job(request.app[CORE].job_record(request.match_info["job_id"])))


async def delete_job(request: web.Request) -> web.Response:
    """``DELETE /v1/jobs/{job_id}``: cancel this door's job if it runs, and remove it with its kept audio."""
    core = request.app[CORE]
    record = core.job_record(request.match_info["job_id"])
    if record.door != READ_WRITE_DOOR:
        raise ReadOnlyJobError(
            f"job {record.id} came through the {record.door} door: it can be read here, not cancelled or removed",
            param="job_id",
        )
    removed = await asyncio.shield(core.remove_job(record.id))
    return answer(JobDeleted(id=removed.id, cancelled=not record.done))


async def job_audio(request: web.Request) -> web.StreamResponse:
    """``GET /v1/jobs/{job_id}/audio``: the kept audio in ``response_format``, as much as exists, then the rest; a
    finished job's WAV is its file, served in byte ranges too."""
    core = request.app[CORE]
    params = query(request, AudioQuery)
    record = core.job_record(request.match_info["job_id"])
    chunks = core.job_audio(record.id)  # NoAudioError (404) when it kept none, or failed
    headers = {"X-Voxhost-Job": record.id, "X-Voxhost-Voice": record.voice}
    if params.response_format == "wav" and (path := core.job_file(record.id)) is not None:
        await chunks.aclose()  # whole on disk: the file itself, which players can seek in (byte ranges)
        return await file_answer(request, path, {"Content-Type": CONTENT_TYPES["wav"], **headers})
    streamer = AudioStreamer(
        request,
        params.response_format,
        request.app[EXECUTOR],
        fallback_rate=record.rate or FALLBACK_RATE,
        headers={**headers, "Accept-Ranges": "none"},  # made (or encoded) as it is sent: its length is not known
    )
    return await streamer.run_closing(chunks, f"while fetching job {record.id}")
