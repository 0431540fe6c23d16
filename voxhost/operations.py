"""One pydantic model per operation (speech, convert, voice create/update, voice lists), shared by every door.

The limits live here, once. A door parses its wire format into one of these models (or a subclass that adds the
door's own envelope: OpenAI's ``response_format``, an MQTT request ``id``), and maps a failure to its own error
form with ``InvalidRequestError`` from ``parse``. The HTTP door's OpenAPI document is generated from them.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from .errors import InvalidPatternError, InvalidRequestError
from .voices import LANGUAGE_PATTERN, normalize_language

MIN_SPEED, MAX_SPEED = 0.25, 4.0
"""Speaking rate bounds: 1.0 is normal, 2.0 twice as fast."""
NOTHING_TO_SAY_SECONDS = 0.1
"""Seconds of silence given for a text with nothing in it to say (emoji alone): a player or a client that takes the
format from the first audio (Home Assistant) gets a short valid sound rather than none."""


def nothing_to_say(rate: int) -> bytes:
    """The silence every door gives a text with nothing to say: ``NOTHING_TO_SAY_SECONDS`` of 16-bit mono PCM."""
    return bytes(round(rate * NOTHING_TO_SAY_SECONDS) * 2)


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
MAX_TAGS = 20
"""Most tags on one voice."""
TAG_PATTERN = r"^[\w][\w .\-]{0,31}$"
"""A tag: 1-32 letters, digits, spaces, ``.``, ``-`` or ``_``, starting with a letter or digit (kept lowercase)."""
MAX_NOTES = 2000
"""Longest notes on a voice."""
MAX_PAGE = 500
"""Most items one page of a list holds."""
VOICE_ID_PATTERN = r"^voice_[a-z0-9_]{1,80}$"
"""What a voice-library id looks like."""
MAX_PROMPT = 2000
"""Longest transcription prompt (Whisper keeps only its last 223 tokens anyway)."""
MAX_RETRIES = 5
"""Most re-generations of one sentence that fails its check."""

_VOICE_NAME_RE = re.compile(VOICE_NAME_PATTERN, re.UNICODE)
_TAG_RE = re.compile(TAG_PATTERN, re.UNICODE)
_UNSPEAKABLE_RE = re.compile("[\x00\ud800-\udfff]")
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
NOTES_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
"""JSON Schema's form of the notes' check: no control characters but tab, line feed and carriage return."""
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
    value = unicodedata.normalize("NFC", value.strip())  # "Café" typed decomposed (as macOS may) is a name too
    if not _VOICE_NAME_RE.match(value):
        raise ValueError(
            "invalid voice name: use 1-64 letters, digits, spaces, '.', \"'\", '-', '_' or parentheses, starting with"
            " a letter or digit, without two dots in a row"
        )
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


def _notes(value: str) -> str:
    check_text(value)  # NUL and lone surrogates, with check_text's message
    if found := _CONTROL_RE.search(value):
        raise ValueError(
            f"the notes contain a control character (U+{ord(found.group()):04X}) at position {found.start()}; "
            "send plain text (tabs and line breaks are fine)"
        )
    return value


def blank_to_none(value: Any) -> Any:
    """A string with nothing but white space in it is none; any other string loses the spaces around it."""
    return value.strip() or None if isinstance(value, str) else value


def null_is_default(data: Any, keep: frozenset[str] = frozenset()) -> Any:
    """A request's fields sent as null, but those in ``keep``, left out: they take their defaults.

    Clients write unset fields as null: the openai client sends ``speed=None`` as given, typed clients (Java, .NET,
    Kotlin serializers), Node-RED objects and proxies write every field of their request object. Null is "not set".
    A required field in ``keep`` says it was sent as null rather than that it is missing."""
    if isinstance(data, dict):
        return {key: value for key, value in data.items() if value is not None or key in keep}
    return data


def _tag(value: str) -> str:
    # Checked as stored: lowercasing can lengthen a tag or add marks ("İ" is "i" + U+0307), and a stored tag must
    # pass this check again (an exported voice imported, the tag filter).
    lowered = value.lower()
    if not _TAG_RE.fullmatch(lowered):  # fullmatch: "$" alone lets a final newline through
        raise ValueError(f"invalid tag {value!r}: use 1-32 letters, digits, spaces, '.', '-' or '_'")
    return lowered


def _tags(value: list[str]) -> list[str]:
    # Tags are a set kept in the order given: a repeated tag counts once.
    return list(dict.fromkeys(value))


# Patterns go to the JSON schema; the validators give the friendlier message.
Language = Annotated[
    str, Field(json_schema_extra={"pattern": LANGUAGE_PATTERN}, examples=["en_US"]), AfterValidator(_language)
]
"""A language code, normalized to ``en_US`` / ``en``."""
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
DefaultName = Annotated[Annotated[str, Field(max_length=MAX_NAME)] | None, BeforeValidator(blank_to_none)]
"""A name (a voice, a model, an engine) that may be left out, empty or blank: none, the default. Clients send ``""``
for a field left unset (Open WebUI's cleared model field, a Home Assistant template that renders nothing)."""
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
    BeforeValidator(blank_to_none),
]
Tag = Annotated[str, Field(json_schema_extra={"pattern": TAG_PATTERN}, max_length=32), AfterValidator(_tag)]
"""A voice's tag, kept lowercase."""
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_tags)]
Notes = Annotated[
    Annotated[str, Field(max_length=MAX_NOTES, json_schema_extra={"pattern": NOTES_PATTERN}), AfterValidator(_notes)]
    | None,
    BeforeValidator(blank_to_none),
]
"""Free-form notes: lines of text (no NUL or other control characters but tabs and line ends, no lone surrogates)."""


