"""The daemon's memory after hostile but legal requests: long emoji, digit and markup-only texts, some of them
spoken as written. The bound here is generous (the shared test machine is noisy); bench/spoken_memory.py measures
the figure that docs/text.md states."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from ..conftest import free_port

pytestmark = pytest.mark.slow

BOUND_MIB = 800
"""Measured 330-400 MiB after the bench's hostile mix; the documented bound is 600 MiB."""

HOSTILE = [
    ("🎉👍🔥😀" * 25, False),  # 100 emoji as written: one 53 s "sentence" before the length bound
    ("🎉👍🔥😀" * 25, True),
    ("---\n| | |\n|---|---|\n" + "> ** ~~ ~~ **\n" * 100 + "```\n" + "x = 1\n" * 300 + "```", True),  # markup only
    ("1234567890 " * 20, False),
    ("word " * 600, False),
]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_rss_returns_under_the_bound_after_hostile_requests(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VOXHOST_STATE_DIR": str(tmp_path),
        "VOXHOST_DOORS__HTTP__PORT": str(port),
        "VOXHOST_DOORS__HTTP__MAX_INPUT_CHARS": "8000",
        "VOXHOST_ENGINES__PIPER__TRIM_IDLE_SECONDS": "1",  # the trim below, without waiting out the default 10 s
    }
    env.pop("VOXHOST_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxhost", "serve", "--no", "wyoming", "--no", "mqtt"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 90
        while "Ready:" not in proc.stderr.readline():
            assert proc.poll() is None and time.monotonic() < deadline, "the daemon did not start"
        url = f"http://127.0.0.1:{port}/v1/audio/speech"
        seconds = []
        with httpx.Client(timeout=300) as client:
            for text, normalize in HOSTILE:
                body = {"input": text, "response_format": "pcm", "normalize": normalize}
                reply = client.post(url, json=body)
                assert reply.status_code == 200, reply.text
                seconds.append(len(reply.content) / 2 / 24000)
        # The engine gives memory back once it has been idle for trim_idle_seconds (1 s here, 10 s by default).
        settled = time.monotonic() + 45
        while (after := rss_mib(proc.pid)) >= BOUND_MIB and time.monotonic() < settled:
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(30)
    assert seconds[0] > 30, "the emoji, as written, were spoken (in bounded sentences)"
    # Nothing to say is answered with the door's 0.1 s of silence (docs/http.md), not a word.
    assert seconds[1] <= 0.1 and seconds[2] <= 0.1, "emoji and markup alone say nothing"
    assert after < BOUND_MIB, f"RSS {after:.0f} MiB after the hostile mix"
