"""Languages: voxhost's ``xx_YY`` locales and the language names Qwen3-TTS uses (``codec_language_id`` keys)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ...langid import primary_language

_LOGGER = logging.getLogger(__name__)

LOCALES: dict[str, str] = {
    "english": "en_US",
    "chinese": "zh_CN",
    "japanese": "ja_JP",
    "korean": "ko_KR",
    "german": "de_DE",
    "french": "fr_FR",
    "russian": "ru_RU",
    "portuguese": "pt_BR",
    "spanish": "es_ES",
    "italian": "it_IT",
}
"""The languages of the published Qwen3-TTS Base models, with the locale voxhost lists each under."""

_BY_PRIMARY = {locale.split("_")[0]: name for name, locale in LOCALES.items()}


def model_languages(model_dir: Path | None) -> list[str]:
    """Language names a model directory supports (dialects excluded), or the published list without one."""
    if model_dir is not None:
        try:
            config = json.loads((model_dir / "config.json").read_text())
            ids = config.get("talker_config", {}).get("codec_language_id") or {}
            names = [name.lower() for name in ids if name.lower() in LOCALES]
            if names:
                return names
        except (OSError, ValueError):
            _LOGGER.debug("cannot read languages from %s", model_dir, exc_info=True)
    return list(LOCALES)


def to_model_language(code: str | None, supported: list[str] | set[str]) -> str:
    """The model's name for ``code`` (``en_US``, ``en-GB``, ``en`` or ``english``), else ``auto`` (detected)."""
    if not code:
        return "auto"
    text = code.strip().lower()
    name = text if text in LOCALES else _BY_PRIMARY.get(primary_language(text))
    if name is not None and name in supported:
        return name
    _LOGGER.debug("language %r is not one of the model's %s; the model detects it", code, sorted(supported))
    return "auto"
