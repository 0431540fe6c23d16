"""A real mosquitto broker on a free port, and a small paho client that records what it receives."""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from voxhost.operations import SpeechRequest

from .http_helpers import wav_bytes

MOSQUITTO_HINT = "mosquitto is not installed: apt-get install -y mosquitto"


def mosquitto_binary() -> str | None:
    """The broker executable (Debian installs it in /usr/sbin, often outside a user's PATH)."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
    )


class Mosquitto:
    """A throwaway broker: loopback only, anonymous, no persistence; can be stopped and started again."""

    def __init__(self, workdir: Path, port: int, listener_options: str = "", anonymous: bool = True) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError(MOSQUITTO_HINT)
        self.binary = binary
        self.port = port
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "mosquitto.conf"
        # Started as root, mosquitto would switch to its own user and lose access to the test's private files.
        user = "user root\n" if os.geteuid() == 0 else ""
        self.config.write_text(
            f"{user}listener {port} 127.0.0.1\n{listener_options}allow_anonymous {str(anonymous).lower()}\n"
            "persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n"
        )
        self.log = workdir / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> Mosquitto:
        """Start and wait until the port accepts connections."""
        log = open(self.log, "ab")
        self.process = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("mosquitto did not start")

    def stop(self) -> None:
        """Stop the broker (its clients see the connection drop)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


@dataclass
class Received:
    """One message as a test client saw it."""

    topic: str
    payload: bytes
    retain: bool
    correlation: bytes | None
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.payload)


