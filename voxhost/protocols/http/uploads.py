"""Multipart uploads with limits: fields and files read as a stream, refused (413) once they pass the limit; and
the budget of uploads in progress, past which one is refused (503) before its body is read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler, Middleware

from ...budget import AudioBudget
from ...errors import BusyError, InvalidRequestError, TooLargeError
from .keys import SETTINGS
from .settings import HttpSettings

MAX_FIELD_BYTES = 64 * 1024
"""Longest text field (names, transcripts)."""
_SLACK = 256 * 1024
"""Room for the text fields and multipart framing beside the file."""

_MIB = 1024 * 1024

MAX_JSON_BYTES = 1024 * 1024
"""Largest JSON body (the application's ``client_max_size``); uploads are streamed and limited per route."""


@dataclass(frozen=True)
class Upload:
    """What a route that takes a file takes: the file's field, and the setting that limits its size."""

    field: str
    max_mb: Callable[[HttpSettings], float]

    def max_bytes(self, settings: HttpSettings) -> int:
        """The largest file, in bytes."""
        return int(self.max_mb(settings) * _MIB)


UPLOADS: dict[str, Upload] = {
    "transcriptions": Upload("file", lambda s: s.max_transcription_mb),
    "translations": Upload("file", lambda s: s.max_transcription_mb),
    "conversions": Upload("audio", lambda s: s.max_upload_mb),
    "create_voice": Upload("audio_sample", lambda s: s.max_upload_mb),
    "replace_voice_audio": Upload("audio_sample", lambda s: s.max_upload_mb),
    "import_voices": Upload("archive", lambda s: s.max_import_mb),
}
"""The routes whose requests carry a file, held in memory until they are answered, by route name."""


def route_upload(request: web.Request) -> Upload | None:
    """What the request's route takes, if it takes a file."""
    route = request.match_info.route
    return UPLOADS.get(route.name or "") if route is not None else None


def body_limit(request: web.Request) -> int:
    """The most bytes of body the request's route reads: its file and the room beside it, or a JSON body's."""
    upload = route_upload(request)
    return MAX_JSON_BYTES if upload is None else upload.max_bytes(request.app[SETTINGS]) + _SLACK


T = TypeVar("T")


class UnsupportedMediaTypeError(InvalidRequestError):
    """A body sent as something else than the route takes."""

    code = "unsupported_media_type"
    http_status = 415


class RequestTimeoutError(InvalidRequestError):
    """The client stopped sending its request body."""

    code = "request_timeout"
    http_status = 408


@dataclass
class Held:
    """What one upload request holds of the budget: its ``Content-Length`` as it starts, more if more is read (a
    chunked body, or one whose ``Content-Encoding`` inflates it)."""

    budget: AudioBudget
    weight: int
    """Bytes counted for this request."""
    read: int = 0
    """Bytes of its body read so far."""

    def reading(self, size: int) -> None:
        """``size`` more bytes were read; past the weight counted they are counted too, or the request is refused."""
        self.read += size
        if self.read <= self.weight:
            return
        if not self.budget.grow(self.read - self.weight):
            raise _busy(self.budget)
        self.weight = self.read


HELD: web.RequestKey[Held] = web.RequestKey("held")
"""The budget an upload request holds while it is served."""


def admit(request: web.Request, budget: AudioBudget, hold: bool = True) -> Held | None:
    """Check an upload request before its body is read: a ``Content-Length`` past its route's own limit is a 413,
    whatever the budget holds (no retry would serve it), and one the budget has no room for is a 503 ``busy``.
    ``hold``: count it in, and return what it holds (None: its route takes no file); else only ask (a client that
    sent ``Expect: 100-continue`` and waits to send its body)."""
    upload = route_upload(request)
    if upload is None:
        return None
    if request.content_length is not None and request.content_length > body_limit(request):
        raise TooLargeError(_too_large(upload.max_bytes(request.app[SETTINGS])), param=upload.field)
    held = Held(budget, request.content_length or 0)
    if not budget.take(held.weight, hold):
        raise _busy(budget)
    return held if hold else None


def budget_middleware(budget: AudioBudget) -> Middleware:
    """Serve an upload request only while the budget has room for it (``admit``); else answer before its body is
    read. (``lingering`` sends the answer and drops the rest of the body.)"""

    @web.middleware
    async def bound(request: web.Request, handler: Handler) -> web.StreamResponse:
        held = admit(request, budget)
        if held is None:
            return await handler(request)
        request[HELD] = held
        try:
            return await handler(request)
        finally:
            budget.give_back(held.weight)  # the form's bytes are dropped with the request's answer

    return bound


def _busy(budget: AudioBudget) -> BusyError:
    return BusyError(budget.refusal("max_upload_requests, max_uploads_mb"))


@dataclass
class Form:
    """A parsed multipart form."""

    fields: dict[str, str] = field(default_factory=dict)
    """Each text field's last value."""
    lists: dict[str, list[str]] = field(default_factory=dict)
    """Every value of each text field, in order (``name[]`` fields repeat, one part per value)."""
    files: dict[str, bytes] = field(default_factory=dict)


async def timely(read: Awaitable[T], timeout: float | None) -> T:
    """One read of a request body; a client that sends nothing for ``timeout`` seconds gets a 408."""
    try:
        return await asyncio.wait_for(read, timeout)
    except TimeoutError:
        raise RequestTimeoutError(f"the request body stopped arriving (nothing for {timeout:g} s)") from None


async def read_form(
    request: web.Request, file_fields: tuple[str, ...], max_bytes: int, stall_timeout: float | None = None
) -> Form:
    """Read a ``multipart/form-data`` body; files at most ``max_bytes`` each, text fields at most 64 KiB.

    The whole body is limited too, counted on the bytes read (a chunked body has no length to check first): at most
    ``max_bytes`` plus room for the text fields and the framing, however many parts it has, named or not. The bytes
    read count against the request's share of the upload budget (``HELD``), when it has one.
    """
    if request.content_type != "multipart/form-data":
        raise UnsupportedMediaTypeError(
            f"send the request as multipart/form-data (got {request.content_type})", param="Content-Type"
        )
    total = max_bytes + _SLACK  # a Content-Length past it was refused before the body was read (budget_middleware)
    form = Form()
    body = request.content
    held = request.get(HELD)
    try:
        reader = await timely(request.multipart(), stall_timeout)
        while (part := await timely(reader.next(), stall_timeout)) is not None:
            if not isinstance(part, BodyPartReader):
                raise InvalidRequestError("malformed multipart body: nested multipart parts are not accepted")
            if not part.name:
                # Read (and dropped) here rather than by aiohttp's release, so that it counts against the limit.
                await _read_part(part, None, max_bytes, lambda: body.total_bytes > total, stall_timeout, held)
                continue
            if part.name in form.files:  # two files for one field: which one was meant cannot be told
                raise InvalidRequestError(f"{part.name} is sent more than once; send one file", param=part.name)
            if part.name in file_fields or part.filename:
                limit = max_bytes
            else:
                limit = MAX_FIELD_BYTES
            data = await _read_part(part, limit, max_bytes, lambda: body.total_bytes > total, stall_timeout, held)
            if part.name in file_fields:
                form.files[part.name] = data
            else:
                try:
                    form.fields[part.name] = data.decode(part.get_charset("utf-8"))
                    form.lists.setdefault(part.name, []).append(form.fields[part.name])
                except (UnicodeDecodeError, LookupError):
                    raise InvalidRequestError(
                        _not_text(part.name, part.filename, file_fields), param=part.name
                    ) from None
    except (ValueError, AssertionError, HttpProcessingError) as err:  # malformed framing or part headers
        message = err.message if isinstance(err, HttpProcessingError) else str(err)
        raise InvalidRequestError(f"malformed multipart body: {message}") from None
    return form


async def _read_part(
    part: BodyPartReader,
    limit: int | None,
    max_bytes: int,
    over_total: Callable[[], bool],
    stall_timeout: float | None,
    held: Held | None,
) -> bytes:
    """A part's bytes (``limit=None``: read and dropped), refused as soon as it or the whole body is too large, or
    the upload budget has no room for them."""
    chunks, size = [], 0
    while chunk := await timely(part.read_chunk(64 * 1024), stall_timeout):
        size += len(chunk)
        if held is not None:
            held.reading(len(chunk))
        if over_total():
            raise TooLargeError(_too_large(max_bytes), param=part.name)
        if limit is None:
            continue
        if size > limit:
            if limit == max_bytes:
                raise TooLargeError(_too_large(max_bytes), param=part.name)
            raise InvalidRequestError(f"field {part.name} is too long", param=part.name)
        chunks.append(chunk)
    return b"".join(chunks)


def _not_text(name: str, filename: str | None, file_fields: tuple[str, ...]) -> str:
    """Why a text field was refused; a file sent under another name than the route's says where it belongs."""
    if filename and file_fields:
        where = " or ".join(repr(f) for f in file_fields)
        return f"field {name} is a file, but this request takes its file as {where}"
    return f"field {name} is not valid text"


def _too_large(max_bytes: int) -> str:
    return f"the upload is larger than {max_bytes / 1024 / 1024:g} MiB"
