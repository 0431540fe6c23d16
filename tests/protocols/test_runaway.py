"""An engine that runs away (audio for ever for one sentence), asked through HTTP and Wyoming as clients ask: its
sentence is cut at the bound, the next sentence is still spoken, and the daemon keeps serving."""

from __future__ import annotations

import asyncio
import logging
import sys
import time

import httpx2 as httpx
import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize, SynthesizeVoice

from voxhost.runaway import FADE_SECONDS

from ..conftest import REPO, free_port, make_settings, running_daemon, wait_for
from ..plugins_runaway.runaway_engine import RATE, RUNAWAY_LEVEL, SECONDS_PER_CHAR, SPOKEN_LEVEL
from .http_helpers import base_url, client
from .mqtt_helpers import Probe, broker, is_terminal, mqtt_section, new_id  # noqa: F401 (fixtures)

PLUGINS = str(REPO / "tests" / "plugins_runaway")
TEXT = "Hello there. RUNAWAY now. Goodbye for now."
BOUND = 2.0
"""The test's floor: the runaway sentence's estimate (about 1 s) times a factor of 1 is below it."""
TOO_MUCH = 10.0
"""Seconds of audio past which a test stops reading: an unbounded engine would send audio for ever."""
HOST = {"max_audio_factor": 1.0, "max_audio_floor": BOUND}
NODE = "porch"
RESPONSE = f"voxhost/{NODE}/response"


@pytest.fixture(scope="module")
def daemon(broker, tmp_path_factory):
    """The runaway engine in-process and in a worker process, on HTTP, Wyoming and MQTT; no Piper."""
    wyoming = free_port()
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[PLUGINS],
        http={"enabled": True, "port": 0},
        wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{wyoming}"]},
        mqtt=mqtt_section(broker.port, NODE),
        engines={
            "piper": {"enabled": False},
            "runaway": HOST,
            "runaway_worker": {**HOST, "mode": "worker", "python": sys.executable},
        },
    )
    with running_daemon(settings) as d:
        d.wyoming = wyoming
        yield d


def _check(audio: bytes) -> None:
    """``TEXT`` as the runaway engine speaks it, its second sentence cut at ``BOUND``."""
    samples = np.frombuffer(audio, dtype="<i2")
    first, last = (
        int(SECONDS_PER_CHAR * len("Hello there.") * RATE),
        int(SECONDS_PER_CHAR * len("Goodbye for now.") * RATE),
    )
    assert len(samples) <= first + last + (BOUND + 0.5) * RATE, f"{len(samples) / RATE:.1f} s of audio: not cut"
    assert (samples[:first] == SPOKEN_LEVEL).all(), "the first sentence is not there"
    assert (samples[-last:] == SPOKEN_LEVEL).all(), "the sentence after the runaway one was not spoken"
    cut = samples[first:-last]
    assert abs(len(cut) - BOUND * RATE) <= RATE * 0.001, f"the runaway sentence is {len(cut) / RATE:.3f} s"
    fade = int(FADE_SECONDS * RATE)
    assert (cut[:-fade] == RUNAWAY_LEVEL).all() and (np.abs(cut[-fade:]) <= RUNAWAY_LEVEL).all()


def _speech(daemon, voice: str, text: str) -> tuple[bytes, str]:
    """The openai client's streamed speech (raw PCM), read until it ends or is far too long; and its job's id."""
    audio = bytearray()
    deadline = time.monotonic() + 20
    with client(daemon).audio.speech.with_streaming_response.create(
        model="tts-1", voice=voice, input=text, response_format="pcm"
    ) as response:
        for data in response.iter_bytes():
            audio += data
            if len(audio) > TOO_MUCH * RATE * 2 or time.monotonic() > deadline:
                break
        return bytes(audio), response.headers["X-Voxhost-Job"]


def _job(daemon, job_id: str) -> dict:
    """The job's record over HTTP, once it has ended."""
    url = f"{base_url(daemon)}/v1/jobs/{job_id}"
    wait_for(lambda: httpx.get(url).json()["state"] == "finished")
    return httpx.get(url).json()


def test_mqtt_done_reply_says_a_sentence_was_cut(daemon, broker):
    probe = Probe(broker.port, "5").subscribe(RESPONSE)
    try:
        request_id = new_id()
        probe.publish(f"voxhost/{NODE}/say", {"id": request_id, "text": TEXT, "voice": "runaway:v", "format": "none"})
        done = probe.wait(is_terminal(request_id, RESPONSE), 30).json()
    finally:
        probe.close()
    assert done["status"] == "done", done
    (warning,) = done["warnings"]
    assert warning.startswith(f"sentence 2: the engine made more than {BOUND:.0f} s of audio"), warning


@pytest.mark.parametrize("engine", ["runaway", "runaway_worker"])
def test_http_cuts_a_runaway_sentence_and_speaks_the_next(daemon, engine, caplog):
    with caplog.at_level(logging.WARNING, logger="voxhost.runner"):
        audio, job_id = _speech(daemon, f"{engine}:v", TEXT)
        _check(audio)
    warned = [r.getMessage() for r in caplog.records if "made more than" in r.getMessage()]
    assert warned and f"Engine {engine} (voice v)" in warned[0], warned
    # The job's record says so too, not only the log: a client learns why a sentence stopped short.
    (warning,) = _job(daemon, job_id)["warnings"]
    assert warning.startswith(f"sentence 2: the engine made more than {BOUND:.0f} s of audio"), warning
    # The engine was stopped, not left computing: the next request is answered at once, in full.
    started = time.monotonic()
    again = np.frombuffer(_speech(daemon, f"{engine}:v", "Hello again.")[0], dtype="<i2")
    assert len(again) == int(SECONDS_PER_CHAR * len("Hello again.") * RATE) and (again == SPOKEN_LEVEL).all()
    assert time.monotonic() - started < 10


async def test_wyoming_cuts_a_runaway_sentence_and_speaks_the_next(daemon):
    audio = bytearray()
    async with AsyncTcpClient("127.0.0.1", daemon.wyoming) as wyoming:
        await wyoming.write_event(Synthesize(text=TEXT, voice=SynthesizeVoice(name="runaway:v")).event())
        while len(audio) <= TOO_MUCH * RATE * 2:
            event = await asyncio.wait_for(wyoming.read_event(), 20)
            assert event is not None, "closed before audio-stop"
            if AudioStop.is_type(event.type):
                break
            if AudioChunk.is_type(event.type):
                chunk = AudioChunk.from_event(event)
                assert chunk.rate == RATE
                audio += chunk.audio
    _check(bytes(audio))
