"""Public voice types: a catalog voice as every door sees it, and a stored cloned voice."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .engine import Reference
from .errors import InvalidRequestError

LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}([_-][A-Za-z]{2,4})?$"
"""A language code: ``en``, ``en_US``, ``en-us``, ``EN-us`` (any case: normalized to ``en_US``)."""
_LANG_RE = re.compile(LANGUAGE_PATTERN)


@dataclass(frozen=True)
class CatalogVoice:
    """A voice as every door sees it."""

    id: str
    engine: str
    voice: str
    """Engine-local voice id, or the library id for cloned voices."""
    name: str
    languages: tuple[str, ...]
    sample_rate: int
    kind: Literal["builtin", "cloned", "pipeline"] = "builtin"
    speakers: tuple[str, ...] = ()
    description: str = ""
    aliases: tuple[str, ...] = field(default=(), compare=False)
    pipeline: str | None = None
    """For pipeline voices: the ``[[pipelines]]`` id (speech of ``engine``/``voice``, then converted)."""


@dataclass(frozen=True)
class Resolved:
    """The outcome of a lookup: the voice, the speaker to use, and the reference for cloned voices."""

    voice: CatalogVoice
    speaker: str | None
    reference: Reference | None


_STORED_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "name": (str,),
    "language": (str, type(None)),
    "transcript": (str, type(None)),
    "created_at": (int,),
    "seconds": (int, float),
    "sample_rate": (int,),
    "fingerprint": (str,),
    "notes": (str, type(None)),
    "updated_at": (int, type(None)),
    "created_ns": (int, type(None)),
}
"""The JSON types of a stored voice's fields (a bool is none of them)."""


@dataclass(frozen=True)
class LibraryVoice:
    """A stored cloned voice."""

    id: str
    name: str
    language: str | None
    transcript: str | None
    created_at: int
    seconds: float
    sample_rate: int
    fingerprint: str
    words: tuple[tuple[float, float, str], ...] | None = None
    """What a speech recognizer heard in the reference, word by word (start, end, word), when one was running."""
    tags: tuple[str, ...] = ()
    """Lowercase tags, for search and bulk actions."""
    notes: str | None = None
    """Free-form notes."""
    updated_at: int | None = None
    """When the voice's metadata or audio last changed (Unix seconds)."""
    created_ns: int | None = None
    """When it was added, in nanoseconds (None: stored by an older voxhost): orders voices added in one second."""
    audio_mark: tuple[int, int] | None = None
    """The size and mtime (ns) its recording had when voxhost wrote it: one found otherwise is hashed again, so a
    recording replaced by hand (even of the same rate and length) is noticed."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LibraryVoice:
        """A voice from its stored JSON (keys of newer versions are ignored; lists become tuples); TypeError for
        JSON that is not a voice's."""
        if not isinstance(data, dict):
            raise TypeError("a voice is a JSON object")
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        for name, kinds in _STORED_TYPES.items():
            # Checked here: a name or date of another type would break every listing, not just this voice.
            if name in known and (isinstance(known[name], bool) or not isinstance(known[name], kinds)):
                raise TypeError(f"{name} is a {type(known[name]).__name__}")
        known["tags"] = tuple(known.get("tags") or ())
        mark = known.get("audio_mark")
        if mark is not None:
            size, mtime = mark  # a damaged mark is a broken voice (TypeError, ValueError), as other fields are
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in (size, mtime)):
                raise TypeError("audio_mark is not two integers")
            known["audio_mark"] = (size, mtime)
        if known.get("words") is not None:
            known["words"] = tuple((float(start), float(end), str(word)) for start, end, word in known["words"])
        return cls(**known)

    def reference(self, root: Path) -> Reference:
        """The engine-facing view of this voice."""
        folder = root / self.id
        return Reference(
            voice_id=self.id,
            audio_path=str(folder / "reference.wav"),
            transcript=self.transcript,
            language=self.language,
            cache_dir=str(folder / "cache"),
            fingerprint=self.fingerprint,
            seconds=self.seconds,
            words=None if self.words is None else tuple((float(s), float(e), str(w)) for s, e, w in self.words),
        )


@dataclass(frozen=True)
class BrokenVoice:
    """A stored voice whose ``voice.json`` or recording cannot be used: out of the catalog, yet its files take space
    (and count towards the library's quota) until it is deleted by its id."""

    id: str
    problem: str
    """Why the voice cannot be used (``voice.json`` missing, not JSON, not a voice, naming another voice; its
    recording missing, not readable audio, or not the one ``voice.json`` describes)."""
    bytes: int
    """What its files take."""
    modified_at: int
    """When its folder last changed (Unix seconds)."""

    def stand_in(self) -> LibraryVoice:
        """What deleting it answers with: the metadata that named it is lost, so its id is its name."""
        return LibraryVoice(
            id=self.id,
            name=self.id,
            language=None,
            transcript=None,
            created_at=self.modified_at,
            seconds=0.0,
            sample_rate=0,
            fingerprint="",
        )


def added_order(voice: LibraryVoice) -> tuple[int, int, str]:
    """The order voices were added in (oldest first), the same across restarts: by second, then by nanosecond where
    stored (a voice of an older voxhost comes first in its second), then by id."""
    return (voice.created_at, voice.created_ns or 0, voice.id)


def _name_key(name: str) -> str:
    """A display name as a voice list reads it: case, runs of spaces and Unicode forms (``ＧＲＡＮＤＭＡ``) aside."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def same_name(one: str, other: str) -> bool:
    """Whether two display names read alike in a voice list (``Grandma``, ``grandma``)."""
    return _name_key(one) == _name_key(other)


def listed_names(voices: Iterable[LibraryVoice]) -> dict[str, str]:
    """Library id → the name voice lists show for it: its own, except that two voices may share a name (a second
    recording of the same person), and a list that shows names alone would hold two alike. The oldest keeps the
    name; each later one is ``Grandma (2)``, ``Grandma (3)`` in the order added (the next number no voice is
    named already), so the names stay the same across restarts while the ids, which requests use, never change."""
    ordered = sorted(voices, key=added_order)  # the library's order: oldest first
    taken = {_name_key(voice.name) for voice in ordered}
    seen: set[str] = set()
    out: dict[str, str] = {}
    for voice in ordered:
        name = voice.name
        if _name_key(name) in seen:
            number = 2
            while _name_key(f"{voice.name} ({number})") in taken:
                number += 1
            name = f"{voice.name} ({number})"
            taken.add(_name_key(name))
        seen.add(_name_key(voice.name))
        out[voice.id] = name
    return out


def normalize_language(language: str | None) -> str | None:
    """``en-us`` / ``en_US`` / ``en`` → ``en_US`` / ``en``; invalid → InvalidRequestError."""
    if language is None or not language.strip():
        return None
    language = language.strip()
    if not _LANG_RE.match(language):
        raise InvalidRequestError(f"invalid language {language!r}; use a code like en_US or de", param="language")
    base, _, region = language.replace("-", "_").partition("_")
    return f"{base.lower()}_{region.upper()}" if region else base.lower()
