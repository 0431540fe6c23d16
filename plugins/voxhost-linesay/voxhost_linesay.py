"""voxhost-linesay: an example door plugin, a line-based TCP protocol that speaks each line it is sent.

A client sends one line of UTF-8 text per request: plain text, or a JSON object with ``text`` and any speech
parameter (``{"text": "Hello.", "voice": "piper:en_US-joe-medium", "speed": 1.2}``). The door answers each line,
in order, with one header line and the audio:

* ``OK <job id> <sample rate> <byte count>\\n`` followed by that many bytes of 16-bit little-endian mono PCM;
* ``ERR <code> <message>\\n`` when the request cannot be spoken; the connection stays open.

Blank lines are ignored. The door uses only voxhost's public modules: ``voxhost.api`` (the core as doors see
it), ``voxhost.door``, ``voxhost.operations`` and ``voxhost.errors``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from pydantic import Field

import voxhost
from voxhost.api import CoreAPI
from voxhost.door import Door, DoorSettings, host_port, peer_address
from voxhost.errors import ConfigError, InvalidRequestError, TextTooLongError, UnknownVoiceError, VoxhostError
from voxhost.operations import SpeechParams, SpeechRequest, parse

_LOGGER = logging.getLogger(__name__)


class LinesaySettings(DoorSettings):
    """``[doors.linesay]`` in voxhost's config: a line-based TCP "say" door."""

    enabled: bool = False
    """Open the door (off unless the config turns it on)."""
    host: str = "127.0.0.1"
    """Address to listen on (``0.0.0.0``: every interface; the protocol has no authentication)."""
    port: int = Field(10220, ge=0, le=65535)
    """TCP port to listen on (0: any free port)."""
    voice: str | None = None
    """Voice for lines that name none (default: the daemon's default voice)."""
    max_line_chars: int = Field(1000, ge=1, le=100_000)
    """Longest line accepted, in characters; a longer one is answered ``ERR text_too_long``."""


class LineRequest(SpeechParams):
    """A JSON line: the text and how to speak it (every field of ``SpeechParams``; unknown keys are errors)."""

    text: str
    """What to say."""


class _LineTooLong(Exception):
    """The client sent a line longer than the limit; it was read and dropped."""


