"""Per-sentence language detection for the text front-end, where lingua is installed (``voxhost.langid``)."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable

from ..langid import LanguageIdentifier, primary_language


@functools.lru_cache(maxsize=32)
def detector(languages: tuple[str, ...]) -> Callable[[str], str | None] | None:
    """Detection among ``languages`` (None where lingua is not installed: the first language is then used)."""
    if importlib.util.find_spec("lingua") is None or len({primary_language(lang) for lang in languages}) < 2:
        return None
    identifier = LanguageIdentifier(languages, fallback=None)
    by_base = {primary_language(lang): lang for lang in reversed(languages)}

    def detect(text: str) -> str | None:
        found = identifier.detect(text)
        return by_base.get(found, found) if found else None

    return detect