class Operation(BaseModel):
    """Base of every operation model: unknown fields are errors, field docs become schema descriptions."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


# -- checking generated speech ------------------------------------------------------------------------------


class ValidationPolicy(Operation):
    """Checking what an engine says: each sentence is transcribed and compared with its text; above ``max_wer``
    it is made again with another seed (at most ``max_retries`` times), and the best attempt is kept. Fields left
    out come from the level below (request, then voice, then engine, then ``[recognition]``)."""

    enabled: bool | None = Field(None, strict=True)
    """Check (true) or not (false)."""
    max_wer: float | None = Field(None, ge=0, le=1, allow_inf_nan=False, strict=True)
    """Highest word error rate a sentence may have (normalised words; 0.25 is one word in four wrong)."""
    max_retries: Annotated[int | None, BeforeValidator(whole_number)] = Field(None, ge=0, le=MAX_RETRIES, strict=True)
    """Re-generations of a sentence above the bound."""


def whole_number(value: Any) -> Any:
    """JSON Schema counts 2.0 as an integer, and so do the models: clients that write every number as a float work."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _policy(value: Any) -> Any:
    # ``true``/``false`` switch checking on or off; a table changes the bound or the retries (and means on).
    if isinstance(value, bool):
        return {"enabled": value}
    if isinstance(value, dict) and "enabled" not in value:
        return {**value, "enabled": True}
    return value


Validate = Annotated[ValidationPolicy, BeforeValidator(_policy, json_schema_input_type=bool | ValidationPolicy)]
"""``true``, ``false``, or ``{max_wer, max_retries}`` (on, with those limits)."""


# -- speech -----------------------------------------------------------------------------------------------


class SpeechParams(Operation):
    """How to speak: the voice and its parameters, common to every door's speech request."""

    voice: DefaultName = None
    """A catalog voice id (``piper:en_US-joe-medium``), an alias, or a voice-library id; empty: the default."""
    language: Language | None = None
    """The text's language; chooses a voice when none is named."""
    speaker: Speaker | None = None
    """A speaker of a multi-speaker voice, by name or number."""
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED, allow_inf_nan=False)
    """Speaking rate: 1.0 is normal, 2.0 twice as fast."""
    instructions: SpokenText | None = Field(None, max_length=MAX_INSTRUCTIONS)
    """Free-form style instructions, for engines that use them."""
    seed: Annotated[int | None, BeforeValidator(whole_number)] = Field(None, ge=0, le=MAX_SEED)
    """Random seed, for engines that sample (the same seed gives the same audio)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """The engine's own per-request options (see ``GET /v1/engines``)."""
    keep: bool | None = None
    """Keep the audio and a record of how it was made in the history of outputs; unset: the door's default
    (``[outputs] keep_doors``), which keeps nothing unless configured."""
    normalize: bool | None = None
    """Turn the text into what a person would read aloud (markup, emoji, URLs, numbers; see docs/text.md); false
    speaks it as written. None: the door's default (``normalize`` in its settings)."""
    validate_speech: Validate | None = Field(None, alias="validate")
    """Check each sentence with speech recognition and re-generate those not understood: ``true``, ``false``, or
    ``{max_wer, max_retries}``; default: the voice's or the engine's setting."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, populate_by_name=True)


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
    hold: bool = False
    """Nobody reads the job's stream: the core reads it and keeps the audio, fetchable by the job's id for
    ``[jobs] result_minutes`` (asynchronous jobs)."""

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
    engine: DefaultName = None
    """The converting engine (default: the first running engine that converts)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """The converting engine's own options."""


