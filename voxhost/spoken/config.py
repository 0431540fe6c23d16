"""The text front-end's settings: part of the ``[text]`` table."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..operations import LexiconRule


class SpokenSettings(BaseModel):
    """How written text becomes what is said (see docs/text.md)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    code_phrase: str = ""
    """Said once in place of a fenced code block (e.g. "Code omitted."); empty: the block is skipped silently."""
    emoji_word: str = ""
    """Said in place of a run of emoji; empty: emoji are dropped."""
    urls: Literal["domain", "drop"] = "domain"
    """Bare URLs: say their domain ("home assistant dot io"), or nothing."""
    emails: Literal["address", "drop"] = "address"
    """E-mail addresses: say them ("bob at example dot com"), or nothing."""
    max_sentence_seconds: float = Field(15.0, ge=2.0, le=600.0)
    """The longest a sentence may sound (estimated from its characters before synthesis): longer ones are split,
    or refused (``too_long``). Bounds an engine's memory per sentence; see docs/text.md."""
    too_long: Literal["split", "refuse"] = "split"
    """What happens to a sentence longer than ``max_sentence_seconds``: cut at clause marks or spaces, or the
    request fails with a ``text_too_long`` error."""
    lexicon: list[LexiconRule] = Field(default_factory=list)
    """User lexicon entries (``[[text.lexicon]]``: match, say, phonemes, regex, case_sensitive, language, voice);
    more can be added over HTTP (``/v1/lexicon``)."""
