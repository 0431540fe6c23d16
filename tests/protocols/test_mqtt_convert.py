"""Voice conversion over MQTT against a real mosquitto: audio in on ``convert``, converted speech out as audio."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Callable

import numpy as np
import pytest
import soundfile

import voxhost
from voxhost import PCM, Engine
from voxhost.engine import Capability
from voxhost.library import VoiceLibrary
from voxhost.operations import VoiceCreate

from ..conftest import make_settings, running_daemon, wait_for
from .http_helpers import dominant_frequency, plugin_dir, tone, wav_bytes
from .mqtt_helpers import (  # noqa: F401 (fixtures)
    Probe,
    audio_of,
    broker,
    client,
    client311,
    error_reply,
    is_status,
    is_terminal,
    mqtt_section,
    new_id,
    replies_of,
)

pytestmark = pytest.mark.mqtt

NODE = "den"
BASE = "voxhost"
ROOT = f"{BASE}/{NODE}"
MAX_BYTES = 200_000
MAX_SECONDS = 5.0


class DawdleEngine(Engine):
    """Converts at a tenth of real time (a tone per 0.1 s, every 0.1 s), so a conversion can be stopped."""

    engine_id = "dawdle"
    capabilities = frozenset({Capability.CONVERT})
    enabled_by_default = True

    def voices(self):
        return []

    def load(self):
        pass

    def synthesize(self, request):
        raise NotImplementedError

    def convert(self, audio, target, options):
        t = np.arange(1600) / 16000
        for _ in range(100):
            time.sleep(0.1)
            yield PCM.from_float(0.3 * np.sin(2 * np.pi * 220 * t), 16000)


class DawdlePlugin:
    @voxhost.hookimpl
    def register_engines(self, register):
        register(DawdleEngine)


def door(port: int, node: str, **extra) -> dict:
    """The MQTT door of this module's daemons (their limits on audio in, unless ``extra`` sets them)."""
    limits = {"max_command_bytes": 4096, "max_convert_bytes": MAX_BYTES, "max_convert_seconds": MAX_SECONDS}
    return mqtt_section(port, node, **{**limits, **extra})


@pytest.fixture(scope="module")
def daemon(broker, tmp_path_factory):
    """Piper plus the pitchshift test engine, which converts by moving the input's pitch to the target's."""
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[plugin_dir(tmp_path_factory.mktemp("plugins"))],
        mqtt=door(broker.port, NODE, shared_group="pool"),
    )
    with running_daemon(settings) as d:
        yield d


@pytest.fixture(scope="module")
def target(daemon):
    """A library voice whose pitch is 300 Hz, added before the tests."""
    voice = daemon.call(daemon.core.store_voice(VoiceCreate(name="Target"), tone(300.0, 2.0), 24000))
    return voice.id


def convert_error(probe: Probe, payload, properties=None, topic: str = f"{ROOT}/convert") -> dict:
    """Send a convert request that should fail; its one reply (to a response topic of its own)."""
    return error_reply(probe, topic, payload, properties, timeout=20)


# -- conversions ---------------------------------------------------------------------------------------


def test_raw_wav_with_user_properties_mqtt5(client, daemon):
    # Added while the daemon runs: conversion reads the library at request time.
    voice = daemon.call(daemon.core.store_voice(VoiceCreate(name="Deep"), tone(150.0, 2.0), 24000)).id
    rid, correlation = new_id(), uuid.uuid4().bytes
    reply_topic = f"test/replies/{rid}"
    client.subscribe(reply_topic, f"{ROOT}/audio/{rid}/#")
    client.publish(
        f"{ROOT}/convert",
        wav_bytes(tone(200.0, 1.5)),
        response_topic=reply_topic,
        correlation=correlation,
        user_properties=[("voice", voice), ("id", rid), ("chunk_bytes", "2048")],
    )
    messages = client.collect(is_terminal(rid, reply_topic))
    replies = [m for m in messages if m.topic == reply_topic]
    assert [m.json()["status"] for m in replies] == ["queued", "started", "done"]
    assert all(m.correlation == correlation and m.json()["node"] == NODE for m in replies)
    queued, done = replies[0].json(), replies[-1].json()
    assert queued["voice"] == f"pitchshift:{voice}" and queued["audio_topic"] == f"{ROOT}/audio/{rid}"
    assert queued["input_duration"] == pytest.approx(1.5, abs=0.01)
    pcm, rate, chunks = audio_of(messages, f"{ROOT}/audio/{rid}")
    assert max(len(c) for c in chunks) <= 2048 and rate == queued["rate"]
    assert abs(dominant_frequency(pcm, rate) - 150) < 6  # 200 Hz moved to the target's 150 Hz
    seconds = len(pcm) / 2 / rate
    assert seconds == pytest.approx(2.0, abs=0.05)  # resampled like tape: 1.5 s at 200 Hz is 2 s at 150 Hz
    assert done["duration"] == pytest.approx(seconds, abs=0.01) and done["bytes"] == len(pcm)
    assert 0 < done["ttfa"] <= done["elapsed"]


