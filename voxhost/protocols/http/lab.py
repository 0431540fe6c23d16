"""The voice lab: one page (``GET /``) and its files (``GET /static/{name}``), shipped in ``voxhost/static``.

Plain HTML, CSS and JavaScript with no build step and nothing fetched from elsewhere. The page itself holds no
secrets, so it is served without the API key; everything it does goes through the public API with the key the
user gives it.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
INDEX = "index.html"


def security_headers(policy: str) -> dict[str, str]:
    """The security headers of an answer: ``policy``, what it may load as a page (each HTML page and its files have
    their own; every other answer gets ``ANSWER_HEADERS``)."""
    # Whatever a page loads, it is never framed (clickjacking), never takes plugins or another base URL, its files
    # are never read as another type, and the address (a key in ?api_key=) never leaves in a Referer.
    return {
        "Content-Security-Policy": f"{policy}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


# The page talks to this server only; blob: is the synthesized audio it plays and offers for download.
SECURITY_HEADERS = security_headers(
    "default-src 'self'; media-src 'self' blob:; img-src 'self' data: blob:; connect-src 'self'; "
    "style-src 'self'; script-src 'self'"
)

ANSWER_HEADERS = security_headers("default-src 'none'")
"""Every answer that does not set its own (JSON, audio, events, errors, aiohttp's own): opened as a page, it may
load and run nothing and is never framed."""


@dataclass(frozen=True)
class StaticFile:
    """A file of the page, read once."""

    body: bytes
    content_type: str
    etag: str


class StaticFiles:
    """The files of ``voxhost/static`` (only those with a known type; no paths, so nothing outside it)."""

    def __init__(self) -> None:
        self._files: dict[str, StaticFile] | None = None
        self._lock = asyncio.Lock()

    @staticmethod
    def _read() -> dict[str, StaticFile]:
        out = {}
        for entry in resources.files("voxhost").joinpath("static").iterdir():
            suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
            if entry.is_file() and suffix in CONTENT_TYPES:
                body = entry.read_bytes()
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                out[entry.name] = StaticFile(body, CONTENT_TYPES[suffix], etag)
        return out

    async def _all(self) -> dict[str, StaticFile]:
        if self._files is None:
            async with self._lock:
                if self._files is None:
                    self._files = await asyncio.to_thread(self._read)
        return self._files

    async def get(self, name: str) -> StaticFile:
        """One file by name; 404 when there is none."""
        found = (await self._all()).get(name)
        if found is None:
            raise web.HTTPNotFound()
        return found

    async def names(self) -> list[str]:
        """The files there are."""
        return sorted(await self._all())


STATIC: web.AppKey[StaticFiles] = web.AppKey("static_files", StaticFiles)


def _serve(request: web.Request, item: StaticFile) -> web.Response:
    headers = {"ETag": item.etag, "Cache-Control": "no-cache", **SECURITY_HEADERS}  # no-cache: revalidate by ETag
    if request.headers.get("If-None-Match") == item.etag:
        return web.Response(status=304, headers=headers)
    response = web.Response(body=item.body, headers=headers)
    response.headers["Content-Type"] = item.content_type
    response.enable_compression()
    return response


async def page(request: web.Request) -> web.Response:
    """``GET /``: the voice lab."""
    return _serve(request, await request.app[STATIC].get(INDEX))


async def static_file(request: web.Request) -> web.Response:
    """``GET /static/{name}``: the page's scripts and styles."""
    return _serve(request, await request.app[STATIC].get(request.match_info["name"]))
