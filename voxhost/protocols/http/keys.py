"""Typed application state of the HTTP door (``web.AppKey``), shared by the route modules."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from aiohttp import web

from ...settings import HttpSettings

if TYPE_CHECKING:
    from ...core import Core
    from .metrics import Metrics

CORE: web.AppKey[Core] = web.AppKey("core")
SETTINGS = web.AppKey("settings", HttpSettings)
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
CORS_HEADERS: web.RequestKey[dict[str, str]] = web.RequestKey("cors_headers")
"""CORS headers a response gets as it is prepared."""
