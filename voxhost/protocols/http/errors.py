"""OpenAI-shaped errors: ``{"error": {"message", "type", "param", "code"}}`` with the matching HTTP status.

Every error of the door goes through here: voxhost's typed errors, aiohttp's own (unknown route, wrong method) and
anything unexpected (a 500 that is logged). Busy answers carry ``Retry-After``, which the openai client honours.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ...errors import (
    BusyError,
    InvalidRequestError,
    StorageError,
    StorageFullError,
    StorageReadOnlyError,
    TextTooLongError,
    UnsupportedError,
    VoxhostError,
)
from ...operations import out_of_range

_LOGGER = logging.getLogger(__name__)


class AuthenticationError(VoxhostError):
    """A missing or wrong API key."""

    code = "invalid_api_key"
    http_status = 401


class ReadOnlyJobError(VoxhostError):
    """A job of another door (Wyoming, MQTT, ...): this door can read it, not cancel or remove it."""

    code = "read_only"
    http_status = 403


class ShuttingDownError(BusyError):
    """A request that arrives while the door drains for shutdown."""

    code = "shutting_down"


class BadValueError(InvalidRequestError):
    """A value in the request body names something that does not exist (a voice, a model): 400, not 404.

    The code of the underlying error is kept, so clients can still tell ``voice_not_found`` apart.
    """

    def __init__(self, err: VoxhostError, code: str | None = None) -> None:
        super().__init__(err.message, param=err.param)
        self.code = code or err.code


def invalid_request(err: ValidationError, model: type[BaseModel] | None = None) -> InvalidRequestError:
    """A request model's validation failure as one 400: every problem in the message, the first one's field as
    ``param``. Too long an ``input`` keeps its own code (``text_too_long``)."""
    problems = err.errors(include_url=False)
    first = problems[0] if problems else None
    message = "; ".join(_problem(problem, model) for problem in problems) or "invalid request"
    param = _field(first["loc"]) if first and first["loc"] else None
    if first and first["type"] == "string_too_long" and param == "input":
        return TextTooLongError(message, param=param)
    return InvalidRequestError(message, param=param)


def _field(loc: tuple[int | str, ...]) -> str:
    """A field's place as the client wrote it: ``timestamp_granularities[]``, not ``timestamp_granularities[].0``."""
    parts = [
        str(part)
        for index, part in enumerate(loc)
        if not (isinstance(part, int) and index and str(loc[index - 1]).endswith("[]"))
    ]
    return ".".join(parts)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _problem(problem: ErrorDetails, model: type[BaseModel] | None) -> str:
    """One problem in words that name the field."""
    loc = problem["loc"]
    kind = problem["type"]
    ctx = problem.get("ctx") or {}
    value = problem.get("input")
    field = _field(loc)
    if kind == "json_invalid":
        return f"the request body is not valid JSON: {ctx.get('error', problem['msg'])}"
    if not loc and kind in ("model_type", "dict_type"):
        return "the request body must be a JSON object"
    if kind == "missing":
        return f"{field} is required"
    # ``too_long``/``too_short``: the same limits on a field with its own validator, which pydantic counts in "items".
    if kind in ("string_too_long", "too_long") and isinstance(value, str | bytes):
        return f"{field} is {len(value)} characters long; the maximum is {ctx['max_length']}"
    if kind in ("string_too_short", "bytes_too_short", "too_short") and ctx.get("min_length") == 1:
        return f"{field} is empty"
    if bounded := out_of_range(problem, model, field):  # the same words as every door
        return bounded
    if kind in ("enum", "literal_error"):
        return f"invalid {field} {_show(value)}; use one of: {ctx.get('expected', '')}"
    if kind == "string_pattern_mismatch":
        return f"invalid {field} {_show(value)}: it must match {ctx.get('pattern')}"
    if kind == "value_error":
        return str(problem["msg"]).removeprefix("Value error, ")
    return f"{field}: {problem['msg']}" if field else str(problem["msg"])


def error_type(status: int) -> str:
    """OpenAI's error ``type`` for a status."""
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def error_body(status: int, message: str, *, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """The JSON body, with all four keys present."""
    return {"error": {"message": message, "type": error_type(status), "param": param, "code": code}}


def error_response(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An error answer in OpenAI's shape."""
    return web.json_response(error_body(status, message, param=param, code=code), status=status, headers=headers)


_LASTING = (UnsupportedError, StorageFullError, StorageReadOnlyError, StorageError)
"""Server errors that stay until someone changes the server: no engine for it, a full or read-only disk."""


def from_error(err: VoxhostError) -> web.Response:
    """The answer to one of voxhost's typed errors."""
    headers = {}
    if isinstance(err, _LASTING):
        # The openai client retries every 5xx (twice, sending an upload again each time) unless told not to.
        headers["X-Should-Retry"] = "false"
    elif isinstance(err, BusyError):
        headers["Retry-After"] = str(max(1, math.ceil(err.retry_after)))
    elif err.http_status == 503:  # a model loading or missing: a retry later may work
        headers["Retry-After"] = "5"
    elif isinstance(err, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="voxhost"'
    status = err.http_status if 400 <= err.http_status <= 599 else 500
    return error_response(status, err.message, param=err.param, code=err.code, headers=headers)


def from_http_exception(exc: web.HTTPException) -> web.Response:
    """aiohttp's own errors (no such route, wrong method) in OpenAI's shape."""
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
    message = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    if exc.status == 404:
        message = "no such route; see /openapi.json for the API"
    elif isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = sorted(exc.allowed_methods - {"HEAD"}) or sorted(exc.allowed_methods)  # HEAD goes with GET
        message = f"{exc.method} is not allowed here; use {' or '.join(allowed)}"
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    return error_response(exc.status, message, code=codes.get(exc.status), headers=headers)


class ClientFaults(logging.Filter):
    """aiohttp's own record of a request it could not parse (a header it refuses, a body encoding it lacks): one
    warning line naming the client's mistake, not an error with a traceback, which a hostile client could repeat."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Downgrade a client's 4xx fault; leave every other record as it is."""
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500:
            record.msg, record.args = f"{record.getMessage()}: {exc.message}", ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


SERVER_LOGGER = logging.getLogger("voxhost.protocols.http.server")
"""The logger aiohttp's connection handlers write to."""
SERVER_LOGGER.addFilter(ClientFaults())


def answer_error(request: web.Request, err: VoxhostError) -> web.Response:
    """The answer to a request that failed with one of voxhost's errors; the server's side (5xx) is logged."""
    if err.http_status >= 500:
        _LOGGER.warning("%s %s failed: %s", request.method, request.path, err.message)
    return from_error(err)


@web.middleware
async def error_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn every failure of a handler into an OpenAI-shaped answer."""
    try:
        return await handler(request)
    except VoxhostError as err:
        return answer_error(request, err)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return from_http_exception(exc)
    except RequestPayloadError as err:  # a body that does not decode as its Content-Encoding says
        reason = getattr(err.__cause__, "message", None) or str(err)
        # Nothing more is read from a broken body: aiohttp would drain it after the answer, meet the same error and
        # log it as unhandled. The connection cannot carry another request after it.
        request.content.feed_eof()
        response = error_response(400, f"the request body could not be read: {reason}", code="bad_body")
        response.force_close()
        return response
    except Exception:
        _LOGGER.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal error; see the voxhost log", code="internal_error")
