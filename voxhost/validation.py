"""Checking generated speech: the policy a job gets (request, voice, engine, defaults), and scoring one sentence.

A checked job's scheduler makes each sentence whole, has the recognizer hear it (``SentenceCheck.score``), and makes
it again with another seed while it is above the bound, keeping the best attempt (``voxhost.scheduler``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .audio import Resampler
from .engine import PCM
from .errors import VoxhostError
from .operations import MAX_SEED, ValidationPolicy
from .transcripts import wer

_LOGGER = logging.getLogger(__name__)

_SEED_STEP = 0x9E3779B1
"""Retries walk the seed space in large odd steps (different noise, reproducible from the request's seed)."""


def merge(*levels: ValidationPolicy | None) -> ValidationPolicy:
    """Policies from the lowest level to the highest: each set field overrides the ones below it."""
    out: dict[str, object] = {}
    for level in levels:
        if level is not None:
            out.update(level.model_dump(exclude_none=True))
    return ValidationPolicy.model_validate(out)


def retry_seed(seed: int | None, attempt: int) -> int:
    """The seed of re-generation ``attempt`` (1, 2, ...) of a sentence first made with ``seed``."""
    return ((seed or 0) + attempt * _SEED_STEP) % (MAX_SEED + 1)


def joined(chunks: Sequence[PCM]) -> PCM:
    """One PCM of a sentence's chunks, at the first chunk's rate."""
    rate = chunks[0].rate
    parts: list[bytes] = []
    resampler: Resampler | None = None
    for chunk in chunks:
        data = chunk.data
        if chunk.rate != rate:
            if resampler is None or resampler.rate_in != chunk.rate:
                resampler = Resampler(chunk.rate, rate)
            data = resampler.process(data)
        parts.append(data)
    return PCM(b"".join(parts), rate)


@dataclass(frozen=True)
class Heard:
    """One attempt as the recognizer heard it."""

    wer: float
    text: str


@dataclass(frozen=True)
class SentenceCheck:
    """How a job's sentences are checked: the bound, the retries, and the recognizer to hear them with."""

    max_wer: float
    max_retries: int
    language: str | None
    """Base language code of the text, for the recognizer and the normalisation (None: detected)."""
    hear: Callable[[PCM, str | None], Awaitable[str]]
    """Transcribe a sentence's audio (in the recognizer's queue, after people waiting for transcripts)."""

    async def score(self, chunks: Sequence[PCM], text: str) -> Heard | None:
        """Hear one attempt of a sentence and score it against its text; None when the recognizer fails (the
        sentence then goes out as made: a broken recognizer must not silence the speakers)."""
        audio = joined(chunks) if chunks else PCM(b"", 16000)
        if not audio.data or not np.any(np.frombuffer(audio.data, dtype="<i2")):
            return Heard(wer(text, "", self.language), "")  # silence: right only for a text with no words
        try:
            heard = await self.hear(audio, self.language)
        except VoxhostError as err:
            _LOGGER.warning("A sentence was not checked: the recognizer failed: %s", err.message)
            return None
        return Heard(round(wer(text, heard, self.language), 4), heard)
