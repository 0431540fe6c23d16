"""The names the HTTP door accepts right now, in one place: OpenAI model names and engines, voice names (OpenAI's
mapped to catalog voices), speakers and languages. The handlers resolve requests with these functions, and the
OpenAPI document lists the same names, so a request the document allows is a request the server takes.
"""

from __future__ import annotations

from ...api import CoreAPI
from ...errors import InvalidRequestError, UnknownVoiceError
from ...operations import LANGUAGE_PATTERN
from ...voices import normalize_language
from .errors import BadValueError
from .settings import HttpSettings

AUTO = "auto"
"""A model (or a model mapped to ``auto``) that lets the voice choose the engine."""
LISTENING = frozenset({"transcribe", "translate"})
"""Capabilities of engines that hear speech: an engine with no other is not a speech model."""


def models(core: CoreAPI, settings: HttpSettings) -> dict[str, str | None]:
    """Model name → engine (None: the voice decides): running engines first, then configured names that work.
    Engines that only transcribe are not speech models."""
    running = [engine.id for engine in core.engines() if engine.capabilities - LISTENING]
    table: dict[str, str | None] = {engine_id: engine_id for engine_id in running}
    return _add_configured(table, settings.models, running)


def transcription_models(core: CoreAPI, settings: HttpSettings) -> dict[str, str | None]:
    """Transcription model name → engine (None: the first that transcribes): engine ids, the names of the models
    they serve, then configured names that work."""
    running = core.transcribers()
    table: dict[str, str | None] = {engine_id: engine_id for engine_id in running}
    for engine in core.engines():
        if engine.id in running:
            for model in engine.transcription_models:
                table.setdefault(model.name, engine.id)
    return _add_configured(table, settings.transcription_models, running) if running else table


def _add_configured(
    table: dict[str, str | None], configured: dict[str, str], running: list[str]
) -> dict[str, str | None]:
    """``table`` plus the configured names it lacks that work: those mapped to ``auto`` (None) or to a running
    engine."""
    for name, target in configured.items():
        if name in table:
            continue
        if target == AUTO:
            table[name] = None
        elif target in running:
            table[name] = target
    return table


def resolve_transcription_model(core: CoreAPI, settings: HttpSettings, model: str | None) -> str | None:
    """The engine a transcription's ``model`` names (None: the first that transcribes); unknown names are a 400."""
    if model is None or model == AUTO:
        return None
    table = transcription_models(core, settings)
    if not table:
        return None  # nothing transcribes: the request gets the core's 501
    return _resolve(model, table, settings.transcription_models, "transcription model")


def translators(core: CoreAPI) -> list[str]:
    """Running engines that transcribe and translate into English, in the order transcriptions choose them."""
    able = {engine.id for engine in core.engines() if "translate" in engine.capabilities}
    return [engine_id for engine_id in core.transcribers() if engine_id in able]


def translation_models(core: CoreAPI, settings: HttpSettings) -> dict[str, str | None]:
    """The transcription model names whose engine translates (None: the first that translates)."""
    able = set(translators(core))
    if not able:
        return {}
    return {name: engine for name, engine in transcription_models(core, settings).items() if engine in able | {None}}


def resolve_translation_model(core: CoreAPI, settings: HttpSettings, model: str | None) -> str:
    """The engine a translation's ``model`` names (``auto`` or none: the first that translates); an unknown name is a
    400, and so is a model whose engine only transcribes (the core says so). Some engine must translate."""
    engine = resolve_transcription_model(core, settings, model)
    return engine if engine is not None else translators(core)[0]


def model_names(core: CoreAPI, settings: HttpSettings) -> list[str]:
    """Every value ``model`` may take in a speech request or a voice list query."""
    return [*models(core, settings), AUTO]


def resolve_model(core: CoreAPI, settings: HttpSettings, model: str | None) -> str | None:
    """The engine a ``model`` names (None: the voice decides); an unknown name is a 400 naming the known ones."""
    # The body's model comes trimmed (a name typed into a client's settings field, Open WebUI's TTS model, often
    # brings a space or a newline along), and empty is none (``DefaultName``).
    if model is None or model == AUTO:
        return None
    return _resolve(model, models(core, settings), settings.models, "model")


