"""How long a sentence will sound, estimated from its characters, and cutting one that would be too long.

Characters alone are a poor bound: a 32-character digit run is 15 s of Piper speech and 96 emoji (read by name) are
53 s, while 76 characters of prose are 3.8 s (measured; docs/benchmarks.md), and a Chinese character is a whole
syllable. Weighting each character by what it becomes keeps the estimate above the real length for every kind of
text, at the cost of a few microseconds.
"""

from __future__ import annotations

import re
import unicodedata

LETTER_SECONDS = 0.075
"""A letter or space of prose (measured 0.05 s; the margin covers short words and slow voices)."""
DIGIT_SECONDS = 0.55
"""A digit the engine reads itself ("1234567890" × 3: 0.48 s per character, measured)."""
SYMBOL_SECONDS = 2.5
"""An emoji or symbol the engine reads by name: "party popper" (96 emoji: 0.56 s each) or "symbol two seven one three"
(✓: 2.3 s, measured)."""
SYLLABLE_SECONDS = 0.25
"""A Chinese or Japanese character, or a Hangul block: a written syllable (Mandarin is spoken at about 4 a second).
Counted as a letter of prose, a Chinese sentence three times as long as ``text.max_sentence_seconds`` meant passed."""
MARK_SECONDS = 0.2
"""A pause at a punctuation mark."""
MARKS = ".,;:!?…、，。；：！？"
"""Marks that pause: Latin and CJK (full-width) ones."""

CLAUSE_BREAK = r"[,;:\u2014\u2013)\]]\s|[、，；：。！？]"
"""After a clause mark (a CJK one needs no space after it): where a long sentence is best cut (here and in
``voxhost.text``)."""
_BREAK = re.compile(CLAUSE_BREAK + r"|\s")
"""Where a piece may end: after a clause mark, or at a space."""


def char_seconds(c: str) -> float:
    """Expected seconds of speech for one character at normal speed."""
    if c.isalpha():
        # Wide letters are CJK ideographs, kana and Hangul: each a syllable, not a letter of a word.
        return SYLLABLE_SECONDS if c >= "\u1100" and unicodedata.east_asian_width(c) in "WF" else LETTER_SECONDS
    if c.isspace():
        return LETTER_SECONDS
    if c.isdigit():
        return DIGIT_SECONDS
    if c in MARKS:
        return MARK_SECONDS
    category = unicodedata.category(c)
    if category.startswith("S") or category in ("Co", "Cn"):
        return SYMBOL_SECONDS
    return LETTER_SECONDS


def seconds(text: str, speed: float = 1.0) -> float:
    """Expected seconds of speech of ``text`` at ``speed``."""
    if text.isascii():
        digits = sum(c.isdigit() for c in text)
        marks = sum(text.count(c) for c in ".,;:!?")
        total = digits * DIGIT_SECONDS + marks * MARK_SECONDS + (len(text) - digits - marks) * LETTER_SECONDS
    else:
        total = sum(char_seconds(c) for c in text)
    return total / max(speed, 0.01)


def split(text: str, limit: float, speed: float = 1.0) -> list[str]:
    """``text`` in pieces of at most ``limit`` expected seconds each, cut after a clause mark or at a space where
    there is one in the second half of the piece, else where the limit falls."""
    pieces: list[str] = []
    rest = text.strip()
    budget = limit * max(speed, 0.01)
    while rest and seconds(rest, speed) > limit:
        spent, end = 0.0, len(rest)
        for i, c in enumerate(rest):
            spent += char_seconds(c)
            if spent > budget:
                end = i
                break
        end = max(end, 1)
        window = rest[:end]
        cut = end
        clause = [m.end() for m in _BREAK.finditer(window) if m.end() > end // 2 and not m.group(0).isspace()]
        spaces = [m.start() for m in _BREAK.finditer(window) if m.start() > end // 2 and m.group(0).isspace()]
        if clause:
            cut = clause[-1]
        elif spaces:
            cut = spaces[-1]
        head, rest = rest[:cut].strip(), rest[cut:].strip()
        if head:
            pieces.append(head)
    if rest:
        pieces.append(rest)
    return pieces
