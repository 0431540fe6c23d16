"""Pipeline voices ("engine X's voice, converted into library voice Y") served like any voice, over Wyoming and HTTP;
and library voices that share a name, told apart in every voice list."""

from __future__ import annotations

import asyncio

import httpx2 as httpx
import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from voxhost.errors import UnknownVoiceError
from voxhost.library import VoiceLibrary
from voxhost.operations import SpeechRequest, VoiceCreate

from ..conftest import REPO, free_port, make_settings, running_daemon
from .http_helpers import base_url, wav_bytes

PLUGINS = REPO / "tests" / "plugins" / "http"  # pitchshift: converts by moving the dominant pitch to the target's


def _tone(freq: float, seconds: float = 2.0, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    # A high reference pitch: Joe's speech (dominant well below 1.5 kHz) is always played twice as fast, never about
    # as it was (a 400 Hz reference met a 400 Hz harmonic now and then, and the length did not change).
    target = VoiceLibrary(state / "voices").add(
        VoiceCreate(name="Grandma", transcript="la", language="en_US"), _tone(3000.0), 16000
    )
    port = free_port()
    settings = make_settings(
        state,
        plugins_dirs=[str(PLUGINS)],
        wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{port}"]},
        http={"enabled": True, "port": 0},
        pipelines=[
            {
                "id": "grandma-joe",
                "source": "piper:en_US-joe-medium",
                "convert_to": target.id,
                "name": "Joe as Grandma",
            },
            {"id": "nobody", "source": "piper:en_US-joe-medium", "convert_to": "voice_missing_00000000"},
        ],
    )
    with running_daemon(settings) as d:
        d.port = port
        yield d


async def _wyoming(port, *events):
    async with AsyncTcpClient("127.0.0.1", port) as client:
        for event in events:
            await client.write_event(event.event())
        out = []
        while True:
            event = await asyncio.wait_for(client.read_event(), 60)
            if event is None:
                return out
            out.append(event)
            if Info.is_type(event.type) or AudioStop.is_type(event.type) or event.type == "error":
                return out


def test_pipeline_voice_is_listed_in_describe(daemon):
    (info,) = asyncio.run(_wyoming(daemon.port, Describe()))
    voices = {v.name: v for v in Info.from_event(info).tts[0].voices}
    assert voices["pipeline:grandma-joe"].description == "Joe as Grandma"
    assert voices["pipeline:grandma-joe"].languages == ["en_US"]


def test_pipeline_voice_speaks_converted_audio_over_wyoming(daemon):
    events = asyncio.run(
        _wyoming(
            daemon.port, Synthesize(text="Dinner is ready. Please come.", voice=SynthesizeVoice(name="grandma-joe"))
        )
    )
    assert AudioStart.is_type(events[0].type) and AudioStop.is_type(events[-1].type)
    chunks = [AudioChunk.from_event(e) for e in events if AudioChunk.is_type(e.type)]
    assert {c.rate for c in chunks} == {24000}  # the converting engine's rate
    converted = b"".join(c.audio for c in chunks)
    plain, rate = daemon.call(daemon.core.speak(SpeechRequest(text="Dinner is ready. Please come.")))
    # pitchshift plays the speech faster or slower to move its pitch: the length changes, the audio is not silence
    samples = np.frombuffer(converted, dtype="<i2").astype(np.float32) / 32768
    assert np.sqrt(np.mean(samples**2)) > 0.01
    assert 0.4 < (len(converted) / 24000) / (len(plain) / rate) < 2.1
    assert len(converted) / 24000 != pytest.approx(len(plain) / rate, rel=0.01)


def test_pipeline_to_a_missing_library_voice_is_a_clear_error(daemon):
    with pytest.raises(UnknownVoiceError, match="voice_missing_00000000"):
        daemon.core.submit(SpeechRequest(text="Hello.", voice="pipeline:nobody"))


def test_two_voices_of_one_name_are_told_apart_where_only_names_are_shown(daemon):
    # Home Assistant shows a Wyoming voice's description alone, Open WebUI a listed voice's name: a second recording
    # of Grandma, stored under her name beside the first (allowed), read "Grandma (Pitch shift (test))" twice there.
    url = base_url(daemon)
    sample = ("grandma.wav", wav_bytes(_tone(2000.0), 16000), "audio/wav")
    form = {"name": "Grandma", "transcript": "la", "language": "en_US"}
    added = httpx.post(url + "/v1/audio/voices", data=form, files={"audio_sample": sample}, timeout=30)
    assert added.status_code == 200, added.text
    second = added.json()["id"]
    try:
        (info,) = asyncio.run(_wyoming(daemon.port, Describe()))
        described = {v.description: v.name for v in Info.from_event(info).tts[0].voices if v.name.startswith("pitch")}
        listed = {v["name"]: v["id"] for v in httpx.get(url + "/v1/audio/voices", timeout=10).json()["voices"]}
        for shown in (described, listed):
            # the first keeps the name, the second is numbered; the ids (what requests and automations use) stay
            grandmas = {name: vid for name, vid in shown.items() if name.startswith("Grandma")}
            assert set(grandmas) == {"Grandma (Pitch shift (test))", "Grandma (2) (Pitch shift (test))"}, shown
            assert {vid.split(":")[1] for vid in grandmas.values()} == {second, _first_grandma(daemon, second)}
        assert described == {name: vid for name, vid in listed.items() if vid.startswith("pitch")}
    finally:
        assert httpx.delete(f"{url}/v1/audio/voices/{second}", timeout=10).status_code == 200
    (info,) = asyncio.run(_wyoming(daemon.port, Describe()))  # alone again: the name alone
    assert "Grandma (Pitch shift (test))" in {v.description for v in Info.from_event(info).tts[0].voices}


def _first_grandma(daemon, second: str) -> str:
    """The library voice named Grandma the daemon started with."""
    return next(v.id for v in daemon.core.library.list() if v.name == "Grandma" and v.id != second)
