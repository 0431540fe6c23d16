"""The history of stored outputs over HTTP: search and pages, one output and its audio, deleting one or many (only
with ``"confirm": true``), and downloading many as one zip archive.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from ...errors import UnknownJobError
from .encoders import CONTENT_TYPES
from .keys import CORE, EXECUTOR
from .parsing import answer, json_body, query
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
    output_id = request.match_info["output_id"]
    record = request.app[CORE].job_record(output_id) if output_id else None
    if record is None or not record.kept or record.state != "finished":
        raise UnknownJobError(f"no stored output {output_id!r}", param="output_id")
    return output_id


def attachment(name: str) -> dict[str, str]:
    """Headers that make a browser save the answer as ``name``."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


async def list_outputs(request: web.Request) -> web.Response:
    """``GET /v1/outputs``: stored outputs that match, newest first, one page."""
    params = query(request, ListOutputsQuery)
    page = request.app[CORE].outputs(params)
    return answer(
        OutputList(
            data=[output(record) for record in page.items],
            total=page.total,
            has_more=params.offset + len(page.items) < page.total,
        )
    )


async def get_output(request: web.Request) -> web.Response:
    """``GET /v1/outputs/{output_id}``: one stored output's record."""
    return answer(output(request.app[CORE].job_record(_output_id(request))))


async def output_audio(request: web.Request) -> web.StreamResponse:
    """``GET /v1/outputs/{output_id}/audio``: the stored WAV as it is, or the audio in another format."""
    core = request.app[CORE]
    output_id = _output_id(request)
    params = query(request, OutputAudioQuery)
    name = f"voxhost-{output_id}.{params.response_format.value}"
    if params.response_format == "wav":
        path = core.output_file(output_id)
        return web.FileResponse(
            path, headers={"Content-Type": CONTENT_TYPES["wav"], "X-Voxhost-Job": output_id, **attachment(name)}
        )
    record = core.job_record(output_id)
    chunks = core.job_audio(output_id)
    streamer = AudioStreamer(
        request,
        params.response_format,
        request.app[EXECUTOR],
        fallback_rate=record.rate or 22050,
        headers={"X-Voxhost-Job": output_id, **attachment(name)},
    )
    try:
        return await streamer.run(chunks)
    except ConnectionResetError:
        return streamer.response or web.Response(status=499)
    finally:
        await chunks.aclose()


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
        _LOGGER.info("Deleted %d stored output(s) for %s", len(deleted), request.remote)
    return answer(OutputsDeleted(confirmed=body.confirm, matched=matched, deleted=deleted))


async def outputs_archive(request: web.Request) -> web.StreamResponse:
    """``GET /v1/outputs/archive``: the outputs a query names (all: no condition) as one zip archive."""
    core = request.app[CORE]
    params = query(request, OutputsArchiveQuery)
    ids = [record.id for record in core.select_outputs(params.selection())]
    chunks = core.export_outputs(ids)
    try:
        first = await anext(chunks)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        response = web.StreamResponse(
            headers={"Content-Type": "application/zip", **attachment(f"voxhost-outputs-{stamp}.zip")}
        )
        await response.prepare(request)
        await response.write(first)
        async for data in chunks:
            await response.write(data)
        await response.write_eof()
        return response
    finally:
        await chunks.aclose()
