"""voxhost's settings: one typed tree read from a TOML file with ``VOXHOST_*`` environment overrides.

Precedence, highest first: explicit overrides (CLI flags), ``VOXHOST_*`` environment variables (nested keys with
``__``, e.g. ``VOXHOST_DOORS__HTTP__PORT=8001``), the TOML file, the defaults below. Each engine's table under
``[engines.<id>]`` is free-form here and validated by the engine's own ``Settings`` model at startup.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from .errors import ConfigError
from .loops import LoopChoice
from .operations import Validate
from .pipelines import PipelineSettings
from .spoken.config import SpokenSettings

CONFIG_ENV = "VOXHOST_CONFIG"
"""Environment variable naming the TOML config file."""

_LOGGER = logging.getLogger(__name__)

ENV_NOT_SETTINGS = frozenset(
    {
        CONFIG_ENV,
        "VOXHOST_LOAD_PLUGINS",  # plugin_manager: which external plugins load
        "VOXHOST_TRACE_PLUGINS",  # plugin_manager: log every hook call
        "VOXHOST_WORKER_NICE",  # set by the daemon for its worker processes
        "VOXHOST_PLATFORM",  # envs/ setup scripts (doctor names it)
        "VOXHOST_SYSROOT",
        "VOXHOST_CHROMIUM",  # the voice lab's browser tests
    }
)
"""``VOXHOST_*`` variables that are not settings (so not refused as misspelled ones), besides ``VOXHOST_*_PYTHON``
(the interpreters of engines' tests and benchmarks) and the ``ENV_TOOL_PREFIXES`` of test tools."""
ENV_TOOL_PREFIXES = ("VOXHOST_TEST_", "VOXHOST_TINY_")
"""Variables test tools set around the voxhost processes they start (tiny models, import checks)."""


def _default_state_dir() -> str:
    # systemd's StateDirectory= sets STATE_DIRECTORY; otherwise follow XDG.
    if state := os.environ.get("STATE_DIRECTORY"):
        return state.split(":")[0]
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "voxhost")


FINITE = ConfigDict(allow_inf_nan=False)
"""Model config that refuses ``inf`` and ``nan`` (TOML and float() accept both): an infinite limit or duration
passes every lower bound, then breaks the daemon (JSON has no Infinity; int(inf) raises)."""


class _Section(BaseModel):
    # Attribute docstrings become field descriptions: `voxhost default-config` prints them.
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, **FINITE)


class TextSettings(SpokenSettings):
    """How text is checked, split into sentences and made into what is said (docs/text.md)."""

    model_config = FINITE

    max_chars: int = Field(100_000, ge=1)
    """Longest text accepted by the core (doors may set lower limits)."""
    max_sentence_chars: int = Field(400, ge=20)
    """Sentences longer than this are split at the last space or comma before it."""


class SchedulerSettings(_Section):
    """How jobs share engines."""

    max_jobs_per_engine: int = Field(32, ge=1)
    """Jobs waiting or running per engine; beyond this a request gets a 'busy' error."""


class JobSettings(_Section):
    """What the daemon remembers of jobs once they end."""

    recent: int = Field(200, ge=1, le=100_000)
    """Ended jobs remembered for the job list (from every door); those that ended first are forgotten first."""
    result_minutes: float = Field(60.0, gt=0)
    """How long the audio of an asynchronous job stays fetchable by its id when it is not kept as an output."""


class OutputSettings(_Section):
    """Stored outputs: the audio of a job with a record of how it was made, kept only when asked.

    A request keeps its output with ``keep: true``; a door in ``keep_doors`` keeps every job's output unless the
    request says ``keep: false``. The oldest outputs are removed first when a limit is passed."""

    keep_doors: list[str] = Field(default_factory=list)
    """Doors whose jobs are kept by default (empty: nothing is kept unless a request asks)."""
    max_mb: float = Field(5120.0, gt=0)
    """Largest total size of the kept audio, in MiB."""
    max_count: int = Field(10_000, ge=1)
    """Most outputs kept."""
    max_age_days: float = Field(7.0, gt=0)
    """Outputs older than this are removed."""
    cleanup_interval: float = Field(600.0, ge=1)
    """Seconds between cleanups; one also runs at start."""
    near_limit: float = Field(0.9, gt=0, le=1)
    """Share of the size or count limit from which the health page and metrics report it as near."""


