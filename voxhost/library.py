"""The voice library: cloned voices (reference audio + transcript + language) stored on disk.

Each voice is a directory ``<state>/voices/<id>/`` with ``reference.wav`` and ``voice.json``. A voice is written
into a temporary directory and renamed into place, so a crash never leaves half a voice behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import soundfile

from .engine import Reference
from .errors import InvalidAudioError, UnknownVoiceError
from .operations import MAX_REFERENCE_SECONDS, MIN_REFERENCE_SECONDS, VoiceCreate
from .voices import LibraryVoice

_LOGGER = logging.getLogger(__name__)

_ID_RE = re.compile(r"^voice_[a-z0-9_]{1,80}$")


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return slug[:40] or "voice"


class VoiceLibrary:
    """Add, list, read and remove cloned voices."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._sweep()
        self._cache: tuple[int, list[LibraryVoice]] | None = None
        """Voices as last read, keyed by the folder's mtime: catalog lookups list them on every request, and a
        stat is far cheaper than reading every voice.json (a voice added by another process still shows)."""

    def _sweep(self) -> None:
        # Left-overs of an interrupted add or remove: never visible as voices, safe to delete.
        for stray in self.root.glob(".tmp-*"):
            shutil.rmtree(stray, ignore_errors=True)

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

    @staticmethod
    def check_audio(samples: np.ndarray, sample_rate: int) -> float:
        """A reference's length in seconds, or ``InvalidAudioError`` when it is too short, too long or silent."""
        seconds = samples.size / sample_rate
        if not MIN_REFERENCE_SECONDS <= seconds <= MAX_REFERENCE_SECONDS:
            raise InvalidAudioError(
                f"reference audio must be {MIN_REFERENCE_SECONDS:g}-{MAX_REFERENCE_SECONDS:g} s long; "
                f"got {seconds:.1f} s",
                param="audio_sample",
            )
        if float(np.abs(samples).max()) < 1e-3:
            raise InvalidAudioError("the reference audio is silent", param="audio_sample")
        return seconds

    def add(
        self,
        voice: VoiceCreate,
        samples: np.ndarray,
        sample_rate: int,
        words: tuple[tuple[float, float, str], ...] | None = None,
    ) -> LibraryVoice:
        """Check the audio and store a voice (its metadata is checked by its model; ``words``: the recognizer's word
        timings of the audio); nothing is written unless everything is valid."""
        name, language, transcript = voice.name, voice.language, voice.transcript
        seconds = self.check_audio(samples, sample_rate)
        voice_id = f"voice_{_slug(name)}_{secrets.token_hex(4)}"
        tmp = self.root / f".tmp-{voice_id}"
        tmp.mkdir()
        try:
            wav = tmp / "reference.wav"
            soundfile.write(wav, samples, sample_rate, subtype="PCM_16")
            digest = hashlib.sha256(wav.read_bytes() + (transcript or "").encode()).hexdigest()[:16]
            stored = LibraryVoice(
                id=voice_id,
                name=name,
                language=language,
                transcript=transcript,
                created_at=int(time.time()),
                seconds=round(seconds, 3),
                sample_rate=sample_rate,
                fingerprint=digest,
                words=words,
            )
            (tmp / "voice.json").write_text(json.dumps(asdict(stored), ensure_ascii=False, indent=2))
            tmp.rename(self.root / voice_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            self._cache = None
        _LOGGER.info("Added voice %s (%s, %.1f s)", voice_id, name, seconds)
        return stored

    def samples(self, voice_id: str) -> tuple[np.ndarray, int]:
        """A voice's reference audio: mono float32 samples and their rate."""
        self.get(voice_id)
        data, rate = soundfile.read(self.root / voice_id / "reference.wav", dtype="float32", always_2d=True)
        return data.mean(axis=1), int(rate)

    def annotate(self, voice_id: str, words: tuple[tuple[float, float, str], ...], transcript: str | None) -> None:
        """Record the word timings of a voice's audio (and its transcript, where it had none); voice.json is
        replaced whole, so a reader never sees half of it. Whoever replaces a voice's audio must drop its words."""
        voice = self.get(voice_id)
        folder = self.root / voice_id
        changes: dict[str, object] = {"words": words}
        if voice.transcript is None and transcript:
            wav = (folder / "reference.wav").read_bytes()
            changes["transcript"] = transcript
            changes["fingerprint"] = hashlib.sha256(wav + transcript.encode()).hexdigest()[:16]
        updated = replace(voice, **changes)  # type: ignore[arg-type]
        tmp = folder / ".voice.json.tmp"
        try:
            tmp.write_text(json.dumps(asdict(updated), ensure_ascii=False, indent=2))
            tmp.replace(folder / "voice.json")
        finally:
            tmp.unlink(missing_ok=True)
            self._cache = None

    def remove(self, voice_id: str) -> LibraryVoice:
        """Delete a voice (renamed away first, so it vanishes at once)."""
        voice = self.get(voice_id)
        doomed = self.root / f".tmp-del-{voice_id}"
        try:
            (self.root / voice_id).rename(doomed)
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
