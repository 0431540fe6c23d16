"""A client's address is logged the same way by every door, an IPv6 one in brackets with its port (``[::1]:54321``,
never ``::1:54321``), as listening addresses are: a real ``voxhost serve`` on ::1, spoken to over Wyoming and HTTP."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from pathlib import Path

import httpx2 as httpx
import pytest
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize, SynthesizeVoice

from ..conftest import REPO, ServeProcess, wait_for


def _ipv6_port() -> int:
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind(("::1", 0))
        return int(sock.getsockname()[1])


def _has_ipv6_loopback() -> bool:
    try:
        _ipv6_port()
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")


@pytest.fixture
def serve(tmp_path: Path):
    wyoming, http = _ipv6_port(), _ipv6_port()
    config = tmp_path / "voxhost.toml"
    config.write_text(
        f"""state_dir = "{tmp_path / "state"}"
shutdown_timeout = 2
plugins_dirs = ["{REPO / "tests" / "plugins"}"]
[engines.whisper]
enabled = false
[engines.piper]
enabled = false
[doors.wyoming]
uri = ["tcp://[::1]:{wyoming}"]
zeroconf = false
[doors.http]
host = "::1"
port = {http}
[doors.mqtt]
enabled = false
"""
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXHOST_")} | {"HF_HUB_OFFLINE": "1"}
    env.pop("NOTIFY_SOCKET", None)
    process = ServeProcess(config, env)
    try:
        process.wait_ready()
        process.ports = (wyoming, http)  # type: ignore[attr-defined]
        yield process
    finally:
        process.close()


PEER = r"\[::1\]:\d+"
"""An IPv6 client as logged: bracketed, then its port."""


def _logged(serve: ServeProcess, pattern: str) -> str:
    wait_for(lambda: any(re.search(pattern, line) for line in serve.log), 10)
    return next(line for line in serve.log if re.search(pattern, line))


def test_every_door_logs_an_ipv6_client_in_brackets(serve):
    wyoming, http = serve.ports

    async def unknown_voice() -> str:
        async with AsyncTcpClient("::1", wyoming) as client:
            await client.write_event(Synthesize(text="Hello.", voice=SynthesizeVoice(name="nobody:nothing")).event())
            event = await asyncio.wait_for(client.read_event(), 30)
            assert event is not None and event.type == "error", event
            return str(client._writer.get_extra_info("sockname")[1])  # type: ignore[union-attr]

    port = asyncio.run(unknown_voice())
    line = _logged(serve, r"Wyoming request from \S+ failed")
    assert f"from [::1]:{port} failed" in line, line

    base = f"http://[::1]:{http}"
    with httpx.Client(base_url=base, timeout=30) as client:
        spoken = client.post("/v1/audio/speech", json={"model": "tone", "voice": "beep", "input": "Hi.", "keep": True})
        assert spoken.status_code == 200, spoken.text
        job_id = spoken.headers["x-voxhost-job"]
        wait_for(lambda: client.get(f"/v1/outputs/{job_id}").status_code == 200, 10)
        deleted = client.post("/v1/outputs/delete", json={"ids": [job_id], "confirm": True})
        assert deleted.json()["deleted"] == [job_id], deleted.text
    line = _logged(serve, r"Deleted 1 stored output\(s\) for ")
    assert re.search(rf"for {PEER}$", line.rstrip()), line
    assert not any(re.search(r"(?<!\[)::1:\d", line) for line in serve.log), "".join(serve.log)
