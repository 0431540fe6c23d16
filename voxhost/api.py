"""What doors and plugin hooks may use of the core: the ``CoreAPI`` protocol and the ``JobHandle`` it returns.

Doors and hooks are typed against these protocols and import nothing else from the core but public types
(operations, events, errors, voices, the engine contract). ``voxhost.core.Core`` implements ``CoreAPI``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import numpy as np

    from .engine import PCM, EngineContext, ModelSpec, Transcript, TranscriptionModel, TranscriptPart
    from .errors import VoxhostError
    from .events import Event
    from .operations import ConvertParams, SpeechRequest, TranscribeParams, VoiceCreate
    from .settings import Settings
    from .voices import CatalogVoice, LibraryVoice

JobState = Literal["queued", "running", "finished", "failed", "cancelled"]
"""A job's life: queued → running → finished, failed or cancelled."""


@dataclass(frozen=True)
class EngineInfo:
    """What doors may know of a running engine: static facts, no handle on its runner."""

    id: str
    name: str
    capabilities: frozenset[str]
    """``tts``, ``clone``, ``convert``, ``stream``, ``transcribe``."""
    mode: str
    """``thread`` or ``worker``."""
    needs_transcript: bool
    options_schema: dict[str, Any]
    """JSON schema of the engine's per-request options."""
    models: tuple[ModelSpec, ...]
    """Models the engine can use (``voxhost models``)."""
    context: EngineContext
    """Where the engine keeps its files (models directory, caches)."""
    attribution: tuple[str, str]
    """Who made it, and where it comes from (name, URL)."""
    version: str | None
    """The engine package's version, where the daemon's environment has it (heavy engines live in workers)."""
    transcription_models: tuple[TranscriptionModel, ...] = ()
    """The speech-recognition models it serves, with their languages (engines that transcribe)."""


@dataclass(frozen=True)
class EngineState:
    """A running engine's state now, read without waiting (metrics, health)."""

    id: str
    loaded: bool
    error: str | None
    """Why the last load failed."""
    queue: int
    """Jobs waiting or running."""
    busy: bool


class Bus(Protocol):
    """The core's event bus: subscribe to every event, or publish one (model pulls, door events)."""

    def subscribe(self, subscriber: Callable[[Event], Any]) -> Callable[[], None]:
        """Add a subscriber (called on the event loop, must return quickly); returns its unsubscribe function."""
        ...

    def publish(self, event: Event) -> None:
        """Deliver an event to every subscriber."""
        ...


class JobHandle(Protocol):
    """A speech job as a door sees it: its record, the text it is fed, and its stream of events."""

    @property
    def id(self) -> str:
        """Short unique id, in every event of the job."""
        ...

    @property
    def voice(self) -> CatalogVoice:
        """The voice the job speaks with."""
        ...

    @property
    def request(self) -> SpeechRequest:
        """The request as the door made it."""
        ...

    @property
    def state(self) -> JobState:
        """Where the job is in its life."""
        ...

    @property
    def done(self) -> bool:
        """Whether the job has ended (finished, failed or cancelled)."""
        ...

    @property
    def error(self) -> VoxhostError | None:
        """Why the job failed or was cancelled."""
        ...

    @property
    def chars(self) -> int:
        """Characters of text received so far."""
        ...

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio released so far."""
        ...

    @property
    def rate(self) -> int | None:
        """Sample rate of the job's audio, once known."""
        ...

    @property
    def accepted_at(self) -> float:
        """``time.monotonic()`` when the job was accepted."""
        ...

    @property
    def started_at(self) -> float | None:
        """``time.monotonic()`` when the engine took its first sentence."""
        ...

    def feed(self, text: str) -> None:
        """Add text to a job whose text streams in; complete sentences become work at once."""
        ...

    def finish_text(self) -> None:
        """No more text will come."""
        ...

    def cancel(self, reason: str = "cancelled") -> None:
        """Stop the job; pending sentences are dropped and the engine moves on."""
        ...

    def events(self) -> AsyncGenerator[Event, None]:
        """The job's events, ending with its terminal event."""
        ...

    def pcm(self) -> AsyncGenerator[PCM, None]:
        """Just the audio; raises the job's error if it fails or is cancelled."""
        ...


