"""A job's audio kept on disk as it is made: one WAV file, written in order on one thread, readable while it grows.

The header goes out with the first chunk (with a streaming WAV's unknown sizes) and gets its real sizes when the
job ends, so a finished file plays anywhere. Readers get what is on disk now, then wait for more.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncGenerator
from concurrent.futures import Executor
from pathlib import Path

from .audio import wav_header
from .engine import PCM
from .errors import UnknownJobError, VoxhostError

HEADER_BYTES = 44
"""voxhost writes plain 44-byte PCM WAV headers."""
READ_BYTES = 32 * 1024
"""PCM read per step (under a second of audio): small enough to start quickly, large enough to be cheap."""


def read_header(path: Path) -> tuple[int, int]:
    """The sample rate and PCM bytes of a WAV voxhost wrote (a file cut short counts what is there)."""
    with path.open("rb") as wav:
        header = wav.read(HEADER_BYTES)
        size = wav.seek(0, 2)
    if len(header) < HEADER_BYTES or header[:4] != b"RIFF" or header[36:40] != b"data":
        raise ValueError(f"{path} is not a WAV file voxhost wrote")
    rate = struct.unpack("<I", header[24:28])[0]
    data = size - HEADER_BYTES
    return rate, data - data % 2


def _append(path: Path, pcm: bytes, rate: int | None) -> None:
    with path.open("wb" if rate is not None else "ab") as wav:
        if rate is not None:
            wav.write(wav_header(rate))
        wav.write(pcm)


def _seal(path: Path, data_bytes: int) -> None:
    """Write the real sizes into the header of a finished file."""
    with path.open("r+b") as wav:
        wav.seek(4)
        wav.write(struct.pack("<I", 36 + data_bytes))
        wav.seek(40)
        wav.write(struct.pack("<I", data_bytes))


def _read(path: Path, offset: int, size: int) -> bytes:
    try:
        with path.open("rb") as wav:
            wav.seek(HEADER_BYTES + offset)
            return wav.read(size)
    except FileNotFoundError:
        raise UnknownJobError("the job's audio was removed while it was read", param="job_id") from None


class AudioFile:
    """One job's WAV: appended on the store's writer thread (in order), read by any number of readers."""

    def __init__(self, path: Path, writer: Executor, rate: int | None = None, written: int = 0) -> None:
        self.path = path
        self._writer = writer
        self.rate = rate
        self.written = written
        """PCM bytes on disk now."""
        self.ended = False
        """No more audio will come."""
        self.failure: VoxhostError | None = None
        """Why the audio is incomplete (the job failed or was cancelled): readers raise it at the end."""
        self._submitted = written
        self._changed = asyncio.Event()

    @classmethod
    def complete(cls, path: Path, writer: Executor, rate: int, written: int) -> AudioFile:
        """A file that is already whole on disk."""
        audio = cls(path, writer, rate, written)
        audio.ended = True
        return audio

    def append(self, pcm: bytes, rate: int) -> None:
        """Queue a chunk for the disk (the first one writes the header); readers see it once it is written."""
        if self.ended or not pcm:
            return
        first = self.rate is None
        if first:
            self.rate = rate
        try:
            future = self._writer.submit(_append, self.path, pcm, rate if first else None)
        except RuntimeError:  # the writer has stopped (shutdown)
            self.failure = UnknownJobError("the job's audio could not be written", param="job_id")
            self._end()
            return
        self._submitted += len(pcm)
        done = asyncio.wrap_future(future)
        size = len(pcm)
        done.add_done_callback(lambda future: self._wrote(future, size))

    def _wrote(self, future: asyncio.Future[None], size: int) -> None:
        if future.cancelled() or future.exception() is not None:
            self.failure = self.failure or UnknownJobError("the job's audio could not be written", param="job_id")
            self._end()
            return
        self.written += size
        self._notify()

    async def finish(self, failure: VoxhostError | None = None) -> None:
        """No more audio: seal the header (a finished job) or note why the audio stops short."""
        if self.ended:
            return
        self.failure = failure
        if self.rate is not None and failure is None:
            try:
                await asyncio.wrap_future(self._writer.submit(_seal, self.path, self._submitted))
            except (OSError, RuntimeError) as err:
                self.failure = UnknownJobError(f"the job's audio could not be completed: {err}", param="job_id")
        self._end()

    def abandon(self, failure: VoxhostError) -> None:
        """No more audio, and readers raise ``failure`` (the job was removed while they read)."""
        if not self.ended:
            self.failure = failure
            self._end()

    def _end(self) -> None:
        self.ended = True
        self._notify()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def read(self) -> AsyncGenerator[PCM, None]:
        """Everything written so far, then the rest as it comes; raises ``failure`` at the end if there is one."""
        offset = 0
        while True:
            changed = self._changed
            if offset < self.written and self.rate is not None:
                size = min(self.written - offset, READ_BYTES)
                data = await asyncio.to_thread(_read, self.path, offset, size - size % 2)
                if not data:
                    raise UnknownJobError("the job's audio was removed while it was read", param="job_id")
                offset += len(data)
                yield PCM(data, self.rate)
                continue
            if self.ended:
                if self.failure is not None:
                    raise self.failure
                return
            await changed.wait()
