"""Typed application state of the HTTP door (``web.AppKey``), shared by the route modules."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from aiohttp import web

from .settings import HttpSettings

if TYPE_CHECKING:
    from ...api import CoreAPI
    from .metrics import Metrics

CORE: web.AppKey[CoreAPI] = web.AppKey("core")
SETTINGS = web.AppKey("settings", HttpSettings)
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
PULLS: web.AppKey[dict[tuple[str, str], asyncio.Task[None]]] = web.AppKey("pulls")
"""Model pulls running now, by (engine, model)."""
CLOSING: web.AppKey[asyncio.Event] = web.AppKey("closing")
"""Set when the door shuts down, so that event streams end instead of holding the shutdown up."""
IN_FLIGHT: web.AppKey[set[asyncio.Task[object]]] = web.AppKey("in_flight")
"""Requests being answered now (the door's drain waits for them)."""
CORS_HEADERS: web.RequestKey[dict[str, str]] = web.RequestKey("cors_headers")
"""CORS headers a response gets as it is prepared."""
CLIENT: web.RequestKey[str] = web.RequestKey("client")
"""The client's address as every door logs it (``peer_address``: ``[::1]:54321``), noted as the request arrives."""
