"""One pydantic model per operation (speech, convert, voice create/update, voice lists), shared by every door.

The limits live here, once. A door parses its wire format into one of these models (or a subclass that adds the
door's own envelope: OpenAI's ``response_format``, an MQTT request ``id``), and maps a failure to its own error
form with ``InvalidRequestError`` from ``parse``. The HTTP door's OpenAPI document is generated from them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from .errors import InvalidRequestError
from .voices import LANGUAGE_PATTERN, normalize_language

MIN_SPEED, MAX_SPEED = 0.25, 4.0
"""Speaking rate bounds: 1.0 is normal, 2.0 twice as fast."""
MAX_INSTRUCTIONS = 4096
"""Longest style instructions (OpenAI's limit)."""
MAX_NAME = 200
"""Longest voice, engine or speaker name a request may carry."""
MAX_SEED = 2**32 - 1
"""Seeds are unsigned 32-bit: every engine's random generator accepts them."""
MIN_REFERENCE_SECONDS, MAX_REFERENCE_SECONDS = 1.0, 30.0
"""How long a cloned voice's reference audio may be."""
MAX_TRANSCRIPT = 2000
"""Longest transcript of a reference clip (a 30 s clip holds about 100 words)."""
VOICE_NAME_PATTERN = r"^[\w](?:\.?[\w '\-()])*\.?$"
"""A cloned voice's display name (at most ``MAX_VOICE_NAME``): letters, digits, spaces, ``.``, ``'``, ``-``, ``_`` or
parentheses, starting with a letter or digit, never two dots in a row (written without look-ahead, so that every
regex engine, JSON Schema's included, reads it the same way)."""
MAX_VOICE_NAME = 64
"""Longest voice display name."""

_VOICE_NAME_RE = re.compile(VOICE_NAME_PATTERN, re.UNICODE)
_UNSPEAKABLE_RE = re.compile("[\x00\ud800-\udfff]")
SPEAKABLE_PATTERN = r"^[^\u0000]*$"
"""JSON Schema's form of ``check_text`` (a JSON document cannot carry a lone surrogate, so NUL is what is left)."""


def _language(value: str) -> str | None:
    if not value.strip():
        raise ValueError("the language is empty; leave it out, or give a code like en_US or de")
    return normalize_language(value)


def _speaker(value: Any) -> Any:
    # Multi-speaker voices are chosen by name or by number; a number is kept as its text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _voice_name(value: str) -> str:
    value = value.strip()
    if not _VOICE_NAME_RE.match(value):
        raise ValueError("invalid voice name: use 1-64 letters, digits, spaces, '.', '-', '_' or parentheses")
    return value


def check_text(value: str) -> str:
    """Refuse text no engine can speak: NUL characters and lone surrogates (a string that is not Unicode text).

    They are refused rather than removed, so a client learns that it sends broken text (a NUL usually means a
    binary file or a C string gone wrong) instead of hearing something else than it sent.
    """
    if found := _UNSPEAKABLE_RE.search(value):
        what = "a NUL character" if found.group() == "\x00" else f"a lone surrogate (U+{ord(found.group()):04X})"
        raise ValueError(f"the text contains {what} at position {found.start()}; send plain Unicode text")
    return value


def _blank_to_none(value: Any) -> Any:
    return value.strip() or None if isinstance(value, str) else value


# Patterns go to the JSON schema; the validators give the friendlier message.
Language = Annotated[
    str, Field(json_schema_extra={"pattern": LANGUAGE_PATTERN}, examples=["en_US"]), AfterValidator(_language)
]
"""A language code, normalized to ``en_US`` / ``en``."""
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Speaker = Annotated[str, BeforeValidator(_speaker), Field(min_length=1, max_length=MAX_NAME)]
VoiceName = Annotated[
    str,
    Field(json_schema_extra={"pattern": VOICE_NAME_PATTERN}, max_length=MAX_VOICE_NAME),
    AfterValidator(_voice_name),
]
SpokenText = Annotated[str, Field(json_schema_extra={"pattern": SPEAKABLE_PATTERN}), AfterValidator(check_text)]
"""Text to speak (or to steer speech): no NUL characters, no lone surrogates (``check_text``)."""
Transcript = Annotated[
    Annotated[SpokenText, Field(max_length=MAX_TRANSCRIPT)] | None,
    BeforeValidator(_blank_to_none),
]


class Operation(BaseModel):
    """Base of every operation model: unknown fields are errors, field docs become schema descriptions."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


# -- speech -----------------------------------------------------------------------------------------------


class SpeechParams(Operation):
    """How to speak: the voice and its parameters, common to every door's speech request."""

    voice: Name | None = None
    """A catalog voice id (``piper:en_US-joe-medium``), an alias, or a voice-library id."""
    language: Language | None = None
    """The text's language; chooses a voice when none is named."""
    speaker: Speaker | None = None
    """A speaker of a multi-speaker voice, by name or number."""
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED, allow_inf_nan=False)
    """Speaking rate: 1.0 is normal, 2.0 twice as fast."""
    instructions: SpokenText | None = Field(None, max_length=MAX_INSTRUCTIONS)
    """Free-form style instructions, for engines that use them."""
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    """Random seed, for engines that sample (the same seed gives the same audio)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """The engine's own per-request options (see ``GET /v1/engines``)."""


