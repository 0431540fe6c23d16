"""The ``info`` answer to ``describe``: one TTS program listing every voice of every running engine.

Home Assistant uses only the first TTS program and never selects another, so all engines share one program.
Each voice's ``name`` is its catalog id (what comes back in ``voice.name``), ``description`` its display name,
and ``languages`` are in Home Assistant's ``en_US`` form, which it matches exactly.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from wyoming.info import Attribution, Info, TtsProgram, TtsVoice, TtsVoiceSpeaker

from ... import __version__

if TYPE_CHECKING:
    from ...api import CoreAPI

_LOGGER = logging.getLogger(__name__)

VOXHOST_ATTRIBUTION = Attribution(name="voxhost", url="https://pypi.org/project/voxhost/")


_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|\d{3}))?$")


def ha_language(code: str) -> str:
    """``en-us``/``en_US``/``EN`` → ``en_US``/``en``: the form Home Assistant compares against."""
    match = _LANGUAGE.match(code.strip())
    if not match:
        return code.strip()
    base, region = match.groups()
    return f"{base.lower()}_{region.upper()}" if region else base.lower()


def build_info(core: CoreAPI, program_name: str = "voxhost", streaming: bool = True) -> Info:
    """The ``info`` event data for the catalog as it is now (voices added at run time included)."""
    voices: list[TtsVoice] = []
    engines = {engine.id: engine for engine in core.engines()}
    for voice in core.voices():
        engine = engines.get(voice.engine)
        if engine is None:
            continue
        attribution = Attribution(name=engine.attribution[0], url=engine.attribution[1])
        # Home Assistant lists voices only under their languages: one with none would be invisible.
        languages = list(dict.fromkeys(ha_language(lang) for lang in voice.languages if lang)) or ["en_US"]
        voices.append(
            TtsVoice(
                name=voice.id,
                attribution=attribution,
                installed=True,
                description=voice.name or voice.id,
                version=engine.version,
                languages=languages,
                speakers=[TtsVoiceSpeaker(name=s) for s in voice.speakers] or None,
            )
        )
    names = ", ".join(engine.name for engine in engines.values()) or "no engines"
    program = TtsProgram(
        name=program_name,
        attribution=VOXHOST_ATTRIBUTION,
        installed=True,
        description=f"voxhost text-to-speech ({names})",
        version=__version__,
        voices=voices,
        supports_synthesize_streaming=streaming,
    )
    return Info(tts=[program])
