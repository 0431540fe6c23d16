"""Hostile and careless input through every door: each gets the door's own error form, never a 500 or silence, and
the daemon keeps serving (and storing) afterwards."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import select
import socket

import httpx2 as httpx
import numpy as np
import openai
import pytest
import soundfile
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

from ..conftest import assert_speech, free_port, make_settings, running_daemon
from .http_helpers import base_url, client, plugin_dir, tone, wav_bytes
from .mqtt_helpers import Probe, broker, is_status, is_terminal, new_id  # noqa: F401 (fixtures)

NODE = "hall"
SAY = f"voxhost/{NODE}/say"
RESPONSE = f"voxhost/{NODE}/response"
BAD_TEXTS = {
    "nul": "Hello\x00 world.",
    "surrogate": "Hello \ud800 world.",
}
"""Text no engine can speak: as JSON, ``\\u0000`` and ``\\ud800`` escapes."""


@pytest.fixture(scope="module")
def daemon(broker, tmp_path_factory):
    """Piper on all three doors, with a small voice library quota."""
    wyoming_port = free_port()
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[plugin_dir(tmp_path_factory.mktemp("plugins"))],  # pitchshift: a converting engine
        wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{wyoming_port}"]},
        http={"enabled": True, "port": 0, "max_upload_mb": 1.0, "api_key": None},
        mqtt={"enabled": True, "host": "127.0.0.1", "port": broker.port, "node_id": NODE, "discovery": False},
        library={"max_voices": 3, "max_megabytes": 1.0},
    )
    with running_daemon(settings) as d:
        d.wyoming_port = wyoming_port
        yield d


def still_speaks(d) -> None:
    """The daemon answers a plain request after whatever came before."""
    with client(d).audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="Still here.", response_format="pcm"
    ) as response:
        pcm = response.read()
    assert_speech(pcm, 24000, 0.3, 3.0, expect_rate=24000)


async def wyoming_exchange(port: int, *events) -> list:
    """Send events, then read until an error or the end of the answer."""
    async with AsyncTcpClient("127.0.0.1", port) as c:
        for event in events:
            await c.write_event(event.event())
        seen = []
        while (event := await asyncio.wait_for(c.read_event(), 30)) is not None:
            seen.append(event)
            if event.type in ("error", "audio-stop", "synthesize-stopped"):
                break
        return seen


def raw_wyoming(port: int, text_json: str, streaming: bool) -> list[dict]:
    """Events written by hand, so that a JSON escape (a lone surrogate) reaches the server as sent."""

    async def run() -> list[dict]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        data = ('{"text": ' + text_json + "}").encode()
        if streaming:
            writer.write(b'{"type": "synthesize-start"}\n')
            writer.write(b'{"type": "synthesize-chunk", "data_length": %d}\n' % len(data) + data)
            writer.write(b'{"type": "synthesize-stop"}\n')
        else:
            writer.write(b'{"type": "synthesize", "data_length": %d}\n' % len(data) + data)
        await writer.drain()
        out = []
        while line := await asyncio.wait_for(reader.readline(), 30):
            header = json.loads(line)
            body = await reader.readexactly(header.get("data_length", 0)) if header.get("data_length") else b"{}"
            if header.get("payload_length"):
                await reader.readexactly(header["payload_length"])
            out.append({"type": header["type"], **json.loads(body)})
            if header["type"] in ("error", "audio-stop", "synthesize-stopped"):
                break
        writer.close()
        return out

    return asyncio.run(run())


# -- text no engine can speak ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", BAD_TEXTS)
def test_unspeakable_text_is_a_400_over_http(daemon, kind):
    body = json.dumps({"model": "tts-1", "voice": "alloy", "input": BAD_TEXTS[kind], "response_format": "wav"})
    response = httpx.post(
        base_url(daemon) + "/v1/audio/speech", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["type"] == "invalid_request_error"
    # The openai client's own way of sending it: the same answer.
    with pytest.raises(openai.BadRequestError):
        client(daemon).audio.speech.create(model="tts-1", voice="alloy", input="Hi\x00 there.")
    still_speaks(daemon)


@pytest.mark.parametrize("streaming", [False, True])
@pytest.mark.parametrize("kind", BAD_TEXTS)
def test_unspeakable_text_is_an_error_event_over_wyoming(daemon, kind, streaming):
    escaped = json.dumps(BAD_TEXTS[kind])  # "\u0000" or "\ud800", as a client's JSON carries them
    events = raw_wyoming(daemon.wyoming_port, escaped, streaming)
    assert events[-1]["type"] == "error", events
    assert events[-1]["code"] == "invalid_request"
    assert "NUL" in events[-1]["text"] or "surrogate" in events[-1]["text"]
    if kind == "nul":  # the wyoming client can send a NUL itself
        sent = (
            [SynthesizeStart(), SynthesizeChunk(text=BAD_TEXTS[kind]), SynthesizeStop()]
            if streaming
            else [Synthesize(text=BAD_TEXTS[kind])]
        )
        seen = asyncio.run(wyoming_exchange(daemon.wyoming_port, *sent))
        assert seen[-1].type == "error" and seen[-1].data["code"] == "invalid_request"
    ok = asyncio.run(wyoming_exchange(daemon.wyoming_port, Synthesize(text="Fine again.")))
    assert ok[-1].type == "audio-stop"


@pytest.mark.parametrize("kind", BAD_TEXTS)
def test_unspeakable_text_is_an_error_reply_over_mqtt(daemon, broker, kind):
    probe = Probe(broker.port, "5").subscribe(f"voxhost/{NODE}/#")
    try:
        request_id = new_id()
        payload = json.dumps({"id": request_id, "text": BAD_TEXTS[kind]})  # escaped, as any JSON encoder writes it
        probe.publish(SAY, payload)
        reply = probe.wait(is_status("error", request_id, RESPONSE)).json()
        assert reply["code"] == "invalid_request", reply
        ok_id = new_id()
        probe.publish(SAY, {"id": ok_id, "text": "Fine again."})
        assert probe.wait(is_terminal(ok_id, RESPONSE)).json()["status"] == "done"
    finally:
        probe.close()


# -- deeply nested JSON ------------------------------------------------------------------------------------


def test_deeply_nested_json_is_a_400_over_http(daemon):
    url = base_url(daemon) + "/v1/audio/speech"
    for body in ("[" * 100_000 + "]" * 100_000, '{"model": "tts-1", "input": "Hi.", "options": ' + '{"a": ' * 5000):
        response = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
    still_speaks(daemon)


def test_deeply_nested_json_gets_an_error_reply_over_mqtt(daemon, broker):
    probe = Probe(broker.port, "3.1.1").subscribe(f"voxhost/{NODE}/#")
    try:
        depth = 3000  # within max_command_bytes, far past Python's recursion limit
        probe.publish(SAY, '{"id": "deep", "text": "hi", "options": ' + '{"a": ' * depth + "1" + "}" * depth + "}")
        reply = probe.wait(is_status("error", topic=RESPONSE)).json()
        assert reply["code"] == "invalid_request" and "JSON" in reply["message"]
        probe.publish(SAY, '{"text": ' + "[" * depth + "]" * depth + "}")
        assert probe.wait(is_status("error", topic=RESPONSE)).json()["code"] == "invalid_request"
        ok_id = new_id()
        probe.publish(SAY, {"id": ok_id, "text": "Fine again."})
        assert probe.wait(is_terminal(ok_id, RESPONSE)).json()["status"] == "done"
    finally:
        probe.close()


def test_deeply_nested_wyoming_data_closes_only_that_connection_with_an_error(daemon):
    async def run() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.wyoming_port)
        data = b'{"text": "hi", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        writer.write(b'{"type": "synthesize", "data_length": %d}\n' % len(data) + data)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        return answer

    answer = asyncio.run(run())
    assert b'"error"' in answer and b"protocol_error" in answer
    ok = asyncio.run(wyoming_exchange(daemon.wyoming_port, Synthesize(text="Fine again.")))
    assert ok[-1].type == "audio-stop"


# -- wrong JSON types ------------------------------------------------------------------------------------

WRONG_TYPES = [("speed", True), ("speed", "1.5"), ("keep", "yes"), ("normalize", 1), ("seed", "5")]
"""A JSON client's bugs: a boolean for a number, text for a number or a boolean, a number for a boolean."""


