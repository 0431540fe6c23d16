"""The HTTP door's models of jobs, stored outputs and voice-library management: the queries and bodies it takes
(built on the core's operation models) and the answers it gives. The OpenAPI document is generated from them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from ...api import JobRecord
from ...operations import (
    JOB_ID_PATTERN,
    VOICE_ID_PATTERN,
    JobQuery,
    LibraryQuery,
    Operation,
    OutputFilter,
    OutputQuery,
    OutputSelection,
    VoiceSelection,
    VoiceUpdate,
    parse,
)
from .schemas import Answer, ResponseFormat, Voice

READ_WRITE_DOOR = "http"
"""Jobs of this door may be cancelled and removed here; jobs of other doors can only be read."""

_JOB = JOB_ID_PATTERN.strip("^$")
OUTPUT_IDS_PATTERN = rf"^{_JOB}(,{_JOB})*$"
"""Comma-separated output ids, as a query parameter carries them."""
_VOICE = VOICE_ID_PATTERN.strip("^$")
VOICE_IDS_PATTERN = rf"^{_VOICE}(,{_VOICE})*$"
"""Comma-separated voice ids."""
MAX_QUERY_IDS = 4000
"""Longest list of ids in a query string (a request line stays well under the server's 8 KiB limit)."""


# -- queries and bodies --------------------------------------------------------------------------------------


class ListJobsQuery(JobQuery):
    """``GET /v1/jobs``: the query; other query parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


class ListOutputsQuery(OutputQuery):
    """``GET /v1/outputs``: the query; other query parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


class AudioQuery(Operation):
    """The format of fetched audio."""

    model_config = ConfigDict(extra="ignore")

    response_format: ResponseFormat = ResponseFormat.MP3
    """The audio format (as for speech)."""


class OutputAudioQuery(AudioQuery):
    """The format of a stored output's audio; ``wav`` (the default) is the stored file itself."""

    response_format: ResponseFormat = ResponseFormat.WAV
    """The audio format."""


class OutputsArchiveQuery(OutputFilter):
    """``GET /v1/outputs/archive``: which outputs; with no condition and no ``ids``, every output."""

    model_config = ConfigDict(extra="ignore")

    ids: Annotated[str, Field(pattern=OUTPUT_IDS_PATTERN, max_length=MAX_QUERY_IDS)] | None = None
    """Comma-separated output ids."""

    def selection(self) -> OutputSelection:
        """The core's selection of the outputs this query names."""
        conditions = self.model_dump(include=set(OutputFilter.model_fields), exclude_none=True)
        return parse(
            OutputSelection, {**conditions, "ids": self.ids.split(",") if self.ids else None, "all": not self.ids}
        )


class DeleteOutputsRequest(OutputSelection):
    """``POST /v1/outputs/delete``: which outputs to delete. Without ``"confirm": true`` nothing is deleted and
    the answer lists what would be."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON: false is not 0, 1 is not true


class UpdateVoiceRequest(VoiceUpdate):
    """``PATCH /v1/audio/voices/{voice_id}``: the metadata to change; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON: false is not 0, 1 is not true


class ReplaceVoiceAudioRequest(Operation):
    """``PUT /v1/audio/voices/{voice_id}/audio`` (multipart): new reference audio for a stored voice."""

    audio_sample: bytes = Field(min_length=1)
    """A recording, checked as a new voice's sample is (wav, flac, ogg, mp3, aac, m4a, webm)."""


class LibraryVoicesQuery(LibraryQuery):
    """``GET /v1/library/voices``: the query; other query parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


class DeleteVoicesRequest(VoiceSelection):
    """``POST /v1/library/voices/delete``: which voices to delete. Without ``"confirm": true`` nothing is deleted
    and the answer lists what would be."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON: false is not 0, 1 is not true


class ExportVoicesQuery(Operation):
    """``GET /v1/library/export``: which voices; none named: the whole library."""

    model_config = ConfigDict(extra="ignore")

    ids: Annotated[str, Field(pattern=VOICE_IDS_PATTERN, max_length=MAX_QUERY_IDS)] | None = None
    """Comma-separated voice ids."""


class ImportVoicesRequest(Operation):
    """``POST /v1/library/import`` (multipart): a voice archive (as ``/v1/library/export`` writes it)."""

    archive: bytes = Field(min_length=1)
    """The zip archive."""
    duplicates: Literal["skip", "replace"] = "skip"
    """A voice whose id is already in the library: ``skip`` leaves the stored one as it is, ``replace``
    overwrites it with the archived one."""


# -- answers -------------------------------------------------------------------------------------------------


class JobProgress(Answer):
    """How far a job has got."""

    sentences_done: int
    sentences_total: int | None
    """Known once the whole text is in."""
    audio_seconds: float
    chars: int


class JobTimings(Answer):
    """When things happened (Unix seconds) and how long they took (seconds)."""

    accepted_at: float
    started_at: float | None
    first_audio_at: float | None
    ended_at: float | None
    wait: float | None
    """Queued before the engine took it."""
    ttfa: float | None
    """From accepted to the first audio."""
    rtf: float | None
    """Compute seconds per second of audio."""
    elapsed: float | None


class JobError(Answer):
    """Why a job failed or was cancelled."""

    code: str
    """``engine_error``, ``cancelled``, ``interrupted`` (the daemon stopped), ..."""
    message: str


class SpeechJob(Answer):
    """A speech job from any door: its state, progress, timings and outcome."""

    id: str
    object: Literal["speech.job"] = "speech.job"
    state: Literal["queued", "running", "finished", "failed", "cancelled"]
    door: str
    voice: str
    engine: str
    read_only: bool
    """Jobs of other doors (Wyoming, MQTT, ...) can be read here, not cancelled or removed."""
    progress: JobProgress
    timings: JobTimings
    error: JobError | None
    audio: bool
    """Its audio is kept and can be fetched from ``audio_url`` (so far, then the rest as it is made)."""
    audio_url: str | None
    kept: bool
    """It is (once finished) a stored output in ``/v1/outputs``."""
    expires_at: float | None
    """When the kept audio of a job that is not a stored output is removed."""
    warnings: list[str]
    """What went wrong without failing the job: a sentence whose audio the runaway bound cut."""


class SpeechJobList(Answer):
    """Recent jobs from every door, newest first."""

    object: Literal["list"] = "list"
    data: list[SpeechJob]
    total: int
    has_more: bool


class JobDeleted(Answer):
    """A job, cancelled if it was running, and removed with its kept audio."""

    id: str
    object: Literal["speech.job.deleted"] = "speech.job.deleted"
    deleted: bool = True
    cancelled: bool
    """It was still queued or running."""


class Output(Answer):
    """A stored output: the record of a finished job whose audio is kept."""

    id: str
    object: Literal["speech.output"] = "speech.output"
    created_at: float
    """When the job was accepted (Unix seconds)."""
    door: str
    voice: str
    engine: str
    text: str | None
    """The text as given (None for text that streamed in)."""
    spoken: str | None
    """The text as spoken, where the core reported it."""
    language: str | None
    speaker: str | None
    speed: float
    instructions: str | None
    seed: int | None
    options: dict[str, Any]
    audio_seconds: float
    sentences: int
    sample_rate: int | None
    size: int
    """Bytes of the stored WAV."""
    wer: float | None
    """Word error rate of the audio against the text, where it was checked."""
    timings: JobTimings
    audio_url: str


class OutputList(Answer):
    """Stored outputs that match the query, newest first."""

    object: Literal["list"] = "list"
    data: list[Output]
    total: int
    has_more: bool


class OutputDeleted(Answer):
    """A deleted output."""

    id: str
    object: Literal["speech.output.deleted"] = "speech.output.deleted"
    deleted: bool = True


class OutputsDeleted(Answer):
    """What a bulk delete of outputs did, or (unconfirmed) would do."""

    object: Literal["speech.output.bulk_delete"] = "speech.output.bulk_delete"
    confirmed: bool
    matched: list[str]
    """The outputs the selection names."""
    deleted: list[str]
    """The outputs deleted (none unless confirmed)."""


class VoicesDeleted(Answer):
    """What a bulk delete of voices did, or (unconfirmed) would do."""

    object: Literal["audio.voice.bulk_delete"] = "audio.voice.bulk_delete"
    confirmed: bool
    matched: list[str]
    """The voices the selection names."""
    deleted: list[str]
    """The voices deleted (none unless confirmed)."""


class VoicesImported(Answer):
    """What an import did."""

    object: Literal["audio.voice.import"] = "audio.voice.import"
    imported: list[Voice]
    """New and replaced voices, as stored now."""
    skipped: list[str]
    """Ids already in the library, left as they are."""
    replaced: list[str]
    """Ids already in the library, overwritten."""


# -- from the core's records ---------------------------------------------------------------------------------


def job_audio_url(job_id: str, fmt: str | None = None) -> str:
    """Where a job's audio is fetched."""
    return f"/v1/jobs/{job_id}/audio" + (f"?response_format={fmt}" if fmt else "")


def timings(record: JobRecord) -> JobTimings:
    """A record's timings."""
    return JobTimings(
        accepted_at=record.accepted_at,
        started_at=record.started_at,
        first_audio_at=record.first_audio_at,
        ended_at=record.ended_at,
        wait=record.wait,
        ttfa=record.ttfa,
        rtf=record.rtf,
        elapsed=record.elapsed,
    )


def speech_job(record: JobRecord, fmt: str | None = None) -> SpeechJob:
    """A record as a job answer; ``fmt``: the format its ``audio_url`` asks for."""
    return SpeechJob(
        id=record.id,
        state=record.state,
        door=record.door,
        voice=record.voice,
        engine=record.engine,
        read_only=record.door != READ_WRITE_DOOR,
        progress=JobProgress(
            sentences_done=record.sentences_done,
            sentences_total=record.sentences_total,
            audio_seconds=record.audio_seconds,
            chars=record.chars,
        ),
        timings=timings(record),
        error=JobError(code=record.error_code or "error", message=record.error_message or "")
        if record.state in ("failed", "cancelled")
        else None,
        audio=record.audio,
        audio_url=job_audio_url(record.id, fmt) if record.audio else None,
        kept=record.kept,
        expires_at=record.expires_at,
        warnings=list(record.warnings),
    )


def output(record: JobRecord) -> Output:
    """A stored output's record as an answer."""
    return Output(
        id=record.id,
        created_at=record.accepted_at,
        door=record.door,
        voice=record.voice,
        engine=record.engine,
        text=record.text,
        spoken=record.spoken,
        language=record.language,
        speaker=record.speaker,
        speed=record.speed,
        instructions=record.instructions,
        seed=record.seed,
        options=record.options,
        audio_seconds=record.audio_seconds,
        sentences=record.sentences_done,
        sample_rate=record.rate,
        size=record.size,
        wer=record.wer,
        timings=timings(record),
        audio_url=f"/v1/outputs/{record.id}/audio",
    )
