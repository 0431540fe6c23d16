"""``GET /health`` (always open; engines and doors as JSON) and ``GET /metrics`` (Prometheus text format).

``/health`` answers JSON, never a plain ``OK``: wyoming_openai takes a plain ``OK`` there for another server.
"""

from __future__ import annotations

import time

from aiohttp import web

from ... import __version__
from ...api import OutputsStatus
from .keys import CORE, METRICS
from .metrics import CONTENT_TYPE
from .parsing import answer
from .schemas import Health, OutputsHealth


async def health(request: web.Request) -> web.Response:
    """Engines (loaded, errors, queue) and doors; ``status`` is ``degraded`` when an engine failed to load."""
    core = request.app[CORE]
    engines = await core.engine_status()
    doors = core.door_status()
    status = "degraded" if any(e.get("error") for e in engines) or not engines else "ok"
    return answer(
        Health(
            status=status,
            version=__version__,
            uptime=round(time.time() - core.started_at, 1),
            engines=engines,
            doors=doors,
            voices=len(core.voices()),
            jobs=len(core.jobs()),
            outputs=outputs_health(core.outputs_status()),
        )
    )


def outputs_health(status: OutputsStatus) -> OutputsHealth:
    """The stored outputs against their limits, as ``/health`` shows them."""
    return OutputsHealth(
        count=status.count,
        bytes=status.bytes,
        oldest_at=status.oldest_at,
        max_count=status.max_count,
        max_bytes=status.max_bytes,
        max_age_days=status.max_age_days,
        near_limit=[limit for limit in ("size", "count") if limit in status.near],
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics."""
    body = request.app[METRICS].render()
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE
    return response
