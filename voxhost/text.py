"""Splitting text, whole or streamed in pieces, into sentences an engine can speak one at a time."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from sentence_stream import SentenceBoundaryDetector

# Prefer to break an over-long sentence after a clause mark, else at a space.
_CLAUSE_BREAK = re.compile(r"[,;:\u2014\u2013)\]]\s")

_SLICE = 256
"""Characters handed to the boundary detector at a time. It searches its whole buffer again for each sentence it
finds, so a 100,000-character text given at once took seconds (quadratic); in slices its buffer stays short."""


def split_long(sentence: str, limit: int) -> Iterator[str]:
    """Break a sentence longer than ``limit`` characters at clause marks or spaces (hard cut as a last resort)."""
    rest = sentence.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for match in _CLAUSE_BREAK.finditer(window):
            cut = match.start() + 1
        if cut < limit // 3:
            space = window.rfind(" ")
            cut = space if space >= limit // 3 else limit
        head, rest = rest[:cut].strip(), rest[cut:].strip()
        if head:
            yield head
    if rest:
        yield rest


class SentenceSplitter:
    """Feed text in any pieces (even mid-word); get complete sentences as soon as they are certain."""

    def __init__(self, max_sentence_chars: int = 400) -> None:
        self._detector = SentenceBoundaryDetector()
        self._limit = max_sentence_chars

    def feed(self, chunk: str) -> list[str]:
        """Add text; return the sentences it completed."""
        if len(chunk) <= _SLICE:
            return self._feed(chunk)
        return [
            sentence for start in range(0, len(chunk), _SLICE) for sentence in self._feed(chunk[start : start + _SLICE])
        ]

    def _feed(self, chunk: str) -> list[str]:
        out = [piece for sentence in self._detector.add_chunk(chunk) for piece in split_long(sentence, self._limit)]
        # Unpunctuated streams (an LLM listing things) must not grow without bound: flush at the limit.
        buffered = self._detector.current_sentence + self._detector.remaining_text
        if len(buffered) > self._limit * 2:
            pieces = list(split_long(self._detector.finish(), self._limit))
            # Keep the unfinished tail (and the space after it): the stream may continue it.
            tail = pieces.pop() if pieces else ""
            if buffered[-1:].isspace():
                tail += " "
            out.extend(pieces)
            out.extend(self._detector.add_chunk(tail))
        return out

    def finish(self) -> list[str]:
        """End the text; return what remained."""
        return list(split_long(self._detector.finish(), self._limit))


def split_sentences(text: str | Iterable[str], max_sentence_chars: int = 400) -> list[str]:
    """All sentences of a complete text (or of its pieces)."""
    splitter = SentenceSplitter(max_sentence_chars)
    pieces = [text] if isinstance(text, str) else text
    out = [sentence for piece in pieces for sentence in splitter.feed(piece)]
    return out + splitter.finish()
