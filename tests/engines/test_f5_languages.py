"""F5 with ``languages`` set, through a real ``voxhost serve``: a language the operator did not enable is the client's
error (400 ``param: "language"`` naming the enabled languages) on every door, whether the request names it or its
library voice is stored in it, not a request for a model to pull (503) nor speech by a model left out; and a library
voice stored in such a language is in no door's voice list as F5's."""

from __future__ import annotations

import asyncio
import io
import json
import os
import uuid
from typing import Any

import httpx2 as httpx
import openai
import pytest
import soundfile
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from ..conftest import ServeProcess, free_port, make_settings, running_daemon
from ..protocols.http_helpers import base_url
from ..protocols.mqtt_helpers import Probe, broker, is_terminal  # noqa: F401 (fixtures)
from .f5_fixtures import REF_TEXT, build_tiny_models, f5_python, reference_signal

pytestmark = [pytest.mark.heavy, pytest.mark.mqtt]

NODE = "f5-languages"
ROOT = f"voxhost/{NODE}"
TIMEOUT = 300


def _store_voices(url: str, **languages: str) -> dict[str, str]:
    """Store the reference recording over HTTP once per name, in its language: name → ``f5:<id>``."""
    wav = io.BytesIO()
    soundfile.write(wav, reference_signal(), 16000, format="WAV")
    voices = {}
    for name, language in languages.items():
        answer = httpx.post(
            f"{url}/v1/audio/voices",
            data={"name": name, "transcript": REF_TEXT, "language": language},
            files={"audio_sample": (f"{name}.wav", wav.getvalue(), "audio/wav")},
            timeout=60,
        )
        assert answer.status_code in (200, 201), answer.text
        voices[name] = "f5:" + answer.json()["id"]
    return voices


ANYLANG = '''"""A cloning engine listed after F5 (a lower priority) that speaks a library voice in any language."""

import numpy as np

import voxhost
from voxhost.engine import PCM, Capability, Engine


class AnyLanguage(Engine):
    engine_id = "anylang"
    capabilities = frozenset({Capability.CLONE})
    enabled_by_default = True
    default_priority = -1

    def voices(self):
        return []

    def load(self):
        pass

    def synthesize(self, request):
        yield PCM.from_float(np.full(2400, 0.1, dtype=np.float32), self.clone_sample_rate)


@voxhost.hookimpl
def register_engines(register):
    register(AnyLanguage)
'''


def _toml(value: Any) -> str:
    """A TOML value: a table inline, anything else as JSON writes it (the same for these strings, numbers, bools);
    TOML has no null: a table's None is left out (the architecture's None is its default)."""
    if isinstance(value, dict):
        items = ", ".join(f"{key} = {_toml(item)}" for key, item in value.items() if item is not None)
        return "{ " + items + " }"
    return json.dumps(value)


