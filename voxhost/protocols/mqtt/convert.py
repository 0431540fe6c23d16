"""Voice conversion over MQTT: audio in on ``convert``, the same speech in a library voice out as streamed audio.

Replies and audio look exactly like a say request's (queued / started / done or error; start / chunk / stop /
wav), so every speaker client that plays voxhost's speech plays converted speech too.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import aclosing

from ...audio import MAX_SPEECH_RATE, EncodedAudio
from ...errors import EngineError, InvalidAudioError, VoxhostError
from ...operations import ConvertParams
from .audio_request import AudioService
from .context import MqttContext
from .reply import Reply
from .schemas import CONVERT, ConvertCommand, convert_topic_fields
from .service import UNDELIVERED
from .stream import AudioStream

_LOGGER = logging.getLogger(__name__)

CONVERTED_RATE = 24000
"""The rate ``queued`` states where the catalog does not list the target for the engine: a converter's usual one
(``Engine.clone_sample_rate``); the audio's ``start`` message states the real one."""


class ConvertService(AudioService[ConvertCommand]):
    """Handlers for ``<base>/<node>/convert`` and the pool topic ``<base>/convert`` (``.../convert/<voice>[/<id>]``:
    voice and id in the topic)."""

    kind = "convert"

    def __init__(self, ctx: MqttContext) -> None:
        super().__init__(ctx, ctx.topics.convert, ctx.topics.pool_convert, CONVERT.parse, convert_topic_fields)

    async def serve(self, command: ConvertCommand, reply: Reply) -> None:
        """Check the request and read its audio's header (on a thread), then convert it (a stop command cancels
        it)."""
        s = self.settings
        try:
            command.check_chunk_bytes(s.chunk_bytes)
            params = self.ctx.core.check_convert(command.params())
            source = await EncodedAudio.received(command.audio, s.max_convert_seconds, "audio", MAX_SPEECH_RATE)
        except VoxhostError as err:
            _LOGGER.info("Rejected convert request %s: %s", command.id, err.message)
            reply.error(err)
            return
        request_id = command.id or f"convert-{uuid.uuid4().hex[:12]}"
        reply.id = request_id
        with self.ctx.tracker.converting(request_id):
            await self._convert(command, request_id, reply, source, params)

    async def _convert(
        self,
        command: ConvertCommand,
        request_id: str,
        reply: Reply,
        source: EncodedAudio,
        params: ConvertParams,
    ) -> None:
        """Run the conversion (its target and engine resolved) and publish its audio and status replies."""
        s = self.settings
        engine = params.engine
        assert engine is not None  # check_convert picked one
        core = self.ctx.core
        fmt = command.format or s.audio_format
        prefix = command.audio_topic or self.topics.audio(request_id)
        audio = AudioStream(self.ctx.conn, prefix, request_id, fmt, command.chunk_bytes or s.chunk_bytes)
        voice_id = f"{engine}:{params.voice}"
        rate = next((v.sample_rate for v in core.voices() if v.id == voice_id), CONVERTED_RATE)
        input_seconds = (
            None if source.seconds is None else round(source.seconds, 3)
        )  # the header's length, as for transcribe
        reply.send(
            "queued",
            voice=voice_id,
            engine=engine,
            input_duration=input_seconds,
            audio_topic=prefix if fmt != "none" else None,
            audio_format=fmt,
            **audio.describe(rate),
        )
        queued = time.monotonic()

        def started() -> None:
            # Once the engine takes it up, as a say's: a conversion waiting behind another has not started.
            reply.send("started", engine=engine, wait=round(time.monotonic() - queued, 4))

        ttfa: float | None = None
        warnings: list[str] = []  # said in the done reply: the conversion goes on
        undelivered = False
        try:
            async with aclosing(core.convert(source, params, started, warnings.append)) as chunks:
                async for pcm in chunks:
                    if ttfa is None:
                        ttfa = round(time.monotonic() - queued, 4)
                    audio.add(pcm.data, pcm.rate)
                    if audio.delivers and not self.ctx.conn.connected:
                        # The rest would be converted for nobody (its audio dropped), as a say's would: the engine
                        # stops once the stream is closed.
                        undelivered = True
                        break
            if undelivered:
                _LOGGER.info("Conversion %s cancelled: %s", request_id, UNDELIVERED)
                await audio.finish("cancelled", audio.rate or rate)
                reply.send("error", code="cancelled", message=f"conversion cancelled: {UNDELIVERED}")
                return
            if audio.rate is None:
                raise EngineError(f"engine {engine} returned no audio")
        except asyncio.CancelledError as cancel:
            await audio.finish("cancelled", audio.rate or rate)
            reason = str(cancel) or "stop command"
            reply.send("error", code="cancelled", message=f"conversion cancelled: {reason}")
            raise
        except VoxhostError as err:
            _LOGGER.info("Conversion %s failed: %s", request_id, err.message)
            await audio.finish("error", audio.rate or rate)
            reply.refused = isinstance(err, InvalidAudioError)  # found when decoded, as it was before queued
            reply.error(err)
            return
        except Exception as err:  # a bug must still answer the client
            _LOGGER.exception("Conversion %s failed", request_id)
            await audio.finish("error", audio.rate or rate)
            reply.send("error", code="internal_error", message=f"{type(err).__name__}: {err}")
            return
        elapsed = time.monotonic() - queued
        problem = await audio.finish("done", audio.rate)
        if problem:
            reply.send("error", code="too_large", message=problem, param="format")
            return
        reply.send(
            "done",
            duration=audio.seconds,
            input_duration=input_seconds,
            ttfa=ttfa,
            elapsed=round(elapsed, 4),
            rtf=round(elapsed / audio.seconds, 4) if audio.seconds else None,
            chunks=audio.chunks,
            bytes=audio.bytes,
            **({"warnings": warnings} if warnings else {}),
        )
