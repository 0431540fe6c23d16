"""A TCP site that serves a bounded number of connections: past ``max_connections`` a client gets a 503 and the
connection is closed, so idle or slow clients cannot pile up (idle ones are closed after ``idle_timeout``). Its
connections answer what aiohttp refuses before the application sees it (a URL or header too long, a malformed
request line) as every other error is answered: OpenAI-shaped, with the security headers."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from ...door import host_port
from .errors import error_body, error_response
from .lab import ANSWER_HEADERS

_STARTING_GRACE = 1.0
"""Seconds a connection counts as starting: asyncio reports it to its handler a loop turn after accepting it."""
_REFUSE_LINGER = 1.0
"""Seconds a refused connection stays open for its request to arrive (closing on unread data resets it, and the
client would lose the answer)."""


@dataclass(frozen=True)
class ConnectionSettings:
    """How each connection's handler is made: the runner's settings for ``RequestHandler``, in one place.

    ``web.Server`` keeps the keyword arguments it makes its handlers with in a private attribute; the site makes the
    handlers itself (to cap them and answer parse errors in the door's form), so the door hands it the same settings
    it gives the runner.
    """

    keepalive_timeout: float
    lingering_time: float
    logger: logging.Logger
    access_log: logging.Logger | None

    def handler_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``web.AppRunner`` and ``RequestHandler``."""
        return {
            "keepalive_timeout": self.keepalive_timeout,
            "lingering_time": self.lingering_time,
            "logger": self.logger,
            "access_log": self.access_log,
        }


def _refusal(limit: int) -> bytes:
    body = json.dumps(
        error_body(503, f"too many connections (at most {limit}); try again shortly", code="too_many_connections")
    ).encode()
    security = "".join(f"{name}: {value}\r\n" for name, value in ANSWER_HEADERS.items())
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
        f"{security}Connection: close\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class _Refuse(asyncio.Protocol):
    """Answer 503 at once, read and drop what the client sends for a moment, then close."""

    def __init__(self, answer: bytes) -> None:
        self._answer = answer
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        stream = cast(asyncio.Transport, transport)  # a TCP socket's (uvloop's transports are not asyncio's classes)
        stream.write(self._answer)
        self._timer = asyncio.get_running_loop().call_later(_REFUSE_LINGER, stream.close)

    def data_received(self, data: bytes) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()


class _Connection(RequestHandler):
    """aiohttp's handler of one connection, whose own answers are in the door's form.

    A request aiohttp cannot parse never reaches the application (its middlewares and ``on_response_prepare``), and
    aiohttp would answer it in plain text, echoing part of it, without the headers every other answer carries.
    """

    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """The error answer, logged as aiohttp logs it (which also refuses when an answer has begun)."""
        super().handle_error(request, status, exc, message)
        if isinstance(exc, LineTooLong):
            text, code = f"the request's URL or a header is longer than {exc.args[1]} bytes", "too_long"
        elif isinstance(exc, HttpProcessingError) and 400 <= status < 500:
            reason = exc.message if len(exc.message) <= 200 else exc.message[:197] + "..."
            text, code = f"malformed HTTP request: {reason}", "bad_request"
        elif status == 504:
            text, code = "the request took too long", "timeout"
        else:
            text, code = "internal error; see the voxhost log", "internal_error"
        response = error_response(status, text, code=code, headers=ANSWER_HEADERS)
        response.force_close()
        return response


class _Gate:
    """The protocol factory of the listening socket: the door's handler while there is room, else a refusal."""

    def __init__(self, server: web.Server, limit: int, connection: ConnectionSettings) -> None:
        self._server = server
        self._limit = limit
        self._connection = connection
        self._answer = _refusal(limit)
        self._starting: list[tuple[RequestHandler, float]] = []

    def open_connections(self) -> int:
        """Connections being served, and those accepted but not yet reported to their handler."""
        now = time.monotonic()
        serving = set(self._server.connections)
        self._starting = [
            (handler, made)
            for handler, made in self._starting
            if handler not in serving and handler.transport is None and now - made < _STARTING_GRACE
        ]
        return len(serving) + len(self._starting)

    def __call__(self) -> asyncio.BaseProtocol:
        if self.open_connections() >= self._limit:
            return _Refuse(self._answer)
        # As ``web.Server.__call__`` makes its handlers, with the settings the runner was given.
        handler = _Connection(self._server, loop=asyncio.get_running_loop(), **self._connection.handler_kwargs())
        self._starting.append((handler, time.monotonic()))
        return handler


class LimitedSite(web.BaseSite):
    """Like ``web.TCPSite``, with a cap on connections served at once."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, max_connections: int, connection: ConnectionSettings
    ) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._limit = max_connections
        self._connection = connection
        self._gate: _Gate | None = None

    @property
    def name(self) -> str:
        """The address, as aiohttp names its sites."""
        return f"http://{host_port(self._host, self._port)}"

    @property
    def connections(self) -> int:
        """Connections open now."""
        return self._gate.open_connections() if self._gate is not None else 0

    async def start(self) -> None:
        """Bind and listen."""
        await super().start()
        server = self._runner.server
        assert server is not None
        self._gate = _Gate(server, self._limit, self._connection)
        loop = asyncio.get_running_loop()
        # BaseSite's contract, as aiohttp's own sites keep it: ``stop()`` and the runner's addresses read _server.
        self._server = await loop.create_server(self._gate, self._host, self._port, backlog=self._backlog)
