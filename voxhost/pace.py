"""How fast one engine makes a sentence, alone and beside another: what the look-ahead's estimates come from."""

from __future__ import annotations

from dataclasses import dataclass, field

DECAY = 0.8
"""Weight of what was measured before at each new sentence: the pace follows the machine's load within a few."""

MIN_CHARS = 40
"""Shorter sentences are not measured: their time is mostly the engine's fixed cost per sentence ("Good evening."
costs half again as much per character as a long sentence), which would make a pace per character too slow."""

ALONE_SPEEDUP = 1.5
"""Until a long sentence has run alone, it is taken to run this much faster alone than beside another (Piper on
two cores: 1.4-1.8)."""


@dataclass
class _Rate:
    """Seconds of compute per character of text, weighted by length (a short sentence says little)."""

    seconds: float = 0.0
    chars: float = 0.0

    def add(self, chars: int, seconds: float) -> None:
        self.seconds = self.seconds * DECAY + seconds
        self.chars = self.chars * DECAY + chars

    @property
    def per_char(self) -> float | None:
        return self.seconds / self.chars if self.chars else None


@dataclass
class Pace:
    """Measured compute per character for sentences that ran alone and for sentences that overlapped others."""

    alone: _Rate = field(default_factory=_Rate)
    shared: _Rate = field(default_factory=_Rate)

    def record(self, chars: int, seconds: float, shared: bool) -> None:
        """One sentence made: ``chars`` characters in ``seconds``."""
        if chars >= MIN_CHARS and seconds > 0:
            (self.shared if shared else self.alone).add(chars, seconds)

    def wait_for_wide(self, chars: int, others_left: float) -> bool:
        """Whether a job's last sentence finishes sooner by waiting for the job's sentence in flight (to run alone,
        on the whole machine) than by starting now beside it; False until an overlapped sentence was measured."""
        shared = self.shared.per_char
        if shared is None:
            return False
        alone = self.alone.per_char or shared / ALONE_SPEEDUP
        # Started now, it runs at the shared pace to its end, even after the other one finishes (an engine cannot
        # move a sentence between its sessions); waiting costs the other's remaining time, then the alone pace.
        return others_left + chars * alone < chars * shared

    def left(self, chars: int, elapsed: float, shared: bool) -> float:
        """Estimated seconds a sentence of ``chars`` characters still needs after ``elapsed`` (0 when unknown)."""
        rate = (self.shared if shared else self.alone).per_char
        return max(0.0, chars * rate - elapsed) if rate is not None else 0.0
