"""The voice library: cloned voices (reference audio + transcript + language) stored on disk.

Each voice is a directory ``<state>/voices/<id>/`` with ``reference.wav`` and ``voice.json``. A voice is written
into a temporary directory and renamed into place, so a crash never leaves half a voice behind. A change to a stored
voice writes its new files beside the old ones (``*.new``) and renames them over the old ones, audio first: a crash
in between is finished at the next start (the new metadata is renamed in), never left half done.

Every write holds the library's lock (``library_lock``): a thread lock within the process and an exclusive ``flock``
on the voices folder across processes (the daemon and ``voxhost voices ...`` share a library), so writes never
interleave, a change reads the voice under the lock it writes under, and the clean-up of interrupted writes never
touches another writer's work in progress. An import writes a journal (``.import.json``) before it places anything:
one cut off is rolled back at the next start (what it placed removed, the voices it replaced put back).

A voice folder whose ``voice.json`` cannot be read (missing, damaged, not a voice) or whose recording is missing,
unreadable or not the one its metadata describes (its header's rate and length) is a broken voice: out of the
catalog, but listed as broken, counted towards the quota (its files take space) and deletable by its id.
A delete renames the voice folder away (``.tmp-del-<id>``), then removes its files: one cut off in between leaves
that folder, cleared at the next start or by the next delete of that id.

What is listed follows the disk. The catalog looks at the library on the event loop for every request, so a look
costs one stat (the voices folder's mtime) while the folder stays the same; when it changes (a voice added, removed
or replaced by another process) the next look lists it again and reads the voice folders it has not read (new, or
renamed into place) alone. A voice folder whose own files are written in place, replaced or removed (by hand, or by
another process's change to a voice's metadata) leaves the voices folder's mtime as it was: a watcher thread
(``voxhost.watching``, started and stopped by the library's owner with ``watch`` and ``stop``) compares every voice
folder's signature every ``RESCAN_SECONDS``, off the loop, and hands over what it found; without a watcher (the
CLI's short uses) every look compares them itself. This process's own writes look again on the writer's thread
(every folder compared), so the next look on the loop finds them at once and costs one stat.

A voice's order is the order voices were added (``created_at``, then ``created_ns``). Its ``audio_mark`` is the size
and mtime its recording had when voxhost wrote it: a recording found otherwise is hashed, and one replaced by hand
(of the same rate and length) gets its own fingerprint, so engines derive what they keep of it anew.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile
import soxr

from .audio import MAX_SPEECH_RATE, check_rate
from .engine import Reference
from .errors import (
    ConflictError,
    InvalidAudioError,
    LibraryFullError,
    StorageError,
    UnknownVoiceError,
    VoxhostError,
    storage_error,
)
from .operations import (
    MAX_REFERENCE_SECONDS,
    MIN_REFERENCE_SECONDS,
    VOICE_ID_PATTERN,
    VoiceCreate,
    VoiceUpdate,
)
from .voices import BrokenVoice, LibraryVoice, added_order
from .watching import Watcher, weak_look

_LOGGER = logging.getLogger(__name__)

MAX_STORED_RATE = MAX_SPEECH_RATE
"""References are stored at most at this rate (engines use 16-24 kHz): a voice takes at most 30 s x 48000 x 2 bytes."""


_ID_RE = re.compile(VOICE_ID_PATTERN)
AUDIO = "reference.wav"
META = "voice.json"
NEW = ".new"
JOURNAL = ".import.json"
"""An import under way: what it places and what it moves aside (rolled back at the next start if still there)."""

AUDIO_SLACK = 0.05
"""How far (seconds) a recording's length may be from its metadata's: rounding and resampling, not another file."""
Words = tuple[tuple[float, float, str], ...]
"""A recording's word timings: (start, end, word)."""

