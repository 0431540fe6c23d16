"""The user lexicon: words and patterns the household wants said its own way, per language and per voice.

Entries come from the config file (``[[text.lexicon]]``, read-only at run time) and from the HTTP API (stored in
``<state_dir>/lexicon.json``). A job takes a snapshot (``Lexicon``) when it starts, so an edit never changes a
sentence halfway through a job. Phonemes go to engines that read inline phonemes (Piper: ``[[ ... ]]``) and are
shielded from the rules that run after the lexicon (placeholders, restored last).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import regex

from ..errors import ConfigError, InvalidPatternError, InvalidRequestError, UnknownLexiconEntryError, storage_error
from ..langid import primary_language
from ..operations import LexiconEntry, LexiconRule
from ..replacing import replacing

_LOGGER = logging.getLogger(__name__)

TIMEOUT = 0.05
"""Seconds one entry may take on one sentence: a user's pattern runs on the event loop, and a pattern that
backtracks without end must not stall it (the ``regex`` module stops it)."""
GROWTH = 4
"""An entry whose replacement would make a sentence more than this many times longer (plus 200 characters) is
skipped for that sentence: a lexicon cannot turn one sentence into minutes of speech."""

_SHIELD_OPEN, _SHIELD_CLOSE = "\ue000", "\ue001"
_SHIELD = re.compile("\ue000([\ue100-\ue1ff])\ue001")


def _base(language: str | None) -> str | None:
    return primary_language(language) if language else None


@dataclass(frozen=True)
class _Compiled:
    pattern: regex.Pattern[str]
    say: str
    phonemes: str | None
    regex: bool
    language: str | None
    voice: str | None


class Lexicon:
    """Compiled entries, applied to a sentence of a given language and voice."""

    def __init__(self, entries: Iterable[LexiconRule] = ()) -> None:
        self._entries: list[_Compiled] = []
        for entry in entries:
            self._entries.append(
                _Compiled(
                    entry.compile(),
                    entry.say,
                    entry.phonemes,
                    entry.regex,
                    _base(entry.language),
                    entry.voice,
                )
            )

    def __len__(self) -> int:
        return len(self._entries)

    def for_voice(self, voice: str, aliases: Iterable[str] = ()) -> Lexicon:
        """The entries that apply to a voice (by catalog id or any of its names)."""
        names = {voice, *aliases}
        out = Lexicon()
        out._entries = [e for e in self._entries if e.voice is None or e.voice in names]
        return out

    def apply(self, text: str, language: str | None, phonemes: str | None, shielded: list[str]) -> str:
        """``text`` with the entries for ``language`` applied; ``phonemes`` is the engine's inline phoneme form
        (``"[[ {} ]]"``) or None. Phoneme insertions are appended to ``shielded`` and left as placeholders."""
        base = _base(language)
        ceiling = len(text) * GROWTH + 200
        for entry in self._entries:
            if entry.language is not None and entry.language != base:
                continue
            try:
                if entry.phonemes and phonemes:
                    if len(shielded) >= 0x100:
                        continue
                    marker = f" {_SHIELD_OPEN}{chr(0xE100 + len(shielded))}{_SHIELD_CLOSE} "
                    out = entry.pattern.sub(lambda _m, r=marker: r, text, timeout=TIMEOUT)  # type: ignore[misc]
                    if out != text:
                        shielded.append(phonemes.format(entry.phonemes))
                elif entry.regex:
                    out = entry.pattern.sub(entry.say, text, timeout=TIMEOUT)
                else:
                    out = entry.pattern.sub(lambda _m, s=entry.say: s, text, timeout=TIMEOUT)  # type: ignore[misc]
            except (TimeoutError, regex.error, IndexError) as err:
                _LOGGER.warning("Lexicon entry %r skipped: %s", entry.pattern.pattern, err)
                continue
            if len(out) <= ceiling:
                text = out
        return text


def unshield(text: str, shielded: list[str]) -> str:
    """Placeholders back to the phonemes they stand for."""
    if not shielded:
        return text
    return _SHIELD.sub(lambda m: shielded[ord(m.group(1)) - 0xE100], text)


class LexiconStore:
    """The config file's entries and those added over the API (kept in a JSON file)."""

    def __init__(self, configured: Iterable[LexiconRule], path: Path) -> None:
        self.path = path
        self._configured = [
            LexiconEntry(**rule.model_dump(), id=f"config_{i}", source="config") for i, rule in enumerate(configured)
        ]
        for entry in self._configured:
            try:
                entry.compile()
            except InvalidPatternError as err:
                raise ConfigError(f"text.lexicon[{entry.id.removeprefix('config_')}]: {err.message}") from None
        self._lock = threading.Lock()
        self._added = self._read()
        self._compiled = Lexicon(self.entries())

    def _read(self) -> list[LexiconEntry]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as err:
            raise InvalidRequestError(f"cannot read the lexicon {self.path}: {err}") from None
        return [LexiconEntry.model_validate(item) for item in data.get("entries", [])]

    def _store(self, added: list[LexiconEntry]) -> None:
        """Write ``added`` as the entries added over the API, then use them: a write that fails changes nothing, and a
        full or read-only disk says so."""
        entries = [entry.model_dump(exclude_none=True) for entry in added]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with replacing(self.path) as part:
                part.write_text(json.dumps({"entries": entries}, ensure_ascii=False, indent=1), encoding="utf-8")
        except OSError as err:
            raise storage_error(err, "the lexicon") or err from None
        self._added = added
        self._compiled = Lexicon(self.entries())

    def entries(self) -> list[LexiconEntry]:
        """Every entry: the config file's first, then those added over the API, oldest first."""
        return [*self._configured, *self._added]

    @property
    def lexicon(self) -> Lexicon:
        """The compiled entries now (jobs keep the one they started with)."""
        return self._compiled

    def add(self, rule: LexiconRule) -> LexiconEntry:
        """Store a new entry (blocking file write)."""
        rule.compile()  # InvalidPatternError before anything is stored
        with self._lock:
            entry = LexiconEntry(**rule.model_dump(), id=f"lex_{secrets.token_hex(4)}", source="api")
            self._store([*self._added, entry])
            return entry

    def remove(self, entry_id: str) -> LexiconEntry:
        """Delete an entry added over the API (blocking file write)."""
        with self._lock:
            for entry in self._added:
                if entry.id == entry_id:
                    self._store([kept for kept in self._added if kept is not entry])
                    return entry
            if any(entry.id == entry_id for entry in self._configured):
                raise InvalidRequestError(
                    f"lexicon entry {entry_id} comes from the config file; change it there", param="entry_id"
                )
            raise UnknownLexiconEntryError(f"no lexicon entry {entry_id!r}", param="entry_id")