class LinesayDoor(Door):
    """Speak each line a TCP client sends, answering with a header line and raw PCM."""

    name = "linesay"
    Settings = LinesaySettings

    def __init__(self, core: CoreAPI, settings: DoorSettings) -> None:
        super().__init__(core, settings)
        assert isinstance(settings, LinesaySettings)  # the daemon validated [doors.linesay] with Settings
        self.settings: LinesaySettings = settings
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._speaking: set[asyncio.Task[Any]] = set()
        """Connections answering a line now."""
        self._stopping = False
        self.port: int | None = None

    async def start(self) -> None:
        """Check the default voice, then listen; return once connections are accepted."""
        if self.settings.voice:
            try:
                self.core.resolve_voice(self.settings.voice)
            except UnknownVoiceError as err:  # a typo here would fail every line: refuse to start instead
                raise ConfigError(f"doors.linesay.voice: {err.message}") from None
        # A UTF-8 character is at most 4 bytes: the stream's own limit bounds a line before it is decoded.
        limit = 4 * self.settings.max_line_chars + 2
        self._server = await asyncio.start_server(self._serve, self.settings.host, self.settings.port, limit=limit)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def drain(self, deadline: float) -> None:
        """Stop listening; a line being spoken may finish until ``deadline`` (shared by the whole daemon)."""
        if self._server is None:
            return
        self._server.close()
        self._stopping = True
        for task in self._connections - self._speaking:
            task.cancel()  # idle: waiting for a line that should no longer come
        if self._speaking:
            await asyncio.wait(set(self._speaking), timeout=max(0.0, deadline - asyncio.get_running_loop().time()))

    async def stop(self) -> None:
        """Close every connection (a line still being spoken is cut) and stop listening."""
        if self._server is None:
            return
        self._server.close()
        self._stopping = True
        for task in self._connections - self._speaking:
            task.cancel()
        for task in list(self._speaking):
            task.cancel()  # still speaking after the grace period: its job is cancelled
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    def status(self) -> dict[str, Any]:
        """Shown by health pages and in the daemon's log."""
        return {"listening": f"tcp://{host_port(self.settings.host, self.port)}", "connections": len(self._connections)}

    # -- one connection ----------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)  # so that stop() can close it
        client = peer_address(writer.get_extra_info("peername"), "?")
        try:
            while not self._stopping:
                try:
                    line = await _read_line(reader)
                except _LineTooLong:
                    limit = self.settings.max_line_chars
                    answer = _error(TextTooLongError(f"the line is longer than {limit} characters"))
                else:
                    if line is None:
                        break  # the client closed its side
                    if not line.strip():
                        continue
                    self._speaking.add(task)
                    try:
                        answer = await self._answer(line, client)
                    finally:
                        self._speaking.discard(task)
                writer.write(answer)
                await writer.drain()
        except (ConnectionError, OSError) as err:
            _LOGGER.debug("linesay client %s went away: %s", client, err)
        except asyncio.CancelledError:
            # Only stop() cancels a connection; ending quietly keeps asyncio from logging the handler as failed.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _answer(self, line: bytes, client: str) -> bytes:
        """Speak one line: the ``OK`` header and the PCM, or an ``ERR`` line."""
        try:
            job = self.core.submit(self._request(line, client))  # unknown voice, too long, busy: raised here
            try:
                chunks = [chunk async for chunk in job.pcm()]  # the header needs the byte count first
            finally:
                job.cancel("the connection closed")  # only matters if we were cancelled: a done job stays done
        except VoxhostError as err:
            return _error(err)
        audio = b"".join(chunk.data for chunk in chunks)
        rate = chunks[0].rate if chunks else job.voice.sample_rate
        return f"OK {job.id} {rate} {len(audio)}\n".encode() + audio

    def _request(self, line: bytes, client: str) -> SpeechRequest:
        """The core's request for a line; ``InvalidRequestError`` names what is wrong with it."""
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise InvalidRequestError("the line is not UTF-8 text") from None
        if len(text) > self.settings.max_line_chars:
            raise TextTooLongError(f"the line is longer than {self.settings.max_line_chars} characters")
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError as err:
                raise InvalidRequestError(f"the line is not valid JSON: {err}") from None
            except RecursionError:  # Python's parser recurses once per nesting level
                raise InvalidRequestError("the line is not valid JSON: nested too deeply") from None
            # LineRequest, not SpeechRequest: a line always carries its text, and door and client are ours to set.
            fields = parse(LineRequest, data).model_dump(exclude_unset=True)
        else:
            fields = {"text": text}
        if self.settings.voice and not {"voice", "language"} & set(fields):
            fields["voice"] = self.settings.voice
        return parse(SpeechRequest, {**fields, "door": self.name, "client": client})


async def _read_line(reader: asyncio.StreamReader) -> bytes | None:
    """The next line, None at the end of the stream; ``_LineTooLong`` (after skipping it) past the limit."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as err:
        return err.partial or None  # a last line without its newline still counts
    except asyncio.LimitOverrunError as err:
        consumed = err.consumed
    while True:  # drop the rest of the long line, without holding it in memory
        await reader.readexactly(consumed)
        try:
            await reader.readuntil(b"\n")
            break
        except asyncio.IncompleteReadError:
            break
        except asyncio.LimitOverrunError as err:
            consumed = err.consumed
    raise _LineTooLong


def _error(err: VoxhostError) -> bytes:
    """An ``ERR <code> <message>`` line; the message is kept on one line."""
    message = " ".join(err.message.split())
    return f"ERR {err.code} {message}\n".encode()


@voxhost.hookimpl
def register_doors(register: Callable[[type[Door]], None]) -> None:
    """Offer the door to the daemon; it opens when ``[doors.linesay]`` says ``enabled = true``."""
    register(LinesayDoor)
