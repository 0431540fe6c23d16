"""What the text front-end adds: milliseconds per sentence, and how much later the first sentence is released.

    python bench/spoken_latency.py

For a corpus of answers written the way LLMs and automations write them (markdown, emoji, URLs, numbers), fed
whole and as 3-character tokens: the front-end's time per sentence (``SpokenText``: markup, symbols, language,
lexicon, numbers, length bound) against the bare sentence splitter it wraps, measured side by side, and the token
at which each releases the first sentence.
"""

from __future__ import annotations

import statistics
import time

from voxhost.operations import LexiconRule
from voxhost.spoken.frontend import Policy, SpokenText
from voxhost.spoken.lexicon import Lexicon
from voxhost.text import SentenceSplitter

CORPUS = [
    "## Weather today\nIt will be **sunny** with a high of 21°C and a low of 12°C. 🌞 Take a hat!",
    "Here is your list:\n- Buy milk\n- Call mom at +1 555-123-4567\n- Water the plants ✅\n\nAnything else?",
    "Check the [forecast](https://example.com/forecast) or visit https://www.home-assistant.io/docs/ today.",
    "Great job! 🎉👍 The dishwasher finished at 21:30 and used 1.2 kWh. The dryer is next.",
    "Use `light.turn_on`:\n```yaml\nservice: light.turn_on\nentity_id: light.kitchen\n```\nThat's all.",
    "Your package costs $3.50 and arrives on 2024-03-15 between 9:00 and 11:00. Tracking: 0171 2345678.",
    "| Room | Temp | Humidity |\n|---|---|---|\n| Kitchen | 21.5 °C | 45 % |\n| Bedroom | 19 °C | 50 % |",
    "Sure! **Step 1:** open the *garage*. **Step 2:** turn off the alarm. I set sensor.garage_door to on/off.",
    "The 3rd floor is 50 km/h away from version 2.0.1, Tom &amp; Jerry said. Nanit is on, HA is ready.",
]
LEXICON = Lexicon([LexiconRule(match="Nanit", say="Nah neet"), LexiconRule(match="HA", say="Home Assistant")])
ROUNDS = 30


def tokens(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def feed_all(feeder: SpokenText | SentenceSplitter, pieces: list[str]) -> tuple[int, int | None]:
    """Feed ``pieces`` one by one: how many sentences came out, and the piece that released the first."""
    count, first = 0, None
    for i, piece in enumerate(pieces):
        got = feeder.feed(piece)
        if got and first is None:
            first = i
        count += len(got)
    return count + len(feeder.finish()), first


def run_frontend(pieces: list[str]) -> tuple[int, int | None]:
    return feed_all(SpokenText(Policy(language="en_US", lexicon=LEXICON)), pieces)


def run_splitter(pieces: list[str]) -> tuple[int, int | None]:
    return feed_all(SentenceSplitter(), pieces)


def per_sentence(run: object, streamed: bool) -> list[float]:
    """Milliseconds per sentence, one figure per round (the corpus each round)."""
    out = []
    for _ in range(ROUNDS):
        started, sentences = time.perf_counter(), 0
        for text in CORPUS:
            sentences += run([text] if not streamed else tokens(text))[0]  # type: ignore[operator]
        out.append((time.perf_counter() - started) * 1000 / sentences)
    return out


def main() -> None:
    run_frontend([CORPUS[0]])  # imports and caches warm, as in a running daemon
    print(f"{len(CORPUS)} answers, {ROUNDS} rounds; ms per sentence (median, p95)\n")
    print("feed | sentence splitter | text front-end | added")
    for streamed in (False, True):
        base = per_sentence(run_splitter, streamed)
        full = per_sentence(run_frontend, streamed)
        med_base, med_full = statistics.median(base), statistics.median(full)
        p95 = statistics.quantiles(full, n=20)[-1]
        label = "3-char tokens" if streamed else "whole text"
        print(f"{label} | {med_base:.3f} | {med_full:.3f} (p95 {p95:.3f}) | {med_full - med_base:.3f}")
    print("\nfirst sentence released at token (splitter → front-end):")
    for text in CORPUS:
        _, a = run_splitter(tokens(text))
        _, b = run_frontend(tokens(text))
        print(f"  {a} → {b}  {text[:50]!r}")


if __name__ == "__main__":
    main()
