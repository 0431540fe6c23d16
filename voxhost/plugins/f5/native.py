"""Native references for F5's built-in voices: a reference in the language of the model that clones it.

Each F5 language model is trained on one language, and its vocabulary holds that language's characters only (the
Hindi one is Devanagari): cloning an English sentence through it maps most of the transcript to unknown tokens.
So ``default-<lang>`` speaks with a reference in that language, from the first of these that exists:

1. the language's ``reference`` + ``reference_text`` in ``[engines.f5.models.<lang>]``;
2. the engine-wide ``default_reference`` (+ text), for the language it is in (``default_reference_language``);
3. a clip f5-tts itself ships with its transcript: English and Chinese (``infer/examples/basic``);
4. derived: an installed Piper voice of that language (``voxhost models pull piper <voice>``) speaks a known
   sentence (``SENTENCES``), so the transcript is exact; for English the bundled joe voice does.

A language with none of these gets no ``default-<lang>`` voice and is not among ``default``'s languages; doctor,
``voxhost voices`` and the engine's API object say why (``withheld``). Cloned voices are unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..piper_catalog import voices_dir

SENTENCES: dict[str, str] = {
    "en": "The quick brown fox jumps over the lazy dog, while the birds sing softly in the morning light.",
    "de": "Die Sonne geht langsam über der Stadt auf, und die Vögel singen leise im Garten.",
    "es": "El sol sale despacio sobre la ciudad, y los pájaros cantan suavemente en el jardín.",
    "fi": "Aurinko nousee hitaasti kaupungin ylle, ja linnut laulavat hiljaa puutarhassa.",
    "fr": "Le soleil se lève doucement sur la ville, et les oiseaux chantent dans le jardin.",
    "hi": "सूरज धीरे-धीरे शहर के ऊपर उगता है, और बगीचे में पक्षी धीरे से गाते हैं।",
    "it": "Il sole sorge lentamente sulla città, e gli uccelli cantano piano nel giardino.",
    "ja": "太陽がゆっくりと町の上に昇り、庭では鳥が静かに歌っています。",
    "ru": "Солнце медленно встаёт над городом, и птицы тихо поют в саду.",
    "zh": "太阳慢慢地从城市上空升起，鸟儿在花园里轻轻地歌唱。",
}
"""What a derived reference says, per language."""

PACKAGED: dict[str, tuple[str, str]] = {
    "en": ("infer/examples/basic/basic_ref_en.wav", "Some call me nature, others call me mother nature."),
    "zh": ("infer/examples/basic/basic_ref_zh.wav", "对，这就是我，万人敬仰的太乙真人。"),
}
"""Reference clips inside the f5-tts package, with their transcripts (f5-tts's own examples)."""


@dataclass(frozen=True)
class NativeSource:
    """Where a language's built-in voice gets its reference."""

    kind: str
    """``configured``, ``engine-default``, ``bundled-piper``, ``f5-package`` or ``piper``."""
    path: str = ""
    """The WAV (configured), or the Piper voice (``.onnx``) that speaks ``SENTENCES``."""
    text: str = ""


def installed_piper_voice(models_dir: str, code: str) -> Path | None:
    """An installed Piper voice speaking ``code`` (the best quality first), or None."""
    root = voices_dir(models_dir) / code
    if code not in SENTENCES or not root.is_dir():
        return None
    rank = {"high": 0, "medium": 1, "low": 2, "x_low": 3}
    found = [m for m in root.rglob(f"{code}_*.onnx") if m.with_name(m.name + ".json").is_file()]
    found.sort(key=lambda m: (rank.get(m.parent.name, 9), m.name))
    return found[0] if found else None


def withheld_reason(code: str, locale: str) -> str:
    """Why ``default-<code>`` is not offered, and how to get it."""
    return (
        f"no reference in {locale} for F5's {locale} model (an English one would be cloned through a {locale} "
        f"vocabulary): set [engines.f5.models.{code}] reference and reference_text, pull a Piper voice of that "
        f"language (voxhost models list piper), or use a cloned voice that speaks {locale}"
    )