@pytest.mark.parametrize(("field", "value"), WRONG_TYPES)
def test_a_wrong_json_type_is_a_400_naming_the_field_over_http(daemon, field, value):
    body = {"model": "tts-1", "voice": "alloy", "input": "Hi.", field: value}
    response = httpx.post(base_url(daemon) + "/v1/audio/speech", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == field and field in error["message"], error


@pytest.mark.parametrize(("field", "value"), [*WRONG_TYPES, ("chunk_bytes", "512"), ("seed", 5.0), ("speed", 1)])
def test_a_wrong_json_type_is_an_error_reply_naming_the_field_over_mqtt(daemon, broker, field, value):
    # They were taken as pydantic's lax mode converts them: true as speed 1.0, "yes" as true, "1.5" as 1.5.
    probe = Probe(broker.port, "5").subscribe(RESPONSE)
    try:
        request_id = new_id()
        probe.publish(SAY, {"id": request_id, "text": "Hi.", "format": "none", field: value})
        reply = probe.wait(is_terminal(request_id, RESPONSE)).json()
        if isinstance(value, (int, float)) and not isinstance(value, bool) and field in ("seed", "speed"):
            assert reply["status"] == "done", reply  # a number (a whole float for a count) is still one
        else:
            assert reply["status"] == "error" and reply["code"] == "invalid_request", reply
            assert reply["param"] == field and f"'{field}'" in reply["message"], reply
    finally:
        probe.close()


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("audio-start", {"rate": "16000", "width": 2, "channels": 1}, "rate"),
        ("audio-start", {"rate": 16000, "width": True, "channels": 1}, "width"),
        ("synthesize", {"text": "Hi.", "voice": {"speaker": True}}, "voice.speaker"),
    ],
)
def test_a_wrong_json_type_is_an_error_event_naming_the_field_over_wyoming(daemon, kind, data, field):
    # An audio-start's width true was taken as 1 (8-bit audio), its rate "16000" as 16000.
    async def run() -> list[Event]:
        async with AsyncTcpClient("127.0.0.1", daemon.wyoming_port) as c:
            await c.write_event(Event(type=kind, data=data))
            seen = []
            while (event := await asyncio.wait_for(c.read_event(), 30)) is not None:
                seen.append(event)
            return seen

    seen = asyncio.run(run())
    assert [e.type for e in seen] == ["error"], seen
    assert seen[0].data["code"] == "invalid_request" and field in seen[0].data["text"], seen[0].data


