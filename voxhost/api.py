"""What doors and plugin hooks may use of the core: the ``CoreAPI`` protocol and the ``JobHandle`` it returns.

Doors and hooks are typed against these protocols and import nothing else from the core but public types
(operations, events, errors, voices, the engine contract). ``voxhost.core.Core`` implements ``CoreAPI``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

    from .audio import EncodedAudio
    from .engine import PCM, EngineContext, ModelSpec, Transcript, TranscriptionModel, TranscriptPart, WithheldVoice
    from .errors import VoxhostError
    from .events import Event
    from .operations import (
        ConvertParams,
        JobQuery,
        LexiconEntry,
        LexiconRule,
        LibraryQuery,
        OutputQuery,
        OutputSelection,
        SpeechRequest,
        TranscribeParams,
        VoiceCreate,
        VoiceSelection,
        VoiceUpdate,
    )
    from .settings import Settings
    from .voices import BrokenVoice, CatalogVoice, LibraryVoice

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
    withheld: tuple[WithheldVoice, ...] = ()
    """Built-in voices the engine does not offer with this configuration, and why."""
    transcription_models: tuple[TranscriptionModel, ...] = ()
    """The speech-recognition models it serves, with their languages (engines that transcribe)."""
    fetches_models: bool = False
    """Its list of models is fetched from the network (``Engine.refresh_models``, the Piper voice catalog):
    ``models`` is empty until it was fetched once; ``CoreAPI.refresh_models`` fetches it."""


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


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list."""

    items: list[T]
    total: int
    """How many there are in all (every page)."""


@dataclass(frozen=True)
class JobRecord:
    """What the core remembers of a job: how it was asked for, how far it got, its timings and its outcome.

    A stored output is the record of a finished job whose audio is kept (``kept``); its id is the job's id.
    """

    id: str
    door: str
    voice: str
    """The catalog id of the voice that speaks."""
    engine: str
    state: JobState
    accepted_at: float
    """``time.time()`` when the job was accepted."""
    chars: int
    text: str | None = None
    """The text as given (None for text that streamed in)."""
    spoken: str | None = None
    """The text as spoken, where the core reported it (sentence by sentence)."""
    client: str | None = None
    language: str | None = None
    speaker: str | None = None
    speed: float = 1.0
    instructions: str | None = None
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    """The engine's own options as the request gave them."""
    sentences_done: int = 0
    sentences_total: int | None = None
    """Known once the whole text is in."""
    audio_seconds: float = 0.0
    started_at: float | None = None
    first_audio_at: float | None = None
    ended_at: float | None = None
    wait: float | None = None
    """Seconds spent queued."""
    ttfa: float | None = None
    """Seconds from accepted to first audio."""
    rtf: float | None = None
    """Compute seconds per second of audio."""
    elapsed: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    rate: int | None = None
    """Sample rate of the audio."""
    audio: bool = False
    """The job's audio is kept and can be fetched by its id."""
    kept: bool = False
    """The job is (once finished) a stored output in the history."""
    expires_at: float | None = None
    """When the kept audio of a job that is not a stored output is removed."""
    size: int = 0
    """Bytes of kept audio."""
    wer: float | None = None
    """Word error rate of the audio against the text, where the core checked it (the worst sentence)."""
    warnings: list[str] = field(default_factory=list)
    """What went wrong without failing the job: a sentence whose audio the runaway bound cut (``job_cut``)."""

    @property
    def done(self) -> bool:
        """Whether the job has ended."""
        return self.state in ("finished", "failed", "cancelled")

    def evolve(self, changes: dict[str, Any]) -> JobRecord:
        """A copy with ``changes`` applied."""
        # Not ``dataclasses.replace``: it builds the record again through ``__init__``, field by field, on every
        # event of every job (a tenth of a millisecond of each one-sentence answer). The fields were checked
        # when the record was made; only their names are checked here.
        if unknown := changes.keys() - self.__dict__.keys():
            raise TypeError(f"JobRecord has no field {', '.join(sorted(unknown))}")
        record = object.__new__(JobRecord)
        record.__dict__.update(self.__dict__, **changes)
        return record


@dataclass(frozen=True)
class OutputsStatus:
    """The stored outputs against their limits, for health pages and metrics."""

    count: int
    bytes: int
    oldest_at: float | None
    max_count: int
    max_bytes: int
    max_age_days: float
    near: tuple[str, ...]
    """The limits the outputs are near (``size``, ``count``): the oldest go first once they are passed."""


@dataclass(frozen=True)
class VoiceUsage:
    """How often a library voice has been used, and when last."""

    uses: int = 0
    last_used: float | None = None


