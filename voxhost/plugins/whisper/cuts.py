"""Segments split where silence was cut out of the audio before Whisper heard it.

The speech detector keeps stretches of speech and drops the silence between them (two seconds or more); Whisper
hears the stretches back to back, 0.8 s apart, and may make one segment of the end of one and the start of the
next. Put back on the recording's clock, such a segment runs through the silence that was cut: a subtitle on
screen through a minute of nothing. Its words, each placed in its own stretch, say where to split it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any

RATE = 16000


def cut_silences(chunks: list[dict[str, int]]) -> list[tuple[float, float]]:
    """The silences cut out between the kept stretches (``start``/``end`` in samples), in seconds."""
    return [
        (before["end"] / RATE, after["start"] / RATE)
        for before, after in zip(chunks, chunks[1:], strict=False)
        if after["start"] > before["end"]
    ]


def _middle(word: Any) -> float:
    """A word's middle, in seconds on the recording's clock."""
    return float(word.start + word.end) / 2


def split_at_cuts(
    segments: Iterable[Any], silences: list[tuple[float, float]], encode: Callable[[str], list[int]]
) -> Iterator[Any]:
    """faster-whisper's segments (with words, on the recording's clock), each split where a cut silence lies between
    two of its words; a part gets its words' times and text, and ``encode``'s tokens of that text."""
    for segment in segments:
        words = list(segment.words or ())
        parts: list[list[Any]] = [words[:1]] if words else []
        for previous, word in zip(words, words[1:], strict=False):
            # A word is placed in the stretch its middle falls in (faster-whisper's rule), so the middles say which
            # stretch each word was heard in, whatever its ends do at the edges.
            if any(_middle(previous) <= start and end <= _middle(word) for start, end in silences):
                parts.append([word])
            else:
                parts[-1].append(word)
        if len(parts) < 2:
            yield segment
            continue
        for part in parts:
            text = "".join(word.word for word in part)
            yield dataclasses.replace(
                segment, start=part[0].start, end=part[-1].end, text=text, words=part, tokens=encode(text)
            )