def test_json_base64_from_an_mqtt311_client_on_the_pool_topic(client311, target):
    rid = new_id()
    client311.subscribe(f"{BASE}/+/response", f"{ROOT}/audio/{rid}/#")
    flac = wav_bytes(tone(220.0, 1.2), fmt="FLAC")
    request = {"audio": base64.b64encode(flac).decode(), "voice": "target", "id": rid, "format": "both"}
    client311.publish(f"{BASE}/convert", request)  # the pool topic, joined as shared group "pool"
    messages = client311.collect(is_terminal(rid, f"{ROOT}/response"))
    replies = replies_of(messages, f"{ROOT}/response", rid)
    assert [r["status"] for r in replies] == ["queued", "started", "done"], replies
    assert replies[0]["voice"] == f"pitchshift:{target}"  # found by the voice's name
    wav = [m for m in messages if m.topic == f"{ROOT}/audio/{rid}/wav"]
    pcm, rate, _ = audio_of([m for m in messages if m not in wav], f"{ROOT}/audio/{rid}")
    assert abs(dominant_frequency(pcm, rate) - 300) < 10
    assert len(wav) == 1
    samples, wav_rate = soundfile.read(io.BytesIO(wav[0].payload), dtype="int16")
    assert wav_rate == rate and samples.tobytes() == pcm


def test_json_with_catalog_id_engine_and_reply_to(client311, target):
    rid = new_id()
    client311.subscribe(f"test/{rid}", f"{ROOT}/audio/{rid}/#")
    request = {
        "audio": "data:audio/wav;base64," + base64.b64encode(wav_bytes(tone(400.0, 1.0))).decode(),
        "voice": f"pitchshift:{target}",
        "engine": "pitchshift",
        "id": rid,
        "format": "wav",
        "reply_to": f"test/{rid}",
    }
    client311.publish(f"{ROOT}/convert", request)
    messages = client311.collect(is_terminal(rid, f"test/{rid}"))
    assert messages[-1].json()["status"] == "done"
    wav = [m for m in messages if m.topic == f"{ROOT}/audio/{rid}/wav"]
    assert len(wav) == 1 and not any(m.topic.endswith("/chunk") for m in messages)
    samples, rate = soundfile.read(io.BytesIO(wav[0].payload), dtype="int16")
    assert abs(dominant_frequency(samples.tobytes(), rate) - 300) < 10


def test_raw_audio_with_voice_and_id_in_the_topic_for_mqtt311(client311, target):
    # What an ESP32 or Node-RED flow can send without user properties or base64: the recorded file as is.
    rid = new_id()
    client311.subscribe(f"{ROOT}/response", f"{ROOT}/audio/{rid}/#")
    client311.publish(f"{ROOT}/convert/{target}/{rid}", wav_bytes(tone(250.0, 1.0, rate=16000), rate=16000))
    messages = client311.collect(is_terminal(rid, f"{ROOT}/response"))
    assert [r["status"] for r in replies_of(messages, f"{ROOT}/response", rid)] == ["queued", "started", "done"]
    pcm, rate, _ = audio_of(messages, f"{ROOT}/audio/{rid}")
    assert abs(dominant_frequency(pcm, rate) - 300) < 10


