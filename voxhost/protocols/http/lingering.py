"""Answers sent before their request's body was read (an upload refused by its length or the budget, a missing key):
the answer goes out at once, with ``Connection: close``, and the rest of the body is read and dropped while the client
sends it.

Clients such as httpx (and the openai client on it) read the answer only once they have sent their whole body. The
connection's own linger drops what arrives for 2 s and then closes it; closing with unread bytes resets the
connection, which throws away the answer the client had not read yet. So the rest is read here, in bounded pieces and
never kept, while it keeps arriving: at most twice what the route takes, for at most ``_MOST_SECONDS``, each piece
within ``_STALL`` seconds. A client past those bounds has its connection closed as before.
"""

from __future__ import annotations

import asyncio

from aiohttp import StreamReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError

from .uploads import body_limit

_STALL = 2.0
"""Seconds without a byte after which the client is taken to have stopped sending (the connection's own linger)."""
_MOST_SECONDS = 30.0
"""Seconds a refused request's body is read and dropped for at most (a connection still counts while it is)."""


@web.middleware
async def lingering_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Send an error answer given before the request's body was read, then read and drop the rest of the body."""
    response = await handler(request)
    body = request.content
    if response.status < 400 or response.prepared or body.is_eof():
        return response  # served, a stream answered as it went, or a body read whole: aiohttp's own linger will do
    most = 2 * body_limit(request)
    response.force_close()  # what is left of the body may be cut: the connection carries no other request
    await response.prepare(request)
    await response.write_eof()
    if request.content_length is None or request.content_length <= most:  # else it would be cut anyway
        await _drop(body, most)
    return response


async def _drop(body: StreamReader, most: int) -> None:
    """Read and forget what the client sends, until it ends, stalls, or passes ``most`` bytes or the time bound."""
    loop = asyncio.get_running_loop()
    end = loop.time() + _MOST_SECONDS
    dropped = 0
    try:
        while dropped < most and not body.is_eof() and (left := end - loop.time()) > 0:
            dropped += len(await asyncio.wait_for(body.readany(), min(_STALL, left)))
    except (TimeoutError, RequestPayloadError, HttpProcessingError, ConnectionError):
        pass  # stalled, malformed or gone: the connection is closed after the answer, as aiohttp closes it
