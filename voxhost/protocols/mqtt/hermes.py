"""Hermes / Rhasspy compatibility: ``hermes/tts/say`` → ``playBytes`` (one WAV) → ``sayFinished``.

Like Rhasspy's own TTS service, ``sayFinished`` is always sent, also after an error (then preceded by
``hermes/error/tts`` with the say's id as ``context``), and waits for the audio server's ``playFinished``
for at most the audio's length plus a second.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import numpy as np

from ...api import JobHandle
from ...audio import to_wav
from ...errors import EngineError, VoxhostError
from ...operations import SpeechRequest, nothing_to_say, parse
from .connection import Incoming, json_bytes
from .context import Handler, MqttContext, Service
from .names import (
    HERMES_ERROR,
    HERMES_PLAY_FINISHED,
    HERMES_SAY,
    HERMES_SAY_FINISHED,
    RHASSPY_GET_VOICES,
    RHASSPY_VOICES,
    hermes_play_bytes,
    shared,
)
from .schemas import (
    HermesEcho,
    HermesGetVoices,
    HermesSay,
    decode,
    load_json,
    parse_model,
    peek_get_voices,
    peek_hermes,
    spoken_text,
)
from .service import UNDELIVERED

_LOGGER = logging.getLogger(__name__)

PLAY_SLACK = 1.0
"""Seconds beyond the audio's length to wait for ``playFinished``."""


def build_wav(parts: list[bytes], rate: int, volume: float | None) -> bytes:
    """One WAV of the collected PCM, scaled by Rhasspy's ``volume`` (0..1) when given."""
    pcm = b"".join(parts)
    if volume is not None and volume != 1.0:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) * volume
        pcm = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return to_wav(pcm, rate)


def _text(value: Any) -> str | None:
    """A string field of a payload that failed validation, if it is one."""
    return value if isinstance(value, str) else None


