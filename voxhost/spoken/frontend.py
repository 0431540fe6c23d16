"""The text front-end of one job: text in (whole or streamed), sentences out as they should be spoken.

Order per sentence, chosen so that each step sees what it needs: block markup is handled while the text streams
(``markup.BlockStream``), then the splitter cuts sentences; per sentence, inline markup goes, emoji go, the language
is decided (the request's, else the voice's, else detected on the cleaned sentence, since digits and symbols carry
no language), then URLs and e-mail addresses, identifiers, abbreviations, arrows, comparisons (≥ ≤ ≠ > < =), the user
lexicon, numbers in that language, stray symbols; last the sentence is bounded by how long it would sound.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import TextTooLongError
from ..text import SentenceSplitter
from . import formulas, length, markup, symbols
from .config import SpokenSettings
from .langs import LANGS, lang_for
from .lexicon import Lexicon, unshield
from .numbers import has_roman, reader

_LOGGER = logging.getLogger(__name__)
_SAYABLE = re.compile(r"[^\W_]")
_PLAIN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*(?:,? [A-Za-z]+(?:'[A-Za-z]+)*)*[.?!]?")
"""Prose that every step of ``read`` leaves as it is: words of plain letters, single spaces, commas and one final
mark (no digit, symbol, markup, dot inside a word, or character outside ASCII)."""
_ABBREVIATIONS = frozenset(a for lang in LANGS.values() for a in lang.abbreviations)
"""Words read out when written with a dot: plain prose may end in one ("Apples, pears, etc.")."""
_DAYS = frozenset(d.lower() for lang in LANGS.values() for d in lang.weekdays)
"""Days written short: plain prose may end in one ("Bis Fr.", "See you next Mon.")."""
_ORDINAL_TAIL = re.compile(r"(?:^|[\s–-])\d{1,2}\.$")
"""A sentence that ends in "3." may be a German or Finnish ordinal ("Am 3. Mai", "vom 5.–7. Mai"): joined to the next
sentence."""


def _read_anyway(source: str) -> bool:
    """Plain prose that a step still changes: an abbreviation, a street's kind or a day at its end ("Apples, pears,
    etc.", "on Elm St.", "bis Fr."), an "xD", a Roman numeral ("Henry VIII"), an English day written short ("ships
    Tue.")."""
    last = source[:-1].rpartition(" ")[2].lower() if source.endswith(".") else ""
    if last in _ABBREVIATIONS or last in symbols.STREET_SUFFIXES or last in _DAYS:
        return True
    if "xD" in source or has_roman(source):
        return True
    return ("Tu" in source or "Th" in source or "Fri" in source) and symbols.EN_DAY.search(source) is not None


@dataclass(frozen=True)
class Sentence:
    """One sentence: what the engine is given, what was written, and the language it was read in."""

    text: str
    source: str
    language: str | None


@dataclass
class Policy:
    """How one job's text is read: decided once, when the job is prepared."""

    settings: SpokenSettings = field(default_factory=SpokenSettings)
    normalize: bool = True
    """False: the text goes as written (the lexicon and the length bound still apply)."""
    language: str | None = None
    """The request's language, else the voice's; None: detected per sentence."""
    languages: tuple[str, ...] = ()
    """Candidates for detection (the voice's or engine's languages); the first is the fallback."""
    detect: Callable[[str], str | None] | None = None
    """Language detection among ``languages`` (None: not available, the first candidate is used)."""
    voice: str = ""
    reads_numbers: bool = False
    """The engine reads plain cardinals and decimals itself (Piper's espeak-ng)."""
    phonemes: str | None = None
    """The engine's inline phoneme form (``"[[ {} ]]"``), for lexicon pronunciations."""
    speed: float = 1.0
    lexicon: Lexicon = field(default_factory=Lexicon)
    max_sentence_chars: int = 400