@dataclass(frozen=True)
class ImportResult:
    """What an import of a voice archive did."""

    imported: list[LibraryVoice]
    """New voices and replaced ones, as stored now."""
    skipped: list[str]
    """Ids already in the library, left as they are (``duplicates="skip"``)."""
    replaced: list[str]
    """Ids already in the library, overwritten (``duplicates="replace"``)."""


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

    def batches(self) -> AsyncGenerator[list[Event], None]:
        """The job's events as they come, those already waiting together (a door that writes them to a socket
        writes each batch at once); the last batch ends with the terminal event. Read either this or ``events``."""
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

    async def broken_voices(self) -> list[BrokenVoice]:
        """Stored voices whose metadata or recording cannot be used: out of the catalog, deletable by their ids."""
        ...

    async def delete_voice(self, voice_id: str) -> LibraryVoice:
        """Delete a stored voice, or a broken one (answered with its ``BrokenVoice.stand_in``), and announce it."""
        ...

    # -- voice conversion ------------------------------------------------------------------------------

    def converters(self) -> list[str]:
        """Running engines that can convert voices."""
        ...

    def check_convert(self, params: ConvertParams) -> ConvertParams:
        """Resolve a conversion's target and engine before any audio (typed errors); returns them resolved."""
        ...

    def convert(
        self,
        audio: PCM | EncodedAudio,
        params: ConvertParams,
        started: Callable[[], None] | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> AsyncGenerator[PCM, None]:
        """Convert speech into a library voice; closing the stream cancels the work. An uploaded file is decoded
        only when the engine takes it up, and ``started`` is called then; ``warn`` is called with what went wrong
        without failing the conversion (its audio cut by the runaway bound, as an engine caught in a loop is)."""
        ...

    # -- speech recognition ----------------------------------------------------------------------------

    def transcribers(self) -> list[str]:
        """Running engines that transcribe speech, the configured recognizer first."""
        ...

    def check_transcribe(self, params: TranscribeParams) -> TranscribeParams:
        """Resolve a transcription's engine and check its language and options before any audio (typed errors)."""
        ...

    async def transcribe(self, audio: PCM | EncodedAudio, params: TranscribeParams) -> Transcript:
        """Recognize the speech in ``audio``; it goes before the checking of generated speech in the queue. An
        uploaded file is decoded only when the engine takes it up."""
        ...

    def transcribe_stream(
        self, audio: PCM | EncodedAudio, params: TranscribeParams
    ) -> AsyncGenerator[TranscriptPart, None]:
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

    async def refresh_models(self, engine_id: str) -> None:
        """Fetch an engine's list of downloadable models (off the event loop, with a timeout; one fetch at a time
        per engine); ``ModelCatalogError`` (503) when it cannot be had (offline)."""
        ...

    # -- the spoken-text lexicon -------------------------------------------------------------------------

    def lexicon(self) -> list[LexiconEntry]:
        """Every user lexicon entry: the config file's (read-only), then those added over the API."""
        ...

    async def add_lexicon_entry(self, rule: LexiconRule) -> LexiconEntry:
        """Store a lexicon entry; jobs that start from now on use it."""
        ...

    async def delete_lexicon_entry(self, entry_id: str) -> LexiconEntry:
        """Delete an entry added over the API (``UnknownLexiconEntryError``; config entries are refused)."""
        ...

    # -- doors -----------------------------------------------------------------------------------------

    def door_status(self) -> dict[str, dict[str, Any]]:
        """Each open door's status (addresses, connection state), for health pages."""
        ...

    # -- job records and stored outputs ----------------------------------------------------------------

    def job_record(self, job_id: str) -> JobRecord:
        """A recent job from any door, or a job whose audio is kept; ``UnknownJobError`` otherwise."""
        ...

    def job_records(self, query: JobQuery) -> Page[JobRecord]:
        """Recent jobs from every door (and jobs whose audio is kept), newest first."""
        ...

    def job_audio(self, job_id: str) -> AsyncGenerator[PCM, None]:
        """A job's kept audio: what exists now, then the rest as it is made; raises the job's error if it fails."""
        ...

    async def remove_job(self, job_id: str) -> JobRecord:
        """Cancel a job that still runs, and forget it with its kept audio (a stored output too)."""
        ...

    def outputs(self, query: OutputQuery) -> Page[JobRecord]:
        """Stored outputs that match the query, newest first."""
        ...

    def select_outputs(self, selection: OutputSelection) -> list[JobRecord]:
        """Every stored output a selection names, newest first (unknown ids are left out)."""
        ...

    async def delete_outputs(self, ids: list[str]) -> list[str]:
        """Delete stored outputs; returns the ids that were there."""
        ...

    def output_file(self, output_id: str) -> Path:
        """The WAV file of a stored output (complete: only finished jobs are stored outputs)."""
        ...

    def job_file(self, job_id: str) -> Path | None:
        """A kept job's WAV file once it is whole on disk (its job finished); None while it is being made, or when
        the job kept no audio or did not finish."""
        ...

    def export_outputs(self, ids: list[str]) -> AsyncGenerator[bytes, None]:
        """A zip archive of stored outputs (audio and records, with a manifest), as it is read from disk."""
        ...

    def outputs_status(self) -> OutputsStatus:
        """The stored outputs against their limits."""
        ...

    # -- managing the voice library --------------------------------------------------------------------

    async def find_voices(self, query: LibraryQuery) -> Page[LibraryVoice]:
        """Stored voices that match a search, newest first."""
        ...

    async def update_voice(self, voice_id: str, update: VoiceUpdate) -> LibraryVoice:
        """Change a stored voice's metadata (name, language, transcript, tags, notes) without new audio."""
        ...

    async def replace_voice_audio(self, voice_id: str, samples: np.ndarray, rate: int) -> LibraryVoice:
        """Give a stored voice new reference audio (checked as a new voice's is); its id stays."""
        ...

    async def select_voices(self, selection: VoiceSelection) -> list[LibraryVoice]:
        """The stored voices a selection names (an unknown id is ``UnknownVoiceError``)."""
        ...

    async def delete_voices(self, voice_ids: list[str]) -> list[LibraryVoice]:
        """Delete stored voices and announce each."""
        ...

    def voice_usage(self, voice_id: str) -> VoiceUsage:
        """How often a stored voice has been used (speech and conversion), and when last."""
        ...

    def export_voices(self, voice_ids: list[str] | None = None) -> AsyncGenerator[bytes, None]:
        """A zip archive of stored voices (all: ``None``): audio, transcript, metadata, a manifest with hashes."""
        ...

    async def import_voices(self, archive: bytes, duplicates: Literal["skip", "replace"] = "skip") -> ImportResult:
        """Check a voice archive in full, then store its voices (all or none); ``InvalidArchiveError`` otherwise."""
        ...