# -- errors: one clear reply each, and the daemon keeps serving ------------------------------------------


def test_bad_requests_get_one_error_reply_each(client, target):
    good = wav_bytes(tone(200.0, 1.0))
    undecodable = convert_error(client, b"this is not audio at all", [("voice", target)])
    assert undecodable["code"] == "invalid_audio" and undecodable["param"] == "audio"
    too_long = convert_error(client, wav_bytes(tone(200.0, 6.0, rate=8000), rate=8000), [("voice", target)])
    assert too_long["code"] == "invalid_audio" and "at most 5 s" in too_long["message"]
    too_big = wav_bytes(tone(200.0, 4.5))  # under the length limit, over the byte limit
    assert len(too_big) > MAX_BYTES
    big = convert_error(client, too_big, [("voice", target), ("id", "big-1")])
    assert big["code"] == "too_large" and big["id"] == "big-1"
    big_json = convert_error(client, {"audio": base64.b64encode(too_big + too_big).decode(), "voice": target})
    assert big_json["code"] == "too_large"
    unknown = convert_error(client, good, [("voice", "voice_nobody_00000000"), ("id", "who")])
    assert unknown["code"] == "voice_not_found" and unknown["param"] == "voice" and unknown["id"] == "who"
    missing = convert_error(client, good)
    assert missing["code"] == "invalid_request" and missing["param"] == "voice"
    bad_base64 = convert_error(client, {"audio": "not base64!", "voice": target, "id": "b64"})
    assert bad_base64["param"] == "audio" and bad_base64["id"] == "b64"
    typo = convert_error(client, {"audio": base64.b64encode(good).decode(), "voise": target})
    assert typo["code"] == "invalid_request" and "voise" in typo["message"]
    no_engine = convert_error(client, good, [("voice", target), ("engine", "nosuch")])
    assert no_engine["code"] == "engine_not_found"
    piper = convert_error(client, good, [("voice", target), ("engine", "piper")])
    assert piper["code"] == "not_supported" and "piper" in piper["message"]
    not_cloned = convert_error(client, good, [("voice", "piper:en_US-joe-medium")])
    assert not_cloned["code"] == "voice_not_found"
    deep = convert_error(client, good, topic=f"{ROOT}/convert/{target}/x/y")
    assert deep["param"] == "topic"
    # Still serving:
    rid = new_id()
    client.subscribe(f"{ROOT}/response")
    client.publish(f"{ROOT}/convert", good, user_properties=[("voice", target), ("id", rid), ("format", "none")])
    assert client.wait(is_terminal(rid, f"{ROOT}/response"), 20).json()["status"] == "done"


def test_a_refused_conversion_does_not_use_up_its_id(client, target):
    rid, good = new_id(), wav_bytes(tone(200.0, 1.0))
    client.subscribe(f"{ROOT}/response")
    client.publish(f"{ROOT}/convert", good, user_properties=[("voice", "voice_nobody_00000000"), ("id", rid)])
    assert client.wait(is_terminal(rid, f"{ROOT}/response"), 20).json()["code"] == "voice_not_found"
    client.publish(f"{ROOT}/convert", good, user_properties=[("voice", target), ("id", rid), ("format", "none")])
    assert client.wait(is_terminal(rid, f"{ROOT}/response"), 20).json()["status"] == "done"


def test_retained_convert_is_ignored(client, target):
    rid = new_id()
    client.subscribe(f"{ROOT}/response")
    client.publish(
        f"{ROOT}/convert", wav_bytes(tone(200.0, 1.0)), retain=True, user_properties=[("voice", target), ("id", rid)]
    )
    try:
        assert not [m for m in client.drain(1.0) if m.payload.startswith(b"{") and m.json().get("id") == rid]
    finally:
        client.publish(f"{ROOT}/convert", b"", retain=True)  # clear it from the broker


