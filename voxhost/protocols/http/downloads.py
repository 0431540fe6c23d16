"""Answers a browser saves as a file: the ``Content-Disposition`` header, and zip archives streamed as they are
written."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

from aiohttp import web

from .parsing import begin


def attachment(name: str) -> dict[str, str]:
    """Headers that make a browser save the answer as ``name``."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


async def send_zip(request: web.Request, chunks: AsyncGenerator[bytes, None], what: str) -> web.StreamResponse:
    """Stream a zip archive as ``voxhost-<what>-<time>.zip``; nothing is sent before its first bytes exist (a failure
    up to then is an ordinary error answer), and ``chunks`` is closed whatever happens."""
    try:
        first = await anext(chunks)
        name = f"voxhost-{what}-{time.strftime('%Y%m%d-%H%M%S')}.zip"
        response = web.StreamResponse(headers={"Content-Type": "application/zip", **attachment(name)})
        if not await begin(request, response):
            return response
        await response.write(first)
        async for data in chunks:
            await response.write(data)
        await response.write_eof()
        return response
    finally:
        await chunks.aclose()
