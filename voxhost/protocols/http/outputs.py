"""The history of stored outputs over HTTP: search and pages, one output and its audio, deleting one or many (only
with ``"confirm": true``), and downloading many as one zip archive.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ...errors import UnknownJobError
from .downloads import attachment, send_zip
from .encoders import CONTENT_TYPES
from .keys import CLIENT, CORE, EXECUTOR
from .parsing import answer, json_body, page_answer, query
from .ranges import file_answer
from .records import (
    DeleteOutputsRequest,
    ListOutputsQuery,
    OutputAudioQuery,
    OutputDeleted,
    OutputList,
    OutputsArchiveQuery,
    OutputsDeleted,
    output,
)
from .streaming import AudioStreamer

_LOGGER = logging.getLogger(__name__)


def _output_id(request: web.Request) -> str:
    """The path's output id; a 404 naming ``output_id`` when no stored output has it (no job, or one not kept)."""
    output_id = request.match_info["output_id"]
    try:
        record = request.app[CORE].job_record(output_id)
    except UnknownJobError:
        record = None
    if record is None or not record.kept or record.state != "finished":
        raise UnknownJobError(f"no stored output {output_id!r}", param="output_id")
    return output_id


async def list_outputs(request: web.Request) -> web.Response:
    """``GET /v1/outputs``: stored outputs that match, newest first, one page."""
    params = query(request, ListOutputsQuery)
    return page_answer(OutputList, request.app[CORE].outputs(params), params.offset, output)


async def get_output(request: web.Request) -> web.Response:
    """``GET /v1/outputs/{output_id}``: one stored output's record."""
    return answer(output(request.app[CORE].job_record(_output_id(request))))


async def output_audio(request: web.Request) -> web.StreamResponse:
    """``GET /v1/outputs/{output_id}/audio``: the stored WAV as it is (or a byte range of it), or the audio in another
    format."""
    core = request.app[CORE]
    output_id = _output_id(request)
    params = query(request, OutputAudioQuery)
    name = f"voxhost-{output_id}.{params.response_format.value}"
    if params.response_format == "wav":
        path = core.output_file(output_id)
        headers = {"Content-Type": CONTENT_TYPES["wav"], "X-Voxhost-Job": output_id, **attachment(name)}
        return await file_answer(request, path, headers)
    record = core.job_record(output_id)
    chunks = core.job_audio(output_id)
    streamer = AudioStreamer(
        request,
        params.response_format,
        request.app[EXECUTOR],
        fallback_rate=record.rate or 22050,
        headers={"X-Voxhost-Job": output_id, "Accept-Ranges": "none", **attachment(name)},  # encoded as it goes
    )
    return await streamer.run_closing(chunks, f"while fetching output {output_id}")


async def delete_output(request: web.Request) -> web.Response:
    """``DELETE /v1/outputs/{output_id}``: delete one stored output (a second delete is a 404)."""
    output_id = _output_id(request)
    await asyncio.shield(request.app[CORE].delete_outputs([output_id]))
    return answer(OutputDeleted(id=output_id))


async def delete_outputs(request: web.Request) -> web.Response:
    """``POST /v1/outputs/delete``: delete the outputs a selection names, only with ``"confirm": true``."""
    core = request.app[CORE]
    body = await json_body(request, DeleteOutputsRequest)
    matched = [record.id for record in core.select_outputs(body)]
    deleted = await asyncio.shield(core.delete_outputs(matched)) if body.confirm else []
    if deleted:
        _LOGGER.info("Deleted %d stored output(s) for %s", len(deleted), request[CLIENT])
    return answer(OutputsDeleted(confirmed=body.confirm, matched=matched, deleted=deleted))


async def outputs_archive(request: web.Request) -> web.StreamResponse:
    """``GET /v1/outputs/archive``: the outputs a query names (all: no condition) as one zip archive."""
    core = request.app[CORE]
    params = query(request, OutputsArchiveQuery)
    ids = [record.id for record in core.select_outputs(params.selection())]
    return await send_zip(request, core.export_outputs(ids), "outputs")
