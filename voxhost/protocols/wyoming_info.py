"""The ``info`` answer to ``describe``: one TTS program listing every voice of every running engine.

Home Assistant uses only the first TTS program and never selects another, so all engines share one program.
Each voice's ``name`` is its catalog id (what comes back in ``voice.name``), ``description`` its display name,
and ``languages`` are in Home Assistant's ``en_US`` form, which it matches exactly.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import re
from typing import TYPE_CHECKING

from wyoming.info import Attribution, Info, TtsProgram, TtsVoice, TtsVoiceSpeaker

from .. import __version__

if TYPE_CHECKING:
    from ..core import Core
    from ..engine import Engine

_LOGGER = logging.getLogger(__name__)

VOXHOST_ATTRIBUTION = Attribution(name="voxhost", url="https://pypi.org/project/voxhost/")

_KNOWN_ENGINES: dict[str, tuple[str, str, str]] = {
    # engine id: (attribution name, url, distribution that carries the engine's version)
    "piper": ("rhasspy", "https://github.com/rhasspy/piper", "piper-tts"),
    "f5": ("SWivid", "https://github.com/SWivid/F5-TTS", "f5-tts"),
    "chatterbox": ("Resemble AI", "https://github.com/resemble-ai/chatterbox", "chatterbox-tts"),
    "qwen3": ("Qwen", "https://github.com/QwenLM/Qwen3-TTS", "qwen-tts"),
}

_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|\d{3}))?$")


def ha_language(code: str) -> str:
    """``en-us``/``en_US``/``EN`` → ``en_US``/``en``: the form Home Assistant compares against."""
    match = _LANGUAGE.match(code.strip())
    if not match:
        return code.strip()
    base, region = match.groups()
    return f"{base.lower()}_{region.upper()}" if region else base.lower()


@functools.lru_cache(maxsize=64)
def _engine_facts(engine_cls: type[Engine]) -> tuple[Attribution, str | None]:
    """Attribution and version of an engine class (looked up once: package metadata reads files)."""
    engine_id = engine_cls.engine_id
    name, url, dist = _KNOWN_ENGINES.get(engine_id, (engine_cls.display_name or engine_id, "", ""))
    name = getattr(engine_cls, "attribution_name", None) or name
    url = getattr(engine_cls, "attribution_url", None) or url
    version = getattr(engine_cls, "version", None)
    if not isinstance(version, str):
        version = None
        # An engine's distribution may live only in its worker's environment; then no version is shown.
        candidates = [dist] if dist else []
        top = engine_cls.__module__.split(".")[0]
        if top != "voxhost":
            candidates.append(top)
        for candidate in candidates:
            try:
                version = importlib.metadata.version(candidate)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return Attribution(name=name, url=url), version


def build_info(core: Core, program_name: str = "voxhost", streaming: bool = True) -> Info:
    """The ``info`` event data for the catalog as it is now (voices added at run time included)."""
    voices: list[TtsVoice] = []
    for voice in core.voices():
        engine = core.engines.get(voice.engine)
        if engine is None:
            continue
        attribution, version = _engine_facts(type(engine))
        # Home Assistant lists voices only under their languages: one with none would be invisible.
        languages = list(dict.fromkeys(ha_language(lang) for lang in voice.languages if lang)) or ["en_US"]
        voices.append(
            TtsVoice(
                name=voice.id,
                attribution=attribution,
                installed=True,
                description=voice.name or voice.id,
                version=version,
                languages=languages,
                speakers=[TtsVoiceSpeaker(name=s) for s in voice.speakers] or None,
            )
        )
    engines = ", ".join(e.display_name or e.engine_id for e in core.engines.values()) or "no engines"
    program = TtsProgram(
        name=program_name,
        attribution=VOXHOST_ATTRIBUTION,
        installed=True,
        description=f"voxhost text-to-speech ({engines})",
        version=__version__,
        voices=voices,
        supports_synthesize_streaming=streaming,
    )
    return Info(tts=[program])
