"""Multipart uploads with limits: fields and files read as a stream, refused (413) once they pass the limit."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from ...errors import InvalidRequestError, TooLargeError

MAX_FIELD_BYTES = 64 * 1024
"""Longest text field (names, transcripts)."""
_SLACK = 256 * 1024
"""Room for the text fields and multipart framing beside the file."""


@dataclass
class Form:
    """A parsed multipart form."""

    fields: dict[str, str] = field(default_factory=dict)
    """Each text field's last value."""
    lists: dict[str, list[str]] = field(default_factory=dict)
    """Every value of each text field, in order (``name[]`` fields repeat, one part per value)."""
    files: dict[str, bytes] = field(default_factory=dict)


async def read_form(request: web.Request, file_fields: tuple[str, ...], max_bytes: int) -> Form:
    """Read a ``multipart/form-data`` body; files at most ``max_bytes`` each, text fields at most 64 KiB."""
    if not request.content_type.startswith("multipart/"):
        raise InvalidRequestError("send the request as multipart/form-data")
    if request.content_length is not None and request.content_length > max_bytes + _SLACK:
        raise TooLargeError(_too_large(max_bytes), param=file_fields[0] if file_fields else None)
    form = Form()
    try:
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or not part.name:
                continue
            if part.name in file_fields or part.filename:
                limit = max_bytes
            else:
                limit = MAX_FIELD_BYTES
            data = await _read_part(part, limit, max_bytes)
            if part.name in file_fields:
                form.files[part.name] = data
            else:
                try:
                    form.fields[part.name] = data.decode(part.get_charset("utf-8"))
                    form.lists.setdefault(part.name, []).append(form.fields[part.name])
                except (UnicodeDecodeError, LookupError):
                    raise InvalidRequestError(f"field {part.name} is not valid text", param=part.name) from None
    except (ValueError, AssertionError, HttpProcessingError) as err:  # malformed framing or part headers
        message = err.message if isinstance(err, HttpProcessingError) else str(err)
        raise InvalidRequestError(f"malformed multipart body: {message}") from None
    return form


async def _read_part(part: BodyPartReader, limit: int, max_bytes: int) -> bytes:
    chunks, size = [], 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            if limit == max_bytes:
                raise TooLargeError(_too_large(max_bytes), param=part.name)
            raise InvalidRequestError(f"field {part.name} is too long", param=part.name)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> str:
    return f"the upload is larger than {max_bytes / 1024 / 1024:g} MiB"
