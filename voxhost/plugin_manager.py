"""Build the plugin manager (built-ins, ``voxhost`` entry points, plugin directories) and call hooks through it.

Hooks are called through pluggy (``pm.hook.<name>``), so ``tryfirst``/``trylast`` order and wrappers work as
pluggy documents. A plugin that fails to import, uses an unknown hook, or raises in a hook is reported once by
name and unregistered; the other implementations of that call still run. So is one that holds the event loop for
a second in a hook called there (``voxhost.loop_hooks``). ``VOXHOST_LOAD_PLUGINS`` restricts
external plugins (empty: none; else a comma-separated list of names) and is the rescue path when a broken
plugin keeps the daemon from starting. ``VOXHOST_TRACE_PLUGINS=1`` logs every hook call (pluggy's monitoring).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, TracebackType
from typing import Any

import pluggy

from . import hookspecs
from .errors import StartupError
from .loader import load_module
from .loop_hooks import BLOCKING_SECONDS, Held, time_loop_hooks
from .plugins import BUILTIN_PLUGINS

_LOGGER = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "voxhost"
LOAD_ENV = "VOXHOST_LOAD_PLUGINS"
TRACE_ENV = "VOXHOST_TRACE_PLUGINS"


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
    """Plugin name → ``builtin`` | ``entrypoint`` | ``directory`` | ``extra``."""
    failures: list[PluginFailure] = field(default_factory=list)
    _held: list[Held] = field(default_factory=list)
    """Calls of loop hooks that took too long, handled once the hook call is over (pluggy is iterating then)."""
    _warned: set[tuple[str, str]] = field(default_factory=set)

    def fail(self, name: str, error: str, source: str | None = None) -> None:
        """Record a broken plugin once, log it by name, and unregister it if it is registered."""
        if any(f.name == name for f in self.failures):
            return
        source = source or self.sources.get(name, "?")
        self.failures.append(PluginFailure(name, source, error))
        _LOGGER.error("Plugin %s (%s) disabled: %s", name, source, error)
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)

    def call(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call ``hook`` through pluggy; an implementation that raises, or blocks the event loop in a hook called
        there, is disabled and the others still run."""
        try:
            return self._call(hook, **kwargs)
        finally:
            if self._held:
                self._blocked()

    def _blocked(self) -> None:
        """Warn about implementations that held the event loop; disable those that held it for too long."""
        held = list(self._held)
        self._held.clear()  # in place: the timed implementations append to this list
        for call in held:
            if call.seconds >= BLOCKING_SECONDS:
                self.fail(
                    call.plugin,
                    f"hook {call.hook} held the event loop for {call.seconds:.2f} s (at most {BLOCKING_SECONDS:g} s; "
                    "every door waits meanwhile: do slow work on a thread)",
                )
            elif (call.plugin, call.hook) not in self._warned:
                self._warned.add((call.plugin, call.hook))
                _LOGGER.warning(
                    "Plugin %s held the event loop for %.2f s in hook %s; every door waits meanwhile (do slow work "
                    "on a thread)",
                    call.plugin,
                    call.seconds,
                    call.hook,
                )

    def _call(self, hook: str, **kwargs: Any) -> list[Any]:
        results: list[Any] = []
        skip: list[object] = []  # plugins already called, or disabled, in this call
        while True:
            caller = self.pm.subset_hook_caller(hook, remove_plugins=skip) if skip else getattr(self.pm.hook, hook)
            impls = caller.get_hookimpls()
            if not impls:
                # Nothing to call: pluggy's call machinery would still run (``observe_event`` goes through here
                # for every event of every job).
                return results
            try:
                return results + list(caller(**kwargs))
            except StartupError:
                raise  # a conflict between plugins (duplicate ids) needs the user, not a skip
            except Exception as err:
                culprit = _culprit(impls, err.__traceback__)
                if culprit is None:
                    _LOGGER.exception("Hook %s raised and its plugin could not be told", hook)
                    return results
                self.fail(culprit.plugin_name, f"hook {hook} raised {err!r}")
                _LOGGER.debug("Hook %s of %s failed", hook, culprit.plugin_name, exc_info=err)
                # pluggy calls implementations from the end of the list: those after the culprit already ran.
                index = impls.index(culprit)
                skip += [impl.plugin for impl in impls[index:] if not impl.hookwrapper and not impl.wrapper]

    async def acall(self, hook: str, **kwargs: Any) -> None:
        """Like ``call``, awaiting implementations that return awaitables; one that raises is disabled."""
        impls = list(getattr(self.pm.hook, hook).get_hookimpls())
        for result in self.call(hook, **kwargs):
            if not inspect.isawaitable(result):
                continue
            try:
                await result
            except Exception as err:
                code = getattr(result, "cr_code", None)
                culprit = next((impl for impl in impls if _code(impl.function) is code), None)
                name = culprit.plugin_name if culprit else "?"
                if culprit is None:
                    _LOGGER.error("An awaitable of hook %s raised %r", hook, err)
                else:
                    self.fail(name, f"hook {hook} raised {err!r}")

    def describe(self) -> list[dict[str, Any]]:
        """Name, source, version and hooks of every registered plugin, for ``voxhost plugins``."""
        versions = {self.pm.get_name(plugin): dist.version for plugin, dist in self.pm.list_plugin_distinfo()}
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