class HermesService(Service):
    """Answers Hermes TTS requests for the configured sites."""

    def __init__(self, ctx: MqttContext) -> None:
        super().__init__(ctx)
        self._waiting: dict[str, list[asyncio.Future[None]]] = {}
        """Request id → the says waiting for its ``playFinished``, oldest first: says received at QoS 0 may share an
        id, and an audio server plays them in turn."""

    def subscriptions(self) -> list[str]:
        """Topic filters to subscribe to on every connect."""
        topics = [shared(HERMES_SAY, self.settings.shared_group), RHASSPY_GET_VOICES]
        if self.settings.hermes_wait_play_finished:
            topics.append(HERMES_PLAY_FINISHED)
        return topics

    def handlers(self) -> dict[str, Handler]:
        """Exact topic → handler."""
        return {HERMES_SAY: self.on_say, RHASSPY_GET_VOICES: self.on_get_voices}

    def route(self, topic: str) -> Handler | None:
        """``hermes/audioServer/<site>/playFinished``."""
        parts = topic.split("/")
        if len(parts) == 4 and parts[:2] == ["hermes", "audioServer"] and parts[3] == "playFinished":
            return self.on_play_finished
        return None

    def _serves(self, site_id: str) -> bool:
        return not self.settings.hermes_site_ids or site_id in self.settings.hermes_site_ids

    # -- say -----------------------------------------------------------------------------------------

    def on_say(self, msg: Incoming) -> None:
        """Queue a Hermes say; errors still end in ``sayFinished``."""
        if msg.retain:
            _LOGGER.warning("Ignoring a retained %s message", HERMES_SAY)
            return
        raw: Any = None
        try:
            raw = load_json(decode(msg.payload, self.settings.max_command_bytes))
            say: HermesSay = parse_model(HermesSay, raw)
            say.text = spoken_text(say.text, self.settings.max_text)  # as on voxhost's own say topics
        except VoxhostError as err:
            # Answer as far as the payload lets us: its valid site, id and session, else Rhasspy's defaults.
            echo = peek_hermes(raw)
            if not self._serves(echo.site_id):
                return
            self._error(err.message, echo)
            self._finished(echo)
            return
        if not self._serves(say.site_id):
            return
        # The id as text: it names the playBytes topic; 7 and "7" are one id; "" is none (older rhasspy-hermes).
        say_id = None if say.id in (None, "") else str(say.id)
        if self.ctx.dedupe.redelivered(f"hermes:{say_id}" if say_id else None, msg):
            _LOGGER.info("Dropping a repeated Hermes say %s", say_id)
            return
        try:
            voice = self.settings.hermes_voice or self.ctx.voice.for_language(say.lang)
            request = parse(
                SpeechRequest,
                {"text": say.text, "voice": voice, "language": say.lang, "door": "mqtt", "client": say_id},
            )
            job = self.ctx.core.submit(request)
        except VoxhostError as err:
            self.ctx.dedupe.forget(f"hermes:{say_id}" if say_id else None)  # only an accepted request uses up its id
            self._error(err.message, say.echo())
            self._finished(say.echo())
            return
        request_id = say_id or uuid.uuid4().hex
        self.ctx.tracker.track(request_id, job)
        self.ctx.tracker.spawn(self._serve(say, request_id, job), name=f"hermes-say-{request_id}")

    async def _serve(self, say: HermesSay, request_id: str, job: JobHandle) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            parts: list[bytes] = []
            async for pcm in job.pcm():
                parts.append(pcm.data)
                if not self.ctx.conn.connected:
                    job.cancel(UNDELIVERED)  # its one WAV could not be played when it is due, as a say's
            rate = job.rate or job.voice.sample_rate
            if not parts:
                # Nothing to say (emoji or markup alone): the short silence the other doors give; a WAV without
                # samples is a file players refuse.
                parts.append(nothing_to_say(rate))
            wav = await asyncio.to_thread(build_wav, parts, rate, say.volume)
            topic = hermes_play_bytes(say.site_id, request_id)
            if not self.ctx.conn.fits(topic, len(wav)):
                raise EngineError(f"the WAV is {len(wav)} bytes, above the {self.ctx.conn.max_payload} byte limit")
            if self.settings.hermes_wait_play_finished:
                self._waiting.setdefault(request_id, []).append(waiter)
            self.ctx.conn.publish(topic, wav, content_type="audio/wav")
            if self.settings.hermes_wait_play_finished:
                seconds = len(wav) / 2 / rate
                try:
                    await asyncio.wait_for(waiter, seconds + PLAY_SLACK)
                except TimeoutError:
                    _LOGGER.debug("No playFinished for %s; finishing anyway", request_id)
        except VoxhostError as err:
            self._error(err.message, say.echo())
        except Exception as err:  # never leave a Hermes dialogue waiting for sayFinished
            _LOGGER.exception("Hermes say %s failed", request_id)
            self._error(f"{type(err).__name__}: {err}", say.echo())
        finally:
            if waiter in (waiting := self._waiting.get(request_id, [])):
                waiting.remove(waiter)
                if not waiting:
                    del self._waiting[request_id]
            self.ctx.tracker.untrack(job)
            self._finished(say.echo())

    def on_play_finished(self, msg: Incoming) -> None:
        """The audio server played a request's WAV."""
        try:
            # Bounded: anyone may publish here, and the loop would parse megabytes while every request waited.
            data = load_json(decode(msg.payload, self.settings.max_command_bytes))
        except VoxhostError:
            return
        request_id = _text(data.get("id")) if isinstance(data, dict) else None
        waiter = next((w for w in self._waiting.get(request_id or "", []) if not w.done()), None)
        if waiter is not None:
            waiter.set_result(None)

    def _error(self, message: str, echo: HermesEcho) -> None:
        """``hermes/error/tts``, the say's id as its ``context`` (as Rhasspy's services do)."""
        self.ctx.conn.publish_json(
            HERMES_ERROR, {"error": message, "context": echo.id, "siteId": echo.site_id, "sessionId": echo.session_id}
        )

    def _finished(self, echo: HermesEcho) -> None:
        """``hermes/tts/sayFinished``."""
        self.ctx.conn.publish_json(
            HERMES_SAY_FINISHED, {"id": echo.id, "siteId": echo.site_id, "sessionId": echo.session_id}
        )

    # -- voices --------------------------------------------------------------------------------------

    def on_get_voices(self, msg: Incoming) -> None:
        """``rhasspy/tts/getVoices`` → ``rhasspy/tts/voices``. As Rhasspy's own services do, a failure is told on
        ``hermes/error/tts`` (the request's id as ``context``) before the voices answer, which lists what could be
        listed: nothing for a bad request, as many voices as fit in a message for a catalog too large for one."""
        raw: Any = None
        try:
            raw = load_json(decode(msg.payload, self.settings.max_command_bytes) or "{}")
            query: HermesGetVoices = parse_model(HermesGetVoices, raw)
        except VoxhostError as err:
            echo = peek_get_voices(raw)
            if self._serves(echo.site_id):
                _LOGGER.info("Refused a bad %s: %s", RHASSPY_GET_VOICES, err.message)
                self._error(err.message, echo)
                self._publish_voices([], echo)
            return
        if not self._serves(query.site_id):
            return
        echo = query.echo()
        voices = [{"voiceId": v.id, "description": v.name} for v in self.ctx.core.voices()]
        listed = self._fitting(voices, echo)
        if listed < len(voices):
            # Dropped, the answer left the client waiting for good; it learns why, and gets what fits.
            whole = len(json_bytes(_voices_answer(voices, echo)))
            message = (
                f"the voices answer is {whole} bytes, above the {self.ctx.conn.max_payload} byte message limit; it "
                f"lists {listed} of the {len(voices)} voices"
            )
            _LOGGER.warning("%s: %s", RHASSPY_VOICES, message)
            self._error(message, echo)
        self._publish_voices(voices[:listed], echo)

    def _fitting(self, voices: list[dict[str, str]], echo: HermesEcho) -> int:
        """How many of ``voices`` (the first ones) the voices answer can list within the message limit."""
        size = len(json_bytes(_voices_answer([], echo)))
        for listed, voice in enumerate(voices):
            size += len(json_bytes(voice)) + (1 if listed else 0)  # and the comma before it
            if not self.ctx.conn.fits(RHASSPY_VOICES, size):
                return listed
        return len(voices)

    def _publish_voices(self, voices: list[dict[str, str]], echo: HermesEcho) -> None:
        """``rhasspy/tts/voices``."""
        self.ctx.conn.publish_json(RHASSPY_VOICES, _voices_answer(voices, echo))


def _voices_answer(voices: list[dict[str, str]], echo: HermesEcho) -> dict[str, Any]:
    """Rhasspy's ``Voices``: the voices, and the request's id and site."""
    return {"voices": voices, "id": echo.id, "siteId": echo.site_id}
