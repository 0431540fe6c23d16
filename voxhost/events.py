"""Core events and the in-process bus that doors and plugins subscribe to.

Every job's life is a stream of these events; engines and the voice library publish theirs too. Subscribers run
on the event loop and must return quickly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Base of every event."""

    @property
    def kind(self) -> str:
        """Short snake-case name, e.g. ``job_started``."""
        return _KINDS[type(self)]

    def summary(self) -> dict[str, Any]:
        """JSON-safe fields (no audio bytes), for MQTT, logs and the web page."""
        out: dict[str, Any] = {"event": self.kind}
        for name, value in self.__dict__.items():
            if isinstance(value, bytes):
                out[name + "_bytes"] = len(value)
            elif value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class JobEvent(Event):
    """An event of one job."""

    job_id: str


@dataclass(frozen=True)
class JobAccepted(JobEvent):
    """The job passed validation and is queued."""

    voice: str
    engine: str
    door: str
    chars: int
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class JobStarted(JobEvent):
    """The engine began the job's first sentence."""

    wait: float
    """Seconds spent queued."""


@dataclass(frozen=True)
class JobAudio(JobEvent):
    """A chunk of PCM (s16le mono)."""

    audio: bytes
    rate: int
    sentence: int


@dataclass(frozen=True)
class JobProgress(JobEvent):
    """A sentence finished."""

    sentences_done: int
    sentences_total: int | None
    """None while the text is still streaming in."""
    audio_seconds: float


@dataclass(frozen=True)
class JobFinished(JobEvent):
    """The job completed."""

    ttfa: float | None
    """Seconds from accepted to first audio."""
    rtf: float | None
    """Compute seconds per second of audio."""
    audio_seconds: float
    elapsed: float
    sentences: int


@dataclass(frozen=True)
class JobFailed(JobEvent):
    """The job failed; ``code`` is the error's machine-readable code."""

    code: str
    message: str


@dataclass(frozen=True)
class JobCancelled(JobEvent):
    """The job was cancelled (its client went away, or a stop command)."""

    reason: str


@dataclass(frozen=True)
class JobSentence(JobEvent):
    """The engine takes a sentence: the text it is given (after the text front-end), and what was written."""

    sentence: int
    """The sentence's index in the job (as in ``job_audio``)."""
    text: str
    """What the engine says."""
    source: str
    """The sentence as written (markup, digits and all)."""
    language: str | None
    """The language it was read in (the request's, the voice's, or detected); None: unknown."""


@dataclass(frozen=True)
class JobChecked(JobEvent):
    """A sentence was checked with speech recognition: its word error rate, and how often it was made again."""

    sentence: int
    wer: float
    """Word error rate of the attempt kept (normalised words)."""
    retries: int
    """Re-generations (0: the first attempt passed)."""
    passed: bool
    """Whether the kept attempt is within the bound (else it is the best of the attempts)."""
    heard: str
    """What the recognizer heard in the kept attempt."""


@dataclass(frozen=True)
class JobCut(JobEvent):
    """The runaway bound cut a sentence's audio: the engine made far more than its text can take to say (an engine
    caught in a loop), so the sentence ends there and the job goes on."""

    sentence: int
    seconds: float
    """The bound: how much of the sentence's audio was kept."""
    message: str
    """What happened, in words (also the job record's warning)."""


@dataclass(frozen=True)
class Transcribed(Event):
    """A transcription ended (a door's request, a voice-library reference, or a check of generated speech)."""

    engine: str
    door: str
    audio_seconds: float
    elapsed: float
    """Seconds from the request to the transcript."""
    language: str | None
    chars: int
    """Characters of text recognized."""
    error: str | None = None
    """The error's code when it failed."""


@dataclass(frozen=True)
class EngineLoaded(Event):
    """An engine finished loading."""

    engine: str
    seconds: float
    mode: str


@dataclass(frozen=True)
class EngineUnloaded(Event):
    """An engine was unloaded (explicitly, idle, or its worker died)."""

    engine: str
    reason: str


@dataclass(frozen=True)
class VoiceAdded(Event):
    """A voice joined the catalog (e.g. a new cloned voice)."""

    voice: str


@dataclass(frozen=True)
class VoiceRemoved(Event):
    """A voice left the catalog."""

    voice: str


@dataclass(frozen=True)
class ModelPullStarted(Event):
    """A model download began (``voxhost models pull`` or the HTTP door)."""

    engine: str
    model: str
    repo: str


@dataclass(frozen=True)
class ModelPullProgress(Event):
    """Bytes of a model download so far; ``total`` grows as the files to fetch are announced."""

    engine: str
    model: str
    downloaded: int
    total: int | None


@dataclass(frozen=True)
class ModelPullFinished(Event):
    """A model is installed (downloaded and verified, or already present)."""

    engine: str
    model: str
    path: str


@dataclass(frozen=True)
class ModelPullFailed(Event):
    """A model download failed (offline, network, a hash mismatch)."""

    engine: str
    model: str
    code: str
    message: str


TERMINAL = (JobFinished, JobFailed, JobCancelled)
"""Event types that end a job."""

_KINDS: dict[type, str] = {
    JobAccepted: "job_accepted",
    JobStarted: "job_started",
    JobAudio: "job_audio",
    JobProgress: "job_progress",
    JobFinished: "job_finished",
    JobFailed: "job_failed",
    JobCancelled: "job_cancelled",
    JobSentence: "job_sentence",
    JobChecked: "job_checked",
    JobCut: "job_cut",
    Transcribed: "transcribed",
    EngineLoaded: "engine_loaded",
    EngineUnloaded: "engine_unloaded",
    VoiceAdded: "voice_added",
    VoiceRemoved: "voice_removed",
    ModelPullStarted: "model_pull_started",
    ModelPullProgress: "model_pull_progress",
    ModelPullFinished: "model_pull_finished",
    ModelPullFailed: "model_pull_failed",
}

EVENT_TYPES: dict[str, type[Event]] = {kind: cls for cls, kind in _KINDS.items()}
"""Every event type by its ``kind`` (what ``summary()`` puts in ``event``), for schemas of event streams."""

Subscriber = Callable[[Event], Any]


class EventBus:
    """Fan out events to subscribers on the event loop; a failing subscriber is logged, never fatal."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber, isolating their failures."""
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:
                _LOGGER.exception("Event subscriber %r failed on %s", subscriber, event.kind)
