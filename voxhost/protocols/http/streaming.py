"""Stream audio to an HTTP client as it is made: raw chunked bytes, or Server-Sent Events with base64 deltas.

Nothing is sent until the first chunk of audio exists (or the source ends), so every failure up to then is an
ordinary error answer with the right status. After that a failure ends the stream: an ``error`` event for SSE, a
connection closed before the final chunk for raw audio (clients see a truncated transfer, not a short "success").
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from concurrent.futures import Executor

from aiohttp import web

from ...engine import PCM
from ...errors import VoxhostError
from ...operations import nothing_to_say
from .encoders import EncodeStream, make_encoder
from .errors import error_body
from .keys import CLIENT
from .parsing import begin
from .schemas import ErrorResponse, SpeechAudioDelta, SpeechAudioDone, SpeechStreamError, Usage

_LOGGER = logging.getLogger(__name__)

SSE_CONTENT_TYPE = "text/event-stream"


NOTHING_TO_SAY_HEADER = "X-Voxhost-Nothing-To-Say"
"""Set on an answer whose audio is the short silence of a text with nothing to say."""


def audio_usage(input_tokens: int, seconds: float) -> Usage:
    """Counts for the SSE ``done`` event: the input's, and the audio sent in 20 ms frames."""
    out = int(seconds * 50)
    return Usage(input_tokens=input_tokens, output_tokens=out, total_tokens=input_tokens + out)


def _sse(event: SpeechAudioDelta | SpeechAudioDone | SpeechStreamError) -> bytes:
    return b"data: " + event.model_dump_json().encode() + b"\n\n"


class AudioStreamer:
    """Writes one source of PCM to one response in one format."""

    def __init__(
        self,
        request: web.Request,
        fmt: str,
        executor: Executor,
        *,
        sse: bool = False,
        fallback_rate: int = 24000,
        headers: dict[str, str] | None = None,
        input_tokens: int = 0,
    ) -> None:
        self.request = request
        self.fmt = fmt
        self.sse = sse
        self.encoder = EncodeStream(make_encoder(fmt, fallback_rate), executor)
        self.fallback_rate = fallback_rate
        self.headers = headers or {}
        self.input_tokens = input_tokens
        """What the SSE ``done`` event counts as input (a speech request's characters)."""
        self.seconds = 0.0
        """Audio sent so far, in seconds: what the ``done`` event counts as output (a text with nothing to say
        included, whose silence is sent like any audio)."""
        self.response: web.StreamResponse | None = None
        self.complete = False
        """The whole stream went out, ending normally."""

    async def run(self, source: AsyncIterator[PCM]) -> web.StreamResponse:
        """Stream ``source``; errors before the first chunk propagate (nothing has been sent yet)."""
        chunks = aiter(source)
        self.encoder.prepare(self.fallback_rate)  # opens the encoder while the engine makes the first chunk
        try:
            try:
                first = await anext(chunks)
            except StopAsyncIteration:
                # Nothing to say (emoji or markup alone): the short silence the other doors give. A WAV without samples
                # is a file browsers refuse (decodeAudioData's EncodingError; <audio>'s play() rejects it), and a
                # player or Home Assistant that waits for audio gets some.
                first = PCM(nothing_to_say(self.fallback_rate), self.fallback_rate)
                # Said in a header too: a page can tell the user rather than show 0.1 s of audio.
                self.headers = {**self.headers, NOTHING_TO_SAY_HEADER: "true"}
            body = await self._prepare()
        except BaseException:
            self.encoder.close()
            raise
        response = self.response
        assert response is not None
        if not body:  # HEAD: the headers a GET would get, no audio
            self.encoder.close()
            return response
        try:
            await self._audio(first)
            async for pcm in chunks:
                await self._audio(pcm)
            await self._finish()
        except VoxhostError as err:
            _LOGGER.warning("Stream to %s ended early: %s", self.request[CLIENT], err.message)
            await self._fail(err)
        finally:
            if not self.complete:
                self.encoder.close()
        return response

    async def run_closing(self, chunks: AsyncGenerator[PCM, None], what: str) -> web.StreamResponse:
        """``run``, closing ``chunks`` whatever happens; a client that goes away is logged (``what``: what it was
        getting) and answered 499."""
        try:
            return await self.run(chunks)
        except ConnectionResetError:
            _LOGGER.info("Client %s went away %s", self.request[CLIENT], what)
            return self.response or web.Response(status=499)
        finally:
            await chunks.aclose()

    async def _prepare(self) -> bool:
        """Send the headers; whether the audio may follow."""
        content_type = SSE_CONTENT_TYPE if self.sse else self.encoder.encoder.content_type
        headers = {
            "Content-Type": content_type,
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # reverse proxies must not hold the stream back
            **self.headers,
        }
        self.response = web.StreamResponse(status=200, headers=headers)
        return await begin(self.request, self.response)

    async def _write(self, data: bytes) -> None:
        assert self.response is not None
        if not data:
            return
        if self.sse:
            data = _sse(SpeechAudioDelta(audio=base64.b64encode(data).decode("ascii")))
        await self.response.write(data)

    async def _audio(self, pcm: PCM) -> None:
        self.seconds += len(pcm.data) / 2 / pcm.rate
        async for out in self.encoder.feed(pcm.data, pcm.rate):
            await self._write(out)

    async def _finish(self) -> None:
        assert self.response is not None
        await self._write(await self.encoder.finish())
        self.complete = True
        if self.sse:
            await self.response.write(_sse(SpeechAudioDone(usage=audio_usage(self.input_tokens, self.seconds))))
        await self.response.write_eof()

    async def _fail(self, err: VoxhostError) -> None:
        assert self.response is not None
        if self.sse:
            body = ErrorResponse.model_validate(
                error_body(err.http_status, err.message, param=err.param, code=err.code)
            )
            await self.response.write(_sse(SpeechStreamError(error=body.error)))
            await self.response.write_eof()
            return
        # Close without the terminating chunk, so the client knows the audio is incomplete.
        transport = self.request.transport
        if transport is not None:
            transport.close()
