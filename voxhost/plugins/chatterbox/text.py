"""Splitting a sentence that is too long for one Chatterbox call (about 40 s of speech at most)."""

from __future__ import annotations

import re

_CLAUSE_END = re.compile(r"(?<=[,;:\u2014\u2013\u3001\uff0c\uff1b])\s*")
_SPACE = re.compile(r"\s+")


def split_long(text: str, max_chars: int) -> list[str]:
    """Pieces of ``text`` of at most ``max_chars``, cut at clause marks, then spaces, then anywhere."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    pieces: list[str] = []
    for clause in (c for c in _CLAUSE_END.split(text) if c.strip()):
        if len(clause) <= max_chars:
            pieces.append(clause.strip())
            continue
        for word in _SPACE.split(clause.strip()):
            pieces.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
    return _pack(pieces, max_chars)


def _pack(pieces: list[str], max_chars: int) -> list[str]:
    """Join neighbouring pieces while they fit, so calls stay few and prosody spans whole clauses."""
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + 1 + len(piece) <= max_chars:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out
