"""The MQTT door as careless clients use it, through paho and a real mosquitto: a payload written by a Windows tool
(a byte order mark before the JSON)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..conftest import make_settings, running_daemon
from .mqtt_helpers import (  # noqa: F401 (fixtures)
    broker,
    client,
    error_reply,
    is_status,
    is_terminal,
    mqtt_section,
    new_id,
)

pytestmark = pytest.mark.mqtt

NODE = "porch"
ROOT = f"voxhost/{NODE}"
BOM = b"\xef\xbb\xbf"
"""What PowerShell's ``Set-Content -Encoding utf8`` writes before a file's text (``mosquitto_pub -f`` sends it)."""


@pytest.fixture(scope="module")
def daemon(broker, tmp_path_factory):
    """Piper; the MQTT door with Hermes."""
    settings = make_settings(
        tmp_path_factory.mktemp("careless-state"),
        mqtt=mqtt_section(broker.port, NODE, hermes=True),
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


def test_a_hermes_say_with_a_byte_order_mark_is_spoken(client):
    # Refused with "invalid JSON: Unexpected UTF-8 BOM", its id and site lost.
    hid = new_id()
    client.subscribe("hermes/audioServer/den/playBytes/#", "hermes/error/tts", "hermes/tts/sayFinished")
    client.publish("hermes/tts/say", with_bom({"text": "Dinner is ready.", "siteId": "den", "id": hid}))
    messages = client.collect(lambda m: m.topic == "hermes/tts/sayFinished", 30)
    assert [m.topic for m in messages][0] == f"hermes/audioServer/den/playBytes/{hid}", [m.payload for m in messages]
    assert messages[-1].json() == {"id": hid, "siteId": "den", "sessionId": None}