class CoreAPI(Protocol):
    """Everything a door or a plugin hook may ask of the core."""

    @property
    def settings(self) -> Settings:
        """The daemon's settings (read-only)."""
        ...

    @property
    def bus(self) -> Bus:
        """Every core event: jobs, engines, voices, model pulls."""
        ...

    @property
    def started_at(self) -> float:
        """``time.time()`` when the core started."""
        ...

    # -- speech ----------------------------------------------------------------------------------------

    def submit(self, request: SpeechRequest) -> JobHandle:
        """Validate and queue a request (typed errors before any audio); with ``text=None`` the caller feeds it."""
        ...

    async def speak(self, request: SpeechRequest) -> tuple[bytes, int]:
        """Synthesize a whole text to PCM: (s16le bytes, sample rate)."""
        ...

    def jobs(self) -> list[JobHandle]:
        """The jobs now queued or running, from every door."""
        ...

    # -- voices ----------------------------------------------------------------------------------------

    def voices(self) -> list[CatalogVoice]:
        """The catalog: built-in, cloned and pipeline voices of the running engines."""
        ...

    def resolve_voice(
        self,
        name: str | None = None,
        *,
        language: str | None = None,
        speaker: str | None = None,
        engine: str | None = None,
    ) -> CatalogVoice:
        """The voice a request would get: by id or alias, else by language, else the default."""
        ...

    def speaks(self, voice: CatalogVoice, language: str | None) -> bool:
        """Whether a voice speaks a language (its base language matches; no language: any voice does)."""
        ...

    # -- the voice library -----------------------------------------------------------------------------

    async def library_voices(self) -> list[LibraryVoice]:
        """Every stored cloned voice, oldest first."""
        ...

    def library_voice(self, voice_id: str) -> LibraryVoice:
        """One stored voice, or ``UnknownVoiceError``."""
        ...

    async def store_voice(self, voice: VoiceCreate, samples: np.ndarray, rate: int) -> LibraryVoice:
        """Validate and store a cloned voice (written on a thread) and announce its catalog entries."""
        ...

    async def delete_voice(self, voice_id: str) -> LibraryVoice:
        """Delete a stored voice and announce it."""
        ...

    # -- voice conversion ------------------------------------------------------------------------------

    def converters(self) -> list[str]:
        """Running engines that can convert voices."""
        ...

    def check_convert(self, params: ConvertParams) -> ConvertParams:
        """Resolve a conversion's target and engine before any audio (typed errors); returns them resolved."""
        ...

    def convert(self, audio: PCM, params: ConvertParams) -> AsyncGenerator[PCM, None]:
        """Convert speech into a library voice; closing the stream cancels the work."""
        ...

    # -- speech recognition ----------------------------------------------------------------------------

    def transcribers(self) -> list[str]:
        """Running engines that transcribe speech, the configured recognizer first."""
        ...

    def check_transcribe(self, params: TranscribeParams) -> TranscribeParams:
        """Resolve a transcription's engine and check its language and options before any audio (typed errors)."""
        ...

    async def transcribe(self, audio: PCM, params: TranscribeParams) -> Transcript:
        """Recognize the speech in ``audio``; it goes before the checking of generated speech in the queue."""
        ...

    def transcribe_stream(self, audio: PCM, params: TranscribeParams) -> AsyncGenerator[TranscriptPart, None]:
        """Recognize the speech in ``audio``: a ``TranscriptInfo``, then segments as they are recognized; closing
        the stream cancels the work."""
        ...

    # -- engines ---------------------------------------------------------------------------------------

    def engines(self) -> list[EngineInfo]:
        """The running engines (loaded or not)."""
        ...

    def engine(self, engine_id: str) -> EngineInfo:
        """One running engine, or ``UnknownEngineError`` naming the running ones."""
        ...

    def engine_states(self) -> list[EngineState]:
        """Each running engine's state now (loaded, queue), without asking workers."""
        ...

    async def engine_status(self) -> list[dict[str, Any]]:
        """Per engine: mode, loaded, error, capabilities, queue, busy, and what the engine reports."""
        ...

    async def load_engine(self, engine_id: str) -> None:
        """Load an engine now (waits; a failure is the engine's error)."""
        ...

    async def unload_engine(self, engine_id: str) -> None:
        """Free an engine's memory; ``BusyError`` while it has jobs."""
        ...

    # -- doors -----------------------------------------------------------------------------------------

    def door_status(self) -> dict[str, dict[str, Any]]:
        """Each open door's status (addresses, connection state), for health pages."""
        ...
