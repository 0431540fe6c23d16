"""Connections over Wyoming and HTTP: errors reach clients that are still sending, idle connections are closed,
the number of connections is capped, and Home Assistant's long-lived streams keep working through all of it."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx2 as httpx
import pytest
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeVoice

from ..conftest import REPO, free_port, make_settings, running_daemon
from .http_helpers import base_url

IDLE = 1.5
"""The idle timeout of this module's daemon (both doors)."""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    port = free_port()
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[str(REPO / "tests" / "plugins")],  # the tone engine: fast, several chunks per sentence
        engines={"tone": {"chunk_delay": 0.05, "slow_delay": 2 * IDLE}},
        wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{port}"], "idle_timeout": IDLE, "max_connections": 4},
        http={"enabled": True, "port": 0, "idle_timeout": IDLE, "max_connections": 4},
    )
    with running_daemon(settings) as d:
        d.port = port
        yield d


async def read_all(c: AsyncTcpClient, until: str, timeout: float = 30) -> list:
    events = []
    while (event := await asyncio.wait_for(c.read_event(), timeout)) is not None:
        events.append(event)
        if event.type == until:
            break
    return events


# -- errors reach a client that is still sending ------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(5))
def test_error_reaches_a_streaming_client_that_pauses_mid_stream(daemon, attempt):
    """Home Assistant streams an LLM's text: the error for an unknown voice comes while it is still sending."""

    async def run() -> list:
        async with AsyncTcpClient("127.0.0.1", daemon.port) as c:
            voice = SynthesizeVoice(name="nobody:no-such-voice")
            await c.write_event(SynthesizeStart(voice=voice).event())
            await asyncio.sleep(0.3)  # the model thinks; voxhost has answered with its error meanwhile
            for word in ["The", "lights", "are", "on", "in", "the", "kitchen", "now."]:
                await c.write_event(SynthesizeChunk(text=word + " ").event())
                await asyncio.sleep(0.02)
            await c.write_event(Synthesize(text="The lights are on.", voice=voice).event())
            await c.write_event(SynthesizeStop().event())
            return await read_all(c, "error")

    events = asyncio.run(run())
    assert [e.type for e in events] == ["error"], events
    assert events[0].data["code"] == "voice_not_found" and "nobody:no-such-voice" in events[0].data["text"]


def test_after_an_error_the_connection_ends_within_the_linger(daemon):
    """A client that keeps the connection open after its error is closed a moment later; voxhost serves on."""

    async def run() -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        writer.write(b'{"type": "synthesize", "data": {"text": "Hi.", "voice": {"name": "nobody:none"}}}\n')
        await writer.drain()
        started = time.monotonic()
        data = await asyncio.wait_for(reader.read(), 10)  # the error, then the end of the stream (half-close)
        assert b'"error"' in data
        for _ in range(20):  # keep sending: read and dropped, never a reset, until voxhost closes
            try:
                writer.write(b'{"type": "ping"}\n')
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(0.2)
        writer.close()
        return time.monotonic() - started

    took = asyncio.run(run())
    assert took < 5
    assert asyncio.run(one_shot(daemon, "Still serving."))[-1].type == "audio-stop"


async def one_shot(d, text: str) -> list:
    async with AsyncTcpClient("127.0.0.1", d.port) as c:
        await c.write_event(Synthesize(text=text, voice=SynthesizeVoice(name="tone:beep")).event())
        return await read_all(c, "audio-stop")


# -- idle connections -----------------------------------------------------------------------------------------


def test_wyoming_connection_that_sends_nothing_is_closed(daemon):
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as sock:
        started = time.monotonic()
        assert sock.recv(100) == b""  # closed by voxhost
        took = time.monotonic() - started
    assert IDLE - 0.2 <= took < IDLE + 2


def test_wyoming_text_stream_that_stops_sending_gets_an_error(daemon):
    async def run() -> list:
        async with AsyncTcpClient("127.0.0.1", daemon.port) as c:
            await c.write_event(SynthesizeStart(voice=SynthesizeVoice(name="tone:beep")).event())
            await c.write_event(SynthesizeChunk(text="A sentence that is spoken. And then nothing more").event())
            return await read_all(c, "error", timeout=IDLE + 10)

    events = asyncio.run(run())
    assert events[-1].type == "error" and events[-1].data["code"] == "timeout"
    assert "audio-chunk" in [e.type for e in events]  # the first sentence was spoken before