class SpeechRequest(SpeechParams):
    """What a door asks of the core: a text (or a text that streams in) and how to speak it."""

    text: SpokenText | None
    """The whole text, or None for a job whose text streams in with ``feed`` (each piece checked by the door
    with ``check_text``)."""
    engine: Name | None = None
    """Restrict voice lookup to one engine (e.g. from an HTTP ``model``)."""
    door: str = "api"
    """Which door made the request, for events and metrics."""
    client: str | None = None
    """A client-chosen id or address, echoed in status messages."""

    @model_validator(mode="after")
    def _text_not_blank(self) -> SpeechRequest:
        if self.text is not None and not self.text.strip():
            raise ValueError("the text is empty")
        return self


# -- voice conversion --------------------------------------------------------------------------------------


class ConvertParams(Operation):
    """Speech in, the same speech in a voice-library voice out."""

    voice: Name
    """The target: a voice-library id, ``<engine>:<library id>``, a name or an alias."""
    engine: Name | None = None
    """The converting engine (default: the first running engine that converts)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """The converting engine's own options."""


# -- the voice library -------------------------------------------------------------------------------------


class VoiceCreate(Operation):
    """A new cloned voice: its name, language and the transcript of its reference audio."""

    name: VoiceName
    """Display name (1-64 letters, digits, spaces, ``.``, ``'``, ``-``, ``_`` or parentheses)."""
    language: Language | None = None
    """Language of the reference audio."""
    transcript: Transcript = None
    """The exact words of the reference audio (cloning engines such as F5-TTS need them)."""


class VoiceUpdate(Operation):
    """Changes to a stored voice's metadata; fields left out stay as they are."""

    name: VoiceName | None = None
    """New display name."""
    language: Language | None = None
    """New language."""
    transcript: Transcript = None
    """New transcript of the reference audio."""


class VoiceQuery(Operation):
    """Filters of a voice list."""

    model: Name | None = None
    """Only voices of the engine this model (or engine id) names."""
    engine: Name | None = None
    """Only voices of this engine."""
    language: Language | None = None
    """Only voices that speak this language (its base language matches: ``de`` matches ``de_CH``)."""


# -- parsing ----------------------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, *, prefix: str = "") -> M:
    """Validate ``data`` as ``model``; a failure is an ``InvalidRequestError`` naming the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise invalid(err, prefix=prefix) from None


def invalid(err: ValidationError, *, prefix: str = "") -> InvalidRequestError:
    """A validation error as the request error every door knows: ``field: problem`` for each problem."""
    problems = []
    param: str | None = None
    for problem in err.errors(include_url=False):
        loc = ".".join(str(part) for part in problem["loc"])
        loc = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        message = str(problem["msg"]).removeprefix("Value error, ")
        problems.append(f"{loc}: {message}" if loc else message)
        if param is None and problem["loc"]:
            param = str(problem["loc"][0])
    return InvalidRequestError("; ".join(problems) or "invalid request", param=param or (prefix or None))
