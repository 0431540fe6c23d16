"""The MQTT door (paho-mqtt 2.x): say requests with streamed audio, Hermes compatibility, Home Assistant discovery."""

from __future__ import annotations

from collections.abc import Callable

from ...door import Door
from ...hookspecs import hookimpl
from .door import MqttDoor

__all__ = ["MqttDoor"]


@hookimpl
def register_doors(register: Callable[[type[Door]], None]) -> None:
    """Register the MQTT door."""
    register(MqttDoor)
