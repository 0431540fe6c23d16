"""Build the plugin manager: built-in plugins, ``voxhost`` entry points and plugin directories.

A plugin that fails to import, uses an unknown hook, or raises in a hook is reported by name and skipped;
the others go on. ``VOXHOST_LOAD_PLUGINS`` restricts external plugins (empty: none; else a comma-separated list
of names) and is the rescue path when a broken plugin keeps the daemon from starting. ``VOXHOST_TRACE_PLUGINS=1``
logs every hook call.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .errors import StartupError

_LOGGER = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "voxhost"
LOAD_ENV = "VOXHOST_LOAD_PLUGINS"
TRACE_ENV = "VOXHOST_TRACE_PLUGINS"
DIR_PLUGIN_PREFIX = "voxhost_plugins_dir."
"""Module-name prefix of single-file plugins loaded from a directory."""

DEFAULT_PLUGINS: tuple[str, ...] = (
    "voxhost.plugins.piper",
    "voxhost.plugins.f5",
    "voxhost.plugins.qwen3",
    "voxhost.protocols.http",
    "voxhost.protocols.mqtt",
    "voxhost.protocols.wyoming",
)
"""Built-in plugins, written like any third-party plugin; always loaded."""


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be used, and why."""

    name: str
    source: str
    error: str


@dataclass
class Plugins:
    """The plugin manager plus what voxhost knows about each plugin."""

    pm: pluggy.PluginManager
    sources: dict[str, str] = field(default_factory=dict)
    """Plugin name → ``builtin`` | ``entrypoint`` | ``directory``."""
    failures: list[PluginFailure] = field(default_factory=list)
    trace: bool = False

    def fail(self, name: str, source: str, error: str) -> None:
        """Record a broken plugin and log it by name."""
        self.failures.append(PluginFailure(name, source, error))
        _LOGGER.error("Plugin %s (%s) disabled: %s", name, source, error)

    def call(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call every implementation of ``hook``, isolating failures; returns the results."""
        results = []
        caller = getattr(self.pm.hook, hook)
        for impl in caller.get_hookimpls():
            args = [kwargs[name] for name in impl.argnames]
            if self.trace:
                _LOGGER.info("hook %s -> %s(%s)", hook, impl.plugin_name, ", ".join(impl.argnames))
            try:
                results.append(impl.function(*args))
            except StartupError:
                raise  # a conflict between plugins (duplicate ids) needs the user, not a skip
            except Exception as err:
                self.fail(impl.plugin_name, self.sources.get(impl.plugin_name, "?"), f"hook {hook} raised {err!r}")
                _LOGGER.debug("Hook %s of %s failed", hook, impl.plugin_name, exc_info=True)
        return results

    async def acall(self, hook: str, **kwargs: Any) -> None:
        """Like ``call``, awaiting implementations that return awaitables."""
        for result in self.call(hook, **kwargs):
            if inspect.isawaitable(result):
                try:
                    await result
                except Exception as err:
                    self.fail("?", "?", f"async hook {hook} raised {err!r}")

    def describe(self) -> list[dict[str, Any]]:
        """Name, source, version and hooks of every registered plugin, for ``voxhost plugins``."""
        versions = {
            self.pm.get_name(plugin): dist.version for plugin, dist in self.pm.list_plugin_distinfo()
        }
        from . import __version__

        out = []
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda item: str(item[0])):
            if plugin is None:
                continue
            hooks = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])
            source = self.sources.get(name, "?")
            version = versions.get(name) or (__version__ if source == "builtin" else None)
            out.append({"name": name, "source": source, "version": version, "hooks": hooks})
        return out


def _allowed() -> set[str] | None:
    value = os.environ.get(LOAD_ENV)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _load_module_from_path(path: Path) -> ModuleType:
    name = DIR_PLUGIN_PREFIX + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # workers and pickling find it by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def build_plugins(
    plugins_dirs: Iterable[str | Path] = (),
    *,
    load_entrypoints: bool = True,
    builtins: Iterable[str] = DEFAULT_PLUGINS,
    extra: Iterable[tuple[str, object]] = (),
) -> Plugins:
    """Make a fresh plugin manager with every plugin voxhost should load (never at import time)."""
    pm = pluggy.PluginManager("voxhost")
    pm.add_hookspecs(hookspecs)  # specs first, so implementations are validated as they register
    plugins = Plugins(pm, trace=os.environ.get(TRACE_ENV, "") not in ("", "0"))
    allowed = _allowed()

    for module_name in builtins:
        try:
            pm.register(importlib.import_module(module_name), name=module_name)
            plugins.sources[module_name] = "builtin"
        except Exception as err:
            plugins.fail(module_name, "builtin", f"{type(err).__name__}: {err}")

    for name, plugin in extra:
        pm.register(plugin, name=name)
        plugins.sources[name] = "extra"

    if load_entrypoints:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if allowed is not None and ep.name not in allowed:
                continue
            try:
                if pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=ep.name):
                    plugins.sources[ep.name] = "entrypoint"
            except Exception as err:
                plugins.fail(ep.name, "entrypoint", f"{type(err).__name__}: {err}")

    for directory in plugins_dirs:
        for path in sorted(Path(directory).expanduser().glob("*.py")):
            if allowed is not None and path.stem not in allowed:
                continue
            name = path.stem
            try:
                pm.register(_load_module_from_path(path), name=name)
                plugins.sources[name] = "directory"
            except ValueError as err:  # already registered under that name
                _LOGGER.warning("Plugin %s skipped: %s", name, err)
            except Exception as err:
                plugins.fail(name, "directory", f"{type(err).__name__}: {err}")

    _drop_unknown_hooks(plugins)
    pm.check_pending()
    return plugins


def _drop_unknown_hooks(plugins: Plugins) -> None:
    """Disable plugins that implement hooks voxhost does not have (a misspelled hook name)."""
    pm = plugins.pm
    for hook_name, caller in list(vars(pm.hook).items()):
        if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            known = ", ".join(sorted(n for n, c in vars(pm.hook).items() if isinstance(c, pluggy.HookCaller) and c.has_spec()))
            plugins.fail(
                impl.plugin_name,
                plugins.sources.get(impl.plugin_name, "?"),
                f"unknown hook {hook_name!r} (known hooks: {known})",
            )
            if pm.is_registered(impl.plugin):
                pm.unregister(impl.plugin)