class SpokenText:
    """Feed a job's text in any pieces; get its spoken sentences as soon as each is certain."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._blocks = markup.BlockStream(policy.settings.code_phrase) if policy.normalize else None
        self._splitter = SentenceSplitter(policy.max_sentence_chars)
        self._held: str | None = None
        self.count = 0
        """Sentences given out so far."""

    # -- text in ---------------------------------------------------------------------------------------------

    def feed(self, chunk: str) -> list[Sentence]:
        """Add text; return the sentences it completed."""
        if self._blocks is None:
            return self._speak(self._splitter.feed(chunk))
        return self._route(self._blocks.feed(chunk))

    def finish(self) -> list[Sentence]:
        """The text is complete; return the rest."""
        if self._blocks is None:
            return self._speak(self._splitter.finish())
        return self._route(self._blocks.finish())

    def _route(self, pieces: list[str]) -> list[Sentence]:
        raw: list[str] = []
        for piece in pieces:
            if piece == markup.BREAK:
                ended = self._splitter.finish()
                if ended:
                    ended[-1] = markup.end_sentence(ended[-1])
                raw += self._join(ended)
                if self._held is not None:
                    raw.append(self._held)
                    self._held = None
            else:
                raw += self._join(self._splitter.feed(piece))
        return self._speak(raw)

    def _join(self, sentences: list[str]) -> list[str]:
        """Hold a sentence that ends in a bare number with a dot and join it to the next one."""
        out: list[str] = []
        for sentence in sentences:
            if self._held is not None:
                sentence, self._held = f"{self._held} {sentence}", None
            if _ORDINAL_TAIL.search(sentence) and len(sentence) < self.policy.max_sentence_chars // 2:
                self._held = sentence
            else:
                out.append(sentence)
        return out

    # -- sentences out ---------------------------------------------------------------------------------------

    def _speak(self, sources: list[str]) -> list[Sentence]:
        out: list[Sentence] = []
        for source in sources:
            language, text = self.read(source)
            if self.policy.normalize and not _SAYABLE.search(text):
                continue  # only markup, emoji or punctuation: nothing to say
            for piece in self._bound(text):
                out.append(Sentence(piece, source, language))
        self.count += len(out)
        return out

    def read(self, source: str) -> tuple[str, str]:
        """One written sentence as it is to be said, and the language it was read in."""
        policy, settings = self.policy, self.policy.settings
        shielded: list[str] = []
        if not policy.normalize:
            language = self._language(source)
            text = policy.lexicon.apply(source, language, policy.phonemes, shielded)
            return language or "", unshield(text, shielded)
        if not policy.lexicon and _PLAIN.fullmatch(source) and not _read_anyway(source):
            # Most spoken answers are such prose ("Good evening."): the dozen steps below would each look and
            # change nothing, on the way to the first audio (tests/spoken/test_plain.py holds them to that).
            return self._language(source) or "", source
        text = source
        if formulas.present(text):
            # Before the inline markup, which takes a formula's "_" and "*" for emphasis and "\(" for an escape.
            text = formulas.read(text, lang_for(self._language(text)))
        text = markup.inline(text)
        text = symbols.emojis(text, settings.emoji_word)
        language = self._language(text)
        lang = lang_for(language)
        text = symbols.urls(text, settings.urls, lang)
        text = symbols.emails(text, settings.emails, lang)
        text = symbols.identifiers(text, lang)
        text = symbols.addresses(text, lang)
        text = symbols.compass(text, lang)
        text = symbols.abbreviations(text, lang)
        text = symbols.limits(text, lang)
        text = symbols.short_words(text, lang)
        text = symbols.weekdays(text, lang)
        text = symbols.time_zones(text, lang)
        text = symbols.arrows(text, lang)
        text = symbols.relations(text, lang)
        text = policy.lexicon.apply(text, language, policy.phonemes, shielded)
        text = reader(language, policy.reads_numbers).read(text)
        text = symbols.slashes(text, lang)
        text = symbols.stray(text)
        return language or "", unshield(text, shielded)

    def _language(self, text: str) -> str | None:
        policy = self.policy
        if policy.language:
            return policy.language
        if policy.detect is not None and len(policy.languages) > 1:
            found = policy.detect(symbols.urls(text, "drop", None))
            if found:
                return found
        return policy.languages[0] if policy.languages else None

    def _bound(self, text: str) -> list[str]:
        """The sentence, or its pieces when it would sound longer than the limit (or an error, if so set)."""
        settings = self.policy.settings
        # A slower speed makes a sentence last longer, not say more: bounded at its own speed, Piper at 0.25 cut
        # prose of 50 characters into pieces, each an utterance of its own. So a slow sentence may last 1/speed as
        # long (and its engine needs as much more memory); a runaway is still cut (voxhost.runaway scales likewise).
        speed = max(self.policy.speed, 1.0)
        limit = settings.max_sentence_seconds
        estimate = length.seconds(text, speed)
        if estimate <= limit:
            return [text]
        if settings.too_long == "refuse":
            raise TextTooLongError(
                f"sentence {self.count + 1} would be about {estimate:.0f} s of speech; at most {limit:g} s per "
                "sentence are allowed (text.max_sentence_seconds): add sentence marks, or split the text",
                param="input",
            )
        return length.split(text, limit, speed)


def warm_up() -> None:
    """Build what the first request would otherwise build on the event loop (markdown-it, the emoji index, the
    English number rules): a few milliseconds at startup instead of on someone's first sentence."""
    front = SpokenText(Policy(language="en_US"))
    front.feed("## Ready\nIt is **21 °C** at 9:00 🎉 on https://example.com. ")
    front.finish()
