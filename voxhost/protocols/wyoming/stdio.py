"""Asyncio streams over stdin/stdout for ``stdio://``, whether they are pipes, sockets, terminals or plain files.

stdout is reserved for events: the real descriptor is duplicated for them and descriptor 1 is pointed at stderr,
so anything a library prints cannot corrupt the stream.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import threading
from typing import Any


def _is_streamable(fd: int) -> bool:
    """Whether asyncio's pipe transports accept this descriptor."""
    mode = os.fstat(fd).st_mode
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


class _WriteProtocol(asyncio.streams.FlowControlMixin):
    """Flow control plus the close waiter that ``StreamWriter.wait_closed`` needs."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self._closed: asyncio.Future[None] = loop.create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if not self._closed.done():
            self._closed.set_result(None)

    def _get_close_waiter(self, stream: Any) -> asyncio.Future[None]:
        return self._closed


class _FileWriter:
    """The part of ``StreamWriter`` a session uses, over a regular file (writes to files do not block long)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._closed = False

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    async def drain(self) -> None:
        if self._closed:
            raise ConnectionResetError("stdout is closed")

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._fd)

    async def wait_closed(self) -> None:
        return None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def _feed_from_file(loop: asyncio.AbstractEventLoop, reader: asyncio.StreamReader, fd: int) -> None:
    """Read a regular file on a thread into ``reader``."""

    def pump() -> None:
        while chunk := os.read(fd, 65536):
            loop.call_soon_threadsafe(reader.feed_data, chunk)
        loop.call_soon_threadsafe(reader.feed_eof)

    threading.Thread(target=pump, name="wyoming-stdin", daemon=True).start()


async def open_stdio(limit: int) -> tuple[asyncio.StreamReader, Any]:
    """A reader over stdin and a writer over (the real) stdout."""
    loop = asyncio.get_running_loop()
    for name, stream in (("input", sys.stdin), ("output", sys.stdout)):
        if stream is None:  # started with it closed (``>&-``): descriptor 0 or 1 is /dev/null or some other file
            raise OSError(f"stdio:// serves on standard input and output, and standard {name} is closed")
    sys.stdout.flush()
    events_fd = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints (libraries, engines) go to stderr

    reader = asyncio.StreamReader(limit=limit, loop=loop)
    stdin_fd = sys.stdin.fileno()
    if _is_streamable(stdin_fd):
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), sys.stdin)
    else:
        _feed_from_file(loop, reader, stdin_fd)

    if _is_streamable(events_fd):
        transport, protocol = await loop.connect_write_pipe(
            lambda: _WriteProtocol(loop), os.fdopen(events_fd, "wb", buffering=0)
        )
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)
    return reader, _FileWriter(events_fd)
