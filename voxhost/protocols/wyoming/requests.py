"""What ``synthesize``, ``synthesize-start`` and ``synthesize-chunk`` carry, validated by models.

The Wyoming envelope (``text``, the ``voice`` object) is checked here; the request itself is the core's
``SpeechRequest``, where the limits live. Either way a bad field is an ``InvalidRequestError`` with the model's
message naming it, which the session sends back as an ``error`` event.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from ...operations import SpeechRequest, SpokenText, blank_to_none, parse


def _speaker(value: Any) -> Any:
    # A speaker of a multi-speaker voice may come as its number.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return blank_to_none(value)


class _Envelope(BaseModel):
    """Keys voxhost does not read are ignored: newer Wyoming clients may send more. JSON types are kept (a speaker
    may be a name or a number, but true is neither)."""

    model_config = ConfigDict(extra="ignore", strict=True)


class Voice(_Envelope):
    """The ``voice`` object: a catalog voice by name (and speaker), or a language."""

    # Clients send "" (or spaces) for a voice field they leave unset.
    name: Annotated[str | None, BeforeValidator(blank_to_none)] = None
    language: Annotated[str | None, BeforeValidator(blank_to_none)] = None
    speaker: Annotated[str | None, BeforeValidator(_speaker)] = None


class SynthesizeData(_Envelope):
    """``synthesize``: the whole text and its voice."""

    text: SpokenText
    voice: Voice | None = None


class StartData(_Envelope):
    """``synthesize-start``: the voice of a text that streams in."""

    voice: Voice | None = None


class ChunkData(_Envelope):
    """``synthesize-chunk``: more text of the stream (checked here: it reaches the job without a ``SpeechRequest``)."""

    text: SpokenText


def speech_request(voice: Voice | None, text: str | None, client: str) -> SpeechRequest:
    """The core request for a voice object and a text (None: the text streams in)."""
    voice = voice or Voice()
    fields = {
        "text": text,
        "voice": voice.name,
        "language": None if voice.name else voice.language,  # a named voice has its own language
        "speaker": voice.speaker,
        "door": "wyoming",
        "client": client,
    }
    return parse(SpeechRequest, {key: value for key, value in fields.items() if value is not None or key == "text"})
