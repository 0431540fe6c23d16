"""Advertise the Wyoming door as ``_wyoming._tcp.local.`` so Home Assistant offers to add it.

The advertised address is always one a client can connect to: the bound address, or, when bound to every
interface, the address of the interface that carries outbound traffic (never ``0.0.0.0``).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from typing import Any

_LOGGER = logging.getLogger(__name__)

SERVICE_TYPE = "_wyoming._tcp.local."
_WILDCARDS = {"", "0.0.0.0", "::", "*"}


def outbound_address() -> str | None:
    """The IPv4 address of the interface that reaches the mDNS group (or the default route); no packet is sent."""
    for target in ("224.0.0.251", "10.255.255.255", "8.8.8.8"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.connect((target, 1))
                address = str(sock.getsockname()[0])
        except OSError:
            continue
        if address not in _WILDCARDS:
            return address
    return None


def advertised_address(bound: str, configured: str | None = None) -> str | None:
    """What to put in the mDNS record for a listener bound to ``bound``."""
    if configured:
        return configured
    if bound in _WILDCARDS:
        return outbound_address()
    try:
        ip = ipaddress.ip_address(bound)
    except ValueError:
        return None
    return None if ip.is_unspecified else str(ip)


def default_name() -> str:
    """``voxhost-<host name>``, trimmed to a valid DNS label."""
    host = socket.gethostname().split(".")[0] or "host"
    return re.sub(r"[^A-Za-z0-9-]+", "-", f"voxhost-{host}")[:63].strip("-")


class Advertiser:
    """One zeroconf instance and the services it announces."""

    def __init__(self) -> None:
        self._zc: Any = None
        self._infos: list[Any] = []

    async def register(self, name: str, address: str, port: int, all_interfaces: bool) -> None:
        """Announce ``name`` at ``address:port`` (probing the name takes about a second)."""
        from zeroconf import InterfaceChoice, IPVersion
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        ip = ipaddress.ip_address(address)
        if self._zc is None:
            interfaces: Any = InterfaceChoice.All if all_interfaces else [address]
            version = IPVersion.V6Only if ip.version == 6 else IPVersion.V4Only
            self._zc = AsyncZeroconf(interfaces=interfaces, ip_version=version)
        host = socket.gethostname().split(".")[0] or "voxhost"
        info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"{name}.{SERVICE_TYPE}",
            addresses=[ip.packed],
            port=port,
            server=f"{host}.local.",
        )
        await self._zc.async_register_service(info, allow_name_change=True)
        self._infos.append(info)
        _LOGGER.info("Zeroconf: advertising %s at %s:%d", info.name, address, port)

    async def close(self) -> None:
        """Withdraw every announcement."""
        if self._zc is None:
            return
        try:
            await self._zc.async_unregister_all_services()
        finally:
            await self._zc.async_close()
            self._zc = None
            self._infos.clear()
