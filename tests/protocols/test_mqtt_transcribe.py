"""Speech-to-text over MQTT against a real mosquitto: audio in on ``transcribe``, the text out as a status reply."""

from __future__ import annotations

import base64
import io
import uuid

import numpy as np
import pytest
import soundfile

from ..conftest import make_settings, running_daemon
from ..listener import wer
from .http_helpers import two_hours_of_silence
from .mqtt_helpers import (  # noqa: F401 (fixtures)
    SENTENCE,
    Probe,
    broker,
    client,
    client311,
    error_reply,
    is_terminal,
    mqtt_section,
    new_id,
    replies_of,
    speech,
)

pytestmark = pytest.mark.mqtt

NODE = "hall"
BASE = "voxhost"
ROOT = f"{BASE}/{NODE}"
MAX_BYTES = 600_000


@pytest.fixture(scope="module")
def daemon(broker, tmp_path_factory):
    mqtt = mqtt_section(
        broker.port,
        NODE,
        max_command_bytes=4096,
        max_convert_bytes=MAX_BYTES,
        max_transcribe_seconds=10,
        shared_group="pool",
    )
    settings = make_settings(tmp_path_factory.mktemp("state"), engines={"whisper": {"enabled": True}}, mqtt=mqtt)
    with running_daemon(settings) as d:
        yield d


def replies(probe: Probe, topic: str, request_id: str) -> list[dict]:
    return replies_of(probe.collect(is_terminal(request_id, topic), timeout=90), topic, request_id)


def test_raw_audio_with_user_properties_mqtt5(client, speech):
    rid, correlation = new_id(), uuid.uuid4().bytes
    reply_topic = f"test/replies/{rid}"
    client.subscribe(reply_topic)
    client.publish(
        f"{ROOT}/transcribe",
        speech,
        response_topic=reply_topic,
        correlation=correlation,
        user_properties=[("id", rid), ("language", "en"), ("word_timestamps", "true")],
    )
    got = replies(client, reply_topic, rid)
    assert [r["status"] for r in got] == ["queued", "done"]
    queued, done = got
    assert queued["engine"] == "whisper" and queued["input_duration"] > 2 and done["node"] == NODE
    assert wer(SENTENCE, done["text"]) <= 0.1, done["text"]
    assert done["language"] == "en" and done["duration"] == pytest.approx(queued["input_duration"], abs=0.01)
    words = [w for segment in done["segments"] for w in segment["words"]]
    assert words[0]["text"].strip().lower() == "dinner" and words[0]["start"] >= 0


def test_json_with_base64_audio_and_reply_to(client, speech):
    rid = new_id()
    client.subscribe("test/json-replies")
    client.publish(
        f"{ROOT}/transcribe",
        {
            "id": rid,
            "audio": "data:audio/wav;base64," + base64.b64encode(speech).decode(),
            "reply_to": "test/json-replies",
            "options": {"beam_size": 2},
            "segments": True,
        },
    )
    done = replies(client, "test/json-replies", rid)[-1]
    assert done["status"] == "done" and wer(SENTENCE, done["text"]) <= 0.1
    assert done["segments"] and "words" not in done["segments"][0]


def test_translate_answers_in_english(client, speech):
    # tiny.en hears only English: translated into English, its speech is the text heard
    rid = new_id()
    client.subscribe("test/translated")
    properties = [("id", rid), ("task", "translate"), ("reply_to", "test/translated")]
    client.publish(f"{ROOT}/transcribe", speech, user_properties=properties)
    done = replies(client, "test/translated", rid)[-1]
    assert done["status"] == "done" and wer(SENTENCE, done["text"]) <= 0.1, done
    assert _error(client, speech, [("task", "interpret")])["param"] == "task"


def test_a_null_field_is_its_default(client):
    # A Node-RED object writes an unset field as null: "options", "segments" and "word_timestamps" were refused.
    wav = io.BytesIO()
    soundfile.write(wav, np.zeros(8000, np.float32), 16000, format="WAV")
    rid = new_id()
    client.subscribe("test/null-replies")
    nulls = dict.fromkeys(("language", "prompt", "engine", "options", "segments", "word_timestamps", "task"))
    audio = base64.b64encode(wav.getvalue()).decode()
    client.publish(f"{ROOT}/transcribe", {"id": rid, "audio": audio, "reply_to": "test/null-replies", **nulls})
    assert replies(client, "test/null-replies", rid)[-1]["status"] == "done"


def test_mqtt311_language_and_id_in_the_topic_reply_on_the_response_topic(client311, speech):
    rid = new_id()
    client311.subscribe(f"{ROOT}/response")
    client311.publish(f"{BASE}/transcribe/en/{rid}", speech)  # the pool topic, shared by every node's group
    done = replies(client311, f"{ROOT}/response", rid)[-1]
    assert done["status"] == "done" and wer(SENTENCE, done["text"]) <= 0.1


