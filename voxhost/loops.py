"""The daemon's event loop: uvloop where it is installed, asyncio's own otherwise (the ``loop`` setting)."""

from __future__ import annotations

import asyncio
from typing import Literal

from .errors import StartupError

LoopChoice = Literal["auto", "uvloop", "asyncio"]


def new_event_loop(choice: LoopChoice = "auto") -> asyncio.AbstractEventLoop:
    """A new loop of the chosen kind; ``auto`` is uvloop when it can be imported (it is not on every platform)."""
    if choice == "asyncio":
        return asyncio.new_event_loop()
    try:
        import uvloop
    except ImportError as err:
        if choice == "uvloop":
            raise StartupError(
                f"loop = 'uvloop' but uvloop cannot be imported ({err}); install it or use 'auto'"
            ) from err
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``uvloop`` or ``asyncio``: what runs the daemon, for its start-up log."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
