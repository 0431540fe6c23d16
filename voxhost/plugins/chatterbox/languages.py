"""Chatterbox's 23 language ids and the ``xx_YY`` catalog languages they map to."""

from __future__ import annotations

from dataclasses import dataclass

from voxhost.errors import InvalidRequestError
from voxhost.langid import primary_language


@dataclass(frozen=True)
class Language:
    """One language of the multilingual model."""

    code: str
    """Chatterbox's ``language_id``."""
    name: str
    locales: tuple[str, ...]
    """Catalog languages, ``xx_YY``; the first is the voice's main one."""


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("ar", "Arabic", ("ar_SA", "ar_EG", "ar_AE", "ar_JO")),
        Language("da", "Danish", ("da_DK",)),
        Language("de", "German", ("de_DE", "de_AT", "de_CH")),
        Language("el", "Greek", ("el_GR",)),
        Language("en", "English", ("en_US", "en_GB", "en_AU", "en_CA", "en_IE", "en_IN", "en_NZ")),
        Language("es", "Spanish", ("es_ES", "es_MX", "es_AR", "es_US")),
        Language("fi", "Finnish", ("fi_FI",)),
        Language("fr", "French", ("fr_FR", "fr_BE", "fr_CA", "fr_CH")),
        Language("he", "Hebrew", ("he_IL",)),
        Language("hi", "Hindi", ("hi_IN",)),
        Language("it", "Italian", ("it_IT", "it_CH")),
        Language("ja", "Japanese", ("ja_JP",)),
        Language("ko", "Korean", ("ko_KR",)),
        Language("ms", "Malay", ("ms_MY",)),
        Language("nl", "Dutch", ("nl_NL", "nl_BE")),
        Language("no", "Norwegian", ("nb_NO", "no_NO", "nn_NO")),
        Language("pl", "Polish", ("pl_PL",)),
        Language("pt", "Portuguese", ("pt_BR", "pt_PT")),
        Language("ru", "Russian", ("ru_RU",)),
        Language("sv", "Swedish", ("sv_SE", "sv_FI")),
        Language("sw", "Swahili", ("sw_KE", "sw_TZ")),
        Language("tr", "Turkish", ("tr_TR",)),
        Language("zh", "Chinese", ("zh_CN", "zh_TW", "zh_HK")),
    )
}

# Language codes that name one of the above under another id.
_ALIASES = {"nb": "no", "nn": "no", "iw": "he", "cmn": "zh", "zsm": "ms", "may": "ms"}


def known_id(language: str) -> str | None:
    """Chatterbox's language id for ``en_US`` / ``en-us`` / ``en`` style codes, or None for one it never speaks."""
    base = primary_language(language)
    base = _ALIASES.get(base, base)
    return base if base in LANGUAGES else None


def language_id(language: str | None, default: str = "en") -> str:
    """Chatterbox's language id for ``en_US`` / ``en-us`` / ``en`` style codes; clear error when unsupported."""
    if not language:
        return default
    code = known_id(language)
    if code is None:
        supported = ", ".join(sorted(LANGUAGES))
        raise InvalidRequestError(
            f"Chatterbox does not speak {language!r}; its languages are {supported}", param="language"
        )
    return code


def builtin_voice_id(code: str) -> str:
    """The engine-local id of a language's built-in voice, e.g. ``fi_FI-default``."""
    return f"{LANGUAGES[code].locales[0]}-default"


def builtin_voice_language(voice_id: str) -> str | None:
    """The language id of a built-in voice id, or None when ``voice_id`` is not one."""
    locale, sep, rest = voice_id.partition("-")
    if sep and rest == "default":
        code = locale.split("_", 1)[0].lower()
        if code in LANGUAGES and LANGUAGES[code].locales[0] == locale:
            return code
    return None
