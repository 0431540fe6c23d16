"""Speech-to-text through the Wyoming door, spoken to as Home Assistant's wyoming STT does (the ``wyoming`` client).

Home Assistant opens a connection per utterance, sends ``transcribe``, ``audio-start`` (16 kHz, 16-bit, mono), 10 ms
``audio-chunk``s from one task while another reads, ``audio-stop``, and takes ``transcript`` (or ``error``).
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
import soxr
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize

from voxhost.events import Transcribed
from voxhost.operations import SpeechRequest

from ..conftest import free_port, make_settings, running_daemon
from ..listener import wer

SENTENCES = (
    "Dinner is ready. Please come to the kitchen.",
    "The quick brown fox jumps over the lazy dog.",
    "Please turn on the kitchen lights and set the thermostat to twenty one degrees.",
)
LONG_TEXT = " ".join(
    [
        "The kitchen lights are now on.",
        "The oven is heating up to two hundred degrees.",
        "Dinner will be ready in about forty minutes.",
        "The washing machine has finished its cycle.",
        "Tomorrow will be sunny with a light breeze.",
        "The front door is locked and the alarm is set.",
    ]
    * 8
)
HA_CHUNK = 320  # 10 ms at 16 kHz, 16-bit mono: what Home Assistant's pipeline sends
TIMEOUT = 120


def wyoming_daemon(tmp_path_factory, **wyoming):
    port = free_port()
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        engines={"whisper": {"enabled": True}},
        wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{port}"], **wyoming},
    )
    return port, settings


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    port, settings = wyoming_daemon(tmp_path_factory, max_transcribe_seconds=60)
    with running_daemon(settings) as d:
        d.port = port
        yield d


@pytest.fixture(scope="module")
def speech(daemon) -> dict[str, bytes]:
    """Each sentence spoken by Piper, at 16 kHz 16-bit mono as Home Assistant records."""
    out = {}
    for text in SENTENCES:
        pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text=text)))
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        out[text] = (np.clip(soxr.resample(samples, rate, 16000), -1, 1) * 32767).astype("<i2").tobytes()
    return out


async def read(client: AsyncTcpClient, timeout: float = TIMEOUT) -> Event | None:
    return await asyncio.wait_for(client.read_event(), timeout)


async def ha_transcribe(
    port: int, audio: bytes, language: str | None = "en", until: str = "transcript", **start
) -> list[Event]:
    """Home Assistant's exchange (stt.py): upload and receive at once; every event up to ``until`` or an error."""
    fmt = {"rate": 16000, "width": 2, "channels": 1, **start}
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language=language).event())
        await client.write_event(AudioStart(**fmt).event())

        async def upload() -> None:
            try:
                for i in range(0, len(audio), HA_CHUNK):
                    await client.write_event(AudioChunk(audio=audio[i : i + HA_CHUNK], **fmt).event())
                await client.write_event(AudioStop().event())
            except ConnectionError:  # the server refused and closed: Home Assistant logs it and reads the error
                pass

        async def receive() -> list[Event]:
            seen = []
            while True:
                event = await read(client)
                if event is None:
                    return seen
                seen.append(event)
                if event.type in (until, "error"):
                    return seen

        sending = asyncio.create_task(upload())
        try:
            return await receive()
        finally:
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)


async def describe(port: int) -> Info:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Describe().event())
        return Info.from_event(await read(client))


def test_describe_advertises_speech_to_text_beside_the_voices(daemon):
    info = asyncio.run(describe(daemon.port))
    assert info.tts and info.tts[0].voices, "still a TTS server"
    (asr,) = info.asr
    assert asr.name == "voxhost" and asr.installed and asr.requires_external_vad
    assert not asr.supports_transcript_streaming
    (model,) = asr.models
    assert model.name == "tiny.en" and model.installed and model.languages == ["en"]
    assert model.attribution.name == "OpenAI" and model.version


def test_the_tts_program_names_only_engines_that_speak(daemon):
    """Whisper is named in the ASR program; the TTS program lists the engines whose voices it offers."""
    info = asyncio.run(describe(daemon.port))
    assert "Piper" in info.tts[0].description and "Whisper" not in info.tts[0].description
    assert "Whisper" in info.asr[0].description


@pytest.mark.parametrize("text", SENTENCES)
def test_home_assistant_hears_what_was_said(daemon, speech, text):
    events = asyncio.run(ha_transcribe(daemon.port, speech[text]))
    assert [e.type for e in events] == ["transcript"], "no streaming events unless advertised"
    transcript = Transcript.from_event(events[-1])
    assert wer(text, transcript.text) <= 0.1, transcript.text
    assert transcript.text == transcript.text.strip() and transcript.language == "en"


