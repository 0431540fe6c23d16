"""Voice library archives: export voices as one zip, and check an archive in full before any of it is imported.

An archive holds, per voice, ``<id>/reference.wav`` (the stored file, byte for byte), ``<id>/voice.json`` (its
metadata) and ``<id>/transcript.txt`` (where it has a transcript), and a ``manifest.json`` with every member's size
and SHA-256. Import takes a voice only when its names are safe, its sizes within limits, its hashes right, its
metadata valid (as a new voice's would be) and its audio a usable reference; one bad voice refuses the archive.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import soundfile
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .api import ImportResult
from .archives import Member, Source, read_zip, write_zip
from .errors import InvalidArchiveError, InvalidAudioError
from .library import AUDIO, META, VoiceLibrary, check_reference, fingerprint, valid_voice_id
from .operations import Language, Notes, Tags, Transcript, VoiceName, invalid
from .voices import LibraryVoice

KIND = "voxhost-voices"
TRANSCRIPT = "transcript.txt"
LIMITS = {AUDIO: 16 * 1024 * 1024, META: 64 * 1024, TRANSCRIPT: 16 * 1024}
"""Largest size of each file of a voice (16 MiB of WAV is 30 s at 192 kHz)."""
MAX_VOICES = 1000
"""Most voices in one archive."""
MAX_UNPACKED = 256 * 1024 * 1024
"""Most bytes an archive may unpack to (it is checked in memory before anything is written)."""


class ArchivedVoice(BaseModel):
    """A voice's ``voice.json`` as import takes it: checked as a new voice's metadata is; the audio's facts
    (length, rate, fingerprint) are measured again, never taken from the file."""

    model_config = ConfigDict(extra="ignore")

    id: str
    name: VoiceName
    language: Language | None = None
    transcript: Transcript = None
    tags: Tags = Field(default_factory=list)
    notes: Notes = None
    created_at: Annotated[int, Field(ge=0)]
    updated_at: Annotated[int, Field(ge=0)] | None = None


def export_members(root: Path, voices: Iterable[LibraryVoice]) -> list[tuple[str, Source]]:
    """The archive members of stored voices."""
    members: list[tuple[str, Source]] = []
    for voice in voices:
        members.append((f"{voice.id}/{AUDIO}", root / voice.id / AUDIO))
        members.append((f"{voice.id}/{META}", root / voice.id / META))
        if voice.transcript:
            members.append((f"{voice.id}/{TRANSCRIPT}", voice.transcript.encode()))
    return members


def write_archive(target: Path, root: Path, voices: list[LibraryVoice]) -> None:
    """Write an archive of stored voices (blocking)."""
    extra = {"voices": [{"id": v.id, "name": v.name} for v in voices]}
    write_zip(target, KIND, export_members(root, voices), extra)


def _limit(name: str) -> int | None:
    voice_id, _, file = name.partition("/")
    if not valid_voice_id(voice_id) or "/" in file:
        return None
    return LIMITS.get(file)


@dataclass(frozen=True)
class Incoming:
    """A voice of an archive, checked and ready to be stored."""

    voice: LibraryVoice
    wav: bytes


def read_archive(data: bytes) -> list[Incoming]:
    """Every voice of an archive, checked in full (blocking); ``InvalidArchiveError`` for the first problem."""
    _, members = read_zip(data, KIND, _limit, MAX_UNPACKED)
    by_voice: dict[str, dict[str, Member]] = {}
    for name, member in members.items():
        voice_id, _, file = name.partition("/")
        by_voice.setdefault(voice_id, {})[file] = member
    if len(by_voice) > MAX_VOICES:
        raise InvalidArchiveError(f"the archive holds {len(by_voice)} voices; at most {MAX_VOICES}", param="archive")
    return [_voice(voice_id, files) for voice_id, files in sorted(by_voice.items())]


def _voice(voice_id: str, files: dict[str, Member]) -> Incoming:
    if AUDIO not in files or META not in files:
        raise InvalidArchiveError(f"voice {voice_id} lacks {AUDIO} or {META}", param="archive")
    try:
        raw: Any = json.loads(files[META].data)
        meta = ArchivedVoice.model_validate(raw)
    except ValueError as err:
        detail = invalid(err).message if isinstance(err, ValidationError) else "not JSON"
        raise InvalidArchiveError(f"{voice_id}/{META}: {detail}", param="archive") from None
    if meta.id != voice_id:
        raise InvalidArchiveError(f"{voice_id}/{META} names another voice ({meta.id!r})", param="archive")
    if TRANSCRIPT in files and files[TRANSCRIPT].data.decode("utf-8", "replace") != (meta.transcript or ""):
        raise InvalidArchiveError(f"{voice_id}/{TRANSCRIPT} differs from the transcript in {META}", param="archive")
    wav = files[AUDIO].data
    try:
        info = soundfile.info(io.BytesIO(wav))
        if info.format != "WAV":
            raise InvalidArchiveError(f"{voice_id}/{AUDIO} is not a WAV file", param="archive")
        samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32", always_2d=True)
        seconds = check_reference(samples.mean(axis=1), rate, param="archive")
    except InvalidAudioError as err:
        raise InvalidArchiveError(f"{voice_id}/{AUDIO}: {err.message}", param="archive") from None
    except (RuntimeError, ValueError, soundfile.LibsndfileError):
        raise InvalidArchiveError(f"{voice_id}/{AUDIO} is not readable audio", param="archive") from None
    voice = LibraryVoice(
        id=voice_id,
        name=meta.name,
        language=meta.language,
        transcript=meta.transcript,
        created_at=meta.created_at,
        seconds=round(seconds, 3),
        sample_rate=int(rate),
        fingerprint=fingerprint(wav, meta.transcript),
        tags=tuple(meta.tags),
        notes=meta.notes,
        updated_at=meta.updated_at,
    )
    return Incoming(voice, wav)


def import_archive(library: VoiceLibrary, data: bytes, duplicates: Literal["skip", "replace"]) -> ImportResult:
    """Check an archive in full, then store its voices all at once (blocking). A voice whose id is already in the
    library is left as it is (``skip``) or overwritten (``replace``)."""
    incoming = read_archive(data)
    existing = {voice.id for voice in library.list()}
    clashes = [item.voice.id for item in incoming if item.voice.id in existing]
    if duplicates == "skip":
        incoming = [item for item in incoming if item.voice.id not in existing]
    library.install([(item.voice, item.wav) for item in incoming], set(clashes) if duplicates == "replace" else set())
    return ImportResult(
        imported=[item.voice for item in incoming],
        skipped=clashes if duplicates == "skip" else [],
        replaced=clashes if duplicates == "replace" else [],
    )
