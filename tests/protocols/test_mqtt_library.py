"""The voice library over MQTT against a real mosquitto: a voice uploaded without a transcript is heard by the
whisper engine and stored with what it said; a wrong transcript is refused; bad uploads get one error reply."""

from __future__ import annotations

import base64
import io
import uuid

import pytest
import soundfile

from voxhost.errors import UnknownVoiceError
from voxhost.operations import VoiceCreate

from ..conftest import make_settings, running_daemon
from ..listener import wer
from .mqtt_helpers import (  # noqa: F401 (fixtures)
    SENTENCE,
    Probe,
    broker,
    client,
    client311,
    mqtt_section,
    new_id,
    one_reply,
    speech,
)

pytestmark = pytest.mark.mqtt

NODE = "den"
ROOT = f"voxhost/{NODE}"
MAX_BYTES = 400_000


@pytest.fixture(scope="module")
def daemon(broker, tmp_path_factory):
    mqtt = mqtt_section(broker.port, NODE, max_command_bytes=4096, max_convert_bytes=MAX_BYTES)
    settings = make_settings(tmp_path_factory.mktemp("state"), engines={"whisper": {"enabled": True}}, mqtt=mqtt)
    with running_daemon(settings) as d:
        yield d


def _reply(probe: Probe, topic: str, payload, properties=None) -> dict:
    """The one reply to a request (with correlation data, as an MQTT 5 client sends)."""
    return one_reply(probe, topic, payload, properties, timeout=90, correlation=uuid.uuid4().bytes)


def test_raw_audio_without_a_transcript_is_heard_and_stored(client, daemon, speech):
    rid = new_id()
    reply = _reply(client, f"{ROOT}/voices/add", speech, [("name", "Gate Keeper"), ("language", "en_US"), ("id", rid)])
    assert reply["status"] == "done" and reply["id"] == rid and reply["node"] == NODE, reply
    voice = reply["voice"]
    assert voice["name"] == "Gate Keeper" and voice["language"] == "en_US" and reply["transcribed"] is True
    assert wer(SENTENCE, voice["transcript"]) <= 0.1, voice["transcript"]
    stored = daemon.core.library_voice(voice["id"])
    assert stored.transcript == voice["transcript"] and stored.words, "stored as replied, its words timed"
    assert voice["seconds"] == pytest.approx(stored.seconds) and voice["sample_rate"] == 22050


def test_mqtt311_name_language_and_id_in_the_topic(client311, daemon, speech):
    rid = new_id()
    client311.subscribe(f"{ROOT}/response")
    client311.publish(f"{ROOT}/voices/add/Porch Voice/en/{rid}", speech)
    reply = client311.wait(lambda m: m.topic == f"{ROOT}/response" and m.json().get("id") == rid, 90).json()
    assert reply["status"] == "done" and reply["voice"]["name"] == "Porch Voice", reply
    assert reply["voice"]["language"] == "en" and wer(SENTENCE, reply["voice"]["transcript"]) <= 0.1


def test_json_with_a_right_transcript_keeps_it_and_a_wrong_one_is_refused(client, daemon, speech):
    audio = "data:audio/wav;base64," + base64.b64encode(speech).decode()
    given = "Dinner is ready! Please come to the kitchen."
    reply = _reply(client, f"{ROOT}/voices/add", {"name": "Given", "transcript": given, "audio": audio})
    assert reply["status"] == "done" and reply["voice"]["transcript"] == given and reply["transcribed"] is False
    wrong = {"name": "Wrong", "transcript": "Bananas are an excellent source of potassium.", "audio": audio, "id": "w1"}
    error = _reply(client, f"{ROOT}/voices/add", wrong)
    assert (error["status"], error["id"], error["code"], error["param"]) == (
        "error",
        "w1",
        "invalid_request",
        "transcript",
    )
    assert "kitchen" in error["message"].lower()
    assert "Wrong" not in [v.name for v in daemon.call(daemon.core.library_voices())]


def test_bad_uploads_get_an_error_naming_the_field(client, speech):
    add = f"{ROOT}/voices/add"

    def error(payload, properties=None, topic: str = add) -> dict:
        reply = _reply(client, topic, payload, properties)
        assert reply["status"] == "error", reply
        return reply

    junk = error(b"not audio, just some text that is long enough to look like a file", [("name", "Junk")])
    assert (junk["code"], junk["param"]) == ("invalid_audio", "audio")
    unnamed = error(speech)
    assert (unnamed["code"], unnamed["param"]) == ("invalid_request", "name") and "name" in unnamed["message"]
    missing = error({"audio": base64.b64encode(speech).decode()})
    assert missing["param"] == "name" and "missing" in missing["message"]
    assert error(speech, [("name", "bad/name?")], topic=add)["param"] == "name"
    assert error(b"", [("name", "Empty")])["param"] == "audio"
    assert error({"name": "X", "audio": "%%%not base64%%%"})["param"] == "audio"
    assert error(b"\0" * (MAX_BYTES + 1), [("name", "Big")])["code"] == "too_large"
    assert error(speech, topic=f"{add}/A/en/1/extra")["param"] == "topic"
    half = speech[:44] + speech[44 : 44 + 22050]  # half a second: too short for a reference
    short = error(half, [("name", "Short")])
    assert (short["code"], short["param"]) == ("invalid_audio", "audio"), short


def test_delete_by_id_then_again(client, daemon, speech):
    added = _reply(client, f"{ROOT}/voices/add", speech, [("name", "Doomed"), ("transcript", SENTENCE)])
    voice_id = added["voice"]["id"]
    deleted = _reply(client, f"{ROOT}/voices/delete", voice_id.encode())
    assert deleted["status"] == "done" and deleted["deleted"] is True and deleted["voice"]["id"] == voice_id
    with pytest.raises(UnknownVoiceError):
        daemon.core.library_voice(voice_id)
    again = _reply(client, f"{ROOT}/voices/delete/{voice_id}", b"")
    assert (again["status"], again["code"], again["param"]) == ("error", "voice_not_found", "voice")
    assert _reply(client, f"{ROOT}/voices/delete", b"{}")["param"] == "voice"


def test_a_broken_voice_is_deleted_by_its_id(client, daemon, speech):
    samples, rate = soundfile.read(io.BytesIO(speech), dtype="float32")
    voice_id = daemon.core.library.add(VoiceCreate(name="Garbled"), samples, rate).id
    folder = daemon.core.library.root / voice_id
    (folder / "voice.json").write_text('{"id": "voi')  # cut short: out of the catalog, still on disk
    deleted = _reply(client, f"{ROOT}/voices/delete", voice_id.encode())
    assert deleted["status"] == "done" and deleted["voice"] == {"id": voice_id, "name": voice_id}, deleted
    assert not folder.exists()
    again = _reply(client, f"{ROOT}/voices/delete/{voice_id}", b"")
    assert (again["status"], again["code"]) == ("error", "voice_not_found")
