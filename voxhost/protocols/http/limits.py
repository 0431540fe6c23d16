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
_REFUSE_WAIT = 1.0
"""Seconds a refused connection waits for each piece of its request (closing on unread data resets the connection,
and the client would lose the answer); it is closed as soon as its request has come whole."""
_REFUSE_MOST = 10.0
"""Seconds a refused connection is kept open at most, however slowly its request's body keeps coming."""
_MOST_HEAD = 64 * 1024
"""Bytes of request head read at most before a refused connection is closed."""


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


def _refusal(limit: int) -> tuple[bytes, bytes]:
    """The 503's head and body."""
    body = json.dumps(
        error_body(503, f"too many connections (at most {limit}); try again shortly", code="too_many_connections")
    ).encode()
    security = "".join(f"{name}: {value}\r\n" for name, value in ANSWER_HEADERS.items())
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
        f"{security}Connection: close\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode(), body


def _body_length(head: bytes) -> int | None:
    """How many bytes of body follow a request head: its ``Content-Length``, 0 with none or when the client waits for
    ``100 Continue`` (it gets the refusal instead), None for a chunked body (it ends when the client stops sending)."""
    length, waits = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"transfer-encoding" and b"chunked" in value:
            return None
        if name == b"content-length" and value.isdigit():
            length = int(value)
        elif name == b"expect" and value == b"100-continue":
            waits = True
    return 0 if waits else length


class _Refuse(asyncio.Protocol):
    """Answer 503 as soon as the request line has come (a ``HEAD`` without a body), and close once the request has
    come (its head, and what body it announced): read whole, it is closed cleanly, and clients that read until the
    connection ends have their answer as soon as it is sent. A client that sends nothing, or stalls, is closed after
    ``_REFUSE_WAIT``; one that keeps sending, after ``_REFUSE_MOST``."""

    def __init__(self, answer: tuple[bytes, bytes]) -> None:
        self._answer: tuple[bytes, bytes] | None = answer  # None once sent
        self._transport: asyncio.Transport | None = None
        self._head = bytearray()
        self._left: int | None = None  # body bytes still to come, once the head is read (None: until the client stops)
        self._body = False  # the head has been read
        self._timer: asyncio.TimerHandle | None = None
        self._end = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # a TCP socket's (uvloop's are not asyncio's classes)
        self._end = asyncio.get_running_loop().time() + _REFUSE_MOST
        self._wait()

    def _wait(self) -> None:
        """Close after ``_REFUSE_WAIT`` without a byte, within ``_REFUSE_MOST`` in all."""
        if self._timer is not None:
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(min(loop.time() + _REFUSE_WAIT, self._end), self._close)

    def _send(self, method: bytes = b"") -> None:
        """Write the answer, once: a ``HEAD`` request's without its body (the client would read those bytes as the
        start of its next answer)."""
        if self._answer is not None and self._transport is not None and not self._transport.is_closing():
            head, body = self._answer
            self._transport.write(head if method == b"HEAD" else head + body)
        self._answer = None

    def _close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._send()  # a client that sent no whole request line still learns why
            self._transport.close()  # what was written is sent first

    def data_received(self, data: bytes) -> None:
        if not self._body:
            self._head += data
            if self._answer is not None and b"\r\n" in self._head:  # the request line: its method says if a body goes
                self._send(bytes(self._head).lstrip(b"\r\n").partition(b" ")[0])
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > _MOST_HEAD:
                    self._close()
                else:
                    self._wait()
                return
            self._body = True
            self._left = _body_length(bytes(self._head[:end]))
            data = bytes(self._head[end + 4 :])
            self._head.clear()
            # The answer is whole: end the sending side, so a client reading until the end stops waiting now.
            if self._transport is not None and self._transport.can_write_eof():
                self._transport.write_eof()
        if self._left is not None:
            self._left -= len(data)
            if self._left <= 0:
                self._close()
                return
        self._wait()

    def eof_received(self) -> bool | None:
        return False  # the client has sent all it will: close

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()


class _Connection(RequestHandler):
    """aiohttp's handler of one connection, whose own answers are in the door's form.

    A request aiohttp cannot parse never reaches the application (its middlewares and ``on_response_prepare``), and
    aiohttp would answer it in plain text, echoing part of it, without the headers every other answer carries.
    """

    __slots__ = ("reported",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reported = False  # asyncio has reported its connection: until then it counts as starting

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Note the connection as reported, then serve it."""
        self.reported = True
        super().connection_made(transport)

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
        self._starting: list[tuple[_Connection, float]] = []

    def open_connections(self) -> int:
        """Connections being served, and those accepted but not yet reported to their handler."""
        now = time.monotonic()
        serving = set(self._server.connections)
        self._starting = [
            (handler, made)
            for handler, made in self._starting
            # Not one that has come and gone already: a closed connection has no transport either.
            if handler not in serving and not handler.reported and now - made < _STARTING_GRACE
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
