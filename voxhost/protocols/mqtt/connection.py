"""The broker connection: paho-mqtt 2.x on its own network thread, handing everything to the event loop.

paho runs callbacks on its network thread and acks a QoS 1 message only after ``on_message`` returns, so the
callbacks here only copy what they need and hand it to the event loop: connection changes with
``call_soon_threadsafe``, messages through an ``Inbox`` (bounded, one message per turn of the loop). Publishing is
thread-safe in paho and is done from the loop.

Nothing is kept for a broker that is gone: what voxhost publishes while the connection is down is dropped, not
queued, and what paho still holds unacknowledged when the connection drops is dropped with it. Left to paho, both
would go out when the broker is back, minutes later perhaps: an announcement's audio on a speaker long after the
moment it was for, and a flood of stale replies. A request whose audio cannot be published is cancelled instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ...door import host_port
from .inbox import Inbox
from .names import filter_levels, matches, topic_problem
from .settings import MqttSettings
from .takeover import TakeoverWatch

_LOGGER = logging.getLogger(__name__)

PACKET_OVERHEAD = 64
"""Bytes kept free for the fixed header, topic length, packet id and a few properties."""
MAX_QUEUED = 5000
"""Messages paho may hold waiting for the broker's acknowledgement (a burst of audio chunks to a slow broker)."""
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
"""Linux only: elsewhere the kernel's own acknowledgement timing stays."""


@dataclass(frozen=True)
class Incoming:
    """A received message, copied out of paho on its network thread."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    response_topic: str | None = None
    correlation_data: bytes | None = None
    expiry: int | None = None
    """Remaining Message Expiry Interval in seconds (MQTT 5), as the broker forwarded it."""
    user_properties: tuple[tuple[str, str], ...] = ()
    """MQTT 5 User Properties (name, value), in the order sent."""


def _set_tcp(sock: Any, option: int | None) -> None:
    """Turn a TCP option on for the broker's socket (a websocket transport's too); the connection works without."""
    if sock is None or option is None:
        return
    try:
        if hasattr(sock, "setsockopt"):
            sock.setsockopt(socket.IPPROTO_TCP, option, 1)
        else:  # paho's websocket wrapper: the same socket through a second descriptor
            with socket.socket(fileno=os.dup(sock.fileno())) as raw:
                raw.setsockopt(socket.IPPROTO_TCP, option, 1)
    except (OSError, ValueError):
        pass  # not TCP (a closing socket, a platform without the option): nothing to tune


def _incoming(message: mqtt.MQTTMessage) -> Incoming:
    props = message.properties
    correlation = getattr(props, "CorrelationData", None) if props is not None else None
    return Incoming(
        topic=message.topic,
        payload=bytes(message.payload),
        qos=message.qos,
        retain=bool(message.retain),
        response_topic=getattr(props, "ResponseTopic", None) if props is not None else None,
        correlation_data=bytes(correlation) if correlation is not None else None,
        expiry=getattr(props, "MessageExpiryInterval", None) if props is not None else None,
        user_properties=tuple((str(name), str(value)) for name, value in (getattr(props, "UserProperty", None) or ())),
    )


def json_bytes(payload: Any) -> bytes:
    """A JSON document as a message payload (compact, UTF-8)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate echoed from a request is no UTF-8, but a JSON escape carries it
        return json.dumps(payload, separators=(",", ":")).encode()


def _drop_unacknowledged(client: mqtt.Client, mid: int | None = None) -> int:
    """Forget the QoS 1 and 2 messages (or the one ``mid``) paho would send on reconnecting; how many there were.

    paho has no public call for it; its outgoing messages are read as paho 2.x keeps them, and without them
    (another paho) the resend is left as it is."""
    messages = getattr(client, "_out_messages", None)
    lock = getattr(client, "_out_message_mutex", None)
    if not isinstance(messages, dict) or lock is None or not hasattr(client, "_inflight_messages"):
        return 0
    with lock:  # paho's own lock (reentrant): its network thread runs the callbacks that call this
        if mid is not None:
            # Held (NO_CONN) rather than sent, it is not counted in flight: only the message goes.
            return 0 if messages.pop(mid, None) is None else 1
        count = len(messages)
        messages.clear()
        client._inflight_messages = 0
    return count


