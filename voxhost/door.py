"""The door contract: a protocol server (Wyoming, HTTP, MQTT, ...) that turns requests into core jobs.

A door is configured like an engine: its ``[doors.<name>]`` table is validated by the door's own ``Settings``
model, so a door from a third-party plugin is configured and enabled the same way as the built-in ones.
"""

from __future__ import annotations

import json
import socket
import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, model_validator

if TYPE_CHECKING:
    from .api import CoreAPI


class DoorSettings(BaseModel):
    """Base of a door's settings table (``[doors.<name>]``); unknown keys are errors."""

    # inf and nan pass every lower bound, then break the daemon (JSON has no Infinity; int(inf) raises).
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, allow_inf_nan=False)

    enabled: bool = False
    """Open this door."""
    normalize: bool = True
    """Speak what a person would read aloud (markup, emoji, URLs and numbers handled; see docs/text.md) unless a
    request says otherwise; false: text is spoken as written."""

    @model_validator(mode="before")
    @classmethod
    def _decode_environment(cls, data: Any) -> Any:
        # A list or table from an environment variable (VOXHOST_DOORS__WYOMING__URI='["tcp://..."]') arrives as
        # JSON text: decode it where the field wants a list or a table. One item where a list is wanted, written
        # alone (uri = "tcp://...", as wyoming-piper's --uri takes it; VOXHOST_DOORS__HTTP__CORS_ORIGINS=*), is a list
        # of that item, not "Input should be a valid list"; an empty text is an empty list.
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, field in cls.model_fields.items():
            value = out.get(name)
            origin = typing.get_origin(field.annotation) or field.annotation
            if isinstance(value, str) and origin in (list, dict) and value[:1] in ("[", "{"):
                try:
                    out[name] = json.loads(value)
                except ValueError:
                    pass  # left as is: validation names the key
            elif isinstance(value, str) and origin is list:
                out[name] = [value] if value.strip() else []
        return out


class Door(ABC):
    """A protocol server; registered through the ``register_doors`` hook."""

    name: ClassVar[str]
    """Unique name, e.g. ``wyoming``; the ``[doors.<name>]`` table, and the door name in job events and metrics."""
    Settings: ClassVar[type[DoorSettings]] = DoorSettings
    """The model that validates ``[doors.<name>]``."""

    def __init__(self, core: CoreAPI, settings: DoorSettings) -> None:
        self.core = core
        self.settings = settings

    @abstractmethod
    async def start(self) -> None:
        """Open the door (bind, connect); return once it accepts requests."""

    async def drain(self, deadline: float) -> None:
        """Shutdown, first step: stop taking new requests and let those in progress finish until ``deadline``
        (``asyncio`` loop time, shared by every door and the core's jobs), then return; ``stop`` follows.

        The default takes nothing away: a door that needs no drain (or drains in ``stop``) may leave it.
        """
        return None  # an overridable default (not abstract: most doors need no drain)

    @abstractmethod
    async def stop(self) -> None:
        """Close everything at once (the daemon calls ``drain`` first, and bounds this call by a few seconds)."""

    def status(self) -> dict[str, Any]:
        """What health pages show about this door (addresses, connection state)."""
        return {}

    @classmethod
    def endpoints(cls, settings: DoorSettings) -> list[Endpoint]:
        """The addresses the door binds or reaches with ``settings``, for ``voxhost doctor`` (default: none)."""
        return []


def host_port(host: str, port: int) -> str:
    """``host:port`` as URLs and logs write it, an IPv6 literal in brackets (``[::1]:8000``; ``::1:8000`` names no
    port)."""
    bracketed = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"{bracketed}:{port}"


def peer_address(peer: object, default: str = "unix") -> str:
    """A client's address as every door logs it, from its socket's ``peername``: ``host_port`` of a TCP peer
    (``[::1]:54321``, ``127.0.0.1:54321``); ``default`` for anything else (a Unix socket's peer, none known)."""
    if isinstance(peer, tuple | list) and len(peer) >= 2 and isinstance(peer[0], str) and isinstance(peer[1], int):
        return host_port(peer[0], peer[1])
    return default


@dataclass(frozen=True)
class Endpoint:
    """A TCP address a door needs: one it listens on (must be free) or one it connects to (must answer)."""

    role: Literal["listen", "connect"]
    host: str
    port: int


def listen_problem(endpoint: Endpoint) -> OSError | None:
    """Why nothing can listen on ``endpoint`` now (a socket bound and closed at once, as a server binds), or None."""
    family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's servers: TIME_WAIT is free
            sock.bind((endpoint.host, endpoint.port))
    except OSError as err:
        return err
    return None
