"""The MQTT door set up as a careless operator would: odd node ids, two nodes with one id, retained commands."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

import voxhost

from ..conftest import free_port, make_settings, running_daemon, wait_for
from .mqtt_helpers import Mosquitto, Probe, broker, is_status, mqtt_section  # noqa: F401 (fixtures)

pytestmark = pytest.mark.mqtt

HA_DISCOVERY_TOPIC = re.compile(
    r"(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config"
)
"""Home Assistant's TOPIC_MATCHER (mqtt/discovery.py): a config on any other topic is dropped."""


def _settings(state, port, node, **extra):
    return make_settings(state, mqtt=mqtt_section(port, node, **extra))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("node_id", "kit\\u0001chen"),
        ("base_topic", "vox\\u007fhost"),
        ("discovery_prefix", "home\\u0007assistant"),
        ("client_id", "voxhost\\u0002"),
        ("shared_group", "pool\\u0003"),
    ],
)
def test_a_topic_part_with_a_character_brokers_refuse_is_a_config_error(tmp_path, key, value):
    # Accepted, mosquitto dropped each CONNECT (a will topic, client id or subscription it cannot take) and the
    # daemon retried for good, saying only that the broker was not reachable yet.
    config = tmp_path / "voxhost.toml"
    config.write_text(f'[doors.mqtt]\nenabled = true\nport = 1\n{key} = "{value}"\n')
    env = {"VOXHOST_STATE_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"}
    for command in ("check-config", "serve"):
        result = subprocess.run(
            [sys.executable, "-m", "voxhost", command, "-c", str(config)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        errors = [line for line in result.stderr.splitlines() if "INFO" not in line]  # serve's "Stopped"
        assert result.returncode == 2 and len(errors) == 1, (command, result.stderr)
        assert f"doors.mqtt.{key}" in errors[0] and "U+00" in errors[0] and "refuse" in errors[0], errors


@pytest.mark.parametrize("node", ["convert", "transcribe"])
def test_a_node_named_after_a_pool_topic_is_a_config_error(tmp_path, node):
    # Every node takes requests under voxhost/convert/#: the node's own events and replies came back to it as
    # convert requests, each refused with another reply on voxhost/convert/response, without end.
    config = tmp_path / "voxhost.toml"
    config.write_text(f'[doors.mqtt]\nenabled = true\nport = 1\nnode_id = "{node}"\n')
    env = {"VOXHOST_STATE_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "check-config", "-c", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2 and "doors.mqtt.node_id" in result.stderr, result.stderr
    assert f"where every node takes {node} requests" in result.stderr, result.stderr


def test_discovery_topic_is_one_home_assistant_accepts_for_any_node_id(broker, tmp_path):
    # A node id with a dot or a letter outside ASCII made an object id Home Assistant drops the config for.
    with running_daemon(_settings(tmp_path, broker.port, "Küche.1", discovery=True)):
        probe = Probe(broker.port)
        try:
            probe.subscribe("homeassistant/device/+/config")
            message = probe.wait(lambda m: m.payload != b"", 10)
        finally:
            probe.close()
    found = HA_DISCOVERY_TOPIC.fullmatch(message.topic.removeprefix("homeassistant/"))
    assert found is not None and found["object_id"] == "voxhost_K_che_1", message.topic
    config = message.json()
    assert config["dev"]["ids"] == ["voxhost_K_che_1"] and config["dev"]["name"] == "voxhost Küche.1"
    assert config["cmps"]["say"]["command_topic"] == "voxhost/Küche.1/say"


def test_two_nodes_with_one_node_id_settle_instead_of_pushing_each_other_off(broker, tmp_path):
    # The broker lets one connection per client id live: both daemons reconnected at once, each pushing the other
    # off, every second or two, for good, logging "Lost the MQTT broker (Unspecified error)" each time.
    extra = {"reconnect_min_delay": 1, "reconnect_max_delay": 30}
    with (
        running_daemon(_settings(tmp_path / "a", broker.port, "twin", **extra)) as a,
        running_daemon(_settings(tmp_path / "b", broker.port, "twin", **extra)) as b,
    ):
        doors = [a.daemon.doors[0], b.daemon.doors[0]]
        wait_for(lambda: any("node_id 'twin'" in (door.status()["error"] or "") for door in doors), 30)
        loser = next(door for door in doors if "node_id 'twin'" in (door.status()["error"] or ""))
        winner = doors[1 - doors.index(loser)]
        wait_for(lambda: winner.status()["connected"], 5)
        connects = winner.conn.connects, loser.conn.connects
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            assert winner.status()["connected"] and not loser.status()["connected"]
            time.sleep(0.1)
        assert (winner.conn.connects, loser.conn.connects) == connects
        probe = Probe(broker.port)
        try:
            probe.subscribe("voxhost/twin/response")
            probe.publish("voxhost/twin/say", {"text": "Still here.", "id": "tw1", "format": "none"})
            reply = probe.wait(is_status("done", "tw1"), 30).json()
        finally:
            probe.close()
        assert reply["status"] == "done"


def test_a_retained_voice_set_is_ignored(broker, tmp_path):
    # Applied on every (re)connect, a retained voice/set undid each later choice; a bad one answered an error each time.
    setter = Probe(broker.port)
    try:
        setter.publish("voxhost/rv/voice/set", "piper:nobody", retain=True)
        with running_daemon(_settings(tmp_path, broker.port, "rv")):
            probe = Probe(broker.port, "3.1.1")
            try:
                probe.subscribe("voxhost/rv/response", "voxhost/rv/voice")
                assert probe.wait(lambda m: m.topic == "voxhost/rv/voice", 5).payload == b"piper:en_US-joe-medium"
                setter.publish("voxhost/rv/voice/set", "piper:nobody", retain=True)  # live, flagged by MQTT 5
                assert not [m for m in probe.drain(1.5) if m.topic == "voxhost/rv/response"]
                setter.publish("voxhost/rv/voice/set", "piper:nobody")  # the same, not retained: refused
                assert probe.wait(is_status("error"), 5).json()["code"] == "voice_not_found"
            finally:
                probe.close()
    finally:
        setter.publish("voxhost/rv/voice/set", b"", retain=True)
        setter.close()


class ManyVoices(voxhost.Engine):
    """An engine with 2000 voices (a large Piper voice folder, say)."""

    engine_id = "many"
    enabled_by_default = True

    def voices(self):
        return [
            voxhost.VoiceInfo(id=f"voice-number-{i:04d}", name=f"V{i}", languages=("en_US",), sample_rate=16000)
            for i in range(2000)
        ]

    def load(self):
        pass

    def synthesize(self, request):
        yield voxhost.PCM(b"\0\0" * 160, 16000)


class ManyVoicesPlugin:
    @voxhost.hookimpl
    def register_engines(self, register):
        register(ManyVoices)


BROKER_LIMIT = 16384
"""The Maximum Packet Size of the broker in front of the daemon with 2000 voices."""


@pytest.fixture(scope="module")
def big_catalog(tmp_path_factory):
    """A broker that takes packets of at most ``BROKER_LIMIT`` bytes, and a daemon with 2000 voices behind it
    (discovery and Hermes on)."""
    workdir = tmp_path_factory.mktemp("big")
    server = Mosquitto(workdir / "broker", free_port(), f"max_packet_size {BROKER_LIMIT}\n").start()
    try:
        settings = _settings(workdir / "state", server.port, "big", discovery=True, hermes=True)
        with running_daemon(settings, plugins_extra=(("many", ManyVoicesPlugin()),)) as daemon:
            yield server, daemon
    finally:
        server.stop()


def test_discovery_too_large_for_the_broker_offers_fewer_voices_not_no_device(big_catalog):
    # 2000 voices made a 51 kB message; the broker takes 16 kB, so none was sent and Home Assistant had no device.
    server, daemon = big_catalog
    probe = Probe(server.port)
    try:
        probe.subscribe("homeassistant/device/+/config", "voxhost/big/voice")
        messages = probe.collect(lambda m: m.topic.startswith("homeassistant/"), 10) + probe.drain(1)
        voice = next(m.payload.decode() for m in messages if m.topic == "voxhost/big/voice")
        config = next(m for m in messages if m.topic.startswith("homeassistant/"))
    finally:
        probe.close()
    assert daemon.daemon.doors[0].status()["connected"]
    assert len(config.payload) <= BROKER_LIMIT
    cmps = config.json()["cmps"]
    assert {c["p"] for c in cmps.values()} == {"notify", "select", "sensor", "button"}
    options = cmps["voice"]["options"]
    assert 100 < len(options) < 2001 and voice in options and options[0] == "piper:en_US-joe-medium"


def test_a_voices_answer_too_large_for_the_broker_is_a_hermes_error_and_what_fits(big_catalog):
    # The answer to getVoices (2001 voices, 90 kB) was dropped with a line in the log: a Rhasspy client waited for it
    # for good. As Rhasspy's services do, the error comes first, its context the request's id, then the answer.
    server, _ = big_catalog
    probe = Probe(server.port)
    try:
        probe.subscribe("rhasspy/tts/voices", "hermes/error/tts")
        probe.publish("rhasspy/tts/getVoices", {"id": "all-voices", "siteId": "hall"})
        messages = probe.collect(lambda m: m.topic == "rhasspy/tts/voices", 10)
    finally:
        probe.close()
    assert [m.topic for m in messages] == ["hermes/error/tts", "rhasspy/tts/voices"], messages
    error, answer = messages[0].json(), messages[1].json()
    listed = answer["voices"]
    assert (answer["id"], answer["siteId"], len(messages[1].payload) <= BROKER_LIMIT) == ("all-voices", "hall", True)
    assert 100 < len(listed) < 2001 and {"voiceId": "many:voice-number-0000", "description": "V0"} in listed, listed[:3]
    assert (error["context"], error["siteId"], error["sessionId"]) == ("all-voices", "hall", None), error
    assert re.fullmatch(
        rf"the voices answer is \d+ bytes, above the \d+ byte message limit; it lists {len(listed)} of the 2001 voices",
        error["error"],
    ), error
