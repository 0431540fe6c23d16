"""Speech-to-text through the Wyoming door, spoken to as Home Assistant's wyoming STT does (the ``wyoming`` client).

Home Assistant opens a connection per utterance, sends ``transcribe``, ``audio-start`` (16 kHz, 16-bit, mono), 10 ms
``audio-chunk``s from one task while another reads, ``audio-stop``, and takes ``transcript`` (or ``error``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

import numpy as np
import pytest
import soxr
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.ping import Ping
from wyoming.tts import Synthesize

from voxhost.events import Transcribed
from voxhost.operations import SpeechRequest

from ..conftest import ServeProcess, free_port, make_settings, running_daemon
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
    port: int, audio: bytes, language: str | None = "en", until: str = "transcript", chunk: int = HA_CHUNK, **start
) -> list[Event]:
    """Home Assistant's exchange (stt.py): upload in ``chunk``-byte events and receive at once; every event up to
    ``until`` or an error."""
    fmt = {"rate": 16000, "width": 2, "channels": 1, **start}
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language=language).event())
        await client.write_event(AudioStart(**fmt).event())

        async def upload() -> None:
            try:
                for i in range(0, len(audio), chunk):
                    await client.write_event(AudioChunk(audio=audio[i : i + chunk], **fmt).event())
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
    """48 kHz stereo 32-bit audio: converted to what the recognizer takes. PCM is a byte stream: a client reading a
    pipe in blocks of any size splits frames between chunks (1001 bytes: an eighth of a frame left over each time;
    333 bytes of 16-bit audio: half a sample), and the next chunk carries the rest of the frame."""
    mono = np.frombuffer(speech[SENTENCES[0]], dtype="<i2").astype(np.float32) / 32768.0
    high = np.clip(soxr.resample(mono, 16000, 48000), -1, 1)
    stereo = (np.repeat(high[:, None], 2, axis=1) * (2**31 - 1)).astype("<i4").tobytes()
    for expected, audio, chunk, fmt in (
        (SENTENCES[0], stereo, 1001, {"rate": 48000, "width": 4, "channels": 2}),
        (SENTENCES[1], speech[SENTENCES[1]], 333, {}),
    ):
        events = asyncio.run(ha_transcribe(daemon.port, audio, chunk=chunk, **fmt))
        assert wer(expected, Transcript.from_event(events[-1]).text) <= 0.1, (chunk, events[-1])


def rss_bytes(pid: int) -> int:
    """A process's resident memory, from ``/proc``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def high_rate(pcm16k: bytes, rate: int) -> bytes:
    """16 kHz mono speech as a capture card might send it: ``rate``, stereo, 32-bit."""
    mono = np.frombuffer(pcm16k, dtype="<i2").astype(np.float32) / 32768.0
    high = np.clip(soxr.resample(mono, 16000, rate), -1, 1)
    return (np.repeat(high[:, None], 2, axis=1) * (2**31 - 1)).astype("<i4").tobytes()


HELD_CLIENTS, HELD_SECONDS = 4, 150
"""Utterances received at once, and their length, for the memory check below: held at 16 kHz 16-bit mono they
take 4 x 150 s x 32 kB = 18 MiB; held at 192 kHz (even mono 16-bit) they would take twelve times that, 220 MiB."""
HELD_SLACK = 48 * 2**20
"""Room above the audio itself for what else the daemon's memory does meanwhile (each connection's buffers, the
allocator keeping what the conversion's temporaries freed, a noisy shared machine): the growth measured 7 MiB
above the audio's 18, and 265 MiB in all with the audio held at the client's rate."""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_audio_at_any_rate_is_heard_and_held_in_the_recognizers_format(tmp_path, speech):
    """48, 96 and 192 kHz stereo 32-bit audio is heard as well as Home Assistant's 16 kHz, and what a ``voxhost
    serve`` holds while several clients stream long utterances at 192 kHz grows as 16 kHz 16-bit mono would: the
    door converts each chunk as it arrives, so its memory is bounded whatever the clients send."""
    port = free_port()
    config = tmp_path / "voxhost.toml"
    config.write_text(
        f"""state_dir = "{tmp_path / "state"}"
[doors.wyoming]
uri = ["tcp://127.0.0.1:{port}"]
zeroconf = false
max_transcribe_seconds = {HELD_SECONDS + 30}
[doors.http]
enabled = false
[doors.mqtt]
enabled = false
"""
    )
    serve = ServeProcess(config, {**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        serve.wait_ready(120)
        for rate in (48000, 96000, 192000):
            chunk = rate * 8 // 100  # 10 ms, as Home Assistant chunks
            audio = high_rate(speech[SENTENCES[2]], rate)
            events = asyncio.run(ha_transcribe(port, audio, chunk=chunk, rate=rate, width=4, channels=2))
            assert wer(SENTENCES[2], Transcript.from_event(events[-1]).text) <= 0.1, (rate, serve.tail())
        before = rss_bytes(serve.proc.pid)  # after the recognizer's first work, so its lazy set-up is not counted
        held = asyncio.run(hold(port, high_rate(speech[SENTENCES[0]], 192000), serve.proc.pid))
    finally:
        serve.close()
    at_16k = HELD_CLIENTS * HELD_SECONDS * 16000 * 2
    assert at_16k + HELD_SLACK < HELD_CLIENTS * HELD_SECONDS * 192000 * 2 / 2, "the bound tells the formats apart"
    grown = held - before
    assert grown < at_16k + HELD_SLACK, f"RSS grew {grown / 2**20:.0f} MiB holding {at_16k / 2**20:.0f} MiB at 16 kHz"


async def hold(port: int, speech: bytes, pid: int) -> int:
    """``HELD_CLIENTS`` connections each send ``HELD_SECONDS`` of ``speech`` (192 kHz stereo 32-bit, repeated) and
    a ``ping``; once every ``pong`` is back (the door has taken all the audio before it), the daemon's RSS. The
    clients then leave without ``audio-stop``, so nothing is transcribed."""
    fmt = {"rate": 192000, "width": 4, "channels": 2}
    step = 192000 * 8 // 10  # 100 ms
    chunks = [speech[i : i + step] for i in range(0, len(speech) - step + 1, step)]

    async def send(client: AsyncTcpClient) -> None:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(**fmt).event())
        for n in range(HELD_SECONDS * 10):
            await client.write_event(AudioChunk(audio=chunks[n % len(chunks)], **fmt).event())
        await client.write_event(Ping(text="all sent").event())
        event = await read(client)
        assert event is not None and event.type == "pong", event

    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(AsyncTcpClient("127.0.0.1", port)) for _ in range(HELD_CLIENTS)]
        await asyncio.gather(*(send(client) for client in clients))
        return rss_bytes(pid)


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


