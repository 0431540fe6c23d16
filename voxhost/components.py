"""Engines and doors from the plugins: their classes, and their config tables validated by their own models."""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from .door import Door, DoorSettings
from .engine import Engine, EngineContext, EngineSettings
from .errors import ConfigError, StartupError
from .pipelines import check_pipelines
from .plugin_manager import Plugins
from .settings import (
    ENGINE_HOST_KEYS,
    EngineHostSettings,
    Settings,
    format_validation_error,
)

_LOGGER = logging.getLogger(__name__)
_DOOR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")

NO_DOOR_OPEN = (
    "No door is open (each [doors.<name>] has enabled = false, or serve --no closed it): no client can reach the daemon"
)
"""Why a daemon would be out of every client's reach: warned at start and by check-config, a doctor failure."""


@dataclass(frozen=True)
class EngineConfig:
    """An engine's table, validated: the host keys and the engine's own settings."""

    host: EngineHostSettings
    own: EngineSettings

    @property
    def enabled(self) -> bool:
        """Whether the table (or the engine's default) enables it."""
        return bool(self.host.enabled)


def collect_engine_classes(plugins: Plugins, settings: Settings) -> dict[str, type[Engine]]:
    """Every engine class the plugins register, by id; duplicates are a startup error."""
    classes: dict[str, type[Engine]] = {}

    def register(engine_cls: type[Engine]) -> None:
        # A plugin's own mistake raises in its hook, so that plugin alone is named and disabled; a class that is no
        # Engine failed later, outside any plugin, and stopped the daemon with a traceback.
        if not isinstance(engine_cls, type) or not issubclass(engine_cls, Engine):
            raise TypeError(f"register() takes a voxhost.Engine subclass, not {engine_cls!r}")
        engine_id = getattr(engine_cls, "engine_id", None)
        if not isinstance(engine_id, str) or not engine_id or ":" in engine_id:
            raise ValueError(f"engine class {_qualified(engine_cls)} has no valid engine_id (got {engine_id!r})")
        if engine_id in classes and classes[engine_id] is not engine_cls:
            raise StartupError(
                f"two plugins register engine {engine_id!r}: {_qualified(classes[engine_id])} and "
                f"{_qualified(engine_cls)} (VOXHOST_LOAD_PLUGINS lists the plugins to load)"
            )
        classes[engine_id] = engine_cls

    plugins.call("register_engines", register=register, settings=settings)
    return dict(sorted(classes.items(), key=lambda item: -item[1].default_priority))


def collect_door_classes(plugins: Plugins, settings: Settings) -> dict[str, type[Door]]:
    """Every door class the plugins register, by name."""
    classes: dict[str, type[Door]] = {}

    def register(door_cls: type[Door]) -> None:
        if not isinstance(door_cls, type) or not issubclass(door_cls, Door):
            raise TypeError(f"register() takes a voxhost.door.Door subclass, not {door_cls!r}")
        name = getattr(door_cls, "name", None)
        if not isinstance(name, str) or not _DOOR_NAME.match(name):
            raise ValueError(f"door class {_qualified(door_cls)} has no valid name (letters, digits, '_' and '-')")
        if name in classes and classes[name] is not door_cls:
            raise StartupError(
                f"two plugins register door {name!r}: {_qualified(classes[name])} and {_qualified(door_cls)} "
                "(VOXHOST_LOAD_PLUGINS lists the plugins to load)"
            )
        classes[name] = door_cls

    plugins.call("register_doors", register=register, settings=settings)
    return dict(sorted(classes.items()))


def _qualified(cls: type) -> str:
    """``module.Class``: what names the plugin a class comes from."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _validated(
    model: type[BaseModel], table: dict[str, object], prefix: str, also: frozenset[str] = frozenset()
) -> BaseModel:
    try:
        return model(**table)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, prefix=prefix, model=model, also=also)) from None


def engine_configs(settings: Settings, classes: dict[str, type[Engine]]) -> dict[str, EngineConfig]:
    """Validate every engine table: host keys and the engine's own settings; ``ConfigError`` names the key."""
    out = {}
    for engine_id, cls in classes.items():
        table = dict(settings.engines.get(engine_id, {}))
        host_part = {k: table.pop(k) for k in list(table) if k in ENGINE_HOST_KEYS}
        host = _validated(EngineHostSettings, host_part, f"engines.{engine_id}")
        assert isinstance(host, EngineHostSettings)
        if host.enabled is None:
            host = host.model_copy(update={"enabled": cls.enabled_by_default})
        if host.nice is None:
            host = host.model_copy(update={"nice": cls.default_nice})
        own = _validated(cls.Settings, table, f"engines.{engine_id}", also=ENGINE_HOST_KEYS)  # a typo of a host key
        assert isinstance(own, EngineSettings)
        out[engine_id] = EngineConfig(host, own)
    try:
        check_pipelines(settings.pipelines)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    for unknown in sorted(set(settings.engines) - set(classes)):
        meant = _meant("engines", unknown, classes)
        _LOGGER.warning("Config has [engines.%s] but no plugin provides that engine%s", unknown, meant)
    return out


def _meant(kind: str, name: str, known: Iterable[str]) -> str:
    """``; did you mean [<kind>.<one>]?`` for a table named like a provided one ([doors.htp]: its settings went
    unread, and the door meant opened on its defaults), else nothing (a plugin that is not installed)."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean [{kind}.{close[0]}]?" if close else ""


def door_configs(settings: Settings, classes: dict[str, type[Door]]) -> dict[str, DoorSettings]:
    """Validate every door table with its door's own settings model; ``ConfigError`` names the key."""
    out = {}
    for name, cls in classes.items():
        door_settings = _validated(cls.Settings, dict(settings.doors.get(name, {})), f"doors.{name}")
        assert isinstance(door_settings, DoorSettings)
        out[name] = door_settings
    for unknown in sorted(set(settings.doors) - set(classes)):
        meant = _meant("doors", unknown, classes)
        _LOGGER.warning("Config has [doors.%s] but no plugin provides that door%s", unknown, meant)
    if not open_doors(out):  # valid, and a daemon could still act through plugin hooks: a warning, not a refusal
        _LOGGER.warning("%s", NO_DOOR_OPEN)
    return out


def open_doors(doors: dict[str, DoorSettings]) -> list[str]:
    """The names of the doors a validated config enables (built-in and plugin doors alike)."""
    return [name for name, door_settings in doors.items() if door_settings.enabled]


def engine_context(settings: Settings, engine_id: str) -> EngineContext:
    """Where an engine keeps its files."""
    return EngineContext(
        state_dir=str(settings.state_path),
        models_dir=str(settings.models_path),
        cache_dir=str(settings.state_path / "cache" / engine_id),
    )


def describe_engine_classes(classes: Iterable[type[Engine]]) -> list[dict[str, Any]]:
    """Static facts about engine classes (for ``voxhost engines`` without a daemon)."""
    return [
        {
            "id": cls.engine_id,
            "name": cls.display_name or cls.engine_id,
            "capabilities": sorted(c.value for c in cls.capabilities),
            "mode": cls.default_mode,
            "enabled_by_default": cls.enabled_by_default,
            "module": cls.__module__,
        }
        for cls in classes
    ]