class LibrarySettings(_Section):
    """The voice library's quota (cloned voices stored under ``<state_dir>/voices``)."""

    max_voices: int | None = Field(200, ge=1)
    """Voices stored at most; unset: no limit."""
    max_megabytes: float | None = Field(500.0, gt=0)
    """MiB of voice files stored at most (a 30 s reference takes at most 2.8 MiB); unset: no limit."""

    @property
    def max_bytes(self) -> int | None:
        """``max_megabytes`` in bytes (None: no limit)."""
        return None if self.max_megabytes is None else int(self.max_megabytes * 2**20)


class EngineHostSettings(_Section):
    """Host-side keys every ``[engines.<id>]`` table may carry; the rest go to the engine."""

    enabled: bool | None = None
    """Run this engine; the default is the engine's own (the bundled engine: on; heavy engines: off)."""
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
    nice: int | None = Field(None, ge=0, le=19)
    """How much lower the engine's CPU priority is than the daemon's (Linux thread niceness), so that describes,
    health checks and audio streaming get a core at once while every engine computes; default: the engine's own
    (5; 0 for the speech recognizer, whose short transcriptions someone is waiting for)."""
    start_timeout: float = Field(600.0, gt=0)
    """Seconds a worker may take to start and load."""
    progress_timeout: float | None = Field(300.0, gt=0)
    """Seconds a request may go without audio from the engine (a hung engine) before it fails with
    ``engine_timeout``; the worker process is then killed and starts again on the next request (an in-process
    engine gets a fresh thread). Unset: wait for ever."""
    max_audio_factor: float | None = Field(8.0, ge=1)
    """A runaway engine (a model caught in a loop) is cut off: a sentence's audio ends once it is this many times as
    long as the sentence is estimated to sound (as ``text.max_sentence_seconds`` estimates it, a Chinese or Japanese
    character as a syllable; at the request's speed, never faster than normal), or at ``max_audio_floor`` if that is
    longer. The engine is stopped, a warning names it and the voice, and the job goes on with its next sentence. A
    conversion's audio is bounded the same way by the length of the audio converted. Unset: no bound."""
    max_audio_floor: float = Field(30.0, ge=1)
    """Seconds of audio every sentence may have, however short its text (the bound is never lower)."""

    validate_speech: Validate | None = Field(None, alias="validate")
    """Check this engine's sentences with speech recognition and re-generate those not understood: ``true``,
    ``false``, or ``{ max_wer = 0.2, max_retries = 3 }`` (default: off)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, populate_by_name=True)

    @field_validator("validate_speech", mode="before")
    @classmethod
    def _validate_from_environment(cls, value: Any) -> Any:
        # VOXHOST_ENGINES__<ID>__VALIDATE arrives as text: true, false, or a JSON table.
        if isinstance(value, str):
            try:
                return json.loads(value.strip().lower() if value.strip().lower() in ("true", "false") else value)
            except ValueError:
                return value  # refused by the model, naming the key
        return value


ENGINE_HOST_KEYS = frozenset(field.alias or name for name, field in EngineHostSettings.model_fields.items())


class RecognitionSettings(_Section):
    """Speech recognition inside voxhost: transcripts of voice-library references, and checking generated speech."""

    engine: str | None = None
    """The engine that recognizes speech for the core (default: the first running engine that transcribes)."""
    transcribe_references: bool = True
    """Transcribe a voice stored without a transcript, and time the words of every reference (so that engines that
    use only its first seconds get the transcript of exactly those)."""
    mismatch_wer: float = Field(0.75, gt=0, le=1)
    """Refuse a voice whose given transcript differs this much from what the recognizer hears (word error rate)."""
    max_wer: float = Field(0.3, ge=0, le=1)
    """Checking generated speech: the highest word error rate a sentence may have."""
    max_retries: int = Field(2, ge=0, le=5)
    """Checking generated speech: re-generations of a sentence above ``max_wer``."""
    voices: dict[str, Validate] = Field(default_factory=dict)
    """Checking per voice (catalog id, alias or voice-library id): ``true``, ``false`` or ``{ max_wer, max_retries }``;
    it overrides the engine's ``validate``."""


