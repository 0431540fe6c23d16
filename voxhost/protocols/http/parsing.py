"""Requests read into their models (a JSON body, a query, a multipart form; a failure is one OpenAI-shaped 400),
and answers written from theirs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from ...api import Page
from .errors import invalid_request
from .keys import SETTINGS
from .uploads import UnsupportedMediaTypeError, read_form, route_upload, timely

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def is_json(content_type: str) -> bool:
    """``application/json`` or a ``+json`` type."""
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


async def json_body(request: web.Request, model: type[M]) -> M:
    """The body as ``model``; pydantic's own JSON parser refuses deep nesting and bad UTF-8 as a 400, never a 500.

    The body must be sent as JSON: a browser page of another origin can post ``text/plain`` without asking this
    server first, but not ``application/json`` (see ``guard``).
    """
    if not is_json(request.content_type):
        raise UnsupportedMediaTypeError(
            f"send the body as application/json (got {request.content_type})", param="Content-Type"
        )
    # At most the app's client_max_size (larger bodies are a 413); a client that stops sending gets a 408.
    data = await timely(request.read(), request.app[SETTINGS].idle_timeout)
    # A byte order mark is what Windows tools write at the start of a UTF-8 file (``curl -d @body.json`` after
    # PowerShell's ``Set-Content``); JSON parsers may ignore it (RFC 8259), and Python's own does.
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return model.model_validate_json(data)
    except ValidationError as err:
        raise invalid_request(err, model) from None


def query(request: web.Request, model: type[M]) -> M:
    """The query string as ``model`` (a repeated parameter counts once: its first value)."""
    data = {key: request.query[key] for key in request.query}
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise invalid_request(err, model) from None


async def form(request: web.Request, model: type[M]) -> M:
    """A ``multipart/form-data`` body as ``model``: text fields as sent (``name[]`` fields as lists of every value),
    the route's file as bytes (at most its limit, ``UPLOADS``)."""
    upload = route_upload(request)
    assert upload is not None, "a form is read only on the routes that take a file"
    settings = request.app[SETTINGS]
    parts = await read_form(request, (upload.field,), upload.max_bytes(settings), settings.idle_timeout)
    fields, lists = dict(parts.fields), dict[str, list[str]]()
    listed = {info.alias for info in model.model_fields.values() if info.alias and info.alias.endswith("[]")}
    for name, values in parts.lists.items():
        # ``-F timestamp_granularities=word`` (as a hand-written form names it) is the list ``name[]`` too.
        if not name.endswith("[]") and f"{name}[]" in listed:
            fields.pop(name)
            name += "[]"
        if name.endswith("[]"):
            lists[name] = lists.get(name, []) + values
    try:
        return model.model_validate({**fields, **lists, **parts.files})
    except ValidationError as err:
        raise invalid_request(err, model) from None


async def begin(request: web.Request, response: web.StreamResponse) -> bool:
    """Send a streamed answer's status and headers; ``False`` when no body may follow (a ``HEAD`` request).

    aiohttp leaves a ``HEAD`` answer unchunked but would still send what a handler writes after it, and a client
    keeping the connection alive would read those bytes as the next answer's status line.
    """
    await response.prepare(request)
    if request.method != "HEAD":
        return True
    await response.write_eof()
    return False


def answer(model: BaseModel, status: int = 200) -> web.Response:
    """A JSON answer from its model."""
    return web.json_response(model.model_dump(mode="json"), status=status)


def page_answer(model: type[BaseModel], page: Page[T], offset: int, item: Callable[[T], BaseModel]) -> web.Response:
    """One page of a list as ``model``'s answer: its items, how many there are in all, and whether more follow."""
    has_more = offset + len(page.items) < page.total
    return answer(model(data=[item(entry) for entry in page.items], total=page.total, has_more=has_more))
