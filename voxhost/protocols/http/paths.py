"""Careless paths sent on to the route meant: ``/v1//audio/speech`` (a base URL ending in "/" joined with
"/audio/speech", as Open WebUI joins it) and ``/v1/models/`` get a 308 to ``/v1/audio/speech`` and ``/v1/models``,
which clients follow with the same method and body.

aiohttp's ``normalize_path_middleware`` with ``remove_slash`` and ``merge_slashes`` also tries the path with its last
character cut off, slash or not: ``/v1/modelsX`` was a 308 to ``/v1/models``, ``/v1/jobs/<id>x`` to the job whose id
is one character shorter. Only doubled slashes and one trailing slash are taken away here.
"""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.web_urldispatcher import SystemRoute

from .auth import Handler


def meant_path(path: str) -> str:
    """``path`` without doubled slashes and without a trailing slash (the root stays ``/``)."""
    merged = re.sub("//+", "/", path)  # a leading "//" too: "//host/x" must never become a redirect elsewhere
    return merged[:-1] if len(merged) > 1 and merged.endswith("/") else merged


@web.middleware
async def normalize_path(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A path no route takes as written, that one does without its doubled or trailing slashes: a 308 there."""
    if isinstance(request.match_info.route, SystemRoute):  # no route, or not this method: a 404 or a 405
        path, mark, query = request.raw_path.partition("?")
        meant = meant_path(path)
        if meant != path:
            match = await request.app.router.resolve(request.clone(rel_url=meant))
            if match.http_exception is None:
                raise web.HTTPPermanentRedirect(meant + mark + query)
    return await handler(request)