def test_home_assistant_streaming_with_pauses_and_long_audio_keeps_working(daemon):
    """Gaps shorter than the idle timeout between text chunks, and audio that plays for longer than it."""

    async def run() -> list:
        async with AsyncTcpClient("127.0.0.1", daemon.port) as c:
            voice = SynthesizeVoice(name="tone:beep")

            async def write() -> None:
                await c.write_event(SynthesizeStart(voice=voice).event())
                for part in ["Good evening. The living room is warm. ", "The front door is locked. ", "Sleep well."]:
                    await c.write_event(SynthesizeChunk(text=part).event())
                    await asyncio.sleep(IDLE * 0.7)
                await c.write_event(Synthesize(text="...", voice=voice).event())
                await c.write_event(SynthesizeStop().event())

            writer = asyncio.create_task(write())
            events = await read_all(c, "synthesize-stopped")
            await writer
            return events

    started = time.monotonic()
    events = asyncio.run(run())
    assert time.monotonic() - started > 2 * IDLE
    kinds = [e.type for e in events]
    assert kinds[-1] == "synthesize-stopped" and "error" not in kinds
    assert kinds.count("audio-start") == 4  # one group per sentence


def test_one_shot_answer_from_a_slow_engine_waits_past_the_idle_timeout(daemon):
    """The client has sent its request and waits; the engine takes longer than the idle timeout per chunk."""
    started = time.monotonic()
    events = asyncio.run(one_shot(daemon, "SLOW words."))  # two chunks, each after twice the idle timeout
    assert time.monotonic() - started > 2 * IDLE
    assert events[-1].type == "audio-stop" and "error" not in [e.type for e in events]


def test_http_connection_that_sends_nothing_or_half_a_request_is_closed(daemon):
    host, port = base_url(daemon).removeprefix("http://").split(":")
    for opening in (b"", b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n"):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(opening)
            started = time.monotonic()
            while sock.recv(4096):  # a 4xx or nothing, then the close
                pass
            assert time.monotonic() - started < IDLE + 3


def test_http_body_that_stops_arriving_gets_a_408(daemon):
    host, port = base_url(daemon).removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 500\r\n\r\n{"input": "hal'
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert b"request_timeout" in answer


# -- connection caps ----------------------------------------------------------------------------------------


def test_wyoming_connections_past_the_cap_are_refused_with_busy(daemon):
    async def run() -> tuple[list, str]:
        held = [await asyncio.open_connection("127.0.0.1", daemon.port) for _ in range(4)]
        try:
            async with AsyncTcpClient("127.0.0.1", daemon.port) as c:
                await c.write_event(Describe().event())
                refused = await read_all(c, "error")
        finally:
            for _, writer in held:
                writer.close()
        await asyncio.sleep(0.3)
        async with AsyncTcpClient("127.0.0.1", daemon.port) as c:  # room again
            await c.write_event(Describe().event())
            info = await read_all(c, "info")
        return refused, info[-1].type

    refused, after = asyncio.run(run())
    assert refused[-1].type == "error" and refused[-1].data["code"] == "busy"
    assert after == "info"


def test_http_connections_past_the_cap_get_503(daemon):
    host, port = base_url(daemon).removeprefix("http://").split(":")
    held = [socket.create_connection((host, int(port)), timeout=10) for _ in range(4)]
    try:
        time.sleep(0.2)
        refused = httpx.get(base_url(daemon) + "/health", timeout=10)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "too_many_connections"
        assert refused.headers["Retry-After"] == "1"
        # A client that reads until the connection ends has it whole as soon as its request is in, not a second on.
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(f"GET /health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            answer = b"".join(iter(lambda: sock.recv(65536), b""))
            took = time.monotonic() - started
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in head and b"Connection: close" in head
        assert json.loads(body)["error"]["code"] == "too_many_connections"
        assert took < 0.5, took
        # A HEAD request's answer has no body (its client would read one as the start of its next answer).
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(f"HEAD /health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            answer = b"".join(iter(lambda: sock.recv(65536), b""))
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ") and b"Content-Length: " in head and body == b"", answer
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert httpx.get(base_url(daemon) + "/health", timeout=10).status_code == 200


def test_http_connections_that_came_and_went_do_not_count_against_the_cap(daemon):
    # A script that sends one request per connection, more in a second than the cap: those closed were counted
    # as still starting for a second, and the fifth was refused busy.
    bad = {"model": "tone", "voice": "beep", "input": "Hi.", "response_format": "ogg"}
    codes = [httpx.post(base_url(daemon) + "/v1/audio/speech", json=bad, timeout=10).status_code for _ in range(10)]
    assert codes == [400] * 10, codes
