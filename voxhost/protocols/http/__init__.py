"""The OpenAI-compatible HTTP door: speech, discovery, the voice library, voice conversion, health and metrics."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

import voxhost

from ...api import CoreAPI
from ...budget import AudioBudget
from ...door import Door, DoorSettings, Endpoint, host_port
from .app import begin_shutdown, build_app
from .checks import unrouted
from .errors import SERVER_LOGGER
from .keys import IN_FLIGHT
from .limits import ConnectionSettings, LimitedSite
from .metrics import Metrics
from .settings import HttpSettings

_LOGGER = logging.getLogger(__name__)


def _warm_up() -> None:
    """Import PyAV ahead of the first request (it takes about a second), on an encoder thread."""
    try:
        import av  # noqa: F401
    except ImportError:
        _LOGGER.warning("PyAV is not installed: mp3, opus, aac and flac responses will fail")


class HttpDoor(Door):
    """aiohttp on ``http.host:http.port``."""

    name = "http"
    Settings = HttpSettings

    def __init__(self, core: CoreAPI, settings: DoorSettings) -> None:
        super().__init__(core, settings)
        assert isinstance(settings, HttpSettings)
        self.settings: HttpSettings = settings
        self._runner: web.AppRunner | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._metrics: Metrics | None = None
        self._app: web.Application | None = None
        self._site: LimitedSite | None = None
        self.port: int | None = None
        self.uploads = AudioBudget(settings.max_upload_requests, int(settings.max_uploads_mb * 1024 * 1024))
        """Uploads in progress (``max_upload_requests``, ``max_uploads_mb``)."""

    @classmethod
    def endpoints(cls, settings: DoorSettings) -> list[Endpoint]:
        """The HTTP address must be free to bind (port 0 picks one: nothing to check)."""
        assert isinstance(settings, HttpSettings)
        return [Endpoint("listen", settings.host, settings.port)] if settings.port else []

    async def start(self) -> None:
        """Bind and serve."""
        self._executor = ThreadPoolExecutor(self.settings.encode_threads, thread_name_prefix="http-encode")
        self._executor.submit(_warm_up)
        self._metrics = Metrics(self.core)
        self._app = app = build_app(self.core, self.settings, self._executor, self._metrics, self.uploads)
        # keepalive_timeout: a connection that sends nothing (before a request or between two) is closed.
        # These go to each connection's handler, which LimitedSite makes itself (aiohttp's Server keeps them only
        # in a private attribute), so they are written down once here and handed to both.
        connection = ConnectionSettings(
            keepalive_timeout=self.settings.idle_timeout,
            # A refused upload's body is read and dropped by ``lingering``; past its bounds, for this long more.
            lingering_time=2.0,
            logger=SERVER_LOGGER,  # a client's malformed request is a warning, not an error with a traceback
            access_log=None,
        )
        # handler_cancellation: a client that disconnects cancels its handler, which cancels its job at once.
        # shutdown_timeout: streams in flight had the daemon's drain to finish (``drain``); what is left is cut.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, **connection.handler_kwargs()
        )
        await self._runner.setup()
        server = self._runner.server
        assert server is not None
        # Before any connection is made: each takes its request handler from the server as it starts.
        server.request_handler = unrouted(app, server.request_handler)
        self._site = LimitedSite(
            self._runner, self.settings.host, self.settings.port, self.settings.max_connections, connection
        )
        try:
            await self._site.start()
        except OSError:
            await self.stop()
            raise
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.settings.port

    async def drain(self, deadline: float) -> None:
        """Stop listening, refuse new requests (503), end event streams and pulls; let requests in progress finish
        until ``deadline``."""
        if self._app is None or self._runner is None:
            return
        await begin_shutdown(self._app)
        if self._site is not None:
            await self._site.stop()
        loop = asyncio.get_running_loop()
        while self._app[IN_FLIGHT] and loop.time() < deadline:  # noqa: ASYNC110 (handlers end on their own)
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Close every connection (cutting what is left after the drain) and stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._metrics is not None:
            self._metrics.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def status(self) -> dict[str, Any]:
        """The address served and the connections open."""
        return {
            "url": f"http://{host_port(self.settings.host, self.port or self.settings.port)}/v1",
            "auth": bool(self.settings.api_key),
            "connections": self._site.connections if self._site is not None else 0,
            "uploads": self.uploads.status(),
        }


@voxhost.hookimpl
def register_doors(register: Any) -> None:
    """Register the HTTP door."""
    register(HttpDoor)