# -- multipart and upload size ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'--XX\r\nContent-Disposition: form-data; name="\x1d"\r\n\r\nabc\r\n--XX--\r\n',
        b"--XX\r\ngarbage",
        b"no boundary at all",
        b'--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\nabc',  # never closed
    ],
)
def test_malformed_multipart_is_a_400(daemon, body):
    response = httpx.post(
        base_url(daemon) + "/v1/audio/voices",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=XX"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("route", "content_type"),
    [("/v1/audio/speech", "application/json"), ("/v1/audio/voices", "multipart/form-data; boundary=XX")],
)
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_body_that_does_not_decode_is_a_400(daemon, route, content_type, encoding, caplog):
    response = httpx.post(
        base_url(daemon) + route,
        content=b"not compressed at all",
        headers={"Content-Type": content_type, "Content-Encoding": encoding},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "bad_body" and f"content-encoding: {encoding}" in error["message"]
    still_speaks(daemon)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a client's mistake is not a server error"


def test_a_body_encoding_aiohttp_lacks_is_a_400_and_a_warning(daemon, caplog):
    response = httpx.post(
        base_url(daemon) + "/v1/audio/speech",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Encoding": "br"},
    )
    assert response.status_code == 400
    still_speaks(daemon)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("content-encoding" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def chunked_form(parts: int, part_bytes: int, named: bool):
    """A multipart body sent chunked (no Content-Length), of many parts."""
    yield b'--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\nBig\r\n'
    filler = b"x" * part_bytes
    for index in range(parts):
        disposition = f'form-data; name="f{index}"' if named else "form-data"
        yield f"--XX\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + filler + b"\r\n"
    yield b"--XX--\r\n"


def send_until_answered(d, route: str, body) -> tuple[bytes, int]:
    """Send a chunked request piece by piece over a raw socket, stopping as soon as an answer arrives; returns the
    answer's head and the bytes of body sent by then."""
    host, port = base_url(d).removeprefix("http://").split(":")
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"POST {route} HTTP/1.1\r\nHost: {host}:{port}\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: multipart/form-data; boundary=XX\r\n\r\n".encode()
        )
        for piece in body:
            try:
                sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            except OSError:
                break  # closed under us: the answer is in the receive buffer
            sent += len(piece)
            if select.select([sock], [], [], 0)[0]:
                break
        sock.settimeout(10)
        return sock.recv(65536), sent


@pytest.mark.parametrize("named", [True, False])
def test_chunked_upload_is_refused_once_it_passes_the_limit(daemon, named):
    # 64 KiB parts (each within the field limit), 200 MiB in all, chunked: no length to refuse it by up front.
    answer, sent = send_until_answered(daemon, "/v1/audio/voices", chunked_form(3200, 64 * 1024, named))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"too_large"' in answer
    assert sent < 8 * 1024 * 1024, f"{sent} bytes went out before the refusal (the limit is 1 MiB)"
    still_speaks(daemon)


def test_conversion_upload_is_limited_the_same_way(daemon):
    answer, sent = send_until_answered(daemon, "/v1/audio/conversions", chunked_form(3200, 64 * 1024, False))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 8 * 1024 * 1024


# -- reference audio -----------------------------------------------------------------------------------------


def voice_upload(d, audio: bytes, name: str, filename: str = "ref.wav") -> httpx.Response:
    return httpx.post(
        base_url(d) + "/v1/audio/voices",
        data={"name": name, "transcript": "A test reference."},
        files={"audio_sample": (filename, audio, "application/octet-stream")},
        timeout=60,
    )


def test_reference_audio_at_implausible_rates_is_refused(daemon):
    tiny = io.BytesIO()
    soundfile.write(tiny, (np.random.default_rng(1).random(20) - 0.5).astype(np.float32), 10, format="WAV")
    response = voice_upload(daemon, tiny.getvalue(), "Ten Hertz")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_audio", response.text
    assert "sample rate" in response.json()["error"]["message"]
    huge = io.BytesIO()
    soundfile.write(huge, tone(220, 2.0, rate=655_000), 655_000, format="FLAC")
    response = voice_upload(daemon, huge.getvalue(), "Too Fast", "ref.flac")
    assert response.status_code == 422 and "sample rate" in response.json()["error"]["message"]
    assert not [
        v
        for v in httpx.get(base_url(daemon) + "/v1/library/voices").json()["data"]
        if v["name"] in ("Ten Hertz", "Too Fast")
    ]


def test_references_are_stored_at_a_bounded_rate_and_the_library_has_a_quota(daemon):
    store = daemon.core.library
    for voice in store.list():
        store.remove(voice.id)
    # 192 kHz is a real recording rate: accepted, and stored at 48 kHz (a quarter of the bytes).
    response = voice_upload(daemon, wav_bytes(tone(220, 2.0, rate=192_000), rate=192_000), "Studio")
    assert response.status_code == 200, response.text
    assert response.json()["sample_rate"] == 48000
    stored = store.root / response.json()["id"] / "reference.wav"
    assert soundfile.info(str(stored)).samplerate == 48000 and stored.stat().st_size < 2.0 * 48000 * 2 + 1024
    # The quota: three voices, 1 MiB of voice files.
    for index in range(2):
        assert (
            voice_upload(daemon, wav_bytes(tone(330, 3.0, rate=48000), rate=48000), f"Voice {index}").status_code == 200
        )
    full = voice_upload(daemon, wav_bytes(tone(440, 3.0, rate=48000), rate=48000), "One Too Many")
    assert full.status_code == 507, full.text
    assert full.json()["error"]["code"] == "library_full" and "3 voices" in full.json()["error"]["message"]
    # Nothing half-written: three complete voices, no leftovers.
    names = sorted(p.name for p in store.root.iterdir())
    assert len(names) == 3 and all(p.startswith("voice_") for p in names), names
    assert all(
        (store.root / n / "voice.json").is_file() and (store.root / n / "reference.wav").is_file() for n in names
    )
    # A delete makes room for a voice, but not for 10 s at 48 kHz (940 KiB): past the 1 MiB.
    httpx.delete(base_url(daemon) + f"/v1/audio/voices/{names[0]}").raise_for_status()
    big = voice_upload(daemon, wav_bytes(tone(440, 10.0, rate=48000), rate=48000), "Too Big")
    assert big.status_code == 507 and big.json()["error"]["code"] == "library_full", big.text
    assert "MiB stored" in big.json()["error"]["message"]
    assert voice_upload(daemon, wav_bytes(tone(440, 3.0, rate=24000)), "Fits Again").status_code == 200
    for voice in store.list():
        store.remove(voice.id)


# -- the API key ------------------------------------------------------------------------------------------


def test_bearer_scheme_is_case_insensitive(tmp_path):
    settings = make_settings(tmp_path, http={"enabled": True, "port": 0, "api_key": "s3cret"})
    with running_daemon(settings) as d:
        url = base_url(d) + "/v1/engines"
        for header in ("Bearer s3cret", "bearer s3cret", "BEARER s3cret", "bEaReR  s3cret"):
            assert httpx.get(url, headers={"Authorization": header}).status_code == 200, header
        for header in ("Bearer wrong", "Basic s3cret", "s3cret", "bearer"):
            assert httpx.get(url, headers={"Authorization": header}).status_code == 401, header
        assert httpx.get(url).status_code == 401