# -- speech recognition ------------------------------------------------------------------------------------


def _auto_language(value: Any) -> Any:
    # ``auto`` (and an empty value) means: detect the language.
    if isinstance(value, str) and value.strip().lower() in ("", "auto"):
        return None
    return value


class TranscribeParams(Operation):
    """Speech in, text out: how to recognize it."""

    language: Annotated[Language | None, BeforeValidator(_auto_language)] = None
    """The language spoken (``en``, ``de_DE``); none or ``auto``: the recognizer detects it."""
    prompt: str | None = Field(None, max_length=MAX_PROMPT)
    """Text that came before, or names and words to expect."""
    engine: DefaultName = None
    """The recognizing engine (default: the first running engine that transcribes)."""
    word_timestamps: bool = False
    """Also time every word."""
    options: dict[str, Any] = Field(default_factory=dict)
    """The recognizing engine's own options (beam size, VAD filter, ...)."""
    task: Literal["transcribe", "translate"] = "transcribe"
    """``translate``: the text in English, whatever the language spoken (engines that translate)."""
    door: str = "api"
    """Which door asked, for events and metrics."""


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
    """Changes to a stored voice's metadata; fields left out stay as they are, ``null`` (or empty) clears one."""

    name: VoiceName = None  # type: ignore[assignment]  # null is refused: a voice keeps a name
    """New display name (it cannot be cleared)."""
    language: Language | None = None
    """New language."""
    transcript: Transcript = None
    """New transcript of the reference audio."""
    tags: Tags | None = None
    """The voice's tags (replacing the old ones; ``[]`` removes them all)."""
    notes: Notes = None
    """Free-form notes."""


class VoiceQuery(Operation):
    """Filters of a voice list."""

    model: DefaultName = None
    """Only voices of the engine this model (or engine id) names; empty: every voice."""
    engine: DefaultName = None
    """Only voices of this engine; empty: every voice."""
    language: Language | None = None
    """Only voices that speak this language (its base language matches: ``de`` matches ``de_CH``)."""


class LibraryQuery(Operation):
    """A search of the voice library, one page at a time (newest first)."""

    q: Annotated[str, Field(max_length=MAX_NAME)] | None = None
    """Words that must all appear in the voice's name, id, transcript, notes or tags (any case)."""
    tag: Tag | None = None
    """Only voices with this tag."""
    language: Language | None = None
    """Only voices of this language (its base language matches)."""
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    """Most voices in the page."""
    offset: int = Field(0, ge=0)
    """Voices skipped before the page."""


class VoiceSelection(Operation):
    """Voices to act on at once: the ``ids`` given, else every voice with ``tag``, else (with ``all``) every voice;
    with ids and a tag, those of the ids that have it. Nothing given selects nothing. Nothing is done unless
    ``confirm`` is true."""

    ids: Annotated[list[Name], Field(max_length=10_000)] | None = None
    """These voices (an unknown id is an error)."""
    tag: Tag | None = None
    """Voices with this tag."""
    all: bool = False
    """Every voice in the library (when neither ids nor a tag is given)."""
    confirm: bool = False
    """Act. Without it the answer only says which voices would be affected."""


# -- jobs and stored outputs -------------------------------------------------------------------------------

JOB_ID_PATTERN = r"^[0-9a-f]{1,16}-[0-9a-f]{6}$"
"""What a job id looks like (a counter and a random part)."""
JobId = Annotated[str, Field(pattern=JOB_ID_PATTERN, max_length=23)]


class JobQuery(Operation):
    """A page of the recent jobs, newest first."""

    door: Name | None = None
    """Only jobs of this door."""
    state: Literal["queued", "running", "finished", "failed", "cancelled"] | None = None
    """Only jobs in this state."""
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    """Most jobs in the page."""
    offset: int = Field(0, ge=0)
    """Jobs skipped before the page."""