class Probe:
    """A paho client (MQTT 5 or 3.1.1) for tests: subscribe, publish, wait for messages."""

    def __init__(
        self,
        port: int,
        protocol: str = "5",
        client_id: str | None = None,
        *,
        ca_certs: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.v5 = protocol == "5"
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"probe-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311,
        )
        self.messages: queue.Queue[Received] = queue.Queue()
        self.client.on_message = self._on_message
        self._subacks: queue.Queue[int] = queue.Queue()
        self.client.on_subscribe = lambda c, u, mid, rc, p: self._subacks.put(mid)
        if ca_certs:
            self.client.tls_set(ca_certs=ca_certs)
        if username:
            self.client.username_pw_set(username, password)
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        deadline = time.monotonic() + 10
        while not self.client.is_connected():
            if time.monotonic() > deadline:
                raise TimeoutError("probe could not connect")
            time.sleep(0.01)

    def _on_message(self, _client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        props = message.properties
        correlation = getattr(props, "CorrelationData", None) if props is not None else None
        self.messages.put(Received(message.topic, bytes(message.payload), bool(message.retain), correlation))

    def subscribe(self, *topics: str) -> Probe:
        """Subscribe and wait for the broker's acknowledgement."""
        for topic in topics:
            _, mid = self.client.subscribe(topic, qos=1)
            while self._subacks.get(timeout=5) != mid:
                pass
        return self

    def publish(
        self,
        topic: str,
        payload: bytes | str | dict[str, Any],
        *,
        retain: bool = False,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        expiry: int | None = None,
        user_properties: list[tuple[str, str]] | None = None,
    ) -> None:
        """Publish at QoS 1 and wait until the broker has it."""
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        props = None
        if self.v5 and (response_topic or correlation or expiry or user_properties):
            props = Properties(PacketTypes.PUBLISH)
            if user_properties:
                props.UserProperty = user_properties
            if response_topic:
                props.ResponseTopic = response_topic
            if correlation:
                props.CorrelationData = correlation
            if expiry:
                props.MessageExpiryInterval = expiry
        self.client.publish(topic, payload, qos=1, retain=retain, properties=props).wait_for_publish(5)

    def wait(self, match: Callable[[Received], bool], timeout: float = 30.0) -> Received:
        """The next message that matches (others are dropped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching message")
            try:
                message = self.messages.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError("no matching message") from None
            if match(message):
                return message

    def collect(self, until: Callable[[Received], bool], timeout: float = 60.0) -> list[Received]:
        """Every message up to and including the first one ``until`` accepts."""
        out: list[Received] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"stopped waiting after {len(out)} messages: {[m.topic for m in out][-5:]}")
            try:
                message = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            out.append(message)
            if until(message):
                return out

    def drain(self, seconds: float) -> list[Received]:
        """Whatever arrives within ``seconds``."""
        out: list[Received] = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                out.append(self.messages.get(timeout=remaining))
            except queue.Empty:
                break
        return out

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def is_status(status: str, request_id: str | None = None, topic: str | None = None) -> Callable[[Received], bool]:
    """Matches a JSON status reply (of one request id; on one topic, else any but audio)."""

    def match(message: Received) -> bool:
        if topic is not None and message.topic != topic or topic is None and "/audio/" in message.topic:
            return False
        if not message.payload.startswith(b"{"):
            return False
        try:
            data = message.json()
        except ValueError:
            return False
        return (
            isinstance(data, dict)
            and data.get("status") == status
            and (request_id is None or data.get("id") == request_id)
        )

    return match


def is_terminal(request_id: str, topic: str | None = None) -> Callable[[Received], bool]:
    """Matches the done or error reply of a request."""
    done, error = is_status("done", request_id, topic), is_status("error", request_id, topic)
    return lambda message: done(message) or error(message)


def replies_of(messages: list[Received], topic: str, request_id: str) -> list[dict[str, Any]]:
    """The JSON replies to one request on one topic."""
    return [m.json() for m in messages if m.topic == topic and m.json().get("id") == request_id]


def one_reply(
    probe: Probe,
    topic: str,
    payload: bytes | str | dict[str, Any],
    properties: list[tuple[str, str]] | None = None,
    *,
    timeout: float = 30.0,
    correlation: bytes | None = None,
) -> dict[str, Any]:
    """Send a request with a response topic of its own; its one reply (nothing else follows it)."""
    reply_topic = f"test/replies/{new_id()}"
    probe.subscribe(reply_topic)
    probe.publish(topic, payload, response_topic=reply_topic, correlation=correlation, user_properties=properties)
    reply: dict[str, Any] = probe.wait(lambda m: m.topic == reply_topic, timeout).json()
    assert not probe.drain(0.3), "one reply per request"
    return reply


def error_reply(probe: Probe, topic: str, payload: Any, properties: Any = None, **options: Any) -> dict[str, Any]:
    """Send a request that should fail; its one reply, an error (``options`` as ``one_reply`` takes them)."""
    reply = one_reply(probe, topic, payload, properties, **options)
    assert reply["status"] == "error", reply
    return reply


def audio_of(messages: list[Received], prefix: str) -> tuple[bytes, int, list[bytes]]:
    """Reassemble a request's streamed audio; checks the start/chunk/stop framing on the way."""
    audio = [m for m in messages if m.topic.startswith(prefix + "/")]
    kinds = [m.topic.rsplit("/", 1)[1] for m in audio]
    assert kinds[0] == "start" and kinds[-1] == "stop" and set(kinds[1:-1]) == {"chunk"}, kinds
    start, stop = audio[0].json(), audio[-1].json()
    chunks = [m.payload for m in audio[1:-1]]
    pcm = b"".join(chunks)
    assert stop["chunks"] == len(chunks) and stop["bytes"] == len(pcm) and stop["status"] == "done"
    assert (start["rate"], start["width"], start["channels"]) == (stop["rate"], 2, 1)
    return pcm, start["rate"], chunks


def mqtt_section(port: int, node: str, **extra: Any) -> dict[str, Any]:
    """A daemon's MQTT door on the test broker as one node, without discovery or Hermes (``extra`` on top)."""
    return {
        "enabled": True,
        "host": "127.0.0.1",
        "port": port,
        "node_id": node,
        "discovery": False,
        "hermes": False,
        "connect_timeout": 10,
        **extra,
    }


SENTENCE = "Dinner is ready. Please come to the kitchen."
"""What the ``speech`` fixture says."""


# -- fixtures shared by every module that talks MQTT (import them by name) --------------------------------


@pytest.fixture(scope="module")
def speech(daemon: Any) -> bytes:
    """``SENTENCE`` spoken by the module's daemon, as a WAV file (for a recognizer to hear)."""
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text=SENTENCE)))
    return wav_bytes(np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, rate)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: Any) -> Any:
    """A mosquitto of the module's own on a free port."""
    from ..conftest import free_port

    if mosquitto_binary() is None:
        pytest.fail(MOSQUITTO_HINT)
    server = Mosquitto(tmp_path_factory.mktemp("mosquitto"), free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def client(broker: Any, daemon: Any) -> Any:
    """An MQTT 5 client on the module's broker, once the module's daemon runs."""
    probe = Probe(broker.port, "5")
    yield probe
    probe.close()


@pytest.fixture
def client311(broker: Any, daemon: Any) -> Any:
    """An MQTT 3.1.1 client on the module's broker, once the module's daemon runs."""
    probe = Probe(broker.port, "3.1.1")
    yield probe
    probe.close()


def new_id() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex[:12]