def test_without_a_converting_engine_the_error_says_so(broker, tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("plain"), mqtt=door(broker.port, "plain"))
    with running_daemon(settings):
        probe = Probe(broker.port, "3.1.1")
        try:
            rid = new_id()
            probe.subscribe(f"{BASE}/plain/response")
            audio = base64.b64encode(wav_bytes(tone(200.0, 1.0))).decode()
            probe.publish(f"{BASE}/plain/convert", {"audio": audio, "voice": "voice_someone_12345678", "id": rid})
            reply = probe.wait(is_terminal(rid, f"{BASE}/plain/response"), 20).json()
        finally:
            probe.close()
    assert reply["status"] == "error" and reply["code"] == "not_supported"
    assert "no running engine can convert voices" in reply["message"]


@pytest.fixture(scope="module")
def dawdler(broker, tmp_path_factory):
    """A daemon whose conversions crawl (node ``slow``), with a runaway bound of 1 s for a short input, a library
    voice of its own, and the pipeline voice ``joe-dawdling`` (Piper's Joe, converted by it)."""
    state = tmp_path_factory.mktemp("dawdle")
    target = VoiceLibrary(state / "voices").add(VoiceCreate(name="Dawdler", transcript="la"), tone(300.0, 2.0), 24000)
    pipeline = {"id": "joe-dawdling", "source": "piper:en_US-joe-medium", "convert_to": target.id, "engine": "dawdle"}
    settings = make_settings(
        state, mqtt=door(broker.port, "slow"), engines={"dawdle": {"max_audio_floor": 1}}, pipelines=[pipeline]
    )
    with running_daemon(settings, plugins_extra=(("dawdle", DawdlePlugin()),)) as d:
        yield d, d.call(d.core.store_voice(VoiceCreate(name="Anyone"), tone(300.0, 2.0), 24000)).id


def test_stop_command_cancels_a_conversion(broker, dawdler):
    d, voice = dawdler
    probe = Probe(broker.port, "5")
    try:
        rid = new_id()
        probe.subscribe(f"{BASE}/slow/response", f"{BASE}/slow/audio/{rid}/#")
        probe.publish(f"{BASE}/slow/convert/{voice}/{rid}", wav_bytes(tone(200.0, 1.0)))
        probe.wait(lambda m: m.topic.endswith(f"{rid}/chunk"), 20)  # converting
        probe.publish(f"{BASE}/slow/stop", {"id": rid})
        messages = probe.collect(is_terminal(rid, f"{BASE}/slow/response"), 10)
    finally:
        probe.close()
    error = messages[-1].json()
    assert error["code"] == "cancelled" and "stop command" in error["message"]
    stop = next(m.json() for m in messages if m.topic == f"{BASE}/slow/audio/{rid}/stop")
    assert stop["status"] == "cancelled" and 0 < stop["seconds"] < 5


def test_a_conversion_cut_by_the_runaway_bound_says_so_in_done(broker, dawdler):
    # 10 s of audio for 0.1 s of speech, as an engine caught in a loop makes: cut at the bound (1 s here), and the
    # client was told nothing (the cut was in the log only), where a say's done reply names such a cut.
    d, voice = dawdler
    probe = Probe(broker.port, "5")
    try:
        rid = new_id()
        probe.subscribe(f"{BASE}/slow/response")
        probe.publish(f"{BASE}/slow/convert/{voice}/{rid}", wav_bytes(tone(200.0, 0.1)))
        done = probe.wait(is_terminal(rid, f"{BASE}/slow/response"), 10).json()
    finally:
        probe.close()
    assert done["status"] == "done" and done["duration"] == pytest.approx(1.0, abs=0.01), done
    assert len(done["warnings"]) == 1 and "more than 1 s of audio" in done["warnings"][0], done
    assert "max_audio_floor in [engines.dawdle]" in done["warnings"][0]


