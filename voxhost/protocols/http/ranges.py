"""Stored audio served as a file that players can seek in: one byte range (``Range: bytes=start-end``, a suffix
``bytes=-n``) is a 206 with ``Content-Range``, as browsers' ``<audio>`` elements and the voice lab ask for it.

aiohttp's ``FileResponse`` sends the range (and handles ``HEAD`` and conditional requests: its strong ``ETag``,
``If-None-Match`` is a 304); what it cannot serve it answers with an empty 416. So the range is judged first, with the
same parser: one it cannot satisfy is a 416 in the door's form (``Content-Range: bytes */size`` and an OpenAI-shaped
body), and a range in a unit other than bytes is ignored, as HTTP requires (the whole file, 200). So is a range whose
``If-Range`` names another version of the file, by date or by ETag (``FileResponse`` understands dates only, and
served any ETag's range).
"""

from __future__ import annotations

import asyncio
import enum
import os
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
    """A range in a unit this server does not know, or of another version of the file (``If-Range``): HTTP says to
    answer as if none was asked."""
    UNSATISFIABLE = "unsatisfiable"


def _etag(stat: os.stat_result) -> str:
    """The file's strong entity tag, quoted, as ``FileResponse`` makes it (stored files never change in place)."""
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def _other_version(request: web.BaseRequest, stat: os.stat_result) -> bool:
    """Whether ``If-Range`` names another version of the file than this one (then its range is not what is wanted)."""
    validator = request.headers.get(hdrs.IF_RANGE, "").strip()
    if not validator:
        return False
    if validator.startswith(('"', "W/")):  # an ETag: only the file's own strong one matches (weak ones never do)
        return validator != _etag(stat)
    date = request.if_range
    return date is None or stat.st_mtime > date.timestamp()  # a date it cannot read matches nothing


def _judge(request: web.BaseRequest, stat: os.stat_result) -> _Range:
    header = request.headers.get(hdrs.RANGE)
    if header is None:
        return _Range.WHOLE
    if _other_version(request, stat):
        return _Range.IGNORED  # changed since the client's copy: the whole file, not a piece of it
    size = stat.st_size
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
    judged = _judge(request, stat) if stat is not None else _Range.WHOLE
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
    """The whole file whatever the ``Range`` header says (FileResponse would refuse a unit it does not know, and
    serve the range of an ``If-Range`` ETag it cannot compare)."""

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        """Prepared for the same request without its ``Range`` header (and its state: CORS, security headers)."""
        without = CIMultiDict(request.headers)
        without.popall(hdrs.RANGE, None)
        return await super().prepare(request.clone(headers=without))
