"""Plain prose skips the reading steps: it must come out exactly as those steps would have made it."""

from __future__ import annotations

import random
import re

import pytest

from voxhost.operations import LexiconRule
from voxhost.spoken import frontend
from voxhost.spoken.frontend import Policy, SpokenText
from voxhost.spoken.lexicon import Lexicon

VOCABULARY = (
    "Good evening I have turned off the lights in kitchen and hallway front door is locked "
    "Henry VIII Louis XIV NASA iPhone McDonald's don't it's o'clock Dr St Mr Mrs vs etc am pm km kg "
    "x e i v mm ok OK Hello hi www com http https at dot slash minus plus percent eur usd "
    "Guten Abend das Licht ist aus Bonjour la porte est ferm Buenas noches"
)
WORDS = VOCABULARY.split()

TEXTS = [
    "Good evening.",
    "I have turned off the lights in the kitchen and in the hallway, and the front door is locked.",
    "Is the door locked?",
    "Henry VIII met Louis XIV at NASA!",
    "It's six o'clock, don't wait",
    "Guten Abend, das Licht ist aus.",
]


def corpus() -> list[str]:
    """Handpicked sentences, then random ones of the words above in plain form."""
    rng = random.Random(7)
    out = list(TEXTS)
    for _ in range(300):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 12))]
        text = ""
        for i, word in enumerate(words):
            text += word if i == 0 else (", " if rng.random() < 0.15 else " ") + word
        out.append(text + rng.choice(["", ".", "?", "!"]))
    return out


def reference(policy: Policy, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """What every reading step makes of the text (the plain-prose shortcut never taken)."""
    with monkeypatch.context() as patch:
        patch.setattr(frontend, "_PLAIN", re.compile(r"(?!)"))
        return SpokenText(policy).read(text)


@pytest.mark.parametrize(
    "policy",
    [
        Policy(language="en_US", reads_numbers=True),
        Policy(language="en_US"),
        Policy(language="de_DE", reads_numbers=True),
        Policy(language="fr_FR"),
        Policy(language="es_ES"),
        Policy(languages=("en_US", "de_DE")),
    ],
    ids=["en-piper", "en", "de-piper", "fr", "es", "detected"],
)
def test_plain_prose_reads_as_every_step_would_read_it(policy: Policy, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = corpus()
    assert all(frontend._PLAIN.fullmatch(text) for text in texts)  # each one takes the shortcut
    for text in texts:
        assert SpokenText(policy).read(text) == reference(policy, text, monkeypatch), text


@pytest.mark.parametrize(
    "text",
    [
        "Visit example.com now.",
        "It is 21 degrees.",
        "The **door** is locked.",
        "Turn on/off the fan.",
        "Write to a@b.org today.",
        "Great job 🎉",
        "Café au lait.",
        "Wait... really?!",
        " Leading space.",
        "Two  spaces.",
        "Ends with a comma,",
        "snake_case name",
    ],
)
def test_anything_else_takes_every_step(text: str) -> None:
    assert not frontend._PLAIN.fullmatch(text)


def test_a_lexicon_is_applied_to_plain_prose() -> None:
    lexicon = Lexicon([LexiconRule(match="hallway", say="corridor")])
    policy = Policy(language="en_US", lexicon=lexicon)
    assert SpokenText(policy).read("Lights off in the hallway.") == ("en_US", "Lights off in the corridor.")
