"""The API key: which routes need it (one rule, for the check and the OpenAPI document) and the check."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from .errors import AuthenticationError
from .settings import HttpSettings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ALWAYS_OPEN = frozenset({"health", "openapi", "docs", "lab", "static"})
"""Routes that never need the API key (the lab page holds no secrets; it asks for the key to use the API)."""
QUERY_KEY = frozenset({"events"})
"""Routes that also take the key as ``?api_key=`` (a browser's EventSource cannot send headers)."""
DISCOVERY = frozenset({"models", "model", "audio_models", "voices"})
"""Routes left open when ``open_discovery`` is set (Open WebUI sends no key for them)."""


def needs_key(settings: HttpSettings, route: str | None) -> bool:
    """Whether a route (by name) needs the API key under these settings."""
    if not settings.api_key or route in ALWAYS_OPEN:
        return False
    if settings.open_discovery and route in DISCOVERY:
        return False
    return not (settings.open_metrics and route == "metrics")


def bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; the scheme is case-insensitive (RFC 9110 §11.1)."""
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def key_check(settings: HttpSettings) -> Callable[[web.Request], None]:
    """Refuse (401) a request without the key where its route needs one."""
    expected = (settings.api_key or "").encode()

    def check(request: web.Request) -> None:
        route = request.match_info.route
        name = route.name if route is not None else None
        if not needs_key(settings, name):
            return
        header = request.headers.get("Authorization", "")
        token = bearer_token(header)
        if not header and name in QUERY_KEY and "api_key" in request.query:
            header, token = "query", request.query["api_key"]
        if token is None or not hmac.compare_digest(token.encode(), expected):
            raise AuthenticationError(
                "missing or wrong API key: send it as 'Authorization: Bearer <key>'"
                if header
                else "this server needs an API key: send 'Authorization: Bearer <key>'"
            )

    return check