def _resolve(model: str, table: dict[str, str | None], configured: dict[str, str], kind: str) -> str | None:
    """``model``'s engine in ``table``; else a 400 that says why (its configured engine is not running, or the name
    is unknown: the known ones are listed)."""
    if model in table:
        return table[model]
    if model in configured:
        message = f"model {model!r} is served by engine {configured[model]!r}, which is not running"
    else:
        message = f"unknown {kind} {model!r}; models: {', '.join(sorted(table))}"
    raise BadValueError(InvalidRequestError(message, param="model"), code="model_not_found")


def _openai_target(settings: HttpSettings, voice: str) -> str | None:
    # Spaces around a name are dropped, as the catalog drops them: " alloy" must not pass by the mapping to the
    # catalog, which would refuse it as "unknown voice 'alloy'".
    name = voice.strip()
    return settings.voices.get(name) or settings.voices.get(name.lower())


def resolve_voice(
    core: CoreAPI, settings: HttpSettings, voice: str | None, engine: str | None, language: str | None
) -> str | None:
    """Map OpenAI voice names (alloy, echo, ...) to real voices; other names pass through to the catalog."""
    if voice is None:
        return None
    mapped = _openai_target(settings, voice)
    if mapped is None:
        return voice
    if language:
        return None  # an OpenAI name says nothing about language: let the language choose the voice
    if engine is not None:
        try:
            core.resolve_voice(mapped, engine=engine)
        except UnknownVoiceError:
            return None  # the model's engine does not have the mapped voice: use its default voice
    return mapped


def voice_names(core: CoreAPI, settings: HttpSettings) -> list[str]:
    """Every voice name a speech request may give: catalog ids, engine-local ids, aliases and OpenAI names."""
    names: dict[str, None] = {}
    for voice in core.voices():
        names.update(dict.fromkeys((voice.id, voice.voice, *voice.aliases)))
    for name, target in settings.voices.items():
        try:
            core.resolve_voice(target)
        except UnknownVoiceError:
            continue  # mapped to a voice no running engine has: the name would be refused
        names[name] = None
    return list(names)


def cloned_voice_names(core: CoreAPI) -> list[str]:
    """Every name of a voice-library voice in the catalog (what a conversion's ``voice`` may give)."""
    names: dict[str, None] = {}
    for voice in core.voices():
        if voice.kind == "cloned":
            names.update(dict.fromkeys((voice.id, voice.voice, *voice.aliases)))
    return list(names)


def speakers(core: CoreAPI) -> tuple[list[str], list[int]]:
    """Every speaker a request may name: by name (or index as text), and by index."""
    names: dict[str, None] = {}
    most = 0
    for voice in core.voices():
        names.update(dict.fromkeys(voice.speakers))
        most = max(most, len(voice.speakers), 1)  # a single-speaker voice takes speaker 0 as itself
    names.update(dict.fromkeys(str(index) for index in range(most)))
    return list(names), list(range(most))


def spoken_bases(core: CoreAPI) -> list[str]:
    """The base languages (``en`` for ``en_US``) some running voice speaks."""
    return sorted({language.split("_")[0].lower() for voice in core.voices() for language in voice.languages})


def check_language(core: CoreAPI, language: str | None) -> None:
    """A request's language must be one some running voice speaks (its base language: ``de`` for ``de_CH``)."""
    if language is None:
        return
    base = (normalize_language(language) or "").split("_")[0]
    if base not in spoken_bases(core):
        spoken = ", ".join(spoken_bases(core)) or "none"
        raise BadValueError(
            UnknownVoiceError(f"no running voice speaks language {language!r}; languages: {spoken}", param="language")
        )


def language_pattern(bases: list[str]) -> str:
    """``LANGUAGE_PATTERN`` narrowed to the codes whose base is one of ``bases`` (any case, any region)."""
    head = "^[A-Za-z]{2,3}"
    assert LANGUAGE_PATTERN.startswith(head), "the language pattern changed: narrow it here the same way"
    either = "|".join("".join(f"[{c.lower()}{c.upper()}]" for c in base) for base in bases) or "(?!)"
    return f"^(?:{either})" + LANGUAGE_PATTERN.removeprefix(head)