@pytest.fixture(scope="module")
def serve(tmp_path_factory, broker) -> Any:
    """``voxhost serve``: F5 in its worker on tiny English and French models, only English enabled, and a cloning
    engine after it that speaks any language; every door."""
    directory = tmp_path_factory.mktemp("f5-languages")
    (directory / "plugins").mkdir()
    (directory / "plugins" / "anylang.py").write_text(ANYLANG)
    models_dir = directory / "models"
    models_dir.mkdir()
    tiny = build_tiny_models(models_dir)
    http_port, wyoming_port = free_port(), free_port()
    tables = "".join(
        f"[engines.f5.models.{code}]\n" + "".join(f"{key} = {_toml(value)}\n" for key, value in entry.items())
        for code, entry in tiny.items()
    )
    config = directory / "voxhost.toml"
    config.write_text(
        f"""state_dir = "{directory / "state"}"
models_dir = "{models_dir}"
plugins_dirs = ["{directory / "plugins"}"]
[engines.whisper]
enabled = false
[engines.f5]
enabled = true
mode = "worker"
python = "{f5_python()}"
nfe_steps = 8
languages = ["en"]
{tables}
[doors.wyoming]
uri = ["tcp://127.0.0.1:{wyoming_port}"]
zeroconf = false
[doors.http]
host = "127.0.0.1"
port = {http_port}
[doors.mqtt]
enabled = true
host = "127.0.0.1"
port = {broker.port}
node_id = "{NODE}"
connect_timeout = 10
"""
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("VOXHOST_LOAD_PLUGINS", None)
    process = ServeProcess(config, env)
    try:
        process.wait_ready(TIMEOUT)
        process.url = f"http://127.0.0.1:{http_port}"
        process.wyoming_port = wyoming_port
        process.voices = _store_voices(process.url, kyoko="ja_JP", amelie="fr_FR", emma="en_US")
        yield process
    finally:
        process.close()


def _client(serve: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=serve.url + "/v1", api_key="not-needed", max_retries=0, timeout=TIMEOUT)


@pytest.mark.parametrize(
    ("voice", "language", "why"),
    [
        ("kyoko", None, "is stored in 'ja_JP'"),  # no Japanese model installed: was a 503 "voxhost models pull f5 ja"
        ("amelie", None, "is stored in 'fr_FR'"),  # French installed, not enabled: was spoken by the French model
        ("f5:default-en", "ja", "language 'ja' was asked for"),
    ],
)
def test_openai_client_gets_a_400_for_a_language_not_enabled(serve, voice, language, why):
    voice = serve.voices.get(voice, voice)
    extra = {"language": language} if language else {}
    with pytest.raises(openai.BadRequestError) as caught:
        _client(serve).audio.speech.create(model="f5", voice=voice, input="Hello there.", extra_body=extra)
    error = caught.value.body
    assert isinstance(error, dict), error
    assert error["param"] == "language" and error["code"] == "invalid_request", error
    assert why in error["message"] and "enabled languages are en" in error["message"], error


def test_wyoming_and_mqtt_refuse_it_the_same_way(serve, broker):
    voice = serve.voices["kyoko"]

    async def synthesize() -> Any:
        async with AsyncTcpClient("127.0.0.1", serve.wyoming_port) as client:
            await client.write_event(Synthesize(text="Hello there.", voice=SynthesizeVoice(name=voice)).event())
            while True:
                event = await asyncio.wait_for(client.read_event(), TIMEOUT)
                assert event is not None, "the door closed the connection without an error event"
                if Error.is_type(event.type):
                    return Error.from_event(event)
                assert not event.type.startswith("audio"), event.type

    error = asyncio.run(synthesize())
    assert error.code == "invalid_request" and "enabled languages are en" in error.text, error

    rid = uuid.uuid4().hex[:12]
    probe = Probe(broker.port, "5")
    try:
        probe.subscribe(f"{ROOT}/response")
        probe.publish(f"{ROOT}/say", {"text": "Hello there.", "id": rid, "voice": voice})
        messages = probe.collect(is_terminal(rid, f"{ROOT}/response"), timeout=60)
    finally:
        probe.close()
    reply = messages[-1].json()
    assert reply["status"] == "error" and reply["code"] == "invalid_request" and reply["param"] == "language", reply
    assert "enabled languages are en" in reply["message"], reply


def test_a_library_voice_f5_cannot_speak_is_in_no_voice_list(serve, broker):
    # Every list a user picks a voice from: Home Assistant's Wyoming voices and its MQTT select, Open WebUI's and the
    # openai client's /v1/audio/voices. Each offered kyoko and amelie as f5:<id>, and every request to them was a 400.
    spoken, refused = serve.voices["emma"], {serve.voices["kyoko"], serve.voices["amelie"]}
    elsewhere = {voice.replace("f5:", "anylang:") for voice in refused}  # an engine that clones in any language

    listed = httpx.get(f"{serve.url}/v1/audio/voices", timeout=30).json()["voices"]
    ids = {voice["id"] for voice in listed}
    assert spoken in ids and elsewhere <= ids and not ids & refused, ids
    f5 = httpx.get(f"{serve.url}/v1/audio/voices", params={"model": "f5"}, timeout=30).json()["voices"]
    ids = {voice["id"] for voice in f5}
    assert spoken in ids and not ids & refused, ids

    async def describe() -> Info:
        async with AsyncTcpClient("127.0.0.1", serve.wyoming_port) as client:
            await client.write_event(Describe().event())
            while True:
                event = await asyncio.wait_for(client.read_event(), TIMEOUT)
                assert event is not None, "the door closed the connection without an info event"
                if Info.is_type(event.type):
                    return Info.from_event(event)

    names = {voice.name for program in asyncio.run(describe()).tts for voice in program.voices}
    assert spoken in names and elsewhere <= names and not names & refused, names

    probe = Probe(broker.port, "5")
    try:
        topic = f"homeassistant/device/voxhost_{NODE}/config"
        probe.subscribe(topic)  # the retained announcement, then any sent after the voices were stored
        config = probe.wait(lambda m: m.topic == topic and spoken in m.json()["cmps"]["voice"]["options"], 60).json()
    finally:
        probe.close()
    options = set(config["cmps"]["voice"]["options"])
    assert elsewhere <= options and not options & refused, options

    # The library lists every stored voice with the engines that speak it.
    library = {v["id"]: v["engines"] for v in httpx.get(f"{serve.url}/v1/library/voices", timeout=30).json()["data"]}
    kyoko = serve.voices["kyoko"].removeprefix("f5:")
    assert library[kyoko] == [f"anylang:{kyoko}"], library

    # The bare library id names the engine that speaks the voice, though F5 comes first among the cloning engines.
    audio = _client(serve).audio.speech.create(model="auto", voice=kyoko, input="Hello there.", response_format="wav")
    assert len(audio.content) > 2400 * 2


def test_without_languages_a_voice_in_a_language_f5_has_no_model_for_is_in_no_list(tmp_path):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    f5 = {"enabled": True, "mode": "worker", "python": f5_python(), "models": build_tiny_models(models_dir)}
    settings = make_settings(
        tmp_path / "state", models_dir=str(models_dir), engines={"f5": f5}, http={"enabled": True, "port": 0}
    )
    with running_daemon(settings) as daemon:
        url = base_url(daemon)
        stored = _store_voices(url, greta="de_DE", amelie="fr_FR")  # no German in F5's registry
        ids = {voice["id"] for voice in httpx.get(f"{url}/v1/audio/voices", timeout=30).json()["voices"]}
        assert stored["amelie"] in ids and stored["greta"] not in ids, ids
        client = openai.OpenAI(base_url=url + "/v1", api_key="not-needed", max_retries=0, timeout=TIMEOUT)
        with pytest.raises(openai.BadRequestError) as caught:  # named all the same: why, and what to add
            client.audio.speech.create(model="f5", voice=stored["greta"], input="Hallo.")
        assert caught.value.body["param"] == "language" and "[engines.f5.models.de]" in caught.value.body["message"]
