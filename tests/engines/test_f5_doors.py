"""F5-TTS end to end through the Wyoming, HTTP and MQTT doors: one daemon (F5 in its worker on tiny models)."""

from __future__ import annotations

import asyncio
import io
import uuid

import numpy as np
import pytest
import soundfile
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize, SynthesizeVoice

from ..conftest import free_port, make_settings, running_daemon
from ..protocols.http_helpers import client as openai_client
from ..protocols.mqtt_helpers import Probe, audio_of, broker, is_terminal  # noqa: F401 (fixtures)
from .f5_fixtures import (
    add_voice,
    build_tiny_models,
    expected_seconds,
    f5_python,
    samples,
)

pytestmark = [pytest.mark.heavy, pytest.mark.mqtt]

RATE = 24000
NODE = "f5-doors"
ROOT = f"voxhost/{NODE}"
FIRST = "Hello world, this is a test of the tiny model."
SECOND = "The kitchen lights are on and dinner is ready."
TIMEOUT = 300


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, broker):
    """F5 in worker mode on tiny English and French models, with all three doors open."""
    models_dir = tmp_path_factory.mktemp("models")
    tiny = build_tiny_models(models_dir)
    port = free_port()
    f5 = {
        "enabled": True,
        "mode": "worker",
        "python": f5_python(),
        "models": tiny,
        "nfe_steps": 8,
        "languages": ["en", "fr"],
    }
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        models_dir=str(models_dir),
        engines={"f5": f5},
        wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{port}"]},
        http={"enabled": True, "port": 0},
        mqtt={"enabled": True, "host": "127.0.0.1", "port": broker.port, "node_id": NODE, "connect_timeout": 10},
    )
    with running_daemon(settings) as d:
        d.port = port
        # the reference (3 s, its transcript known) fixes F5's duration: seconds per byte of text
        d.voice = "f5:" + add_voice(d, "tone", language="en_US")
        yield d


def assert_f5_speech(pcm: bytes, rate: int, text: str, speed: float = 1.0) -> None:
    """F5's rate, finite and not silent, as long as the reference's pace and the speed make it."""
    assert rate == RATE
    audio = samples(pcm)
    assert np.isfinite(audio).all()
    assert float(np.sqrt(np.mean(audio**2))) > 0.001, "output is silent"
    seconds = audio.size / rate
    want = sum(expected_seconds(sentence, speed) for sentence in text_sentences(text))
    assert abs(seconds - want) / want < 0.1, f"{seconds:.2f} s, expected about {want:.2f} s"


def text_sentences(text: str) -> list[str]:
    """The test texts' sentences (each ends with a full stop), as the core splits them."""
    return [part.strip() + "." for part in text.split(".") if part.strip()]


def test_wyoming_synthesize_two_sentences(daemon):
    async def synthesize() -> list:
        async with AsyncTcpClient("127.0.0.1", daemon.port) as client:
            await client.write_event(
                Synthesize(text=f"{FIRST} {SECOND}", voice=SynthesizeVoice(name=daemon.voice)).event()
            )
            events = []
            while True:
                event = await asyncio.wait_for(client.read_event(), TIMEOUT)
                assert event is not None, "the door closed the connection"
                events.append(event)
                if AudioStop.is_type(event.type) or event.type == "error":
                    return events

    events = asyncio.run(synthesize())
    assert AudioStart.is_type(events[0].type) and AudioStop.is_type(events[-1].type), [e.type for e in events]
    assert AudioStart.from_event(events[0]).rate == RATE
    chunks = [AudioChunk.from_event(e) for e in events if AudioChunk.is_type(e.type)]
    assert {(c.rate, c.width, c.channels) for c in chunks} == {(RATE, 2, 1)}
    assert_f5_speech(b"".join(c.audio for c in chunks), RATE, f"{FIRST} {SECOND}")


@pytest.mark.parametrize("speed", [1.0, 2.0])
def test_openai_client_wav_at_speed(daemon, speed):
    with (
        openai_client(daemon)
        .with_options(timeout=TIMEOUT)
        .audio.speech.with_streaming_response.create(
            model="f5", voice=daemon.voice, input=FIRST, response_format="wav", speed=speed, extra_body={"seed": 1}
        ) as response
    ):
        assert response.headers["x-voxhost-voice"] == daemon.voice
        data = response.read()
    audio, rate = soundfile.read(io.BytesIO(data), dtype="int16")
    assert audio.ndim == 1
    assert_f5_speech(audio.tobytes(), rate, FIRST, speed)


def test_openai_client_pcm_is_24k(daemon):
    with (
        openai_client(daemon)
        .with_options(timeout=TIMEOUT)
        .audio.speech.with_streaming_response.create(
            model="f5", voice=daemon.voice, input=SECOND, response_format="pcm"
        ) as response
    ):
        pcm = response.read()
    assert_f5_speech(pcm, 24000, SECOND)  # OpenAI's pcm is 24 kHz whatever the engine; F5's own rate too


def test_mqtt_say_streams_chunks(daemon, broker):
    rid = uuid.uuid4().hex[:12]
    probe = Probe(broker.port, "5")
    try:
        probe.subscribe(f"{ROOT}/response", f"{ROOT}/audio/{rid}/#")
        probe.publish(
            f"{ROOT}/say", {"text": FIRST, "id": rid, "voice": daemon.voice, "speed": 2.0, "chunk_bytes": 4096}
        )
        messages = probe.collect(is_terminal(rid, f"{ROOT}/response"), timeout=TIMEOUT)
        stop = f"{ROOT}/audio/{rid}/stop"
        if not any(m.topic == stop for m in messages):
            messages += probe.collect(lambda m: m.topic == stop, timeout=30)
    finally:
        probe.close()
    replies = [m.json() for m in messages if m.topic == f"{ROOT}/response" and m.json().get("id") == rid]
    assert replies[0]["status"] == "queued" and replies[0]["rate"] == RATE and replies[0]["voice"] == daemon.voice
    assert replies[-1]["status"] == "done", replies[-1]
    pcm, rate, chunks = audio_of(messages, f"{ROOT}/audio/{rid}")
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= 4096
    assert_f5_speech(pcm, rate, FIRST, speed=2.0)
    assert replies[-1]["duration"] == pytest.approx(len(pcm) / 2 / rate, abs=0.01)
