"""Speech-to-text over MQTT: audio in on ``transcribe``, its text out as a status reply.

A request comes in the convert topic's forms: a JSON object with base64 ``audio``, or the raw audio file with MQTT 5
user properties (``language``, ``id``, ...), or with the language and id in the topic
(``<base>/<node>/transcribe/<language>[/<id>]``, for MQTT 3.1.1 clients). Replies go to the request's Response
Topic, ``reply_to``, or ``<base>/<node>/response``: ``queued``, then ``done`` with ``text`` (or ``error``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import asdict

from ...audio import EncodedAudio
from ...engine import Transcript
from ...errors import InvalidAudioError, VoxhostError
from ...operations import TranscribeParams
from .audio_request import AudioService
from .context import MqttContext
from .reply import Reply
from .schemas import TRANSCRIBE, TranscribeCommand, transcribe_topic_fields

_LOGGER = logging.getLogger(__name__)


class TranscribeService(AudioService[TranscribeCommand]):
    """Handlers for ``<base>/<node>/transcribe`` and the pool topic ``<base>/transcribe``
    (``.../transcribe/<language>[/<id>]``: language and id in the topic)."""

    kind = "transcribe"

    def __init__(self, ctx: MqttContext) -> None:
        super().__init__(
            ctx, ctx.topics.transcribe, ctx.topics.pool_transcribe, TRANSCRIBE.parse, transcribe_topic_fields
        )

    async def serve(self, command: TranscribeCommand, reply: Reply) -> None:
        """Check the request and read its audio's header (on a thread), then transcribe it (a stop naming it
        cancels it) and reply with its text."""
        s = self.settings
        reply.id = command.id or f"transcribe-{uuid.uuid4().hex[:12]}"
        try:
            params = self.ctx.core.check_transcribe(command.params())
            audio = await EncodedAudio.received(command.audio, s.max_transcribe_seconds, "audio")
        except VoxhostError as err:
            _LOGGER.info("Transcribe request %s failed: %s", reply.id, err.message)
            reply.error(err)
            return
        reply.send(
            "queued", engine=params.engine, input_duration=None if audio.seconds is None else round(audio.seconds, 3)
        )
        with self.ctx.tracker.transcribing(reply.id):
            await self._transcribe(command, audio, params, reply)

    async def _transcribe(
        self, command: TranscribeCommand, audio: EncodedAudio, params: TranscribeParams, reply: Reply
    ) -> None:
        started = time.monotonic()
        try:
            transcript = await self.ctx.core.transcribe(audio, params)
        except asyncio.CancelledError as cancel:
            reply.send("error", code="cancelled", message=f"transcription cancelled: {str(cancel) or 'stop command'}")
            raise
        except VoxhostError as err:
            _LOGGER.info("Transcribe request %s failed: %s", reply.id, err.message)
            reply.refused = isinstance(err, InvalidAudioError)  # found when decoded, as it was before queued
            reply.error(err)
            return
        reply.send("done", **_done(command, transcript, round(time.monotonic() - started, 4)))


def _done(command: TranscribeCommand, transcript: Transcript, elapsed: float) -> dict[str, object]:
    fields: dict[str, object] = {
        "text": transcript.text,
        "language": transcript.language,
        "duration": round(transcript.duration, 3),
        "elapsed": elapsed,
    }
    if command.segments or command.word_timestamps:
        fields["segments"] = [
            {
                "start": segment.start,
                "end": segment.end,
                "text": segment.text.strip(),
                **({"words": [asdict(word) for word in segment.words]} if command.word_timestamps else {}),
            }
            for segment in transcript.segments
        ]
    return fields