_THREAD_LOCKS: dict[Path, threading.RLock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()
_HELD = threading.local()


@contextlib.contextmanager
def library_lock(root: Path) -> Iterator[None]:
    """Hold a voice library's write lock: one writer at a time, among threads and processes (reentrant per thread)."""
    key = root.resolve()
    with _THREAD_LOCKS_GUARD:
        lock = _THREAD_LOCKS.setdefault(key, threading.RLock())
    with lock:
        held: dict[Path, int] = _HELD.__dict__.setdefault("depth", {})
        if held.get(key):
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        # The folder itself is locked (no lock file that would show among the voices); flock is per open file, so
        # another process (or another open of it) waits here until this one is done.
        fd = os.open(key, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held[key] = 1
            try:
                yield
            finally:
                held[key] = 0
        finally:
            os.close(fd)  # releases the flock


def valid_voice_id(voice_id: str) -> bool:
    """Whether a string can be a library voice id (checked before it names a folder)."""
    return bool(_ID_RE.match(voice_id))


def fingerprint(wav: bytes, transcript: str | None) -> str:
    """What engines key their caches of a voice by: its audio and transcript."""
    return hashlib.sha256(wav + (transcript or "").encode()).hexdigest()[:16]


def check_reference(samples: np.ndarray, sample_rate: int, param: str = "audio_sample") -> float:
    """A reference recording's length in seconds, or ``InvalidAudioError`` (too short, too long, silent)."""
    seconds = samples.size / sample_rate
    if not MIN_REFERENCE_SECONDS <= seconds <= MAX_REFERENCE_SECONDS:
        raise InvalidAudioError(
            f"reference audio must be {MIN_REFERENCE_SECONDS:g}-{MAX_REFERENCE_SECONDS:g} s long; got {seconds:.1f} s",
            param=param,
        )
    if float(np.abs(samples).max()) < 1e-3:
        raise InvalidAudioError("the reference audio is silent", param=param)
    return seconds


def reference_wav(samples: np.ndarray, sample_rate: int, param: str = "audio_sample") -> tuple[bytes, int, float]:
    """A checked reference recording as the WAV bytes to store (at most ``MAX_STORED_RATE``), their rate and its
    length in seconds."""
    check_rate(sample_rate, param)
    if not np.all(np.isfinite(samples)):
        raise InvalidAudioError("the audio contains invalid samples", param=param)
    seconds = check_reference(samples, sample_rate, param)
    if sample_rate > MAX_STORED_RATE:
        samples = soxr.resample(samples.astype(np.float32), sample_rate, MAX_STORED_RATE)
        sample_rate = MAX_STORED_RATE
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate, subtype="PCM_16", format="WAV")
    # Bytes: the caller writes them with plain file calls, so that a full disk is an OSError saying so.
    return buffer.getvalue(), sample_rate, seconds


def voice_json(voice: LibraryVoice) -> str:
    """A voice's metadata as stored."""
    return json.dumps(asdict(voice), ensure_ascii=False, indent=2)


def _with_audio(path: Path, wav: bytes, voice: LibraryVoice, restore: bool = False) -> LibraryVoice:
    """Write a voice's recording; the voice with its mark (its size and mtime as written). ``restore``: the mtime
    is the one its mark names (an import of an export: the same files, byte for byte)."""
    path.write_bytes(wav)
    if restore and voice.audio_mark is not None and voice.audio_mark[0] == len(wav):
        with contextlib.suppress(OSError, OverflowError):  # a time this file system cannot hold: a mark of its own
            os.utime(path, ns=(voice.audio_mark[1], voice.audio_mark[1]))
    info = path.stat()
    return replace(voice, audio_mark=(info.st_size, info.st_mtime_ns))


def _as_recorded(path: Path, voice: LibraryVoice) -> LibraryVoice:
    """The voice as its recording now is. One not as voxhost wrote it (by its size and mtime; or of an older
    voxhost) is hashed: another recording (put in by hand, of the same rate and length) gets its own fingerprint, so
    engines derive what they keep of it anew, and loses the old one's word timings (in memory; the next change of
    the voice writes it)."""
    try:
        info = path.stat()
        mark = (info.st_size, info.st_mtime_ns)
        if mark == voice.audio_mark:
            return voice
        found = fingerprint(path.read_bytes(), voice.transcript)
    except OSError:
        return voice  # removed meanwhile: the next look finds it missing
    if found == voice.fingerprint:
        return replace(voice, audio_mark=mark)
    _LOGGER.warning(
        "Voice %s: %s was replaced outside voxhost; what engines keep of it is derived anew", voice.id, AUDIO
    )
    return replace(voice, fingerprint=found, words=None, audio_mark=mark)


VoiceIds = list[str]
"""Voice ids (named here: inside ``VoiceLibrary`` the name ``list`` is its method)."""
BrokenVoices = list[BrokenVoice]
"""Broken voices (named here for the same reason)."""
Voices = list[LibraryVoice]
"""Voices (named here for the same reason)."""


def _broken(folder: Path, problem: str) -> BrokenVoice:
    """A broken voice's entry: its id, why, and what its files take."""
    files = [f.stat() for f in folder.iterdir() if f.is_file()]
    return BrokenVoice(
        id=folder.name,
        problem=problem,
        bytes=sum(f.st_size for f in files),
        modified_at=int(folder.stat().st_mtime),
    )


Signature = tuple[tuple[int, int, int], ...]
"""What a voice folder's files were when it was read: each file's inode, size and mtime (zeros: missing; an error
number: unreadable)."""


def _signature(folder: str) -> Signature:
    """A voice folder's stat signature: it differs once a file is written in place, replaced or removed (plain
    strings and ``os.stat``: it is taken for every voice on every thorough look at the library)."""
    marks = []
    for name in (META, AUDIO):
        try:
            stat = os.stat(f"{folder}/{name}")
            marks.append((stat.st_ino, stat.st_size, stat.st_mtime_ns))
        except OSError as err:
            marks.append((0, 0, -(err.errno or 1)))
    return tuple(marks)


@dataclass(frozen=True)
class _Entry:
    """A voice folder as last read."""

    signature: Signature
    """Its files' stat signature, taken before they were read."""
    voice: LibraryVoice | BrokenVoice
    inode: int = 0
    """The voice folder's inode: a folder renamed into its place (an import replacing it) has another."""


@dataclass(frozen=True)
class _View:
    """The library as last looked at; replaced whole, never changed, so any thread may read it while another looks."""

    stamp: int | None = None
    """The voices folder's mtime when it was listed (None: list it again)."""
    entries: dict[str, _Entry] = field(default_factory=dict)
    voices: tuple[LibraryVoice, ...] = ()
    """The voices of ``entries``, oldest first."""
    broken: tuple[BrokenVoice, ...] = ()
    """The broken voices of ``entries``, oldest first."""


def _oldest(voice: LibraryVoice | BrokenVoice) -> tuple[int, int, str]:
    """The order voices are listed in: oldest first, as added (a broken voice by when its folder last changed)."""
    return added_order(voice) if isinstance(voice, LibraryVoice) else (voice.modified_at, 0, voice.id)


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
        self.root.mkdir(parents=True, exist_ok=True)
        self._view = _View()
        """Each voice folder as last read, with the stat signature of its files then: catalog lookups list the voices
        on every request, and a stat of the folder is far cheaper than reading every voice.json; the watcher (or,
        unwatched, every look) compares the signatures, so a voice whose files are damaged, replaced or removed in
        its own folder (by hand, or by another process) is read again."""
        self._generation = 0
        """Bumped whenever ``_view`` is replaced or forgotten: a look hands over what it found only if nothing was
        handed over or forgotten since it began (an older look never undoes a newer one, nor a write's ``_forget``)."""
        self._guard = threading.Lock()
        """Held only to read or replace ``_view`` and ``_generation``, never while the disk is read."""
        self._watcher = Watcher(weak_look(self, VoiceLibrary._look_thoroughly), "voice-library", "The voice library")
        self._unreadable: set[Path] = set()
        """Voice folders whose voice.json was found unreadable (warned about once)."""
        with self.locked():  # never while another process writes: its work in progress is not left-overs
            self._sweep()

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """The library's write lock (``library_lock``), held for every change."""
        return library_lock(self.root)

    def _sweep(self) -> None:
        """Finish or drop interrupted writes (called under the lock)."""
        # An import cut off: undone first, while the voices it moved aside are still there.
        if (self.root / JOURNAL).exists() and not self._undo_import():
            return  # nothing swept: the voices moved aside stay until the roll-back succeeds
        if (cut := self.root / (JOURNAL + NEW)).exists():  # checked first: a read-only library has nothing to sweep
            cut.unlink()  # an import cut off before it named anything
        # Left-overs of an interrupted add or remove: never visible as voices, safe to delete.
        for stray in self.root.glob(".tmp-*"):
            shutil.rmtree(stray, ignore_errors=True)
        # An interrupted change: with the new audio still beside the old, the change never began (dropped); with
        # only the new metadata left, the audio is in and the metadata goes in after it.
        for folder in self.root.iterdir():
            audio, meta = folder / (AUDIO + NEW), folder / (META + NEW)
            if audio.exists():
                audio.unlink()
                meta.unlink(missing_ok=True)
            elif meta.exists():
                # Written whole before the audio went in; cut off while written only in a change without audio.
                if isinstance(self._read_meta(meta), LibraryVoice):
                    os.replace(meta, folder / META)
                else:
                    meta.unlink()

    def _undo_import(self) -> bool:
        """Roll back the import its journal names (under the lock); False where it could not be done now."""
        journal = self.root / JOURNAL
        try:
            entries = json.loads(journal.read_text())
            staging, placed = str(entries["staging"]), [str(v) for v in entries["placed"]]
            replaced = {str(v) for v in entries["replaced"]}
            if not staging.startswith(".tmp-import-") or "/" in staging or not all(map(valid_voice_id, placed)):
                raise ValueError("it names files outside the library")
        except (OSError, ValueError, KeyError, TypeError) as err:
            # Written whole (renamed into place) before anything was placed: damaged, not cut off; nothing to go by.
            _LOGGER.warning("Dropped an unreadable import journal %s (%s)", journal, err)
            journal.unlink()
            return True
        try:
            self._roll_back(self.root / staging, placed, replaced)
        except OSError as err:
            _LOGGER.error("Could not roll back an interrupted import (%s); it is tried again at the next start", err)
            return False
        journal.unlink()
        _LOGGER.warning("Rolled back an interrupted import of %d voice(s)", len(placed))
        return True

    def usage(self) -> tuple[int, int]:
        """Voices stored, and the bytes their files take."""
        folders = [p for p in self.root.iterdir() if _ID_RE.match(p.name) and p.is_dir()]
        size = sum(f.stat().st_size for folder in folders for f in folder.iterdir() if f.is_file())
        return len(folders), size

    def _check_quota(self, adding: int, voices: int = 1) -> None:
        """Refuse ``voices`` new voices of ``adding`` bytes that would take the library past its quota."""
        if self.max_voices is None and self.max_bytes is None:
            return
        count, size = self.usage()
        if self.max_voices is not None and count + voices > self.max_voices:
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

    def watch(self) -> None:
        """Compare every voice folder's files every ``RESCAN_SECONDS`` on a thread of their own until ``stop`` (a
        first look now): lookups then cost one stat of the voices folder. Blocking: call it off the event loop."""
        self._watcher.watch()

    def stop(self) -> None:
        """Stop watching: every look compares the voice folders' files itself again (waits for a look under way)."""
        self._watcher.stop()

    def _scan(self) -> tuple[list[LibraryVoice], BrokenVoices]:
        """The voices, and the broken ones, oldest first: watched, as the watcher last found them while the folder's
        mtime stays the same; unwatched, with every voice folder's files compared."""
        view = self._look(thorough=not self._watcher.watching)
        return list(view.voices), list(view.broken)

    def _look_thoroughly(self) -> None:
        """The watcher's look: every voice folder's files compared."""
        self._look(thorough=True)

    def _look(self, thorough: bool) -> _View:
        """The library now. Unless ``thorough``, the library as last looked at while the folder's mtime stays the
        same (one stat); otherwise the folder is listed again and a voice folder is read again when it is new or its
        files' stat signature changed."""
        with self._guard:
            generation, view = self._generation, self._view
        root = str(self.root)
        stamp = os.stat(root).st_mtime_ns
        if stamp == view.stamp and not thorough:
            return view  # the lookup's whole cost while no voice is added or removed
        with os.scandir(root) as listing:  # types and inodes from the listing itself: no stat per voice
            names = {e.name: e.inode() for e in listing if _ID_RE.match(e.name) and e.is_dir()}
        entries: dict[str, _Entry] = {}
        for name, inode in names.items():
            known = view.entries.get(name)
            if known is not None and known.inode == inode and not thorough:
                # The same folder: its files are the watcher's to compare (a look on the loop reads new folders
                # alone, so its cost follows what was added, not how many voices there are).
                entries[name] = known
                continue
            signature = _signature(f"{root}/{name}")  # taken before the files are read: a change shows next time
            if known is not None and known.inode == inode and known.signature == signature:
                entries[name] = known
                continue
            folder = self.root / name
            voice = self._read(folder)
            if isinstance(voice, LibraryVoice):
                entries[name] = _Entry(signature, voice, inode)
            elif isinstance(voice, str):
                with contextlib.suppress(FileNotFoundError):  # deleted meanwhile: gone, not broken
                    entries[name] = _Entry(signature, _broken(folder, voice), inode)
        if stamp == view.stamp and entries == view.entries:
            return view  # nothing changed: the same lists (the catalog compares them by identity first)
        voices = sorted((e.voice for e in entries.values() if isinstance(e.voice, LibraryVoice)), key=_oldest)
        broken = sorted((e.voice for e in entries.values() if isinstance(e.voice, BrokenVoice)), key=_oldest)
        found = _View(stamp, entries, tuple(voices), tuple(broken))
        with self._guard:
            if self._generation == generation:  # else a newer look, or a write, came in between: theirs stands
                self._view, self._generation = found, generation + 1
        return found

    def _forget(self, *voice_ids: str) -> None:
        """Read these voices again and list the folder again (after a write to them: their new files may carry a
        reused inode, the same size and an mtime of the same clock tick as the old ones), here, on the writer's
        thread: the next look on the event loop finds the library as written (and every voice folder compared, as
        the watcher compares them). A look under way hands over nothing."""
        with self._guard:
            entries = {name: e for name, e in self._view.entries.items() if name not in voice_ids}
            self._view = replace(self._view, stamp=None, entries=entries)
            self._generation += 1
        with contextlib.suppress(OSError):  # a folder that cannot be listed now: the next look says so
            self._look(thorough=True)  # every folder compared, as a watcher's look: off the loop, as writes are

    def list(self) -> list[LibraryVoice]:
        """All voices, oldest first."""
        return self._scan()[0]

    def broken(self) -> BrokenVoices:
        """The voices whose voice.json cannot be read, oldest first: they only take space until deleted."""
        return self._scan()[1]

    def get(self, voice_id: str) -> LibraryVoice:
        """One voice, or UnknownVoiceError."""
        voice = next((v for v in self.list() if v.id == voice_id), None) if _ID_RE.match(voice_id) else None
        if voice is None:
            raise self._unknown(voice_id)
        return voice

    def _unknown(self, voice_id: str, nothing_deleted: bool = False) -> UnknownVoiceError:
        """The error for an id that names no usable voice: a broken one says why, and that it can be deleted."""
        folder = self.root / voice_id
        if _ID_RE.match(voice_id) and folder.is_dir() and isinstance(problem := self._load(folder), str):
            return UnknownVoiceError(
                f"voice {voice_id!r} of the voice library is broken ({problem}); delete it to free its space",
                param="voice",
            )
        meant = self.meant(voice_id)
        if nothing_deleted:
            return UnknownVoiceError(f"no voice {voice_id!r} in the voice library{meant}; nothing deleted", param="ids")
        return UnknownVoiceError(f"no voice {voice_id!r} in the voice library{meant}", param="voice")

    def meant(self, given: str) -> str:
        """`` (did you mean X?)`` for a voice's name given where its id belongs (``Grandma``), or a typo of an id;
        else nothing."""
        voices = self.list()
        named = [voice.id for voice in voices if voice.name.casefold() == given.strip().casefold()]
        if named:
            return f" ({given!r} is the name of {', '.join(named)}: give the id)"
        close = difflib.get_close_matches(given, [voice.id for voice in voices], n=1, cutoff=0.8)
        return f" (did you mean {close[0]}?)" if close else ""

    def reference(self, voice_id: str) -> Reference:
        """The engine-facing reference of a voice."""
        return self.get(voice_id).reference(self.root)

    def add(
        self,
        voice: VoiceCreate,
        samples: np.ndarray,
        sample_rate: int,
        words: tuple[tuple[float, float, str], ...] | None = None,
    ) -> LibraryVoice:
        """Check the audio and store a voice (its metadata is checked by its model; ``words``: the recognizer's word
        timings of the audio); nothing is written unless everything is valid."""
        wav, sample_rate, seconds = reference_wav(samples, sample_rate)
        voice_id = f"voice_{_slug(voice.name)}_{secrets.token_hex(4)}"
        with self.locked():  # the quota counts what is stored: one add at a time
            # Stamped under the lock: voices are ordered as they were added, to the nanosecond.
            stored = LibraryVoice(
                id=voice_id,
                name=voice.name,
                language=voice.language,
                transcript=voice.transcript,
                created_at=int(time.time()),
                seconds=round(seconds, 3),
                sample_rate=sample_rate,
                fingerprint=fingerprint(wav, voice.transcript),
                words=words,
                created_ns=time.time_ns(),
            )
            self._check_quota(len(wav) + len(voice_json(stored)))
            try:
                stored = self._write(stored, wav)
            except OSError as err:
                raise storage_error(err, "the voice to the library") or err from None
            finally:
                self._forget(voice_id)
        _LOGGER.info("Added voice %s (%s, %.1f s)", voice_id, voice.name, seconds)
        return stored

    def _write(self, voice: LibraryVoice, wav: bytes) -> LibraryVoice:
        """Write a voice's files into a temporary folder and rename it into place (the voice as written); a failure
        leaves nothing."""
        tmp = self.root / f".tmp-{voice.id}"
        try:
            tmp.mkdir()
            voice = _with_audio(tmp / AUDIO, wav, voice)
            (tmp / META).write_text(voice_json(voice))
            tmp.rename(self.root / voice.id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return voice

    def samples(self, voice_id: str) -> tuple[np.ndarray, int]:
        """A voice's reference audio: mono float32 samples and their rate."""
        self.get(voice_id)
        data, rate = soundfile.read(self.root / voice_id / "reference.wav", dtype="float32", always_2d=True)
        return data.mean(axis=1), int(rate)

    def _stored(self, voice_id: str) -> LibraryVoice:
        """A voice as stored now, read from its folder (under the lock: what a change builds on), or
        UnknownVoiceError."""
        voice = self._read(self.root / voice_id) if _ID_RE.match(voice_id) else None
        if not isinstance(voice, LibraryVoice):
            raise self._unknown(voice_id)
        return voice

    def annotate(self, voice_id: str, words: Words, transcript: str | None, heard: LibraryVoice) -> None:
        """Record the word timings of a voice's audio (and its transcript, where it had none); voice.json is
        replaced whole, so a reader never sees half of it. ``heard``: the voice as it was when its audio was heard;
        where the audio changed since, nothing is recorded (the words are of another recording)."""
        with self.locked():
            voice = self._stored(voice_id)
            folder = self.root / voice_id
            if not self._same_audio(heard):
                _LOGGER.info("Voice %s got new audio while its words were timed; left for the next start", voice_id)
                return
            changes: dict[str, object] = {"words": words}
            if voice.transcript is None and transcript:
                changes["transcript"] = transcript
                changes["fingerprint"] = fingerprint((folder / AUDIO).read_bytes(), transcript)
            # Written as every change of a voice's metadata is (its files are voxhost's, whatever their mode).
            self._swap(voice_id, None, replace(voice, **changes))  # type: ignore[arg-type]

    def remove(self, voice_id: str) -> LibraryVoice:
        """Delete a voice (renamed away first, so it vanishes at once)."""
        return self.remove_all([voice_id])[0]

    def remove_all(self, voice_ids: Sequence[str]) -> Voices:
        """Delete voices, broken ones too, all or none: every id is checked, then every folder renamed away (so they
        vanish at once); one that cannot be is named in the error, and those already moved are put back. Only then
        are their files deleted."""
        ids = list(dict.fromkeys(voice_ids))
        if not ids:
            return []
        with self.locked():  # no other writer between the check and the last rename
            voices: Voices = []
            for voice_id in ids:
                folder = self.root / voice_id
                found = self._read(folder) if _ID_RE.match(voice_id) else None
                if found is None:
                    raise self._unknown(voice_id, nothing_deleted=len(ids) > 1)
                # A broken voice goes too: it is only in the way (and in the quota).
                voices.append(found if isinstance(found, LibraryVoice) else _broken(folder, found).stand_in())
            moved: list[str] = []
            try:
                for voice_id in ids:
                    self._move_away(voice_id)
                    moved.append(voice_id)
            except OSError as err:
                self._put_back(moved)
                error = self._delete_error(voice_id, err)
                if len(ids) > 1:  # which voice failed, and that the others are all still there
                    error = type(error)(f"{error.message}; nothing deleted", param=error.param)
                raise error from None
            finally:
                self._forget(*ids)
            for voice_id in moved:
                shutil.rmtree(self.root / f".tmp-del-{voice_id}", ignore_errors=True)
        _LOGGER.info("Removed voice(s) %s", ", ".join(ids))
        return voices

    def _put_back(self, moved: Sequence[str]) -> None:
        """Rename folders a failed delete moved away back into place (under the lock)."""
        for voice_id in moved:
            try:
                (self.root / f".tmp-del-{voice_id}").rename(self.root / voice_id)
            except OSError as err:  # left where the next start removes it: deleted after all
                _LOGGER.error("Could not put voice %s back after a failed delete: %s", voice_id, err)

    def _discard(self, voice_id: str) -> None:
        """Rename a voice folder away, then delete its files (under the lock): it vanishes at once, and a crash in
        between leaves a left-over that the next start, or the next delete of that id, clears."""
        self._move_away(voice_id)
        shutil.rmtree(self.root / f".tmp-del-{voice_id}", ignore_errors=True)

    def _move_away(self, voice_id: str) -> None:
        """Rename a voice folder to ``.tmp-del-<id>`` (under the lock), clearing what an interrupted delete left."""
        doomed = self.root / f".tmp-del-{voice_id}"
        if doomed.is_dir() and not doomed.is_symlink():
            # An earlier delete of this id cut off after its rename (a crash, or files its removal could not take),
            # the voice since back (an import of its export). Only that rename makes this folder, and under this
            # lock, so it is nobody's work in progress; left, it is in the way of this rename until the next start.
            _LOGGER.warning("Clearing what an interrupted delete of voice %s left behind (%s)", voice_id, doomed)
            shutil.rmtree(doomed)
        (self.root / voice_id).rename(doomed)

    def _delete_error(self, voice_id: str, err: OSError) -> VoxhostError:
        """What a delete that could not move a voice away says: what was in the way, or why."""
        doomed = self.root / f".tmp-del-{voice_id}"
        if err.errno == errno.ENOENT and not (self.root / voice_id).exists():
            return self._unknown(voice_id)  # removed by hand meanwhile
        if found := storage_error(err, "the voice library (to delete a voice)"):
            return found
        if os.path.lexists(doomed) and not (doomed.is_dir() and not doomed.is_symlink()):
            # Not a folder voxhost left (it only ever renames voice folders there), so it is left alone.
            return StorageError(
                f"could not delete voice {voice_id!r}: {doomed.name}, which is not voxhost's, is in the way in the "
                f"voice library folder ({self.root}); move it away and delete again"
            )
        where = f" ({err.filename2 or err.filename})" if err.filename2 or err.filename else ""
        return StorageError(f"could not delete voice {voice_id!r}: {err.strerror or err}{where}")

    def update(
        self, voice_id: str, update: VoiceUpdate, words: Words | None = None, heard: LibraryVoice | None = None
    ) -> LibraryVoice:
        """Change a voice's metadata (the fields the update sets; ``None`` clears one); the audio stays. ``words``:
        the recognizer's word timings of the audio, as ``heard`` (the voice when its audio was heard) had it,
        written with the metadata in one step; ConflictError where the audio changed since."""
        changes = {name: getattr(update, name) for name in update.model_fields_set}
        if "tags" in changes:
            changes["tags"] = tuple(changes["tags"] or ())
        if words is not None:
            changes["words"] = words
        with self.locked():  # read, changed and written under one lock: no other change is lost in between
            voice = self._stored(voice_id)
            if heard is not None and not self._same_audio(heard):
                raise ConflictError(
                    f"voice {voice_id!r} got a new recording while its transcript was checked; send the change again",
                    param="transcript",
                )
            changed = replace(voice, **changes, updated_at=int(time.time()))
            if changed.transcript != voice.transcript:
                wav = (self.root / voice_id / AUDIO).read_bytes()
                changed = replace(changed, fingerprint=fingerprint(wav, changed.transcript))
            self._swap(voice_id, None, changed)
        _LOGGER.info("Updated voice %s (%s)", voice_id, ", ".join(sorted(set(changes) - {"words"})) or "nothing")
        return changed

    def replace_audio(
        self,
        voice_id: str,
        samples: np.ndarray,
        sample_rate: int,
        words: Words | None = None,
        heard_transcript: str | None = None,
        checked: str | None = None,
    ) -> LibraryVoice:
        """Give a voice new reference audio (checked as a new voice's is); its id and metadata stay. ``words``: the
        recognizer's word timings of the new audio, checked against the transcript ``checked`` (``heard_transcript``:
        what it heard, the transcript of a voice that had none), written with it in one step; ConflictError where
        the transcript changed since."""
        self.get(voice_id)  # UnknownVoiceError before the audio is encoded
        wav, sample_rate, seconds = reference_wav(samples, sample_rate)
        with self.locked():
            voice = self._stored(voice_id)
            if words is not None and voice.transcript != checked:
                raise ConflictError(
                    f"voice {voice_id!r} got a new transcript while its new recording was checked; send it again",
                    param="audio_sample",
                )
            transcript = voice.transcript or heard_transcript
            changed = replace(
                voice,
                transcript=transcript,
                seconds=round(seconds, 3),
                sample_rate=sample_rate,
                fingerprint=fingerprint(wav, transcript),
                words=words,  # never the old audio's word timings
                updated_at=int(time.time()),
            )
            changed = self._swap(voice_id, wav, changed)
            # Engines key their caches by the fingerprint; the old entries would only take space.
            shutil.rmtree(self.root / voice_id / "cache", ignore_errors=True)
        _LOGGER.info("Replaced the audio of voice %s (%.1f s)", voice_id, seconds)
        return changed

    def _swap(self, voice_id: str, wav: bytes | None, voice: LibraryVoice) -> LibraryVoice:
        """Write new files beside the old ones, then rename them in: the audio first, the metadata last (under the
        lock)."""
        folder = self.root / voice_id
        try:
            if wav is not None:
                voice = _with_audio(folder / (AUDIO + NEW), wav, voice)  # a rename keeps its size and mtime
            (folder / (META + NEW)).write_text(voice_json(voice))
            if wav is not None:
                os.replace(folder / (AUDIO + NEW), folder / AUDIO)
            os.replace(folder / (META + NEW), folder / META)
        except BaseException as err:
            for stray in (AUDIO + NEW, META + NEW):
                (folder / stray).unlink(missing_ok=True)
            if isinstance(err, OSError):
                raise storage_error(err, "the voice library") or err from None
            raise
        finally:
            self._forget(voice_id)
        return voice

    def install(self, voices: Sequence[tuple[LibraryVoice, bytes]], replace_existing: bool) -> VoiceIds:
        """Store complete voices (metadata and WAV bytes) all at once or not at all, and return the ids already in
        the library: those are left as they are, or with ``replace_existing`` overwritten. Each voice is written
        into a staging folder first; a journal names what is placed and what moved aside, then they are renamed
        in, the ones they replace moved aside until all are in (a crash meanwhile is rolled back at the next
        start). A broken voice of the same id is always replaced: restoring it from an export is the fix."""
        with self.locked():  # which ids clash is decided under the lock the voices are placed under
            existing = {voice.id for voice in self.list()}
            broken = {voice.id for voice in self.broken()}
            clashes = [voice.id for voice, _ in voices if voice.id in existing]
            if not replace_existing:
                voices = [(voice, wav) for voice, wav in voices if voice.id not in existing]
            self._check_quota(
                sum(len(wav) + len(voice_json(voice)) for voice, wav in voices),
                len([voice for voice, _ in voices if voice.id not in existing | broken]),
            )
            staging = self.root / f".tmp-import-{secrets.token_hex(4)}"
            journal = self.root / JOURNAL
            placed = [voice.id for voice, _ in voices]
            replaced = sorted((set(clashes) | broken) & set(placed))
            try:
                staging.mkdir()
                for voice, wav in voices:
                    (staging / voice.id).mkdir()
                    voice = _with_audio(staging / voice.id / AUDIO, wav, voice, restore=True)
                    (staging / voice.id / META).write_text(voice_json(voice))
                entries = {"staging": staging.name, "placed": placed, "replaced": replaced}
                (self.root / (JOURNAL + NEW)).write_text(json.dumps(entries))
                os.replace(self.root / (JOURNAL + NEW), journal)  # from here on, a crash is rolled back
                for voice_id in placed:
                    target = self.root / voice_id
                    if voice_id in replaced:
                        target.rename(self.root / f".tmp-old-{voice_id}")
                    (staging / voice_id).rename(target)
            except BaseException as err:
                if journal.exists():
                    self._roll_back(staging, placed, set(replaced))
                    journal.unlink()
                (self.root / (JOURNAL + NEW)).unlink(missing_ok=True)
                shutil.rmtree(staging, ignore_errors=True)
                if isinstance(err, OSError):
                    raise storage_error(err, "the imported voices to the library") or err from None
                raise
            finally:
                self._forget(*placed)
            journal.unlink()  # all in: the voices moved aside are no longer needed
            shutil.rmtree(staging, ignore_errors=True)
            for voice_id in replaced:
                shutil.rmtree(self.root / f".tmp-old-{voice_id}", ignore_errors=True)
        _LOGGER.info("Installed %d voice(s)", len(voices))
        return clashes

    def _roll_back(self, staging: Path, placed: Sequence[str], replaced: set[str]) -> None:
        """Undo an import's placing (under the lock): a voice no longer in its staging folder was placed and goes;
        a voice moved aside comes back. Safe to repeat, so a crash during the roll-back is rolled back again."""
        for voice_id in placed:
            target, aside = self.root / voice_id, self.root / f".tmp-old-{voice_id}"
            placed_here = not (staging / voice_id).exists() and (voice_id not in replaced or aside.exists())
            if placed_here and target.exists():
                # Placed by this import (a replaced voice is placed only after the old one went aside).
                self._discard(voice_id)
            if aside.exists():
                aside.rename(target)

    def files(self, voice_id: str) -> tuple[Path, Path]:
        """A voice's reference audio and metadata files."""
        self.get(voice_id)
        return self.root / voice_id / AUDIO, self.root / voice_id / META

    def _same_audio(self, heard: LibraryVoice) -> bool:
        """Whether a voice's stored audio is still the one it had as ``heard`` (under the lock)."""
        wav = (self.root / heard.id / AUDIO).read_bytes()
        return fingerprint(wav, heard.transcript) == heard.fingerprint

    def _read(self, folder: Path) -> LibraryVoice | str | None:
        """A voice folder's metadata, why it cannot be read (with a warning, once per folder: the voice is broken),
        or None where there is no such folder."""
        if not folder.is_dir():
            return None
        voice = self._load(folder)
        if isinstance(voice, str) and folder not in self._unreadable:
            self._unreadable.add(folder)
            _LOGGER.warning(
                "Voice folder %s: %s; the voice is left out of the catalog until it is deleted (it counts towards "
                "the library's quota)",
                folder,
                voice,
            )
        elif isinstance(voice, LibraryVoice):
            self._unreadable.discard(folder)
        return voice

    @staticmethod
    def _load(folder: Path) -> LibraryVoice | str:
        """A voice folder's metadata, or why it cannot be read (or used)."""
        voice = VoiceLibrary._read_meta(folder / META)
        if isinstance(voice, LibraryVoice) and voice.id != folder.name:
            return f"{META} names another voice ({voice.id!r})"  # its files are not where its id says
        if isinstance(voice, LibraryVoice):
            return VoiceLibrary._check_audio(folder / AUDIO, voice) or _as_recorded(folder / AUDIO, voice)
        return voice

    @staticmethod
    def _check_audio(path: Path, voice: LibraryVoice) -> str | None:
        """Why a voice's recording cannot be used, from its header alone (cheap), or None: missing, not readable
        audio, or not the recording its metadata describes (replaced outside voxhost, or cut short)."""
        if not path.is_file():
            return f"{AUDIO} is missing"  # no engine could speak it, and no change could check it
        try:
            info = soundfile.info(str(path))
        except (RuntimeError, OSError, soundfile.LibsndfileError):
            return f"{AUDIO} is not readable audio (damaged or cut short)"
        if info.format != "WAV" or info.frames <= 0 or not info.samplerate:
            return f"{AUDIO} is not readable audio (damaged or cut short)"
        seconds = info.frames / info.samplerate
        if info.samplerate != voice.sample_rate or abs(seconds - voice.seconds) > AUDIO_SLACK:
            return (
                f"{AUDIO} is not the recording {META} describes ({seconds:.2f} s at {info.samplerate} Hz, "
                f"not {voice.seconds:.2f} s at {voice.sample_rate} Hz): changed outside voxhost"
            )
        return None

    @staticmethod
    def _read_meta(path: Path) -> LibraryVoice | str:
        """A voice.json's voice, or why it cannot be read."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return f"{META} is missing"
        except OSError as err:
            return f"{META} cannot be read ({err.strerror or err})"
        except ValueError:
            return f"{META} is not JSON (damaged or cut short)"
        try:
            return LibraryVoice.from_dict(data)
        except (ValueError, TypeError, AttributeError):
            return f"{META} does not describe a voice"
