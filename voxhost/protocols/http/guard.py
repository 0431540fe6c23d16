"""Cross-site protection: which ``Host`` the API answers and which browser origins may change anything.

Without an API key anyone who can reach the port may use the API, so the port itself is the protection: a web page
the user visits must not be able to use it through the user's browser. Two browser tricks are closed here:

* **Cross-site requests.** A page of another origin may send a ``POST`` without asking first (a form upload, a
  ``text/plain`` body, an empty body). Browsers name the page's origin in ``Origin``: a request that changes
  something is refused unless that origin is this server's own or one of ``cors_origins``. Clients that are not
  browsers send no ``Origin`` and are not affected. JSON bodies must also be sent as JSON (``parsing.json_body``),
  which a page of another origin cannot do without the browser asking this server first.
* **DNS rebinding.** A page may point its own host name at 127.0.0.1 and then read the API as if it were its
  own; its requests still carry its host name in ``Host``. Without an API key only localhost names, IP addresses,
  this machine's own name and ``allowed_hosts`` are answered.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp import web

from ...errors import VoxhostError
from .settings import HttpSettings, normalize_origin

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing (the API keeps it so)."""


class ForbiddenError(VoxhostError):
    """A request from a browser page of another origin, or for a host name this server does not answer."""

    code = "forbidden"
    http_status = 403


def _hostname(host: str) -> str:
    """The name in a ``Host`` header, without its port (``[::1]:8000`` → ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Guard:
    """The host and origin rules of one door's settings."""

    def __init__(self, settings: HttpSettings) -> None:
        self.settings = settings
        self.any_host = "*" in settings.allowed_hosts or bool(settings.api_key)
        own = socket.gethostname().lower()
        names = {own, f"{own}.local", own.partition(".")[0], "localhost"}
        if settings.host not in ("", "0.0.0.0", "::"):
            names.add(settings.host.lower())
        self.hosts = names | {h.lower() for h in settings.allowed_hosts if not h.startswith(".")}
        self.host_suffixes = (".localhost", *(h.lower() for h in settings.allowed_hosts if h.startswith(".")))
        self.any_origin = "*" in settings.cors_origins
        self.origins = set(settings.cors_origins)  # normalized as browsers send them (``normalize_origin``)

    def host_allowed(self, host: str | None) -> bool:
        """Whether a ``Host`` header names this server as a rebinding page could not."""
        if self.any_host or not host:
            return True
        name = _hostname(host)
        # A page cannot make the browser send an IP address as Host for its own origin: those are always safe.
        return _is_ip(name) or name in self.hosts or name.endswith(self.host_suffixes)

    def origin_allowed(self, origin: str, host: str | None) -> bool:
        """Whether a browser page of ``origin`` may change things here: this server's own pages, or ``cors_origins``."""
        if self.any_origin or normalize_origin(origin) in self.origins:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and bool(host) and parts.netloc.lower() == (host or "").lower()

    def check(self, request: web.Request) -> None:
        """Refuse (403) a foreign ``Host`` without an API key, and a state-changing request from a foreign origin."""
        host = request.headers.get("Host")
        if not self.host_allowed(host):
            raise ForbiddenError(
                f"this server does not answer for host {_hostname(host or '')!r}; add it to [doors.http] "
                "allowed_hosts (or set an api_key)",
                param="Host",
            )
        origin = request.headers.get("Origin")
        if request.method not in SAFE_METHODS and origin is not None and not self.origin_allowed(origin, host):
            raise ForbiddenError(
                f"requests from pages of {origin!r} may not change anything here; add the origin to [doors.http] "
                "cors_origins to allow it",
                param="Origin",
            )
