"""Stored audio served as a file that players can seek in: one byte range (``Range: bytes=start-end``, a suffix
``bytes=-n``) is a 206 with ``Content-Range``, as browsers' ``<audio>`` elements and the voice lab ask for it.

aiohttp's ``FileResponse`` sends the range (and handles ``If-Range``, ``HEAD`` and conditional requests); what it
cannot serve it answers with an empty 416. So the range is judged first, with the same parser: one it cannot
satisfy is a 416 in the door's form (``Content-Range: bytes */size`` and an OpenAI-shaped body), and a range in a
unit other than bytes is ignored, as HTTP requires (the whole file, 200).
"""

from __future__ import annotations

import asyncio
import enum
from pathlib import Path

from aiohttp import hdrs, web
from aiohttp.abc import AbstractStreamWriter
from multidict import CIMultiDict

from .errors import error_response


class _Range(enum.Enum):
    WHOLE = "whole"
    """No range to honour: the whole file."""
    PART = "part"
    """A range within the file."""
    IGNORED = "ignored"
    """A range in a unit this server does not know: HTTP says to answer as if none was asked."""
    UNSATISFIABLE = "unsatisfiable"


def _judge(request: web.BaseRequest, size: int, modified: float) -> _Range:
    header = request.headers.get(hdrs.RANGE)
    if header is None:
        return _Range.WHOLE
    if_range = request.if_range
    if if_range is not None and modified > if_range.timestamp():
        return _Range.WHOLE  # changed since the client's copy: the whole new file, not a piece of it
    unit = header.partition("=")[0].strip().lower()
    if unit != "bytes":
        return _Range.IGNORED
    try:
        asked = request.http_range  # one range; several (or a malformed one) raise, as FileResponse would
    except ValueError:
        return _Range.UNSATISFIABLE
    suffix = header.partition("=")[2].strip().startswith("-")
    if asked.start is None or asked.start >= size or (suffix and asked.start == 0):
        return _Range.UNSATISFIABLE  # past the end, or the last 0 bytes
    return _Range.PART


async def file_answer(request: web.Request, path: Path, headers: dict[str, str]) -> web.StreamResponse:
    """``path`` (a file that no longer changes) with ``headers``, or the byte range of it the request asks for."""
    try:
        stat = await asyncio.to_thread(path.stat)
    except OSError:
        stat = None  # gone meanwhile: FileResponse answers it (404)
    judged = _judge(request, stat.st_size, stat.st_mtime) if stat is not None else _Range.WHOLE
    if judged is _Range.UNSATISFIABLE:
        assert stat is not None
        message = (
            f"cannot serve the range {request.headers[hdrs.RANGE]!r} of this file of {stat.st_size} bytes: one range "
            "within it is served (bytes=start-end, bytes=start- or bytes=-length)"
        )
        extra = {"Content-Range": f"bytes */{stat.st_size}", "Accept-Ranges": "bytes"}
        return error_response(416, message, param="Range", code="range_not_satisfiable", headers=extra)
    return (_WholeFile if judged is _Range.IGNORED else web.FileResponse)(path, headers=headers)


class _WholeFile(web.FileResponse):
    """The whole file whatever the ``Range`` header says (FileResponse would refuse a unit it does not know)."""

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        """Prepared for the same request without its ``Range`` header (and its state: CORS, security headers)."""
        without = CIMultiDict(request.headers)
        without.popall(hdrs.RANGE, None)
        return await super().prepare(request.clone(headers=without))
