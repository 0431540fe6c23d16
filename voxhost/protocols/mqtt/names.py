"""Topic names: voxhost's own tree under ``<base>/<node>``, the pool topics under ``<base>``, and Hermes'."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .chars import unfit_character
from .settings import MqttSettings

HERMES_SAY = "hermes/tts/say"
HERMES_SAY_FINISHED = "hermes/tts/sayFinished"
HERMES_ERROR = "hermes/error/tts"
HERMES_PLAY_FINISHED = "hermes/audioServer/+/playFinished"
RHASSPY_GET_VOICES = "rhasspy/tts/getVoices"
RHASSPY_VOICES = "rhasspy/tts/voices"

_NOT_HA_ID_RE = re.compile(r"[^a-zA-Z0-9_-]")
"""What Home Assistant refuses in a discovery topic's object id: a config on such a topic is dropped with a warning
in Home Assistant's log only."""

MAX_TOPIC_BYTES = 65535
"""Longest topic name MQTT can carry (a two-byte length)."""


def topic_problem(topic: str) -> str | None:
    """Why voxhost must not publish to ``topic`` (a broker would refuse it or drop the connection), or None."""
    if not topic:
        return "the topic is empty"
    if found := unfit_character(topic):
        return f"the topic contains a character MQTT forbids in topic names ({found})"
    if "+" in topic or "#" in topic:
        return "the topic contains a wildcard ('+' or '#')"
    if len(topic.encode()) > MAX_TOPIC_BYTES:
        return f"the topic is longer than {MAX_TOPIC_BYTES} bytes"
    return None


def reply_topic_problem(topic: str) -> str | None:
    """Why a topic a client names for its replies or audio is refused (also one starting with ``$``), or None."""
    if topic.startswith("$"):
        return "the topic starts with '$' (reserved for the broker)"
    return topic_problem(topic)


def filter_levels(topic_filter: str) -> tuple[str, ...]:
    """A subscription's topic filter as levels, without a shared subscription's ``$share/<group>/``."""
    levels = topic_filter.split("/")
    return tuple(levels[2:]) if levels[0] == "$share" else tuple(levels)


def matches(levels: tuple[str, ...], topic: str) -> bool:
    """Whether ``topic`` matches the topic filter ``levels`` (``filter_levels``): ``+`` one level, ``#`` the rest."""
    names = topic.split("/")
    for index, level in enumerate(levels):
        if level == "#":
            return True
        if index >= len(names) or level not in ("+", names[index]):
            return False
    return len(names) == len(levels)


def hermes_play_bytes(site_id: str, request_id: str) -> str:
    """Where Hermes audio servers expect a whole WAV."""
    return f"hermes/audioServer/{site_id}/playBytes/{request_id}"


def shared(topic: str, group: str | None) -> str:
    """``topic``, or its MQTT 5 shared-subscription filter when a group is set."""
    return f"$share/{group}/{topic}" if group else topic


@dataclass(frozen=True)
class Topics:
    """Every voxhost topic of one node."""

    base: str
    node: str
    discovery_prefix: str

    @classmethod
    def from_settings(cls, settings: MqttSettings) -> Topics:
        """Topics for the configured base topic and node id."""
        return cls(settings.base_topic, settings.node_id, settings.discovery_prefix)

    @property
    def root(self) -> str:
        """``<base>/<node>``."""
        return f"{self.base}/{self.node}"

    # -- in ---------------------------------------------------------------------------------------------
    @property
    def say(self) -> str:
        """Say requests for this node."""
        return f"{self.root}/say"

    @property
    def pool_say(self) -> str:
        """Say requests for any node (a shared subscription when ``shared_group`` is set)."""
        return f"{self.base}/say"

    @property
    def convert(self) -> str:
        """Voice conversion requests (audio in) for this node."""
        return f"{self.root}/convert"

    @property
    def pool_convert(self) -> str:
        """Voice conversion requests for any node (a shared subscription when ``shared_group`` is set)."""
        return f"{self.base}/convert"

    @property
    def transcribe(self) -> str:
        """Speech-to-text requests (audio in, text out) for this node."""
        return f"{self.root}/transcribe"

    @property
    def pool_transcribe(self) -> str:
        """Speech-to-text requests for any node (a shared subscription when ``shared_group`` is set)."""
        return f"{self.base}/transcribe"

    @property
    def stop(self) -> str:
        """Stop this node's speech."""
        return f"{self.root}/stop"

    @property
    def pool_stop(self) -> str:
        """Stop speech on every node."""
        return f"{self.base}/stop"

    @property
    def voices_get(self) -> str:
        """Voice list requests."""
        return f"{self.root}/voices/get"

    @property
    def voices_add(self) -> str:
        """Voice-library uploads (reference audio in, the stored voice out)."""
        return f"{self.root}/voices/add"

    @property
    def voices_delete(self) -> str:
        """Voice-library deletions."""
        return f"{self.root}/voices/delete"

    @property
    def voice_set(self) -> str:
        """Set the default voice (Home Assistant's select)."""
        return f"{self.root}/voice/set"

    @property
    def jobs_get(self) -> str:
        """Job requests: one job's record and kept audio, or a page of recent jobs."""
        return f"{self.root}/jobs/get"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth and last-will topic."""
        return f"{self.discovery_prefix}/status"

    # -- out --------------------------------------------------------------------------------------------
    @property
    def availability(self) -> str:
        """Retained ``online`` / ``offline`` (last will)."""
        return f"{self.root}/availability"

    @property
    def response(self) -> str:
        """Status replies of requests that name no reply topic."""
        return f"{self.root}/response"

    @property
    def voices(self) -> str:
        """Voice lists for requests that name no reply topic."""
        return f"{self.root}/voices"

    @property
    def jobs(self) -> str:
        """Replies to job requests that name no reply topic."""
        return f"{self.root}/jobs"

    @property
    def voice(self) -> str:
        """Retained default voice."""
        return f"{self.root}/voice"

    @property
    def state(self) -> str:
        """Retained activity: idle, queued or speaking."""
        return f"{self.root}/state"

    @property
    def events(self) -> str:
        """Job and engine events."""
        return f"{self.root}/events"

    def audio(self, request_id: str) -> str:
        """Prefix of one request's audio messages (``/start``, ``/chunk``, ``/stop``, ``/wav``)."""
        return f"{self.root}/audio/{request_id}"

    @property
    def discovery(self) -> str:
        """Home Assistant device discovery topic."""
        return f"{self.discovery_prefix}/device/{self.object_id}/config"

    @property
    def object_id(self) -> str:
        """This node's id in Home Assistant (device identifier and entity id prefix)."""
        return _NOT_HA_ID_RE.sub("_", f"{self.base}_{self.node}")
