"""What the benchmarks against other Wyoming servers share: a free port, the servers as subprocesses, ``describe``
round trips, waiting until a server answers, and stopping them."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from wyoming.client import AsyncTcpClient
from wyoming.info import Describe


def other_server_python(name: str, variable: str) -> str:
    """The interpreter of another server's environment: ``$variable``, else ``.venvs/<name>`` (``bench/setup.sh``)."""
    return os.environ.get(variable) or str(Path(__file__).resolve().parent.parent / ".venvs" / name / "bin" / "python")


def require_python(python: str, name: str) -> None:
    """Stop with a sentence saying how to install ``name`` when its interpreter is missing."""
    if not Path(python).exists():
        sys.exit(f"no {name} interpreter at {python}: run bench/setup.sh (or point the option at one)")


def spawn_voxhost(state: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``python -m voxhost ARGS`` with ``env``, run in ``state``, its log in ``state/voxhost.log``."""
    # Run from the state directory: ``-m`` puts the working directory first on the path, ahead of PYTHONPATH, so
    # from the repository's root another checkout on PYTHONPATH (a variant) would be passed over for this one.
    log = open(state / "voxhost.log", "wb")  # open for the server's life
    command = [sys.executable, "-m", "voxhost", *args]
    return subprocess.Popen(command, env=env, cwd=state, stdout=subprocess.DEVNULL, stderr=log)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One server under test and what was measured of it."""

    name: str
    port: int
    proc: subprocess.Popen[bytes] | None = None
    voice: str = ""
    """The voice a speech request names."""
    results: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, *values: float) -> None:
        self.results.setdefault(key, []).extend(values)


async def describe(port: int) -> float:
    """Round trip of a describe on a fresh connection, as Home Assistant makes it."""
    started = time.monotonic()
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Describe().event())
        while (event := await client.read_event()) is not None and event.type != "info":
            pass
        if event is None:
            raise ConnectionError("closed before info")
    return time.monotonic() - started


async def wait_ready(server: Server, timeout: float = 120) -> None:
    """Until the server answers a describe; its process exiting first is an error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc is not None and server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}")
        try:
            await describe(server.port)
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{server.name} did not answer describe")


def stop(servers: list[Server], timeout: float) -> None:
    """Terminate every server, then wait for each (killed after ``timeout`` seconds)."""
    for server in servers:
        if server.proc is not None:
            server.proc.terminate()
    for server in servers:
        if server.proc is not None:
            try:
                server.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                server.proc.kill()
