"""The door contract: a protocol server (Wyoming, HTTP, MQTT, ...) that turns requests into core jobs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .core import Core
    from .settings import Settings


class Door(ABC):
    """A protocol server; registered through the ``register_doors`` hook."""

    name: ClassVar[str]
    """Unique name, e.g. ``wyoming``; also the door name in job events and metrics."""

    def __init__(self, core: Core) -> None:
        self.core = core

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        """Whether the settings ask for this door; the default reads ``settings.<name>.enabled``."""
        section = getattr(settings, cls.name, None)
        return bool(getattr(section, "enabled", False))

    @abstractmethod
    async def start(self) -> None:
        """Open the door (bind, connect); return once it accepts requests."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop accepting requests; in-flight jobs are drained by the daemon."""

    def status(self) -> dict[str, Any]:
        """What health pages show about this door (addresses, connection state)."""
        return {}