def _code(function: Any) -> CodeType | None:
    return getattr(inspect.unwrap(function), "__code__", None)


def _culprit(impls: Sequence[pluggy.HookImpl], tb: TracebackType | None) -> pluggy.HookImpl | None:
    """The implementation whose code raised: the innermost frame of the traceback that belongs to one (a wrapper
    that the exception passed through is further out)."""
    by_code = {_code(impl.function): impl for impl in impls}
    found = None
    while tb is not None:
        found = by_code.get(tb.tb_frame.f_code, found)
        tb = tb.tb_next
    return found


def _allowed() -> set[str] | None:
    value = os.environ.get(LOAD_ENV)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _trace(pm: pluggy.PluginManager) -> None:
    """Log every hook call and its outcome (pluggy's own monitoring)."""

    def before(hook_name: str, hook_impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]) -> None:
        names = ", ".join(impl.plugin_name for impl in hook_impls)
        _LOGGER.info("hook %s(%s) -> %s", hook_name, ", ".join(kwargs), names)

    def after(
        outcome: pluggy.Result[Any], hook_name: str, hook_impls: Sequence[pluggy.HookImpl], kwargs: Mapping[str, Any]
    ) -> None:
        if outcome.exception is not None:
            _LOGGER.info("hook %s raised %r", hook_name, outcome.exception)

    pm.add_hookcall_monitoring(before, after)


def build_plugins(
    plugins_dirs: Iterable[str | Path] = (),
    *,
    load_entrypoints: bool = True,
    builtins: Iterable[str] = BUILTIN_PLUGINS,
    extra: Iterable[tuple[str, object]] = (),
) -> Plugins:
    """Make a fresh plugin manager with every plugin voxhost should load (never at import time)."""
    pm = pluggy.PluginManager("voxhost")
    pm.add_hookspecs(hookspecs)  # specs first, so implementations are validated as they register
    plugins = Plugins(pm)
    allowed = _allowed()

    for module_name in builtins:
        try:
            pm.register(importlib.import_module(module_name), name=module_name)
            plugins.sources[module_name] = "builtin"
        except Exception as err:
            plugins.fail(module_name, f"{type(err).__name__}: {err}", "builtin")

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
                plugins.fail(ep.name, f"{type(err).__name__}: {err}", "entrypoint")

    for directory in plugins_dirs:
        if not Path(directory).expanduser().is_dir():  # a typo would only show as a plugin that never loads
            _LOGGER.warning("Plugins directory %s is not a directory: no plugins are read from it", directory)
        for path in sorted(Path(directory).expanduser().glob("*.py")):
            name = path.stem
            if allowed is not None and name not in allowed:
                continue
            try:
                pm.register(load_module(path), name=name)
                plugins.sources[name] = "directory"
            except ValueError as err:  # already registered under that name
                _LOGGER.warning("Plugin %s skipped: %s", name, err)
            except Exception as err:
                plugins.fail(name, f"{type(err).__name__}: {err}", "directory")

    _drop_unknown_hooks(plugins)
    pm.check_pending()
    time_loop_hooks(pm, plugins._held.append)
    if os.environ.get(TRACE_ENV, "") not in ("", "0"):
        _trace(pm)
    return plugins


def _drop_unknown_hooks(plugins: Plugins) -> None:
    """Disable plugins that implement hooks voxhost does not have (a misspelled hook name)."""
    pm = plugins.pm
    known = sorted(n for n, c in vars(pm.hook).items() if isinstance(c, pluggy.HookCaller) and c.has_spec())
    for hook_name, caller in list(vars(pm.hook).items()):
        if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if not impl.optionalhook:
                plugins.fail(impl.plugin_name, f"unknown hook {hook_name!r} (known hooks: {', '.join(known)})")