class MqttConnection:
    """One paho client: connect, subscribe on every (re)connect, availability with last will, bounded publish."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        availability_topic: str,
        subscriptions: Callable[[], list[str]],
        on_message: Callable[[Incoming], None],
        on_connected: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.client_id = client_id
        self.availability_topic = availability_topic
        self._subscriptions = subscriptions
        self._on_message = on_message
        self._on_connected = on_connected
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: mqtt.Client | None = None
        self._connected = asyncio.Event()
        self.server_max_packet: int | None = None
        self.connects = 0
        self._session_up = False
        self._pending_subscriptions: dict[int, list[str]] = {}
        self.last_error: str | None = None
        self._takeover = TakeoverWatch()
        self._filters: tuple[tuple[str, ...], ...] | None = None
        self._inbox: Inbox[Incoming] = Inbox()
        self._intake: asyncio.Task[None] | None = None
        self._dropping = False
        """A publish was dropped since the last connect (said once per outage)."""

    @property
    def v5(self) -> bool:
        """Whether the connection speaks MQTT 5."""
        return self.settings.protocol == "5"

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection and not dropped it since."""
        return self._client is not None and self._client.is_connected()

    # -- lifecycle -----------------------------------------------------------------------------------

    def _build(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311,
            transport=s.transport,
            reconnect_on_failure=True,
        )
        if _LOGGER.isEnabledFor(logging.DEBUG):
            # paho logs ordinary disconnects as errors; voxhost reports connection changes itself.
            client.enable_logger(logging.getLogger("paho.mqtt.client"))
        if s.transport == "websockets":
            client.ws_set_options(path=s.websocket_path)
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            client.tls_set(
                ca_certs=s.tls_ca_certs,
                certfile=s.tls_certfile,
                keyfile=s.tls_keyfile,
                cert_reqs=ssl.CERT_REQUIRED,
            )
            client.tls_insecure_set(s.tls_insecure)
        client.will_set(self.availability_topic, "offline", qos=1, retain=True)
        self._backoff(client, slow=False)
        client.max_queued_messages_set(MAX_QUEUED)
        client.on_connect = self._handle_connect
        client.on_connect_fail = self._handle_connect_fail
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_subscribe = self._handle_subscribe
        client.on_publish = self._handle_publish
        client.on_socket_open = self._handle_socket_open
        return client

    def _backoff(self, client: mqtt.Client, *, slow: bool) -> None:
        """The configured reconnect backoff, or (``slow``) its longest wait from the first retry on."""
        s = self.settings
        # paho takes whole seconds; round up so a sub-second minimum still backs off.
        longest = max(1, round(s.reconnect_max_delay))
        client.reconnect_delay_set(
            min_delay=longest if slow else max(1, round(s.reconnect_min_delay)), max_delay=longest
        )

    def start(self) -> None:
        """Begin connecting in the background; paho keeps retrying with backoff."""
        self._loop = asyncio.get_running_loop()
        self._inbox = Inbox()
        self._intake = asyncio.create_task(self._inbox.run(self._on_message), name="mqtt-inbox")
        self._client = client = self._build()
        kwargs: dict[str, Any] = {"keepalive": self.settings.keepalive}
        if self.v5:
            kwargs["clean_start"] = True
        client.connect_async(self.settings.host, self.settings.port, **kwargs)
        client.loop_start()

    async def wait_connected(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the first connection."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self, timeout: float = 2.0) -> None:
        """Say ``offline`` (a clean disconnect sends no will), disconnect and end the network thread."""
        client = self._client
        if client is None:
            return
        if self.connected:
            info = client.publish(self.availability_topic, "offline", qos=1, retain=True)
            await asyncio.to_thread(info.wait_for_publish, timeout)
        self._inbox.close()  # before the network thread is joined: it may be waiting for room
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)
        self._client = None
        if self._intake is not None:
            self._intake.cancel()
            await asyncio.gather(self._intake, return_exceptions=True)
            self._intake = None

    # -- paho callbacks (network thread) -------------------------------------------------------------

    def _handle_connect(self, client: mqtt.Client, _userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            if self.last_error != f"refused: {reason}":  # once per cause, not on every retry
                _LOGGER.warning(
                    "Broker %s:%s refused the connection: %s", self.settings.host, self.settings.port, reason
                )
            self.last_error = f"refused: {reason}"
            self._session_up = False
            return
        # paho sends what it holds right after this callback. Publishes that saw the old connection still up while
        # paho's on_disconnect ran (its state turns only after) were held past that callback's drop: late audio.
        if dropped := _drop_unacknowledged(client):
            _LOGGER.warning("Dropped %d message(s) published while the broker was gone", dropped)
        self.last_error = None
        self._dropping = False
        self._session_up = True
        self._takeover.connected()
        self.connects += 1
        self.server_max_packet = getattr(props, "MaximumPacketSize", None) if props is not None else None
        # Subscribe here, on every connect, so a broker restart (clean session) gets them back.
        topics = self._subscriptions()
        if topics:
            _, mid = client.subscribe([(topic, self._options()) for topic in topics])
            if mid is not None:
                self._pending_subscriptions[mid] = topics
        client.publish(self.availability_topic, "online", qos=1, retain=True)
        _LOGGER.info(
            "Connected to MQTT broker %s (%s, %d subscriptions)",
            host_port(self.settings.host, self.settings.port),
            "MQTT 5" if self.v5 else "MQTT 3.1.1",
            len(topics),
        )
        self._call(self._connected.set)
        self._call(self._on_connected)

    def _options(self) -> Any:
        if not self.v5:
            return self.settings.qos
        # Retain As Published keeps the retain flag on live messages too, so retained commands can be refused
        # (MQTT 3.1.1 brokers clear it; there only a (re)subscription shows it).
        return SubscribeOptions(qos=self.settings.qos, retainAsPublished=True)

    def _handle_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        self.last_error = "cannot reach the broker"
        _LOGGER.debug("Cannot reach MQTT broker %s; retrying", host_port(self.settings.host, self.settings.port))

    def _handle_disconnect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self._call(self._connected.clear)
        dropped = _drop_unacknowledged(client)
        if dropped:
            _LOGGER.warning("Dropped %d message(s) the broker had not acknowledged when the connection went", dropped)
        if not self._session_up:
            return  # the end of a refused attempt: keep the refusal as the error
        self._session_up = False
        if reason == 0:
            return
        suspected = self._takeover.suspected
        if self._takeover.dropped(getattr(reason, "value", reason)):
            # Runs before paho's wait for the next attempt, so that wait is already the long one.
            self._backoff(client, slow=True)
            self.last_error = self._taken_over()
            _LOGGER.error("The MQTT broker keeps dropping the connection (%s): %s", reason, self.last_error)
            return
        if self._takeover.suspected:
            self.last_error = self._taken_over()  # still pushed off: said once already
            return
        if suspected:
            self._backoff(client, slow=False)  # the connection lasted: the other client has gone
        self.last_error = str(reason)
        _LOGGER.warning("Lost the MQTT broker (%s); reconnecting", reason)

    def _taken_over(self) -> str:
        return (
            f"another MQTT client connects with client id {self.client_id!r} and pushes this one off "
            f"(two voxhost nodes with node_id {self.settings.node_id!r}?); give each node its own node_id "
            f"(or client_id); retrying every {max(1, round(self.settings.reconnect_max_delay))} s"
        )

    def _handle_subscribe(self, _client: mqtt.Client, _userdata: Any, mid: int, reasons: Any, _props: Any) -> None:
        topics = self._pending_subscriptions.pop(mid, [])
        refused = [topic for topic, reason in zip(topics, reasons, strict=False) if reason.is_failure]
        if refused:
            # e.g. a broker without shared subscriptions, or an ACL that denies a topic.
            _LOGGER.error("The broker refused the subscription(s) %s", ", ".join(refused))

    def _handle_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        # Never work here: copy and hand over, so paho acks at once and keeps the connection alive (unless a flood
        # has filled the inbox: then this thread waits for room, and the broker holds what follows).
        _set_tcp(client.socket(), _QUICKACK)  # a QoS 0 message gets no reply to carry the acknowledgement
        self._inbox.put(_incoming(message))

    def _handle_publish(self, client: mqtt.Client, _userdata: Any, _mid: int, _reason: Any, _props: Any) -> None:
        # The broker's PUBACK is a small packet nothing answers, so the kernel would hold its TCP acknowledgement
        # for up to 40 ms; the broker (mosquitto leaves Nagle on) then holds the next message for voxhost, a
        # request that follows an answer, until it comes (bench/mqtt_latency.py: 42 ms against 1.3 ms).
        _set_tcp(client.socket(), _QUICKACK)

    def _handle_socket_open(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        # Small publishes (a reply, an audio stream's stop) go out at once rather than waiting for the
        # acknowledgement of the last one, as on every socket of asyncio's (the other doors).
        _set_tcp(sock, socket.TCP_NODELAY)

    def _call(self, func: Callable[..., Any], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(func, *args)

    # -- publishing (event loop) ---------------------------------------------------------------------

    def takes(self, topic: str) -> bool:
        """Whether voxhost takes requests on ``topic``: it matches one of the door's subscriptions, or the same
        subscription of another node under the base topic."""
        if self._filters is None:
            base = tuple(self.settings.base_topic.split("/"))
            root = (*base, *self.settings.node_id.split("/"))
            filters = [filter_levels(topic_filter) for topic_filter in self._subscriptions()]
            # Every node on the broker takes requests there: a WAV under voxhost/hall/voices/add was hall's new voice.
            others = [(*base, "+", *levels[len(root) :]) for levels in filters if levels[: len(root)] == root]
            self._filters = (*filters, *others)
        return any(matches(levels, topic) for levels in self._filters)

    @property
    def max_payload(self) -> int:
        """Largest payload voxhost will publish: its own cap, lowered by the broker's Maximum Packet Size."""
        limit = self.settings.max_publish_bytes
        if self.server_max_packet:
            limit = min(limit, self.server_max_packet - PACKET_OVERHEAD)
        return limit

    def fits(self, topic: str, size: int) -> bool:
        """Whether a payload of ``size`` bytes may be published to ``topic``."""
        return size + len(topic.encode()) <= self.max_payload

    def publish(
        self,
        topic: str,
        payload: bytes | str,
        *,
        retain: bool = False,
        qos: int | None = None,
        correlation: bytes | None = None,
        content_type: str | None = None,
    ) -> bool:
        """Publish if it fits; returns False (and logs) when it is too large or the client is gone."""
        client = self._client
        if client is None:
            return False
        if not client.is_connected():
            # paho would hold it (QoS 1 and 2) and send it whenever the broker is back: late audio, stale replies.
            if not self._dropping:
                self._dropping = True
                _LOGGER.warning("The MQTT broker is unreachable: dropping what voxhost publishes (first: %s)", topic)
            return False
        if problem := topic_problem(topic):
            # Sent, it would make the broker drop the connection, and paho resend it on every reconnect.
            _LOGGER.error("Not publishing to %s: %s", ascii(topic), problem)
            return False
        if self.takes(topic):
            # It would come back as a request (a WAV under voices/add became a library voice).
            _LOGGER.error("Not publishing to %s: voxhost takes requests there", topic)
            return False
        try:
            data = payload.encode() if isinstance(payload, str) else payload
        except UnicodeEncodeError as err:  # a lone surrogate: not UTF-8, so not an MQTT message
            _LOGGER.error("Not publishing to %s: the payload is not Unicode text (%s)", topic, err.reason)
            return False
        if not self.fits(topic, len(data)):
            _LOGGER.warning(
                "Not publishing %d bytes to %s: above the %d byte limit", len(data), topic, self.max_payload
            )
            return False
        properties = None
        if self.v5 and (correlation is not None or content_type):
            properties = Properties(PacketTypes.PUBLISH)
            if correlation is not None:
                properties.CorrelationData = correlation
            if content_type:
                properties.ContentType = content_type
        info = client.publish(
            topic, data, qos=self.settings.qos if qos is None else qos, retain=retain, properties=properties
        )
        if info.rc == mqtt.MQTT_ERR_NO_CONN:
            # The connection went between the check above and paho's send: paho holds it for the next one.
            _drop_unacknowledged(client, info.mid)
            return False
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            _LOGGER.warning("Publishing to %s failed: %s", topic, mqtt.error_string(info.rc))
            return False
        return True

    def publish_json(self, topic: str, payload: Any, **kwargs: Any) -> bool:
        """Publish a JSON document."""
        return self.publish(topic, json_bytes(payload), content_type="application/json", **kwargs)
