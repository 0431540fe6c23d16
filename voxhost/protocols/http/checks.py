"""Checks of a request made before its body is read (the host and origin, a stopping door, the API key, an upload's
length and the upload budget): each one serves as a middleware, and all of them in the answer to ``Expect``.

A client that sends ``Expect: 100-continue`` (curl, for an upload) waits to be told ``100 Continue`` before it sends
its body. aiohttp says so before any middleware runs, so an upload the door refuses anyway was sent whole first.
Each route answers ``Expect`` here instead: the door's refusal at once if a check refuses the request, with
``Connection: close`` (the body it announced never comes), else ``100 Continue``. A request no route takes (404,
405, or a path the door redirects) is answered as it would be without ``Expect``, before its body (``unrouted``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiohttp import HttpVersion11, hdrs, web
from aiohttp.typedefs import Handler, Middleware
from multidict import CIMultiDict

from ...errors import VoxhostError
from .errors import answer_error, error_response

Check = Callable[[web.Request], object]
"""A test of a request before its body is read: it raises the door's error to refuse the request (what it returns
is not used)."""
ExpectHandler = Callable[[web.Request], Awaitable[web.StreamResponse | None]]
"""What aiohttp calls for a request with an ``Expect`` header: an answer refuses it, None lets it go on."""
ServerHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
"""What a connection hands each request to (``web.Server.request_handler``: the application's own)."""


def checking(check: Check) -> Middleware:
    """A middleware that refuses what ``check`` refuses."""

    @web.middleware
    async def checked(request: web.Request, handler: Handler) -> web.StreamResponse:
        check(request)
        return await handler(request)

    return checked


def expect_handler(checks: Sequence[Check], counted: Callable[[web.Request, int], None]) -> ExpectHandler:
    """Answer ``Expect: 100-continue`` once ``checks`` (the middlewares' own, in their order) let the request go
    on; ``counted`` records a refusal's status, as the middlewares record every answer."""

    async def expect(request: web.Request) -> web.StreamResponse | None:
        try:
            for check in checks:
                check(request)
        except VoxhostError as err:
            return _refusal(request, answer_error(request, err), counted)
        if request.version != HttpVersion11:
            return None  # HTTP/1.0 has no 100 Continue: its client sends the body regardless
        expectation = request.headers.get(hdrs.EXPECT, "")
        if expectation.lower() != "100-continue":
            message = f"unknown expectation {expectation!r}: only 100-continue is met"
            return _refusal(request, error_response(417, message, code="expectation_failed"), counted)
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the answer's size counts from its own status line, as aiohttp counts it
        return None

    return expect


def _refusal(request: web.Request, response: web.Response, counted: Callable[[web.Request, int], None]) -> web.Response:
    """A refusal sent instead of ``100 Continue``: the client will not send its body, so the connection can carry
    no other request (what it sent next would be read as that body)."""
    response.force_close()
    counted(request, response.status)
    return response


def unrouted(app: web.Application, handle: ServerHandler) -> ServerHandler:
    """``handle``, with a request that sends ``Expect`` to a path or method no route takes served as if it had not
    sent it: aiohttp's answer to ``Expect`` for those is ``100 Continue``, so curl sent a whole file to be told 404.
    The request then goes through every middleware (a 403, 401 or the redirect of a path with a stray slash come
    first, as they would) and gets its 404 or 405 before its body; the connection ends after it."""

    async def handled(request: web.BaseRequest) -> web.StreamResponse:
        if hdrs.EXPECT not in request.headers or not isinstance(request, web.Request):
            return await handle(request)
        match = await app.router.resolve(request)
        if match.http_exception is None:
            return await handle(request)  # a route's own ``Expect`` handler answers it (``expect_handler``)
        headers = CIMultiDict(request.headers)
        del headers[hdrs.EXPECT]
        try:
            response = await handle(request.clone(headers=headers))
        except web.HTTPException as exc:  # a redirect, answered by aiohttp itself
            exc.force_close()
            raise
        if not response.prepared:
            response.force_close()  # the body announced is not coming: nothing else can be read on this connection
        return response

    return handled
