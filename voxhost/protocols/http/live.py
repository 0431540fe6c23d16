"""``GET /v1/events``: the core's events as server-sent events, for the voice lab and other dashboards.

Each event is one ``data:`` line of JSON from ``Event.summary()`` (``{"event": "job_finished", "job_id": ...,
"ttfa": ..., "rtf": ...}``), for jobs of every door, engines, the voice library and model pulls. Audio chunks
(``job_audio``) are left out unless ``?audio=true``, and then only as byte counts. The stream opens with a
``hello`` event listing the jobs in progress. Browsers' ``EventSource`` cannot send headers, so this route also
takes the API key as ``?api_key=``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

from ... import __version__
from ...api import CoreAPI
from ...events import Event, JobAudio
from .keys import CLOSING, CORE
from .parsing import begin, query
from .schemas import EventsQuery, Hello, JobSnapshot

_LOGGER = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
"""A comment line this often keeps proxies and browsers from closing an idle stream."""
QUEUE_LIMIT = 2000
"""Events held for a client that reads too slowly; past this the stream ends (the browser reconnects)."""


def job_snapshot(core: CoreAPI) -> list[JobSnapshot]:
    """The jobs in progress, in the shape of their ``job_accepted`` events plus their state."""
    return [
        JobSnapshot(
            job_id=job.id,
            voice=job.voice.id,
            engine=job.voice.engine,
            door=job.request.door,
            chars=job.chars,
            state=job.state,
        )
        for job in core.jobs()
    ]


def _frame(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    """Stream core events until the client leaves or the door closes."""
    core = request.app[CORE]
    closing = request.app[CLOSING]
    with_audio = query(request, EventsQuery).audio
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def on_event(event: Event) -> None:
        if isinstance(event, JobAudio) and not with_audio:
            return
        if queue.qsize() >= QUEUE_LIMIT:
            queue.put_nowait(None)  # too far behind: end this stream rather than hold memory
            return
        queue.put_nowait(event)

    unsubscribe = core.bus.subscribe(on_event)
    try:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # nginx would otherwise hold events back
            }
        )
        if not await begin(request, response):
            return response
        hello = Hello(version=__version__, jobs=job_snapshot(core)).model_dump(mode="json")
        await response.write(b"retry: 2000\n\n" + _frame(hello))
        closed = asyncio.ensure_future(closing.wait())
        getter: asyncio.Future[Event | None] | None = None
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, closed}, timeout=KEEPALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    if closed in done:
                        break
                    await response.write(b": keepalive\n\n")
                    continue
                event = getter.result()
                if event is None:
                    _LOGGER.warning("An event stream client fell %d events behind; ending its stream", QUEUE_LIMIT)
                    break
                await response.write(_frame(event.summary()))
        finally:
            # Both waits, whichever way the loop ends: a client that leaves cancels this handler mid-wait, and a
            # task left pending is reported when it is collected.
            closed.cancel()
            if getter is not None:
                getter.cancel()
        return response
    finally:
        unsubscribe()