class OutputFilter(Operation):
    """Which stored outputs: every condition given must hold."""

    q: Annotated[str, Field(max_length=MAX_NAME)] | None = None
    """Words that must all appear in the text as given or as spoken (any case)."""
    voice: Name | None = None
    """Only outputs of this voice (a catalog id, a library id or a part of the voice's name)."""
    door: Name | None = None
    """Only outputs of this door."""
    engine: Name | None = None
    """Only outputs of this engine."""
    since: float | None = Field(None, ge=0, allow_inf_nan=False)
    """Only outputs made at or after this time (Unix seconds)."""
    until: float | None = Field(None, ge=0, allow_inf_nan=False)
    """Only outputs made before this time (Unix seconds)."""


class OutputQuery(OutputFilter):
    """A page of the stored outputs, newest first."""

    limit: int = Field(50, ge=1, le=MAX_PAGE)
    """Most outputs in the page."""
    offset: int = Field(0, ge=0)
    """Outputs skipped before the page."""


class OutputSelection(OutputFilter):
    """Stored outputs to act on at once: the ``ids`` given, else (with a condition, or ``all``) every output; then
    only those that match the conditions. Nothing given selects nothing, so an empty request never means every
    output. Nothing is deleted unless ``confirm`` is true."""

    ids: Annotated[list[JobId], Field(max_length=10_000)] | None = None
    """These outputs (unknown ids are left out)."""
    all: bool = False
    """Every output (needed when neither ids nor a condition is given)."""
    confirm: bool = False
    """Act. Without it the answer only says which outputs would be affected."""

    def conditions(self) -> dict[str, Any]:
        """The conditions given (q, voice, door, engine, since, until)."""
        return self.model_dump(include=set(OutputFilter.model_fields), exclude_none=True)


# -- parsing ----------------------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, *, prefix: str = "") -> M:
    """Validate ``data`` as ``model``; a failure is an ``InvalidRequestError`` naming the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise invalid(err, prefix=prefix, model=model) from None


def engine_options(engine_id: str, model: type[BaseModel], given: dict[str, Any]) -> dict[str, Any]:
    """A request's options for an engine, checked with its ``model`` as the JSON values they are: their JSON types
    kept (``false`` is no number, ``"0.5"`` none), an enum's member named by its value (a strict check of Python
    values would refuse every enum option), an integer option given as an integral number (``5.0``) taken as that
    integer; ``InvalidRequestError`` naming the option."""
    given = _integral(model, given)
    try:
        try:
            text = json.dumps(given, allow_nan=False)
        except (TypeError, ValueError):  # not JSON values (a plugin's own request): checked as given
            checked = model.model_validate(given, strict=True)
        else:
            checked = model.model_validate_json(text, strict=True)
    except ValidationError as err:
        problem = invalid(err, prefix="options").message
        raise InvalidRequestError(f"invalid options for engine {engine_id}: {problem}", param="options") from None
    return checked.model_dump(mode="json", exclude_none=True)


def _integral(model: type[BaseModel], given: dict[str, Any]) -> dict[str, Any]:
    """Integer options given as integral floats, as integers: JSON Schema counts ``5.0`` an integer, and a JavaScript
    client's arithmetic sends one (``2 * 2.5``), which a strict check refuses; ``5.5`` stays refused."""
    whole = {name for name, value in given.items() if isinstance(value, float) and value.is_integer()}
    if not whole:
        return given  # most requests: the schema is not looked at
    try:
        properties = _properties(model)
    except Exception:  # a plugin's options without a JSON Schema: checked as given
        return given
    return {
        name: int(value) if name in whole and _integer(properties.get(name)) else value for name, value in given.items()
    }


def _integer(prop: Any) -> bool:
    """Whether a property of an options schema takes integers and no other numbers."""
    if not isinstance(prop, dict):
        return False
    types = {prop.get("type"), *(branch.get("type") for branch in prop.get("anyOf", ()))}
    return "integer" in types and "number" not in types


