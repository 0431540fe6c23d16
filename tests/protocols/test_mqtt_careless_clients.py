"""The MQTT door as careless and hostile clients use it, through paho and a real mosquitto: a payload written by a
Windows tool (a byte order mark before the JSON), and a flood of requests while another door serves."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx2 as httpx
import pytest

from ..conftest import make_settings, running_daemon, wait_for
from .http_helpers import base_url
from .mqtt_helpers import (  # noqa: F401 (fixtures)
    Probe,
    broker,
    client,
    error_reply,
    is_status,
    is_terminal,
    mqtt_section,
    new_id,
    one_reply,
)

pytestmark = pytest.mark.mqtt

NODE = "porch"
ROOT = f"voxhost/{NODE}"
PUBLISH_LIMIT = 100_000
"""The largest message the daemon may publish (a broker's Maximum Packet Size lowers it alike)."""
BOM = b"\xef\xbb\xbf"
"""What PowerShell's ``Set-Content -Encoding utf8`` writes before a file's text (``mosquitto_pub -f`` sends it)."""


@pytest.fixture(scope="module")
def daemon(broker, tmp_path_factory):
    """Piper; the MQTT door with Hermes, and the HTTP door."""
    settings = make_settings(
        tmp_path_factory.mktemp("careless-state"),
        mqtt=mqtt_section(broker.port, NODE, hermes=True, max_publish_bytes=PUBLISH_LIMIT),
        http={"enabled": True, "port": 0},
    )
    with running_daemon(settings) as d:
        yield d


def with_bom(request: dict[str, Any]) -> bytes:
    """``request`` as JSON, as a Windows editor saves it."""
    return BOM + json.dumps(request).encode()


def test_a_say_request_with_a_byte_order_mark_is_read_as_json(client):
    # It was taken as plain text: the JSON itself was spoken, under a job id rather than the request's id.
    rid = new_id()
    client.subscribe(f"{ROOT}/response")
    client.publish(f"{ROOT}/say", with_bom({"text": "Dinner is ready.", "id": rid, "format": "none"}))
    queued = client.wait(is_status("queued"), 10).json()
    assert queued["id"] == rid, queued
    assert client.wait(is_terminal(rid), 30).json()["status"] == "done"
    client.subscribe(f"{ROOT}/jobs")
    client.publish(f"{ROOT}/jobs/get", with_bom({"job": queued["job"], "id": rid, "format": "none"}))
    job = client.wait(lambda m: m.topic == f"{ROOT}/jobs", 10).json()
    assert job["id"] == rid and job["status"] == "job" and job["job"]["text"] == "Dinner is ready.", job


@pytest.mark.parametrize(
    ("topic", "request_", "code", "words"),
    [
        ("voices/delete", {"voice": "voice_nobody"}, "voice_not_found", "no voice 'voice_nobody'"),
        ("convert", {"voice": "voice_nobody", "audio": "UklGRg=="}, "not_supported", "no running engine"),
        ("transcribe", {"audio": "UklGRg=="}, "not_supported", "no running engine"),
        ("voices/get", {"engine": 5}, "invalid_request", "invalid field 'engine'"),
    ],
)
def test_every_request_topic_reads_json_after_a_byte_order_mark(client, topic, request_, code, words):
    # voices/delete took the whole JSON as the voice's name, convert and transcribe took it as an audio file, and
    # voices/get as no JSON at all (its fields unread).
    rid = new_id()
    error = error_reply(client, f"{ROOT}/{topic}", with_bom({**request_, "id": rid}))
    assert error["code"] == code and words in error["message"] and error["id"] == rid, error


def test_a_default_voice_with_a_byte_order_mark_is_read_as_json(client):
    # The whole JSON was taken as the voice's name.
    error = error_reply(client, f"{ROOT}/voice/set", with_bom({"voice": "piper:nobody"}))
    assert error["code"] == "voice_not_found" and "unknown voice 'piper:nobody'" in error["message"], error


def test_the_default_voice_may_be_sent_as_a_json_string(client):
    # The quotes were taken as part of the voice's name: "unknown voice '\"piper:en_US-joe-medium\"'". A JSON string
    # is the text itself on the say topic and names the voice on voices/delete.
    client.subscribe(f"{ROOT}/voice", f"{ROOT}/response")
    client.drain(0.5)  # the retained voice
    client.publish(f"{ROOT}/voice/set", json.dumps("piper:en_US-joe-medium"))
    message = client.wait(lambda m: m.topic in (f"{ROOT}/voice", f"{ROOT}/response"), 10)
    assert (message.topic, message.payload) == (f"{ROOT}/voice", b"piper:en_US-joe-medium"), message
    error = error_reply(client, f"{ROOT}/voice/set", json.dumps("piper:nobody"))
    assert error["code"] == "voice_not_found" and "unknown voice 'piper:nobody'" in error["message"], error


def test_a_hermes_say_with_a_byte_order_mark_is_spoken(client):
    # Refused with "invalid JSON: Unexpected UTF-8 BOM", its id and site lost.
    hid = new_id()
    client.subscribe("hermes/audioServer/den/playBytes/#", "hermes/error/tts", "hermes/tts/sayFinished")
    client.publish("hermes/tts/say", with_bom({"text": "Dinner is ready.", "siteId": "den", "id": hid}))
    messages = client.collect(lambda m: m.topic == "hermes/tts/sayFinished", 30)
    assert [m.topic for m in messages][0] == f"hermes/audioServer/den/playBytes/{hid}", [m.payload for m in messages]
    assert messages[-1].json() == {"id": hid, "siteId": "den", "sessionId": None}


FLOOD = 6000
"""Say requests an automation gone wrong publishes at once (QoS 0: the client waits for nothing)."""
LONGEST_WAIT = 1.0
"""Seconds an HTTP request may wait while the flood is handled (over 3 s while each message was its own callback)."""


def test_a_flood_of_say_requests_leaves_the_other_doors_serving(daemon, broker, client):
    url, waits, done = base_url(daemon) + "/health", [], threading.Event()

    def poll() -> None:
        with httpx.Client(timeout=60) as http:
            while not done.is_set():
                started = time.monotonic()
                assert http.get(url).status_code == 200
                waits.append(time.monotonic() - started)
                time.sleep(0.02)

    poller = threading.Thread(target=poll)
    poller.start()
    flood = Probe(broker.port)
    try:
        time.sleep(0.3)
        for n in range(FLOOD):
            request = {"text": f"Flood {n}.", "id": f"flood-{n}", "format": "none"}
            flood.client.publish(f"{ROOT}/say", json.dumps(request), qos=0)
        # Answered after every request of the flood: the door takes messages in order.
        after = one_reply(client, f"{ROOT}/voices/get", {"id": "after-flood"}, timeout=120)
    finally:
        done.set()
        poller.join()
        flood.close()
        # The flood's jobs still queued would hold the next tests' requests behind them (seconds on a busy machine).
        client.publish(f"{ROOT}/stop", {"all": True})
        wait_for(lambda: not daemon.core.jobs(), 30)
    assert after["status"] == "ok" and after["id"] == "after-flood", after
    assert len(waits) > 10 and max(waits) < LONGEST_WAIT, sorted(waits)[-5:]


@pytest.mark.parametrize(
    ("topic", "request_", "response_topic", "param", "default"),
    [
        (
            "say",
            {"text": "Hello.", "format": "wav", "audio_topic": f"{ROOT}/voices/add"},
            None,
            "audio_topic",
            "response",
        ),
        ("say", {"text": "Hello.", "reply_to": f"{ROOT}/say"}, None, "reply_to", "response"),
        # Another node's request topic: with a shared broker, that node stored the WAV as its library voice "wav".
        (
            "say",
            {"text": "Hello.", "format": "wav", "audio_topic": "voxhost/hall/voices/add"},
            None,
            "audio_topic",
            "response",
        ),
        ("say", {"text": "Hello."}, f"{ROOT}/stop", "response_topic", "response"),
        ("jobs/get", {"audio_topic": "voxhost/convert"}, None, "audio_topic", "jobs"),
        ("voices/get", {"reply_to": f"{ROOT}/voice/set"}, None, "reply_to", "voices"),
        (
            "voices/delete",
            {"voice": "voice_nobody", "reply_to": f"{ROOT}/voices/delete/x"},
            None,
            "reply_to",
            "response",
        ),
        ("transcribe", {"audio": "UklGRg==", "reply_to": "hermes/tts/say"}, None, "reply_to", "response"),
    ],
)
def test_replies_and_audio_never_go_where_voxhost_takes_requests(
    client, topic, request_, response_topic, param, default
):
    # A say's WAV under <root>/voices/add/wav came back as a voice upload and was stored as the library voice "wav";
    # replies aimed at a request topic came back as requests. Such a request is refused, its error on the default topic.
    rid = new_id()
    client.subscribe(f"{ROOT}/{default}", f"{ROOT}/voices/add/#")
    client.publish(
        f"{ROOT}/{topic}",
        {**request_, "id": rid},
        response_topic=response_topic,
        correlation=b"c1" if response_topic else None,
    )
    reply = client.wait(lambda m: m.topic == f"{ROOT}/{default}" and m.json().get("id") == rid, 10).json()
    assert reply["status"] == "error" and reply["param"] == param, reply
    assert "voxhost takes requests there" in reply["message"], reply
    # Nothing more of this request (no job, no audio), and no voice upload.
    assert [m for m in client.drain(1.0) if m.topic.startswith(f"{ROOT}/voices/add") or rid.encode() in m.payload] == []


def test_a_reply_too_large_to_publish_is_an_error_instead_of_silence(client):
    # A page of jobs above the message limit was dropped with a warning in the log: the client waited for good.
    client.publish(f"{ROOT}/stop", {"all": True})
    client.subscribe(f"{ROOT}/response")
    text = "Please close the window in the attic before the storm arrives tonight. " * 50
    ids = [new_id() for _ in range(30)]
    for rid in ids:
        client.publish(f"{ROOT}/say", {"text": text, "id": rid, "format": "none"})
    client.wait(is_status("queued", ids[-1]), 30)
    client.publish(f"{ROOT}/stop", b"")
    for rid in ids:
        assert client.wait(is_terminal(rid), 30).json()["status"] == "error"  # cancelled: the jobs stay listed
    error = error_reply(client, f"{ROOT}/jobs/get", {"id": "all-jobs", "limit": 500})
    assert error["code"] == "too_large" and error["id"] == "all-jobs", error
    assert f"above the {PUBLISH_LIMIT} byte message limit" in error["message"], error
    page = one_reply(client, f"{ROOT}/jobs/get", {"id": "some-jobs", "limit": 5})
    assert page["status"] == "ok" and len(page["jobs"]) == 5, page


def test_rhasspy_get_voices_echoes_a_numeric_id(client):
    # A Hermes say's id may be a number, and is echoed as one; getVoices with {"id": 4711} was dropped without a word.
    client.subscribe("rhasspy/tts/voices")
    client.publish("rhasspy/tts/getVoices", {"id": 4711, "siteId": "den"})
    voices = client.wait(lambda m: m.topic == "rhasspy/tts/voices", 10).json()
    assert voices["id"] == 4711 and voices["siteId"] == "den", voices
    assert {"voiceId": "piper:en_US-joe-medium", "description": "Joe (en_US, medium)"} in voices["voices"], voices


@pytest.mark.parametrize(
    ("payload", "words", "context", "site"),
    [
        (b"{not json", "invalid JSON", None, "default"),
        (b"[1, 2]", "the payload must be a JSON object", None, "default"),
        (json.dumps({"id": 1.5, "siteId": "den"}), "invalid field 'id'", None, "den"),
        (json.dumps({"id": "gv-7", "siteId": 5}), "invalid field 'siteId'", "gv-7", "default"),
        (json.dumps({"id": "gv-8", "siteId": "den\u0000"}), "invalid field 'siteId'", "gv-8", "default"),
    ],
)
def test_a_bad_get_voices_is_answered_in_hermes_terms(client, payload, words, context, site):
    # It was logged and dropped: a Rhasspy client waited for the voices answer for good. Rhasspy's services tell a
    # failure on hermes/error/tts, the request's id as its context, and still answer, listing what they could.
    client.subscribe("rhasspy/tts/voices", "hermes/error/tts")
    client.publish("rhasspy/tts/getVoices", payload)
    messages = client.collect(lambda m: m.topic == "rhasspy/tts/voices", 10)
    assert [m.topic for m in messages] == ["hermes/error/tts", "rhasspy/tts/voices"], messages
    error, answer = messages[0].json(), messages[1].json()
    assert words in error["error"] and (error["context"], error["siteId"]) == (context, site), error
    assert answer == {"voices": [], "id": context, "siteId": site}, answer