class Settings(BaseSettings):
    """All of voxhost's settings."""

    model_config = SettingsConfigDict(
        env_prefix="VOXHOST_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
        use_attribute_docstrings=True,
        allow_inf_nan=False,
    )

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    state_dir: str = Field(default_factory=_default_state_dir, json_schema_extra={"doc_default": "/var/lib/voxhost"})
    """Voice library, caches, worker files. Default: systemd's $STATE_DIRECTORY, else ~/.local/state/voxhost."""
    models_dir: str | None = None
    """Downloaded models (default: ``<state_dir>/models``)."""
    plugins_dirs: list[str] = Field(default_factory=list)
    """Directories of single-file plugins (``*.py``)."""
    default_voice: str | None = None
    """Catalog id or alias used when a request names no voice (default: the bundled voice)."""
    default_voices: dict[str, str] = Field(default_factory=dict)
    """Default voice per language, e.g. ``{ de_DE = "piper:de_DE-thorsten-medium" }``."""
    aliases: dict[str, str] = Field(default_factory=dict)
    """Extra names for voices, e.g. ``{ kitchen = "piper:en_US-joe-medium" }``."""
    shutdown_timeout: float = Field(10.0, ge=0)
    """Seconds running jobs may take to finish on SIGTERM before they are cancelled; closing doors and engines
    then takes at most 5 s more (the systemd unit's TimeoutStopSec must exceed the sum)."""
    loop: LoopChoice = "auto"
    """The event loop the doors and the core run on: ``auto`` is uvloop where it is installed (it is a dependency on
    Linux and macOS; its sockets and callbacks cost less Python per request), else asyncio's own."""
    text: TextSettings = Field(default_factory=TextSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    outputs: OutputSettings = Field(default_factory=OutputSettings)
    recognition: RecognitionSettings = Field(default_factory=RecognitionSettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    doors: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-door tables (``[doors.wyoming]``, ``[doors.http]``, ``[doors.mqtt]``, and doors of plugins), each
    validated by its door's own settings model."""
    engines: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-engine tables: host keys (enabled, mode, python, ...) plus the engine's own settings."""
    pipelines: list[PipelineSettings] = Field(default_factory=list)
    """Pipeline voices (``[[pipelines]]``): a catalog voice's speech converted into a cloned voice."""

    @field_validator("state_dir")
    @classmethod
    def _state_dir_given(cls, value: str) -> str:
        # "" (or VOXHOST_STATE_DIR= over the file) would put the voice library in whatever folder voxhost starts in.
        if not value.strip():
            raise ValueError("must not be empty (unset it for the default)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _door_tables(cls, data: Any) -> Any:
        # Door tables used to sit at the top level ([http], [mqtt]); say where they live now. A table named like one
        # of the settings' ([engine.piper], [output]) is a typo of that one, not a door.
        if isinstance(data, dict):
            for name, value in data.items():
                if name not in cls.model_fields and isinstance(value, dict):
                    close = difflib.get_close_matches(name, cls.model_fields, n=1)
                    if not close:
                        raise ValueError(f"there is no [{name}] table; a door's table is [doors.{name}]")
                    inner = next(iter(value), None) if len(value) == 1 else None
                    meant = f"{close[0]}.{inner}" if isinstance(value.get(inner), dict) else close[0]
                    raise ValueError(f"there is no [{name}] table; did you mean [{meant}]?")
        return data

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

    @property
    def library_path(self) -> Path:
        """The voice library's folder in the state directory."""
        return self.state_path / "voices"


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``config`` (or ``$VOXHOST_CONFIG``), the environment and overrides.

    Raises ``ConfigError`` with one readable message naming the offending key(s).
    """
    _check_environment()
    previous = os.environ.get(CONFIG_ENV)
    try:
        # $VOXHOST_CONFIG is checked as -c is: a mistyped path must not start the daemon on the defaults (0.0.0.0).
        if config is not None or previous:
            path = Path(config if config is not None else str(previous)).expanduser()
            if not path.is_file():
                folder = " (it is a directory: name the .toml file in it)" if path.is_dir() else ""
                raise ConfigError(f"config file not found: {path}{folder}")
            os.environ[CONFIG_ENV] = str(path)
        return Settings(**overrides)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, prefix="", model=Settings)) from None
    except SettingsError as err:  # a VOXHOST_* list or table that is not JSON (pydantic-settings names the field)
        raise ConfigError(_environment_problem(err)) from None
    except ValueError as err:  # a TOML syntax error (or bytes that are not UTF-8) surfaces as a ValueError subclass
        raise ConfigError(f"cannot read config {os.environ.get(CONFIG_ENV, '')}: {err}") from None
    finally:
        if config is not None or previous:
            if previous is None:
                os.environ.pop(CONFIG_ENV, None)
            else:
                os.environ[CONFIG_ENV] = previous


def _environment_problem(err: SettingsError) -> str:
    """What is wrong with a ``VOXHOST_*`` variable pydantic-settings could not read, and how it is written."""
    field = re.search(r'field "([^"]+)" from source "EnvSettingsSource"', str(err))
    name = f"VOXHOST_{field.group(1).upper()}" if field else "a VOXHOST_* variable"
    why = f" ({err.__cause__})" if err.__cause__ else ""
    examples = """VOXHOST_PLUGINS_DIRS='["/srv/plugins"]', VOXHOST_ALIASES='{"kitchen": "<engine>:<voice>"}'"""
    return f"environment variable {name} is not valid JSON{why}; lists and tables are written as JSON ({examples})"


def _check_environment() -> None:
    """Refuse a ``VOXHOST_*`` variable that names no setting (``ConfigError`` naming it, and the likely one)."""
    for name in sorted(os.environ):
        # pydantic-settings ignores variables that name no setting: a typo or a moved door key would be lost silently.
        if not name.startswith("VOXHOST_") or name in ENV_NOT_SETTINGS or name.endswith("_PYTHON"):
            continue
        if name.startswith(ENV_TOOL_PREFIXES):
            continue
        key = name.removeprefix("VOXHOST_")
        table, nested, _ = key.partition("__")
        if table.lower() in Settings.model_fields:
            continue  # a key below a known table is checked by the model itself
        if nested:
            raise ConfigError(f"environment variable {name} names no setting; a door's setting is VOXHOST_DOORS__{key}")
        close = difflib.get_close_matches(key.lower(), Settings.model_fields, n=1)
        hint = f"did you mean VOXHOST_{close[0].upper()}?" if close else "a door's key is VOXHOST_DOORS__<DOOR>__<KEY>"
        raise ConfigError(f"environment variable {name} names no setting; {hint}")


def ensure_state_dir(settings: Settings) -> Path:
    """Create the state directory if need be (``ConfigError`` if it cannot be one, or cannot be written and holds no
    voice library yet); warn if it cannot be written but holds one (it is served as it is)."""
    path = settings.state_path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"state_dir {path}: exists and is not a directory") from None
    except OSError as err:
        raise ConfigError(f"state_dir {path}: {err.strerror or err}") from None
    if problem := unwritable(path):
        if not settings.library_path.is_dir():
            # Nothing stored to serve, and not even the voice library's folder could be made in it.
            fix = "make it writable for this user, or set another state_dir (or --state-dir)"
            raise ConfigError(f"state_dir {path}: {problem}; {fix}")
        # Not refused: what is stored is still served (a disk turned read-only under a running home server), and
        # each write is refused with its own clear error (``read_only``); said once here, at start.
        _LOGGER.warning(
            "state_dir %s cannot be written (%s): stored voices are served, nothing new is kept", path, problem
        )
    return path


def unwritable(folder: Path) -> str | None:
    """Why no new file can be made in ``folder`` (tried with a temporary one), or None when one can."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as err:
        return str(err.strerror or err)


_SECRETS = (("api_key",), ("password",))
"""Settings whose value an error never shows: it ends up in logs and journals."""


def format_validation_error(
    err: ValidationError, prefix: str, model: type[BaseModel] | None = None, also: Iterable[str] = ()
) -> str:
    """One line per problem: ``key.path: message (got value)``; a key ``model`` does not know is named with the key
    it most likely meant (``also``: more keys the table takes at its top level)."""
    lines = []
    for problem in err.errors():
        key = ".".join(str(part) for part in problem["loc"])
        key = f"{prefix}.{key}" if prefix and key else (prefix or key)
        got = problem.get("input")
        hidden = problem["type"] == "missing" or isinstance(got, dict) or problem["loc"][-1:] in _SECRETS
        shown = "" if hidden else f" (got {got!r})"
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":  # pydantic's "Extra inputs are not permitted" says neither
            known = _keys_at(model, problem["loc"][:-1]) + (list(also) if len(problem["loc"]) == 1 else [])
            close = difflib.get_close_matches(str(problem["loc"][-1]), known, n=1)
            message = f"unknown setting; did you mean {close[0]}?" if close else _NO_SUCH_KEY
        lines.append(f"{key}: {message}{shown}" if key else message)
    return "invalid configuration: " + "; ".join(lines)


_NO_SUCH_KEY = "unknown setting; `voxhost default-config` prints every one"


def _keys_at(model: type[BaseModel] | None, path: tuple[int | str, ...]) -> list[str]:
    """The keys of the table at ``path`` in ``model`` (none where it is not a model's: a free-form table)."""
    for part in path:
        field = model.model_fields.get(str(part)) if model is not None else None
        inner = field.annotation if field is not None else None
        options = [inner, *get_args(inner)]
        model = next((o for o in options if isinstance(o, type) and issubclass(o, BaseModel)), None)
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]
