"""The Wyoming door: Home Assistant's voice pipeline (and any Wyoming client) speaks to voxhost.

``door`` opens the listeners, ``session`` serves one connection, ``info`` answers ``describe``, ``wire`` frames
events with limits, ``stdio`` serves ``stdio://``, ``zeroconf`` advertises the door, ``settings`` is its
``[doors.wyoming]`` table.
"""

from __future__ import annotations

from collections.abc import Callable

from ...door import Door
from ...hookspecs import hookimpl
from .door import WyomingDoor, parse_uri
from .settings import WyomingSettings

__all__ = ["WyomingDoor", "WyomingSettings", "parse_uri"]


@hookimpl
def register_doors(register: Callable[[type[Door]], None]) -> None:
    """Register the Wyoming door."""
    register(WyomingDoor)
