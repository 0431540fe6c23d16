"""The plugin hooks voxhost calls. Implement any of them with ``@voxhost.hookimpl``.

An implementation may accept any subset of a hook's arguments, so hooks can gain arguments without
breaking plugins. Hooks documented as "may return an awaitable" are awaited by the daemon.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .api import CoreAPI
    from .door import Door
    from .engine import Engine
    from .events import Event
    from .settings import Settings

hookspec = pluggy.HookspecMarker("voxhost")
hookimpl = pluggy.HookimplMarker("voxhost")
"""Marker for plugin hook implementations: ``@voxhost.hookimpl``."""


# -- registration: called once while the daemon starts ------------------------------------------


@hookspec
def register_engines(register: Callable[[type[Engine]], None], settings: Settings) -> None:
    """Register engine classes by calling ``register(EngineClass)``.

    :param register: call it once per engine class; a duplicate ``engine_id`` is a startup error.
    :param settings: the daemon's settings (read-only).
    """


@hookspec
def register_doors(register: Callable[[type[Door]], None], settings: Settings) -> None:
    """Register doors (protocol servers) by calling ``register(DoorClass)``.

    A door is configured by its ``[doors.<name>]`` table, validated by ``DoorClass.Settings``.

    :param register: call it once per door class; a duplicate door ``name`` is a startup error.
    :param settings: the daemon's settings (read-only).
    """


# -- lifecycle ----------------------------------------------------------------------------------


@hookspec
def startup(core: CoreAPI) -> Awaitable[None] | None:
    """Called once engines are loaded and before the doors open; may return an awaitable.

    :param core: the running core, as doors see it (``voxhost.api.CoreAPI``).
    """


@hookspec
def shutdown(core: CoreAPI) -> Awaitable[None] | None:
    """Called after the doors have closed and jobs have drained; may return an awaitable.

    :param core: the core that is shutting down (``voxhost.api.CoreAPI``).
    """


# -- observation --------------------------------------------------------------------------------


@hookspec
def observe_event(event: Event) -> Any:
    """Called on the event loop for every core event (job, engine, voice); must return quickly.

    :param event: the event; see ``voxhost.events`` for the types. Audio events carry PCM.
    """