def test_an_unknown_model_is_an_error_as_an_unknown_voice_is(daemon):
    """A ``transcribe`` naming a model nothing serves is told so, rather than heard by another model."""

    async def unknown() -> list[Event]:
        async with AsyncTcpClient("127.0.0.1", daemon.port) as client:
            await client.write_event(Transcribe(name="large-v9", language="en").event())
            return [await read(client)]

    error = _error(asyncio.run(unknown()))
    assert error.code == "model_not_found" and "large-v9" in error.text and "tiny.en" in error.text


def test_a_transcribe_inside_an_utterance_keeps_its_audio(daemon, speech):
    """A second ``transcribe`` between the audio events changes the request, not what was heard: the whole
    utterance is transcribed (the audio before it was dropped)."""
    text = SENTENCES[1]
    audio = speech[text]
    fmt = {"rate": 16000, "width": 2, "channels": 1}

    async def twice() -> list[Event]:
        half = len(audio) // 2 // HA_CHUNK * HA_CHUNK
        async with AsyncTcpClient("127.0.0.1", daemon.port) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(**fmt).event())
            for i in range(0, len(audio), HA_CHUNK):
                if i == half:
                    await client.write_event(Transcribe(name="tiny.en", language="en").event())
                await client.write_event(AudioChunk(audio=audio[i : i + HA_CHUNK], **fmt).event())
            await client.write_event(AudioStop().event())
            return [await read(client)]

    [event] = asyncio.run(twice())
    assert event.type == "transcript", event
    assert wer(text, Transcript.from_event(event).text) <= 0.1, Transcript.from_event(event).text


def test_a_malformed_chunk_is_an_error(daemon):
    async def malformed() -> list[Event]:
        async with AsyncTcpClient("127.0.0.1", daemon.port) as client:
            await client.write_event(Transcribe().event())
            await client.write_event(Event(type="audio-chunk", data={"rate": "fast"}, payload=b"\1\2\3"))
            return [await read(client)]

    assert _error(asyncio.run(malformed())).code == "invalid_request"


def test_an_audio_stop_with_no_utterance_is_an_error_in_its_turn(daemon):
    """A careless client's ``audio-stop`` with no ``transcribe`` or audio before it is told at once (not left
    waiting for a transcript until the idle timeout), after the answer to the request it sent before."""

    async def stray() -> list[Event]:
        async with AsyncTcpClient("127.0.0.1", daemon.port) as client:
            await client.write_event(Synthesize(text="Hello.").event())
            await client.write_event(AudioStop().event())
            seen = []
            while (event := await read(client, 10)) is not None:
                seen.append(event)
            return seen

    seen = asyncio.run(stray())
    assert [e.type for e in seen][-2:] == ["audio-stop", "error"], [e.type for e in seen]
    assert seen[0].type == "audio-start"
    error = Error.from_event(seen[-1])
    assert error.code == "invalid_audio" and "audio-stop" in error.text


def test_no_recognizer_is_an_error(tmp_path):
    port = free_port()
    settings = make_settings(tmp_path / "state", wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{port}"]})
    with running_daemon(settings):
        assert not asyncio.run(describe(port)).asr
        error = _error(asyncio.run(ha_transcribe(port, b"\0" * 32000)))
        assert error.code == "not_supported"

        async def named() -> list[Event]:  # a model named, with nothing to serve it: the same error (not a reset)
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Transcribe(name="tiny.en", language="en").event())
                return [event] if (event := await read(client, 10)) is not None else []

        assert _error(asyncio.run(named())).code == "not_supported"


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