def test_the_connection_serves_more_than_one_utterance(daemon, speech):
    async def twice() -> list[str]:
        texts = []
        async with AsyncTcpClient("127.0.0.1", daemon.port) as client:
            for text in SENTENCES[:2]:
                await client.write_event(Transcribe(language="en").event())
                await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
                await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=speech[text]).event())
                await client.write_event(AudioStop().event())
                texts.append(Transcript.from_event(await read(client)).text)
        return texts

    texts = asyncio.run(twice())
    assert all(wer(expected, heard) <= 0.1 for expected, heard in zip(SENTENCES[:2], texts, strict=True)), texts


def test_other_formats_are_converted(daemon, speech):
    """48 kHz stereo 32-bit audio: converted to what the recognizer takes."""
    mono = np.frombuffer(speech[SENTENCES[0]], dtype="<i2").astype(np.float32) / 32768.0
    high = np.clip(soxr.resample(mono, 16000, 48000), -1, 1)
    stereo = (np.repeat(high[:, None], 2, axis=1) * (2**31 - 1)).astype("<i4").tobytes()
    events = asyncio.run(ha_transcribe(daemon.port, stereo, rate=48000, width=4, channels=2))
    assert wer(SENTENCES[0], Transcript.from_event(events[-1]).text) <= 0.1


def test_audio_is_kept_in_the_recognizers_format_as_it_arrives(daemon, speech):
    """192 kHz stereo 32-bit audio is converted chunk by chunk: what a connection holds before ``audio-stop`` is
    16 kHz 16-bit mono (1/48 of what was sent), and the transcript is as good."""
    mono = np.frombuffer(speech[SENTENCES[2]], dtype="<i2").astype(np.float32) / 32768.0
    high = np.clip(soxr.resample(mono, 16000, 192000), -1, 1)
    audio = (np.repeat(high[:, None], 2, axis=1) * (2**31 - 1)).astype("<i4").tobytes()
    fmt = {"rate": 192000, "width": 4, "channels": 2}
    seconds = mono.size / 16000
    (door,) = [door for door in daemon.daemon.doors if door.name == "wyoming"]

    async def held() -> tuple[int, int]:
        """The rate and size of the audio the door holds for the utterance being received (on the daemon's loop)."""
        (listening,) = [session._listening for session in door._sessions if session._listening is not None]
        assert listening.rate is not None
        return listening.rate, listening.size

    async def upload() -> tuple[int, int, str]:
        async with AsyncTcpClient("127.0.0.1", daemon.port) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(**fmt).event())
            step = 192000 * 8 // 10  # 100 ms
            for i in range(0, len(audio), step):
                await client.write_event(AudioChunk(audio=audio[i : i + step], **fmt).event())
            deadline = time.monotonic() + 30
            while True:  # until the door has read it all (but a resampler's delay)
                rate, size = daemon.call(held())
                if size / 2 / rate >= seconds - 0.1 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            await client.write_event(AudioStop().event())
            return rate, size, Transcript.from_event(await read(client)).text

    rate, size, text = asyncio.run(upload())
    assert rate == 16000 and size <= seconds * 16000 * 2 + 64, (rate, size)
    assert wer(SENTENCES[2], text) <= 0.1, text


def test_a_client_that_leaves_before_its_transcript_cancels_it(daemon, speech):
    """Clients that close their connection right after ``audio-stop`` are not transcribed for nobody, ahead of a
    client still waiting: their transcriptions are cancelled, and only the present client's is recognized."""
    ended: list[Transcribed] = []

    async def watch():
        return daemon.core.bus.subscribe(lambda e: ended.append(e) if isinstance(e, Transcribed) else None)

    utterance = b"".join(speech[text] for text in SENTENCES) * 2  # about 20 s
    fmt = {"rate": 16000, "width": 2, "channels": 1}

    async def leave() -> None:
        async with AsyncTcpClient("127.0.0.1", daemon.port) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(**fmt).event())
            await client.write_event(AudioChunk(audio=utterance, **fmt).event())
            await client.write_event(AudioStop().event())

    unsubscribe = daemon.call(watch())
    try:
        for _ in range(3):
            asyncio.run(leave())
        events = asyncio.run(ha_transcribe(daemon.port, speech[SENTENCES[1]]))
        daemon.settle()
    finally:
        daemon.loop.call_soon_threadsafe(unsubscribe)
    assert wer(SENTENCES[1], Transcript.from_event(events[-1]).text) <= 0.1
    recognized = [e for e in ended if e.error is None]
    assert len(recognized) == 1 and recognized[0].audio_seconds < 5, ended
    assert all(e.error == "cancelled" for e in ended if e not in recognized), ended


# -- bad input: an error event, then the connection closes --------------------------------------------