def test_a_pipeline_voice_whose_conversion_is_cut_says_so_in_done(broker, dawdler):
    # A pipeline voice's conversion cut by the runaway bound was only logged: its done reply and job record said
    # nothing, where a plain conversion's and a sentence's name their cut. "Hi." at speed 4 is about 0.1 s of speech,
    # so its conversion is bounded at 1 s.
    probe = Probe(broker.port, "5")
    try:
        rid = new_id()
        probe.subscribe(f"{BASE}/slow/response")
        probe.publish(
            f"{BASE}/slow/say", {"text": "Hi.", "voice": "joe-dawdling", "speed": 4, "id": rid, "format": "none"}
        )
        done = probe.wait(is_terminal(rid, f"{BASE}/slow/response"), 20).json()
    finally:
        probe.close()
    assert done["status"] == "done" and done["duration"] == pytest.approx(1.0, abs=0.01), done
    (warning,) = done["warnings"]
    assert warning.startswith("sentence 1: the engine made more than 1 s of audio for a conversion of"), warning
    assert "max_audio_floor in [engines.dawdle]" in warning


def test_a_conversion_whose_broker_is_gone_stops(broker, dawdler):
    # Its audio would be dropped (nothing is kept for a broker that is gone), yet the engine went on converting for
    # nobody, holding its slot; a say is cancelled as undelivered there, and so is a conversion now.
    d, voice = dawdler
    mqtt = next(door for door in d.daemon.doors if door.name == "mqtt")
    probe = Probe(broker.port, "5")
    try:
        rid = new_id()
        probe.subscribe(f"{BASE}/slow/audio/{rid}/#")
        probe.publish(f"{BASE}/slow/convert/{voice}/{rid}", wav_bytes(tone(200.0, 1.0)))
        probe.wait(lambda m: m.topic.endswith(f"{rid}/chunk"), 20)  # converting: 8 s of audio to come
    finally:
        probe.close()
    try:
        broker.stop()
        wait_for(lambda: not mqtt.status()["connected"], 5)
        wait_for(lambda: rid not in mqtt.ctx.tracker.conversions, 2)
    finally:
        broker.start()
    wait_for(lambda: mqtt.status()["connected"], 10)  # the module's other daemons reconnect too


def _flood(probe: Probe, root: str, voice: str, payloads: list[bytes]) -> dict[str, dict]:
    """Publish convert requests back to back (raw and JSON in turn); each one's first ``queued`` or ``error``."""
    reply_topic = f"test/replies/{new_id()}"
    probe.subscribe(reply_topic)
    ids = [new_id() for _ in payloads]
    for n, (rid, audio) in enumerate(zip(ids, payloads, strict=True)):
        if n % 2:
            request = {"audio": base64.b64encode(audio).decode(), "voice": voice, "id": rid, "format": "none"}
            probe.publish(f"{root}/convert", request, response_topic=reply_topic)
        else:
            properties = [("voice", voice), ("id", rid), ("format", "none")]
            probe.publish(f"{root}/convert", audio, response_topic=reply_topic, user_properties=properties)
    first: dict[str, dict] = {}
    while len(first) < len(ids):
        reply = probe.wait(lambda m: m.topic == reply_topic, 20).json()
        if reply["status"] in ("queued", "error"):
            first.setdefault(reply["id"], reply)
    assert set(first) == set(ids), first
    return first


def _stop_all(probe: Probe, root: str, taken: list[str]) -> None:
    """Stop every conversion of the node; each one taken ends ``cancelled``."""
    probe.publish(f"{root}/stop", {})
    left = set(taken)
    while left:
        reply = probe.wait(lambda m: m.payload.startswith(b"{") and is_status("error")(m), 10).json()
        assert reply["code"] == "cancelled", reply
        left.discard(reply["id"])


BIG = wav_bytes(tone(200.0, 4.0, 16000), 16000)
"""128 kB: the flooded daemon's bytes bound takes two of them."""
SMALL = wav_bytes(tone(200.0, 0.3, 16000), 16000)
"""10 kB: its count bound takes three."""
FLOODED = f"{BASE}/flood"
HUGE_AUDIO = 21_000_000
"""Bytes of audio in the JSON request refused on the loop (28 MB of base64)."""
BUSY = re.compile(
    r"too many uploads in progress \(\d+, holding \d+\.\d MiB; at most \d+ and [\d.]+ MiB: "
    r"max_audio_requests, max_audio_bytes\); try again shortly"
)
"""A ``busy`` answer, worded as the HTTP door's (there ``max_upload_requests, max_uploads_mb``)."""


