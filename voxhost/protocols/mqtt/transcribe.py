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

from ...audio import RECOGNIZER_RATE, decoded_pcm
from ...engine import Transcript
from ...errors import VoxhostError
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
        """Decode the audio (on a thread), transcribe it, and reply with its text."""
        s = self.settings
        reply.id = command.id or f"transcribe-{uuid.uuid4().hex[:12]}"
        try:
            params = self.ctx.core.check_transcribe(command.params())
            # Mono at the recognizer's rate, made PCM in the thread: a small file may claim minutes of 8-channel
            # 192 kHz audio, and turning long audio into PCM on the loop would hold every other request.
            audio = await asyncio.to_thread(
                decoded_pcm, command.audio, s.max_transcribe_seconds, "audio", RECOGNIZER_RATE
            )
            reply.send("queued", engine=params.engine, input_duration=round(audio.seconds, 3))
            started = time.monotonic()
            transcript = await self.ctx.core.transcribe(audio, params)
        except VoxhostError as err:
            _LOGGER.info("Transcribe request %s failed: %s", reply.id, err.message)
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