def _error(events: list[Event]) -> Error:
    assert events and events[-1].type == "error", [e.type for e in events]
    return Error.from_event(events[-1])


def test_empty_audio_is_an_error(daemon):
    assert _error(asyncio.run(ha_transcribe(daemon.port, b""))).code == "invalid_audio"


def test_an_unsupported_sample_width_is_an_error(daemon):
    error = _error(asyncio.run(ha_transcribe(daemon.port, b"\0" * 5000, width=5)))
    assert error.code == "invalid_audio" and "width" in error.text


def test_a_language_the_model_does_not_know_is_an_error(daemon, speech):
    error = _error(asyncio.run(ha_transcribe(daemon.port, speech[SENTENCES[0]], language="de")))
    assert error.code == "invalid_request" and "tiny.en" in error.text


def test_a_two_hour_upload_is_refused_long_before_its_end(daemon):
    """Two hours of audio offered in one-second chunks: refused as soon as it passes the door's limit."""

    async def two_hours() -> tuple[list[Event], int]:
        second = np.zeros(16000, dtype="<i2").tobytes()
        sent = 0
        async with AsyncTcpClient("127.0.0.1", daemon.port) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())

            async def upload() -> None:
                nonlocal sent
                for _ in range(2 * 3600):
                    await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=second).event())
                    sent += 1
                    # A write into a socket with room returns without suspending; yield as a streaming client
                    # would, or the reader never runs before all two hours are in the kernel's buffers.
                    await asyncio.sleep(0)

            sending = asyncio.create_task(upload())
            try:
                event = await read(client)
                at_error = sent  # the door drains what is still sent for a moment, so count when the error came
            finally:
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)
            closed = await read(client, 10)
        return [event, closed], at_error

    (error_event, closed), sent = asyncio.run(two_hours())
    error = Error.from_event(error_event)
    assert error.code == "invalid_audio" and "60 s" in error.text
    assert sent < 2 * 3600 and closed is None


def test_a_malformed_chunk_is_an_error(daemon):
    async def malformed() -> list[Event]:
        async with AsyncTcpClient("127.0.0.1", daemon.port) as client:
            await client.write_event(Transcribe().event())
            await client.write_event(Event(type="audio-chunk", data={"rate": "fast"}, payload=b"\1\2\3"))
            return [await read(client)]

    assert _error(asyncio.run(malformed())).code == "invalid_request"


def test_no_recognizer_is_an_error(tmp_path):
    port = free_port()
    settings = make_settings(tmp_path / "state", wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{port}"]})
    with running_daemon(settings):
        assert not asyncio.run(describe(port)).asr
        error = _error(asyncio.run(ha_transcribe(port, b"\0" * 32000)))
        assert error.code == "not_supported"


# -- both at once: Home Assistant's STT and TTS on one server ---------------------------------------------


def test_a_transcript_does_not_wait_for_another_clients_long_speech(daemon, speech):
    """One client has a long text spoken while another asks for a transcript: the transcript comes long before
    the speech ends (speech and recognition have their own engines and queues)."""

    async def both() -> tuple[float, float, str]:
        started = time.monotonic()
        async with AsyncTcpClient("127.0.0.1", daemon.port) as tts:
            await tts.write_event(Synthesize(text=LONG_TEXT).event())
            first = await read(tts)
            assert first is not None and first.type == "audio-start"
            heard = await ha_transcribe(daemon.port, speech[SENTENCES[1]])
            transcript_at = time.monotonic() - started
            while (event := await read(tts)) is not None and event.type != "audio-stop":
                pass
            speech_done = time.monotonic() - started
        return transcript_at, speech_done, Transcript.from_event(heard[-1]).text

    transcript_at, speech_done, text = asyncio.run(both())
    assert wer(SENTENCES[1], text) <= 0.1
    assert transcript_at < speech_done - 2.0, (transcript_at, speech_done)


# -- streaming transcript events, when configured --------------------------------------------------------


def test_streaming_events_come_in_wyomings_order_when_enabled(tmp_path_factory, speech):
    port, settings = wyoming_daemon(tmp_path_factory, transcript_streaming=True)
    with running_daemon(settings):
        info = asyncio.run(describe(port))
        assert info.asr[0].supports_transcript_streaming
        events = asyncio.run(ha_transcribe(port, speech[SENTENCES[0]], until="transcript-stop"))
    kinds = [e.type for e in events]
    assert kinds[0] == "transcript-start" and kinds[-2:] == ["transcript", "transcript-stop"], kinds
    assert set(kinds[1:-2]) == {"transcript-chunk"}
    chunks = "".join(e.data["text"] for e in events if e.type == "transcript-chunk")
    transcript = Transcript.from_event(events[-2])
    assert chunks.strip() == transcript.text and wer(SENTENCES[0], transcript.text) <= 0.1
