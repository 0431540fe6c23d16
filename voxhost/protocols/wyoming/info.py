"""The ``info`` answer to ``describe``: one TTS program listing every voice of every running engine, and one ASR
program listing the models of every engine that transcribes.

Home Assistant uses only the first TTS program (and the first ASR program) and never selects another, so all engines
share one program of each kind; it takes the languages of the ASR program's installed models.
Each voice's ``name`` is its catalog id (what comes back in ``voice.name``), ``description`` its display name,
and ``languages`` are in Home Assistant's ``en_US`` form, which it matches exactly.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from wyoming.info import AsrModel, AsrProgram, Attribution, Info, TtsProgram, TtsVoice, TtsVoiceSpeaker

from ... import __version__

if TYPE_CHECKING:
    from ...api import CoreAPI, EngineInfo

_LOGGER = logging.getLogger(__name__)

VOXHOST_ATTRIBUTION = Attribution(name="voxhost", url="https://pypi.org/project/voxhost/")
SPEAKING = frozenset(("tts", "clone"))
"""Capabilities of an engine that speaks (one named in the TTS program's description)."""


_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|\d{3}))?$")


def ha_language(code: str) -> str:
    """``en-us``/``en_US``/``EN`` → ``en_US``/``en``: the form Home Assistant compares against."""
    match = _LANGUAGE.match(code.strip())
    if not match:
        return code.strip()
    base, region = match.groups()
    return f"{base.lower()}_{region.upper()}" if region else base.lower()


def asr_programs(
    core: CoreAPI, program_name: str, streaming: bool, engines: dict[str, EngineInfo] | None = None
) -> list[AsrProgram]:
    """One ASR program with every recognition model of the running engines (none when nothing transcribes)."""
    engines = engines if engines is not None else {engine.id: engine for engine in core.engines()}
    models: list[AsrModel] = []
    for engine_id in core.transcribers():
        engine = engines[engine_id]
        for model in engine.transcription_models:
            models.append(
                AsrModel(
                    name=model.name,
                    attribution=Attribution(name=engine.attribution[0], url=engine.attribution[1]),
                    installed=True,
                    description=model.description or model.name,
                    version=engine.version,
                    languages=list(model.languages),
                )
            )
    if not models:
        return []
    names = ", ".join(dict.fromkeys(engines[engine_id].name for engine_id in core.transcribers()))
    program = AsrProgram(
        name=program_name,
        attribution=VOXHOST_ATTRIBUTION,
        installed=True,
        description=f"voxhost speech-to-text ({names})",
        version=__version__,
        models=models,
        supports_transcript_streaming=streaming,
        requires_external_vad=True,  # Home Assistant ends the utterance; voxhost transcribes what it is sent
    )
    return [program]


def build_info(
    core: CoreAPI, program_name: str = "voxhost", streaming: bool = True, transcript_streaming: bool = False
) -> Info:
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
    # Only engines that speak: a recognizer (Whisper) has no voices to offer here.
    speakers = (engine for engine in engines.values() if engine.capabilities & SPEAKING)
    names = ", ".join(engine.name for engine in speakers) or "no engines"
    program = TtsProgram(
        name=program_name,
        attribution=VOXHOST_ATTRIBUTION,
        installed=True,
        description=f"voxhost text-to-speech ({names})",
        version=__version__,
        voices=voices,
        supports_synthesize_streaming=streaming,
    )
    return Info(tts=[program], asr=asr_programs(core, program_name, transcript_streaming, engines))
