"""A third-party engine whose chunks are not PCM audio, asked through HTTP and Wyoming as clients ask."""

from __future__ import annotations

import asyncio
import sys

import httpx2 as httpx
import pytest
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.tts import Synthesize, SynthesizeVoice

from .conftest import REPO, free_port, make_settings, running_daemon

FAULTY = str(REPO / "tests" / "plugins_faulty")
WRONG = {
    "rawbytes": "yielded bytes, not voxhost.PCM",
    "floatarray": "yielded ndarray, not voxhost.PCM",
    "textdata": "yielded PCM whose data is str, not bytes",
    "oddbytes": "yielded PCM of 3 bytes, not whole 16-bit samples",
    "zerorate": "yielded PCM at rate 0",
}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """Piper beside the faulty engines (two in worker processes), on HTTP and Wyoming."""
    http, wyoming = free_port(), free_port()
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[FAULTY],
        http={"enabled": True, "port": http},
        wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{wyoming}"]},
        engines={name: {"mode": "worker", "python": sys.executable} for name in ("textdata", "oddbytes")},
    )
    with running_daemon(settings) as d:
        d.http, d.wyoming = http, wyoming
        yield d


def _speech(daemon, voice: str) -> httpx.Response:
    body = {"model": "tts-1", "input": "Hello there.", "voice": voice, "response_format": "wav"}
    return httpx.post(f"http://127.0.0.1:{daemon.http}/v1/audio/speech", json=body, timeout=30)


@pytest.mark.parametrize("engine", sorted(WRONG))
def test_http_answers_a_wrong_chunk_with_an_error_naming_the_engine(daemon, engine):
    # A chunk of text data or half a sample was passed on: HTTP 200 with an empty body (the WAV encoder failed
    # after the headers) or a WAV of odd length; others failed on an AttributeError deep in the scheduler.
    response = _speech(daemon, f"{engine}:v")
    assert response.status_code == 500, response.content[:200]
    error = response.json()["error"]
    assert error["code"] == "engine_error" and f"engine {engine} failed" in error["message"], error
    assert WRONG[engine] in error["message"], error
    assert _speech(daemon, "piper:en_US-joe-medium").status_code == 200  # the others still serve


@pytest.mark.parametrize("engine", sorted(WRONG))
async def test_wyoming_answers_a_wrong_chunk_with_its_error_event(daemon, engine):
    async with AsyncTcpClient("127.0.0.1", daemon.wyoming) as client:
        await client.write_event(Synthesize(text="Hello there.", voice=SynthesizeVoice(name=f"{engine}:v")).event())
        while True:
            event = await asyncio.wait_for(client.read_event(), 30)
            assert event is not None, "closed without an error event"
            if Error.is_type(event.type):
                break
            assert event.type != "audio-stop", "a wrong chunk passed as audio"
    error = Error.from_event(event)
    assert f"engine {engine} failed" in error.text and WRONG[engine] in error.text, error.text
