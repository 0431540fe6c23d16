"""Settings of the MQTT door: the ``[doors.mqtt]`` table."""

from __future__ import annotations

import re
import socket
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from ...door import DoorSettings
from .chars import unfit_character

POOL_KINDS = ("convert", "transcribe")
"""The pool topics with further levels (``<base_topic>/<kind>/#``): no node may be named after them."""


def _default_node_id() -> str:
    """The host name, made safe for an MQTT topic level and an entity id."""
    name = socket.gethostname().split(".")[0].lower()
    return re.sub(r"[^a-z0-9_-]+", "_", name).strip("_") or "voxhost"


def _check_topic_part(value: str, what: str) -> str:
    if not value or any(c in value for c in "+#\0") or value.startswith("$"):
        raise ValueError(f"{what} must be non-empty and free of '+', '#', NUL and a leading '$'")
    return _check_characters(value, what)


def _check_characters(value: str, what: str) -> str:
    # The broker refuses a will topic, subscription or client id with such a character as a malformed packet, and
    # paho would retry that connection forever.
    if found := unfit_character(value):
        raise ValueError(f"{what} holds a character MQTT brokers refuse ({found})")
    return value


class MqttSettings(DoorSettings):
    """The MQTT door: voxhost's own topics, Hermes compatibility, Home Assistant discovery."""

    enabled: bool = False
    """Off by default: it needs a broker."""
    host: str = "localhost"
    """Broker host name or address."""
    port: int = Field(1883, ge=1, le=65535)
    """Broker port (8883 is usual with TLS; it is not chosen automatically)."""
    protocol: Literal["5", "3.1.1"] = "5"
    """MQTT version voxhost speaks; 5 adds Response Topic, Correlation Data, expiry and shared subscriptions."""
    transport: Literal["tcp", "websockets"] = "tcp"
    """Plain TCP or MQTT over WebSockets."""
    websocket_path: str = "/mqtt"
    """Path of the broker's WebSocket endpoint (transport = "websockets")."""
    username: str | None = None
    """User name for the broker (unset: anonymous)."""
    password: str | None = None
    """Password for the broker."""
    tls: bool = False
    """Connect with TLS."""
    tls_ca_certs: str | None = None
    """CA bundle to verify the broker with (unset: the system's)."""
    tls_certfile: str | None = None
    """Client certificate for mutual TLS."""
    tls_keyfile: str | None = None
    """Key of the client certificate."""
    tls_insecure: bool = False
    """Skip the broker's host name check (self-signed test setups only)."""
    client_id: str | None = None
    """MQTT client id (default: ``voxhost-<node_id>``); must be unique on the broker."""
    keepalive: int = Field(60, ge=5, le=65535)
    """Seconds between keepalive pings."""
    reconnect_min_delay: float = Field(1.0, gt=0)
    """First wait before reconnecting after the connection drops; doubles up to ``reconnect_max_delay``."""
    reconnect_max_delay: float = Field(60.0, gt=0)
    """Longest wait between reconnect attempts."""
    connect_timeout: float = Field(5.0, ge=0)
    """Seconds the daemon's startup waits for the first connection; it keeps trying in the background after."""
    base_topic: str = "voxhost"
    """First level(s) of voxhost's own topics."""
    node_id: str = Field(default_factory=_default_node_id)
    """This daemon's name under ``base_topic`` (default: the host name); unique per broker."""
    qos: Literal[0, 1, 2] = 1
    """QoS of voxhost's subscriptions and of what it publishes."""
    audio_format: Literal["pcm", "wav", "both", "none"] = "pcm"
    """Default audio of a say request: streamed PCM chunks, one complete WAV, both, or no audio."""
    chunk_bytes: int = Field(4096, ge=256, le=65536)
    """Largest PCM chunk per message (4096 B is about 93 ms at 22 kHz; small enough for ESP32 clients)."""
    max_text: int = Field(5000, ge=1)
    """Longest text (characters) one MQTT say request may carry."""
    max_command_bytes: int = Field(65536, ge=256)
    """Largest incoming command payload; larger ones get an error reply and are not parsed."""
    max_convert_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    """Largest audio file a convert request may carry (the raw payload, or the decoded ``audio`` of a JSON
    request, whose base64 text may be a third larger)."""
    max_convert_seconds: float = Field(120.0, gt=0)
    """Longest audio a convert request may carry."""
    max_transcribe_seconds: float = Field(600.0, gt=0)
    """Longest audio a transcribe request may carry (its bytes count against ``max_convert_bytes``)."""
    max_audio_requests: int = Field(16, ge=1)
    """Requests with audio (convert, transcribe, voice upload) served at once; more are answered ``busy`` at once."""
    max_audio_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    """Payload bytes the requests with audio being served may hold together; a request that would pass it is
    answered ``busy`` at once (one request is always served, whatever its size)."""
    max_publish_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    """Largest message voxhost publishes (paho ignores the broker's limit, so voxhost enforces it; the broker's
    Maximum Packet Size lowers it further when an MQTT 5 broker announces one)."""
    dedupe_window: float = Field(60.0, ge=0)
    """Seconds a request id (or correlation data) is remembered to drop QoS 1 and 2 redeliveries (a request received
    at QoS 0 is never redelivered, and never dropped; a redelivery carries the same payload: one with another is a
    new request)."""
    shared_group: str | None = None
    """Join the MQTT 5 shared subscription ``$share/<group>/<base_topic>/say`` (and Hermes' say) so several
    voxhost nodes on one broker split the work; unset: each node takes every pool request."""
    events: bool = True
    """Publish job and engine events on ``<base_topic>/<node_id>/events``."""
    hermes: bool = True
    """Answer Hermes/Rhasspy TTS (``hermes/tts/say``, ``rhasspy/tts/getVoices``)."""
    hermes_site_ids: list[str] = Field(default_factory=list)
    """Hermes sites to serve (empty: all)."""
    hermes_voice: str | None = None
    """Voice for Hermes requests, which cannot name one (default: voxhost's default for the language)."""
    hermes_wait_play_finished: bool = True
    """Like Rhasspy, send ``sayFinished`` once the audio server reports ``playFinished`` (or the audio's length
    plus a second has passed)."""
    discovery: bool = True
    """Announce voxhost to Home Assistant through MQTT discovery."""
    discovery_prefix: str = "homeassistant"
    """Home Assistant's discovery prefix; its birth topic is ``<prefix>/status``."""
    discovery_retain: bool = True
    """Retain the discovery message, so Home Assistant finds it after its own restart too."""
    discovery_delay: float = Field(5.0, ge=0)
    """Longest random delay before re-announcing when Home Assistant comes online (spreads the load)."""

    @field_validator("base_topic", "node_id", "discovery_prefix")
    @classmethod
    def _topic_safe(cls, value: str, info: ValidationInfo) -> str:
        value = _check_topic_part(value.strip("/"), info.field_name or "topic")
        if info.field_name == "node_id" and "/" in value:
            raise ValueError("node_id must be a single topic level (no '/')")
        if info.field_name == "node_id" and value in POOL_KINDS:
            # Every node takes requests under <base_topic>/<kind>/#: this node's replies and events would come back
            # to it (and to every other node) as requests, each answered by another reply, for good.
            raise ValueError(f"node_id {value!r} is where every node takes {value} requests; choose another")
        return value

    @field_validator("shared_group")
    @classmethod
    def _group_safe(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c in value for c in "/+#")):
            raise ValueError("shared_group must be non-empty and free of '/', '+' and '#'")
        return value if value is None else _check_characters(value, "shared_group")

    @field_validator("client_id")
    @classmethod
    def _client_id_safe(cls, value: str | None) -> str | None:
        return value if value is None else _check_characters(value, "client_id")