@pytest.fixture(scope="module")
def flooded(broker, tmp_path_factory):
    """A daemon whose conversions crawl, with room for two big uploads or three small ones at once (JSON requests
    of ``HUGE_AUDIO`` are within its size limit), and a library voice of its own."""
    limits = {"max_audio_bytes": len(BIG) * 5 // 2, "max_audio_requests": 3, "max_convert_bytes": HUGE_AUDIO}
    settings = make_settings(tmp_path_factory.mktemp("flood"), mqtt=door(broker.port, "flood", **limits))
    with running_daemon(settings, plugins_extra=(("dawdle", DawdlePlugin()),)) as d:
        yield d, d.call(d.core.store_voice(VoiceCreate(name="Anyone"), tone(300.0, 2.0), 24000)).id


def test_a_flood_of_uploads_is_bounded_and_every_request_answered(broker, flooded):
    """Each request with audio holds its payload until it is answered. The door takes requests while they hold at
    most max_audio_bytes (and number at most max_audio_requests) and answers the rest ``busy`` at once: a flood of
    uploads was all taken, each one's payload kept while conversions crawled."""
    _, voice = flooded
    probe = Probe(broker.port, "5")
    try:
        for payload, room in ((BIG, 2), (SMALL, 3)):
            first = _flood(probe, FLOODED, voice, [payload] * 6)
            taken = [rid for rid, reply in first.items() if reply["status"] == "queued"]
            busy = [reply for reply in first.values() if reply["status"] == "error"]
            assert len(taken) == room, first  # every other one would be holding its payload now
            assert all(reply["code"] == "busy" and BUSY.fullmatch(reply["message"]) for reply in busy), busy
            _stop_all(probe, FLOODED, taken)
        # The daemon keeps serving: with the conversions stopped, a request is taken again.
        again = _flood(probe, FLOODED, voice, [BIG])
        assert [reply["status"] for reply in again.values()] == ["queued"], again
        _stop_all(probe, FLOODED, list(again))
    finally:
        probe.close()


async def _thread_id() -> int:
    return threading.get_ident()


def test_a_refused_request_is_answered_without_parsing_it_on_the_event_loop(broker, flooded):
    """A request past the budget is answered ``busy`` on the event loop at once, to its ``reply_to`` with its id;
    both were read by parsing the whole JSON request there, about 15 ms per 14 MB of base64 audio, while every
    other request of every door waited. The loop's thread is timed by the CPU it uses, against taking in as many
    bytes it does not read: an absolute bound (20 ms) failed on a busy machine that stretched both alike."""
    daemon, voice = flooded
    loop_clock = time.pthread_getcpuclockid(daemon.call(_thread_id()))
    probe = Probe(broker.port, "5")
    try:
        held = _flood(probe, FLOODED, voice, [SMALL])  # in progress: no room for a request of megabytes
        reply_topic, rid = f"test/replies/{new_id()}", new_id()
        probe.subscribe(reply_topic)
        probe.subscribe(f"{FLOODED}/voices")
        audio = base64.b64encode(bytes(HUGE_AUDIO)).decode()
        request = {"audio": audio, "voice": voice, "format": "none", "id": rid, "reply_to": reply_topic}
        refused, ignored = [], []
        for _ in range(3):
            before = time.clock_gettime(loop_clock)
            probe.publish(f"{FLOODED}/convert", request)
            reply = probe.wait(lambda m: m.topic == reply_topic, 20).json()
            refused.append(time.clock_gettime(loop_clock) - before)
            before = time.clock_gettime(loop_clock)
            probe.publish(f"{FLOODED}/voices/get", request)  # as many bytes, read off the socket and not parsed
            probe.publish(f"{FLOODED}/voices/get", b"")  # answered after it, in order
            probe.wait(lambda m: m.topic == f"{FLOODED}/voices" and not m.retain, 20)
            ignored.append(time.clock_gettime(loop_clock) - before)
        _stop_all(probe, FLOODED, list(held))
    finally:
        probe.close()
    assert (reply["status"], reply["code"], reply["id"]) == ("error", "busy", rid), reply
    assert BUSY.fullmatch(reply["message"]), reply
    body = json.dumps(request).encode()
    parse = min(_cpu_of(lambda: json.loads(body)) for _ in range(3))
    # Side by side, the least of three of each (a busy machine only adds): the refusal costs the loop what taking
    # the message in costs it, and far less than parsing it would; the parse alone is some 20 ms.
    spent = min(refused) - min(ignored)
    assert spent < parse / 2, f"refusing took {spent * 1000:.1f} ms past reading; parsing, {parse * 1000:.1f}"


def _cpu_of(work: Callable[[], object]) -> float:
    """CPU seconds this thread spends on ``work``."""
    started = time.thread_time()
    work()
    return time.thread_time() - started


def _malformed(voice: str, rid: str) -> list[bytes]:
    """JSON requests (each of some 300 kB) that the parser refuses: in the audio string the glance skips (a control
    character, a bad escape, a byte that is no UTF-8), inside a nested value, and in the object itself."""
    audio = base64.b64encode(bytes(240_000)).decode()
    head = json.dumps({"id": rid, "voice": voice, "format": "none"})[:-1]
    flawed = [audio[:1000] + "\x01" + audio[1000:], audio[:1000] + "\\q" + audio[1000:], audio + "\\u12x4"]
    payloads = [f'{head}, "audio": "{text}"}}'.encode() for text in flawed]
    payloads.append(f'{head}, "audio": "{audio[:500]}\udcff{audio[500:]}"}}'.encode(errors="surrogateescape"))
    payloads.append(f'{head}, "options": {{"pitch": tru}}, "audio": "{audio}"}}'.encode())
    payloads.append(f'{head}, "options": {{"pitch": ["1" "2"]}}, "audio": "{audio}"}}'.encode())
    payloads.append(f'{head}, "audio": "{audio}", "options": {{"pitch": [1}}}}'.encode())  # brackets that do not match
    payloads.append(f'{head}, "audio": "{audio}" "format": "none"}}'.encode())  # the object itself
    payloads.append(f'{head}, "audio": "{audio}}}'.encode())  # no end to the audio
    return payloads


def test_a_malformed_request_past_the_budget_gets_the_malformed_answer(broker, flooded):
    """The glance that answers ``busy`` skipped the strings and nested values of a request without checking them, so
    a request the parser refuses was answered ``busy`` with the id it holds echoed; it gets the answer it gets when
    the door has room, word for word, and echoes nothing. A request that parses (every ``/`` of its base64 escaped,
    as PHP writes it) is still answered ``busy`` with its id."""
    _, voice = flooded
    probe = Probe(broker.port, "5")
    try:
        answers = []
        reply_topic, rid = f"test/replies/{new_id()}", new_id()
        probe.subscribe(reply_topic)
        payloads = _malformed(voice, rid)
        for payload in payloads:  # with room: parsed on a thread
            probe.publish(f"{FLOODED}/convert", payload, response_topic=reply_topic)
            answers.append(probe.wait(lambda m: m.topic == reply_topic, 20).json())
        held = _flood(probe, FLOODED, voice, [SMALL])  # no room for a request of 300 kB now
        for payload in payloads:
            probe.publish(f"{FLOODED}/convert", payload, response_topic=reply_topic)
            answers.append(probe.wait(lambda m: m.topic == reply_topic, 20).json())
        escaped = json.dumps({"id": rid, "voice": voice, "audio": base64.b64encode(bytes(range(256)) * 940).decode()})
        probe.publish(f"{FLOODED}/convert", escaped.replace("/", "\\/"), response_topic=reply_topic)
        busy = probe.wait(lambda m: m.topic == reply_topic, 20).json()
        _stop_all(probe, FLOODED, list(held))
    finally:
        probe.close()
    assert all(r["code"] == "invalid_request" and r["param"] == "payload" and r["id"] is None for r in answers), answers
    with_room, without = answers[: len(payloads)], answers[len(payloads) :]
    assert [r["message"] for r in without] == [r["message"] for r in with_room]
    assert "Invalid control character at line 1 column" in with_room[0]["message"]  # not "at at line"
    assert (busy["code"], busy["id"]) == ("busy", rid), busy
