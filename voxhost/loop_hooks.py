"""Times the plugin hooks voxhost calls on its event loop, so a plugin that blocks there is named (and stopped).

A hook called on the loop (``observe_event``, for every event of every job) holds every door while it runs: a
plugin that sleeps or does network I/O there makes a Wyoming Describe or a health check wait behind it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pluggy

LOOP_HOOKS = ("observe_event",)
"""Hooks called on the event loop while the daemon serves."""
SLOW_SECONDS = 0.1
"""A call this long is worth a warning (once per plugin and hook)."""
BLOCKING_SECONDS = 1.0
"""A call this long disables the plugin: Home Assistant gives a Wyoming Describe one second."""


@dataclass(frozen=True)
class Held:
    """One call of a plugin's hook that held the event loop too long."""

    plugin: str
    hook: str
    seconds: float


def time_loop_hooks(pm: pluggy.PluginManager, report: Callable[[Held], None]) -> None:
    """Wrap each implementation of the loop hooks so a call of ``SLOW_SECONDS`` or more is reported."""
    for hook in LOOP_HOOKS:
        caller = getattr(pm.hook, hook, None)
        if caller is None:
            continue
        for impl in caller.get_hookimpls():
            if not (impl.hookwrapper or impl.wrapper):  # a wrapper's own time is not separable from the others'
                impl.function = _timed(impl.function, impl.plugin_name, hook, report)


def _timed(function: Callable[..., Any], plugin: str, hook: str, report: Callable[[Held], None]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps __wrapped__, so a raising implementation is still found by its code
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            if (seconds := time.perf_counter() - started) >= SLOW_SECONDS:
                report(Held(plugin, hook, seconds))

    return timed