def _error(probe: Probe, payload, properties=None, topic: str = f"{ROOT}/transcribe") -> dict:
    return error_reply(probe, topic, payload, properties, timeout=60)


def test_bad_input_gets_an_error_reply(client, speech):
    assert _error(client, b"")["code"] == "invalid_request"
    assert _error(client, b"not audio, just some text that is long enough to look like a file")["code"] == (
        "invalid_audio"
    )
    assert _error(client, {"audio": "%%%not base64%%%"})["param"] == "audio"
    assert _error(client, speech, [("language", "de")])["param"] == "language"
    assert _error(client, speech, [("word_timestamps", "maybe")])["param"] == "word_timestamps"
    assert _error(client, b"\0" * (MAX_BYTES + 1))["code"] == "too_large"
    assert _error(client, speech, topic=f"{ROOT}/transcribe/en/a/b")["param"] == "topic"


def test_a_wildcard_response_topic_is_refused_on_reply_to(client, speech):
    rid, reply_to = new_id(), f"test/replies/{new_id()}"
    client.subscribe(reply_to)
    properties = [("id", rid), ("reply_to", reply_to)]
    client.publish(f"{ROOT}/transcribe", speech, response_topic="my/+", user_properties=properties)
    error = client.wait(lambda m: m.topic == reply_to, 30).json()
    assert error["status"] == "error" and error["param"] == "response_topic" and error["id"] == rid, error
    assert client.drain(0.5) == []  # nothing was transcribed


def test_a_two_hour_recording_is_refused(client):
    flac = two_hours_of_silence()
    assert len(flac) < MAX_BYTES
    error = _error(client, flac)
    assert error["code"] == "invalid_audio" and "7200" in error["message"]


def test_no_recognizer_is_an_error_reply(broker, tmp_path):
    mqtt = {"enabled": True, "host": "127.0.0.1", "port": broker.port, "node_id": "bare", "discovery": False}
    with running_daemon(make_settings(tmp_path / "state", mqtt=mqtt)):
        probe = Probe(broker.port, "5")
        try:
            error = _error(probe, b"RIFF....", topic=f"{BASE}/bare/transcribe")
        finally:
            probe.close()
    assert error["code"] == "not_supported"


def test_audio_that_fails_past_its_header_does_not_use_up_the_id(client):
    """A file is decoded when the recognizer takes it up, after ``queued``: one whose header reads but whose samples
    do not (NaNs) is refused then, and its id may be sent again at once with the file fixed, as after a refusal."""
    broken, fixed = io.BytesIO(), io.BytesIO()
    soundfile.write(broken, np.full(16000, np.nan, np.float32), 16000, format="WAV", subtype="FLOAT")
    soundfile.write(fixed, np.zeros(16000, np.float32), 16000, format="WAV", subtype="FLOAT")
    rid, reply_topic = new_id(), f"test/replies/{new_id()}"
    client.subscribe(reply_topic)
    client.publish(f"{ROOT}/transcribe/en/{rid}", broken.getvalue(), response_topic=reply_topic)
    got = replies(client, reply_topic, rid)
    assert [(r["status"], r.get("code")) for r in got] == [("queued", None), ("error", "invalid_audio")], got
    client.publish(f"{ROOT}/transcribe/en/{rid}", fixed.getvalue(), response_topic=reply_topic)
    assert replies(client, reply_topic, rid)[-1]["status"] == "done"


def test_a_request_reusing_an_id_with_other_audio_is_answered(client):
    """A redelivery carries the same payload: a request at QoS 1 that reuses an id within the dedupe window with
    other audio (a fixed id in an automation) was dropped as a copy, without a word; a true copy still is."""
    files = []
    for samples in (16000, 12000, 8000):
        wav = io.BytesIO()
        soundfile.write(wav, np.zeros(samples, np.float32), 16000, format="WAV")
        files.append(wav.getvalue())
    rid, reply_topic = new_id(), f"test/replies/{new_id()}"
    client.subscribe(reply_topic)
    for wav in files[:2]:
        client.publish(f"{ROOT}/transcribe/en/{rid}", wav, response_topic=reply_topic)  # QoS 1
        got = replies_of(client.collect(is_terminal(rid, reply_topic), timeout=30), reply_topic, rid)
        assert [r["status"] for r in got] == ["queued", "done"], got
    client.publish(f"{ROOT}/transcribe/en/{rid}", files[1], response_topic=reply_topic)  # a copy: dropped
    client.publish(f"{ROOT}/transcribe/en/{rid}", files[2], response_topic=reply_topic)
    got = replies_of(client.collect(is_terminal(rid, reply_topic), timeout=30), reply_topic, rid)
    assert [r["status"] for r in got] == ["queued", "done"] and got[-1]["duration"] == 0.5, got
