"""The Wyoming door: listeners, sessions and zeroconf, opened and closed with the daemon.

Listens on every address in ``[doors.wyoming] uri`` (``tcp://host:port``, ``unix:///path``, ``stdio://``), answers
``describe`` from the catalog as it is at that moment, turns ``synthesize`` requests (one-shot and streaming)
into core jobs and ``transcribe`` requests into transcriptions; see ``session`` for the exchanges. Each connection
is read by its own task and its replies by others, so ``describe`` is answered at once however busy the engines
are.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
from pathlib import Path
from typing import Any

from wyoming.error import Error
from wyoming.event import Event

from ...api import CoreAPI
from ...door import Door, DoorSettings, Endpoint, host_port, peer_address
from .info import build_info
from .session import LINGER, Session
from .settings import WyomingSettings, parse_uri
from .stdio import open_stdio
from .wire import MAX_HEADER_BYTES, encode_event
from .zeroconf import Advertiser, advertised_address, default_name

_LOGGER = logging.getLogger(__name__)


class WyomingDoor(Door):
    """Serve Wyoming on TCP, Unix sockets and stdio."""

    name = "wyoming"
    Settings = WyomingSettings

    def __init__(self, core: CoreAPI, settings: DoorSettings) -> None:
        super().__init__(core, settings)
        assert isinstance(settings, WyomingSettings)
        self.settings: WyomingSettings = settings
        self._servers: list[asyncio.base_events.Server] = []
        self._listening: list[str] = []
        self._sessions: set[Session] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._advertiser: Advertiser | None = None
        self._advertised: list[str] = []
        self._draining = False

    @classmethod
    def endpoints(cls, settings: DoorSettings) -> list[Endpoint]:
        """Each ``tcp://`` address must be free to bind."""
        assert isinstance(settings, WyomingSettings)
        out = []
        for uri in settings.uri:
            scheme, host, port = parse_uri(uri)
            if scheme == "tcp":
                out.append(Endpoint("listen", host, port))
        return out

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind every address; zeroconf announcements follow in the background."""
        targets = [parse_uri(uri) for uri in self.settings.uri]  # the settings checked them: parsed, not refused
        tcp: list[tuple[str, int]] = []
        for scheme, where, port in targets:
            if scheme == "tcp":
                server = await asyncio.start_server(self._accept, where, port, limit=MAX_HEADER_BYTES)
                self._servers.append(server)
                for index, sock in enumerate(server.sockets):
                    host, bound_port = sock.getsockname()[:2]
                    self._listening.append(f"tcp://{host_port(host, bound_port)}")
                    if index == 0:  # a host name may bind several sockets: advertise one
                        tcp.append((host if where not in ("", "0.0.0.0", "::") else where, bound_port))
            elif scheme == "unix":
                path = Path(where)
                await asyncio.to_thread(_claim_socket, path)
                server = await asyncio.start_unix_server(self._accept, str(path), limit=MAX_HEADER_BYTES)
                self._servers.append(server)
                self._listening.append(f"unix://{path}")
            else:
                await self._start_stdio()
                self._listening.append("stdio://")
        if self.settings.zeroconf and tcp:
            self._spawn(self._advertise(tcp))

    async def drain(self, deadline: float) -> None:
        """Stop listening and close idle connections; let requests in progress finish until ``deadline``."""
        self._draining = True
        await self._stop_listening()
        loop = asyncio.get_running_loop()
        while True:
            for session in list(self._sessions):
                if not session.busy:
                    session.abort("the server is stopping")  # idle: no new request may start now
            if all(session.closed for session in self._sessions) or loop.time() >= deadline:
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Close every connection (cancelling what they still do) and stop listening."""
        await self._stop_listening()
        for session in list(self._sessions):
            session.abort("the server is stopping")
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        for scheme, where, _ in (parse_uri(uri) for uri in self.settings.uri):
            if scheme == "unix":
                await asyncio.to_thread(_clear_socket, Path(where))
        self._servers.clear()

    async def _stop_listening(self) -> None:
        """Close the listening sockets (their connections stay) and withdraw the zeroconf advertisement."""
        for server in self._servers:
            server.close()
        if self._advertiser is not None:
            try:
                await self._advertiser.close()
            except Exception as err:
                _LOGGER.debug("Zeroconf did not close cleanly: %s", err)
            self._advertiser = None

    def status(self) -> dict[str, Any]:
        """Addresses, open connections and zeroconf names."""
        return {
            "listening": list(self._listening),
            "connections": len(self._sessions),
            "zeroconf": list(self._advertised) if self.settings.zeroconf else False,
        }

    # -- connections ----------------------------------------------------------------------------

    def info_event(self) -> Event:
        """The ``info`` event, built from the catalog now."""
        s = self.settings
        return build_info(self.core, s.program_name, s.streaming, s.transcript_streaming).event()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        label = peer_address(writer.get_extra_info("peername"))
        if len(self._sessions) >= self.settings.max_connections or self._draining:
            await self._refuse(reader, writer, label)
            return
        await self._serve(reader, writer, label, self.settings.idle_timeout)

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, label: str) -> None:
        """One connection too many: an ``error`` (busy), then a graceful close (what it sends is read and dropped)."""
        limit = self.settings.max_connections
        _LOGGER.warning("Wyoming client %s refused: %d connections open (max_connections)", label, limit)
        text = "the server is stopping" if self._draining else f"too many connections (at most {limit}); try again"
        try:
            writer.write(encode_event(Error(text=text, code="busy").event()))
            if writer.can_write_eof():
                writer.write_eof()
            async with asyncio.timeout(LINGER):
                while await reader.read(65536):
                    pass
        except (TimeoutError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, label: str, idle_timeout: float | None
    ) -> None:
        session = Session(
            self.core,
            reader,
            writer,
            label,
            self.info_event,
            self.settings.samples_per_chunk,
            self.settings.max_transcribe_seconds,
            self.settings.transcript_streaming,
            idle_timeout,
        )
        self._sessions.add(session)
        _LOGGER.debug("Wyoming client %s connected", label)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)
            _LOGGER.debug("Wyoming client %s disconnected", label)

    async def _start_stdio(self) -> None:
        """Serve one session on stdin/stdout."""
        reader, writer = await open_stdio(MAX_HEADER_BYTES)
        self._spawn(self._stdio_session(reader, writer))

    async def _stdio_session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._serve(reader, writer, "stdio", None)  # the process that started us: no idle timeout
        # The peer that started us closed our stdin or stdout (or broke the protocol): like any stdio server, we are
        # done. The log says which, so that a stdout closed early is not taken for the end of the input.
        why = "stdin closed" if reader.at_eof() else "the stdio connection ended (stdout closed or a protocol error)"
        _LOGGER.info("%s; stopping", why)
        os.kill(os.getpid(), signal.SIGTERM)

    async def _advertise(self, listeners: list[tuple[str, int]]) -> None:
        self._advertiser = Advertiser()
        base = self.settings.zeroconf_name or default_name()
        for index, (bound, port) in enumerate(listeners):
            address = advertised_address(bound, self.settings.zeroconf_host)
            if address is None:
                _LOGGER.warning(
                    "Zeroconf: no address to advertise for %s; set doors.wyoming.zeroconf_host", host_port(bound, port)
                )
                continue
            name = base if index == 0 else f"{base}-{port}"
            try:
                await self._advertiser.register(name, address, port, all_interfaces=bound in ("", "0.0.0.0", "::"))
            except Exception as err:  # no multicast here must not keep the door from serving
                _LOGGER.warning("Zeroconf: could not advertise %s at %s: %s", name, host_port(address, port), err)
                continue
            self._advertised.append(f"{name}@{host_port(address, port)}")


def _claim_socket(path: Path) -> None:
    """Make ``path`` free to bind: remove a stale socket file of a previous run, but refuse (``EADDRINUSE``) one that a
    live server still listens on (a file system call: run on a thread)."""
    if path.is_socket() and _listened_on(path):
        # Unlinking it would silently take the address from the live server (its clients would reach us instead).
        raise OSError(
            errno.EADDRINUSE, f"error while attempting to bind on address {str(path)!r}: address already in use"
        )
    _clear_socket(path)
    path.parent.mkdir(parents=True, exist_ok=True)


def _listened_on(path: Path) -> bool:
    """Whether a server accepts connections on the Unix socket ``path``; only a refused connection means stale."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except OSError:
            return True  # busy (a full backlog) or not ours to judge: better to refuse than to steal it
    return True


def _clear_socket(path: Path) -> None:
    """Remove our socket file, or a stale one (a file system call: run on a thread)."""
    if path.is_socket():
        path.unlink(missing_ok=True)
