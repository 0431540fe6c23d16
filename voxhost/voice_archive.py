"""Voice library archives: export voices as one zip, and check an archive in full before any of it is imported.

An archive holds, per voice, ``<id>/reference.wav`` (the stored file, byte for byte), ``<id>/voice.json`` (its
metadata) and ``<id>/transcript.txt`` (where it has a transcript), and a ``manifest.json`` with every member's size
and SHA-256. Import takes a voice only when its names are safe, its sizes within limits, its hashes right, its
metadata valid (as a new voice's would be) and its audio a usable reference, checked as an upload's is (its rate,
finite samples, its length; stored at most at 48 kHz); one bad voice refuses the archive. Export reads the voices
under the library's lock: a voice deleted meanwhile is left out, one changed meanwhile is whole.
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
from .audio import decode_audio
from .errors import InvalidArchiveError, InvalidAudioError
from .library import (
    AUDIO,
    MAX_STORED_RATE,
    META,
    VoiceLibrary,
    fingerprint,
    library_lock,
    reference_wav,
    valid_voice_id,
)
from .operations import MAX_REFERENCE_SECONDS, Language, Notes, Tags, Transcript, VoiceName, invalid
from .voices import LibraryVoice

KIND = "voxhost-voices"
TRANSCRIPT = "transcript.txt"
LIMITS = {AUDIO: 16 * 1024 * 1024, META: 64 * 1024, TRANSCRIPT: 16 * 1024}
"""Largest size of each file of a voice (16 MiB of WAV is 30 s at 192 kHz)."""
MAX_VOICES = 1000
"""Most voices in one archive."""
MAX_UNPACKED = 256 * 1024 * 1024
"""Most bytes an archive may unpack to (it is checked in memory before anything is written)."""
MAX_ARCHIVE = MAX_UNPACKED + 16 * 1024 * 1024
"""Most bytes of an archive itself read for an import (what it unpacks to, and room for its headers): a stream that
goes on (``yes | voxhost voices import -``) is refused there, not read into memory to its end."""


class ArchivedVoice(BaseModel):
    """A voice's ``voice.json`` as import takes it: checked as a new voice's metadata is; the audio's facts
    (length, rate, fingerprint) are measured again, never taken from the file."""

    model_config = ConfigDict(extra="ignore", strict=True)  # JSON as the HTTP door takes it: true is not 1

    id: str
    name: VoiceName
    language: Language | None = None
    transcript: Transcript = None
    tags: Tags = Field(default_factory=list)
    notes: Notes = None
    created_at: Annotated[int, Field(ge=0)]
    updated_at: Annotated[int, Field(ge=0)] | None = None
    created_ns: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    audio_mark: Annotated[list[Annotated[int, Field(ge=0, lt=2**63)]], Field(min_length=2, max_length=2)] | None = None
    """The size and mtime its recording had in the library exported (restored where the size is the same)."""


def export_members(root: Path, voices: Iterable[LibraryVoice]) -> list[tuple[str, Source]]:
    """The archive members of stored voices, read now (call under the library's lock); each voice once, and a voice
    no longer stored left out."""
    members: list[tuple[str, Source]] = []
    for voice in {voice.id: voice for voice in voices}.values():
        try:
            audio, meta = (root / voice.id / AUDIO).read_bytes(), (root / voice.id / META).read_bytes()
        except FileNotFoundError:
            continue  # deleted since it was listed
        members.append((f"{voice.id}/{AUDIO}", audio))
        members.append((f"{voice.id}/{META}", meta))
        stored = LibraryVoice.from_dict(json.loads(meta))  # as read, not as listed: a change meanwhile shows whole
        if stored.transcript:
            members.append((f"{voice.id}/{TRANSCRIPT}", stored.transcript.encode()))
    return members


def write_archive(target: Path, root: Path, voices: list[LibraryVoice]) -> None:
    """Write an archive of stored voices (blocking)."""
    with library_lock(root):  # no change or delete half-way through a voice's files
        members = export_members(root, voices)
    ids = {name.partition("/")[0] for name, _ in members}
    unique = [v for v in {v.id: v for v in voices}.values() if v.id in ids]
    extra = {"voices": [{"id": v.id, "name": v.name} for v in unique]}
    write_zip(target, KIND, members, extra)


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
        wav, rate, seconds = _stored_audio(wav, info)
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
        sample_rate=rate,
        fingerprint=fingerprint(wav, meta.transcript),
        tags=tuple(meta.tags),
        notes=meta.notes,
        updated_at=meta.updated_at,
        created_ns=meta.created_ns,  # voices added in one second keep their order
        audio_mark=(meta.audio_mark[0], meta.audio_mark[1]) if meta.audio_mark else None,
    )
    return Incoming(voice, wav)


def _stored_audio(wav: bytes, info: Any) -> tuple[bytes, int, float]:
    """An archived recording checked exactly as an upload is, as the bytes to store, their rate and its length: the
    file as it is when it is what the library stores (16-bit mono, at most 48 kHz), else re-encoded as an upload."""
    # Rate, finite samples, length, decoded as an upload is: at most the rate it is stored at.
    samples, rate = decode_audio(wav, MAX_REFERENCE_SECONDS, "archive", MAX_STORED_RATE)
    stored, stored_rate, seconds = reference_wav(samples, rate, "archive")
    if info.subtype == "PCM_16" and info.channels == 1 and info.samplerate <= MAX_STORED_RATE:
        return wav, rate, seconds  # byte for byte: an export imports as the same files
    return stored, stored_rate, seconds


def import_archive(library: VoiceLibrary, data: bytes, duplicates: Literal["skip", "replace"]) -> ImportResult:
    """Check an archive in full, then store its voices all at once (blocking). A voice whose id is already in the
    library is left as it is (``skip``) or overwritten (``replace``)."""
    incoming = read_archive(data)
    # Which ids are already stored is decided under the lock the voices are placed under.
    clashes = library.install([(item.voice, item.wav) for item in incoming], duplicates == "replace")
    if duplicates == "skip":
        incoming = [item for item in incoming if item.voice.id not in clashes]
    return ImportResult(
        imported=[item.voice for item in incoming],
        skipped=clashes if duplicates == "skip" else [],
        replaced=clashes if duplicates == "replace" else [],
    )
