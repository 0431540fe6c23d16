"""Language identification restricted to a given set of languages (those an engine has installed).

Uses lingua (``lingua-language-detector``): accurate on short texts (one sentence, a few words), which is what a
TTS request is, and sub-millisecond per sentence once its models are loaded. Restricting it to the installed
languages both speeds it up and stops it from answering with a language nothing can speak. It is an optional
dependency: without it, ``detect`` returns the fallback language.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

_LOGGER = logging.getLogger(__name__)


def primary_language(tag: str) -> str:
    """``fr_FR``/``fr-FR``/``FR`` → ``fr``."""
    return tag.replace("-", "_").split("_", 1)[0].strip().lower()


class LanguageIdentifier:
    """Detect which of a fixed set of languages (ISO 639-1 codes) a text is in."""

    def __init__(self, languages: Iterable[str], *, fallback: str | None = None, preload: bool = False) -> None:
        self.languages = sorted({primary_language(code) for code in languages})
        self.fallback = fallback if fallback is not None else (self.languages[0] if self.languages else None)
        self._detector: Any = None
        self._lock = threading.Lock()
        self._available = True
        if preload:
            self._build()

    def _build(self) -> Any:
        with self._lock:
            if self._detector is not None or not self._available:
                return self._detector
            try:
                from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
            except ImportError:
                _LOGGER.warning("lingua-language-detector is not installed; using %s for every text", self.fallback)
                self._available = False
                return None
            langs = []
            for code in self.languages:
                iso = getattr(IsoCode639_1, code.upper(), None)
                if iso is None:
                    _LOGGER.warning("language %r is unknown to the language identifier", code)
                    continue
                langs.append(Language.from_iso_code_639_1(iso))
            if len(langs) < 2:  # nothing to choose between
                self._available = False
                return None
            self._detector = LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build()
            return self._detector

    def detect(self, text: str) -> str | None:
        """The most likely language of ``text`` among the configured ones (or the fallback)."""
        if len(self.languages) == 1:
            return self.languages[0]
        detector = self._detector if self._detector is not None else self._build()
        if detector is None or not text.strip():
            return self.fallback
        found = detector.detect_language_of(text)
        if found is None:
            return self.fallback
        return str(found.iso_code_639_1.name).lower()