def invalid(err: ValidationError, *, prefix: str = "", model: type[BaseModel] | None = None) -> InvalidRequestError:
    """A validation error as the request error every door knows: ``field: problem`` for each problem (a number out of
    ``model``'s bounds as ``out_of_range`` says it)."""
    problems = []
    param: str | None = None
    for problem in err.errors(include_url=False):
        loc = ".".join(str(part) for part in problem["loc"])
        loc = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        message = str(problem["msg"]).removeprefix("Value error, ")
        problems.append(out_of_range(problem, model, loc) or (f"{loc}: {message}" if loc else message))
        if param is None and problem["loc"]:
            param = str(problem["loc"][0])
    return InvalidRequestError("; ".join(problems) or "invalid request", param=param or (prefix or None))


_RANGE_ERRORS = frozenset({"greater_than_equal", "less_than_equal", "greater_than", "less_than", "finite_number"})
"""Pydantic's kinds of a number outside its field's bounds (nan and infinity are within none)."""


@functools.cache
def _properties(model: type[BaseModel]) -> dict[str, Any]:
    return dict(model.model_json_schema().get("properties", {}))


def _bounds(model: type[BaseModel], name: str) -> tuple[Any, Any]:
    """A numeric field's lower and upper bounds, read from the model's schema (the limits live in the model)."""
    prop = _properties(model).get(name, {})
    for branch in [prop, *prop.get("anyOf", ())]:
        low = branch.get("minimum", branch.get("exclusiveMinimum"))
        high = branch.get("maximum", branch.get("exclusiveMaximum"))
        if low is not None or high is not None:
            return low, high
    return None, None


def out_of_range(problem: ErrorDetails, model: type[BaseModel] | None, field: str) -> str | None:
    """A number outside both bounds of ``model``'s field in the words every door uses (``speed must be between 0.25
    and 4.0; got 5``, not pydantic's "Input should be less than or equal to 4"); None for any other problem."""
    loc = problem["loc"]
    if model is None or problem["type"] not in _RANGE_ERRORS or len(loc) != 1:
        return None
    low, high = _bounds(model, str(loc[0]))
    if low is None or high is None:
        return None
    return f"{field} must be between {low} and {high}; got {problem.get('input')}"


# -- the spoken-text lexicon -------------------------------------------------------------------------------

MAX_LEXICON_TEXT = 500
"""Longest match or replacement of a lexicon entry."""


def _pattern(value: str) -> str:
    if not value.strip():
        raise ValueError("the match is empty")
    return value


class LexiconRule(Operation):
    """A user lexicon entry: how a word (or a regular expression's match) is to be spoken."""

    match: Annotated[str, Field(min_length=1, max_length=MAX_LEXICON_TEXT), AfterValidator(_pattern)]
    """The word or phrase to replace (whole words), or a regular expression when ``regex`` is set."""
    say: str = Field("", max_length=MAX_LEXICON_TEXT)
    """What to say instead, in letters (a respelling such as "Nah neet"); empty: say nothing."""
    phonemes: str | None = Field(None, min_length=1, max_length=MAX_LEXICON_TEXT)
    """The pronunciation in the engine's phonemes (IPA for Piper, as espeak-ng writes it); engines that cannot
    take phonemes say ``say`` instead."""
    regex: bool = False
    """``match`` is a regular expression (Python syntax); ``say`` may use its groups (``\\1``)."""
    case_sensitive: bool = False
    """Match letter case exactly."""
    language: Language | None = None
    """Only for sentences in this language (its base language matches); none: every language."""
    voice: Name | None = None
    """Only for this voice (a catalog id such as ``piper:en_US-joe-medium``); none: every voice."""

    def compile(self) -> Any:
        """The entry's pattern (the ``regex`` module's); ``InvalidPatternError`` when it is no regular expression."""
        import regex  # the lexicon's engine: it can stop a pattern that backtracks without end

        flags = regex.V0 if self.case_sensitive else regex.V0 | regex.IGNORECASE
        if not self.regex:
            return regex.compile(r"(?<![^\W_])" + regex.escape(self.match) + r"(?![^\W_])", flags)
        try:
            return regex.compile(self.match, flags)
        except (regex.error, OverflowError, RecursionError) as err:
            raise InvalidPatternError(f"match is not a valid regular expression: {err}", param="match") from None


class LexiconEntry(LexiconRule):
    """A lexicon entry as stored: the rule, its id, and where it comes from."""

    id: str
    """``lex_`` and hex digits; config-file entries have ids ``config_<n>``."""
    source: str = "api"
    """``config`` (the ``[[text.lexicon]]`` tables of the config file, read-only here) or ``api`` (added over HTTP,
    stored in the state directory)."""
