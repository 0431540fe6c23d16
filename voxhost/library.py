"""The voice library: cloned voices (reference audio + transcript + language) stored on disk.

Each voice is a directory ``<state>/voices/<id>/`` with ``reference.wav`` and ``voice.json``. A voice is written
into a temporary directory and renamed into place, so a crash never leaves half a voice behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import secrets
import shutil
import threading
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import soundfile
import soxr

from .audio import check_rate
from .engine import Reference
from .errors import InvalidAudioError, LibraryFullError, UnknownVoiceError, storage_error
from .operations import MAX_REFERENCE_SECONDS, MIN_REFERENCE_SECONDS, VoiceCreate
from .voices import LibraryVoice

_LOGGER = logging.getLogger(__name__)

MAX_STORED_RATE = 48000
"""References are stored at most at this rate (engines use 16-24 kHz): a voice takes at most 30 s x 48000 x 2 bytes."""

_ID_RE = re.compile(r"^voice_[a-z0-9_]{1,80}$")


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug[:40] or "voice"


class VoiceLibrary:
    """Add, list, read and remove cloned voices."""

    def __init__(self, root: Path, max_voices: int | None = None, max_bytes: int | None = None) -> None:
        self.root = root
        self.max_voices = max_voices
        """At most this many voices (None: no limit)."""
        self.max_bytes = max_bytes
        """At most this many bytes of voice files (None: no limit)."""
        self._adding = threading.Lock()
        self.root.mkdir(parents=True, exist_ok=True)
        self._sweep()
        self._cache: tuple[int, list[LibraryVoice]] | None = None
        """Voices as last read, keyed by the folder's mtime: catalog lookups list them on every request, and a
        stat is far cheaper than reading every voice.json (a voice added by another process still shows)."""

    def _sweep(self) -> None:
        # Left-overs of an interrupted add or remove: never visible as voices, safe to delete.
        for stray in self.root.glob(".tmp-*"):
            shutil.rmtree(stray, ignore_errors=True)

    def usage(self) -> tuple[int, int]:
        """Voices stored, and the bytes their files take."""
        folders = [p for p in self.root.iterdir() if _ID_RE.match(p.name) and p.is_dir()]
        size = sum(f.stat().st_size for folder in folders for f in folder.iterdir() if f.is_file())
        return len(folders), size

    def _check_quota(self, adding: int) -> None:
        """Refuse a voice of ``adding`` bytes that would take the library past its quota."""
        if self.max_voices is None and self.max_bytes is None:
            return
        count, size = self.usage()
        if self.max_voices is not None and count + 1 > self.max_voices:
            raise LibraryFullError(
                f"the voice library is full ({count} voices, at most {self.max_voices}); delete a voice first",
                param="audio_sample",
            )
        if self.max_bytes is not None and size + adding > self.max_bytes:
            raise LibraryFullError(
                f"the voice library is full ({size / 2**20:.1f} MiB stored, at most {self.max_bytes / 2**20:g} MiB); "
                "delete a voice first",
                param="audio_sample",
            )

    def list(self) -> list[LibraryVoice]:
        """All voices, oldest first."""
        stamp = self.root.stat().st_mtime_ns
        if self._cache is None or self._cache[0] != stamp:
            voices = [v for v in (self._read(p) for p in self.root.iterdir() if _ID_RE.match(p.name)) if v]
            self._cache = (stamp, sorted(voices, key=lambda v: (v.created_at, v.id)))
        return list(self._cache[1])

    def get(self, voice_id: str) -> LibraryVoice:
        """One voice, or UnknownVoiceError."""
        voice = next((v for v in self.list() if v.id == voice_id), None) if _ID_RE.match(voice_id) else None
        if voice is None:
            raise UnknownVoiceError(f"no voice {voice_id!r} in the voice library", param="voice")
        return voice

    def reference(self, voice_id: str) -> Reference:
        """The engine-facing reference of a voice."""
        return self.get(voice_id).reference(self.root)

    def add(self, voice: VoiceCreate, samples: np.ndarray, sample_rate: int) -> LibraryVoice:
        """Check the audio and store a voice (its metadata is checked by its model); nothing is written unless
        everything is valid."""
        check_rate(sample_rate, "audio_sample")
        seconds = samples.size / sample_rate
        if not MIN_REFERENCE_SECONDS <= seconds <= MAX_REFERENCE_SECONDS:
            raise InvalidAudioError(
                f"reference audio must be {MIN_REFERENCE_SECONDS:g}-{MAX_REFERENCE_SECONDS:g} s long; "
                f"got {seconds:.1f} s",
                param="audio_sample",
            )
        if float(np.abs(samples).max()) < 1e-3:
            raise InvalidAudioError("the reference audio is silent", param="audio_sample")
        if sample_rate > MAX_STORED_RATE:
            samples = soxr.resample(samples.astype(np.float32), sample_rate, MAX_STORED_RATE)
            sample_rate = MAX_STORED_RATE
        buffer = io.BytesIO()
        soundfile.write(buffer, samples, sample_rate, subtype="PCM_16", format="WAV")
        wav = buffer.getvalue()  # written with plain file calls below, so that a full disk is an OSError saying so
        voice_id = f"voice_{_slug(voice.name)}_{secrets.token_hex(4)}"
        stored = LibraryVoice(
            id=voice_id,
            name=voice.name,
            language=voice.language,
            transcript=voice.transcript,
            created_at=int(time.time()),
            seconds=round(seconds, 3),
            sample_rate=sample_rate,
            fingerprint=hashlib.sha256(wav + (voice.transcript or "").encode()).hexdigest()[:16],
        )
        meta = json.dumps(asdict(stored), ensure_ascii=False, indent=2).encode()
        with self._adding:  # the quota counts what is stored: one add at a time
            self._check_quota(len(wav) + len(meta))
            try:
                self._write(voice_id, {"reference.wav": wav, "voice.json": meta})
            except OSError as err:
                raise storage_error(err, "the voice to the library") or err from None
            finally:
                self._cache = None
        _LOGGER.info("Added voice %s (%s, %.1f s)", voice_id, voice.name, seconds)
        return stored

    def _write(self, voice_id: str, files: dict[str, bytes]) -> None:
        """Write a voice's files into a temporary folder and rename it into place; a failure leaves nothing."""
        tmp = self.root / f".tmp-{voice_id}"
        try:
            tmp.mkdir()
            for name, data in files.items():
                (tmp / name).write_bytes(data)
            tmp.rename(self.root / voice_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def remove(self, voice_id: str) -> LibraryVoice:
        """Delete a voice (renamed away first, so it vanishes at once)."""
        voice = self.get(voice_id)
        doomed = self.root / f".tmp-del-{voice_id}"
        try:
            (self.root / voice_id).rename(doomed)
        except OSError as err:
            raise storage_error(err, "the voice library (to delete a voice)") or err from None
        finally:
            self._cache = None
        shutil.rmtree(doomed, ignore_errors=True)
        _LOGGER.info("Removed voice %s", voice_id)
        return voice

    def _read(self, folder: Path) -> LibraryVoice | None:
        try:
            data = json.loads((folder / "voice.json").read_text())
            return LibraryVoice(**data)
        except (OSError, ValueError, TypeError):
            return None
