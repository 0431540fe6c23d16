"""The event loop a real ``voxhost serve`` runs on: uvloop by default, asyncio's own when asked for or when uvloop
cannot be imported, and a clear start-up error when uvloop is asked for and missing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ServeProcess, assert_speech, free_port, wyoming_config, wyoming_speak
from .listener import hear, wer

TEXT = "The kitchen lights are now on."


def _config(tmp_path: Path, port: int, loop: str | None) -> Path:
    return wyoming_config(tmp_path, port, settings=f'loop = "{loop}"' if loop else "")


def _env(tmp_path: Path, block_uvloop: bool) -> dict[str, str]:
    """The user's environment; ``block_uvloop``: a machine where ``import uvloop`` fails."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("VOXHOST_LOAD_PLUGINS", None)
    if block_uvloop:
        blocker = tmp_path / "no-uvloop"
        blocker.mkdir()
        (blocker / "uvloop.py").write_text('raise ImportError("no uvloop on this machine")\n')
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(blocker), env.get("PYTHONPATH")]))
    return env


@pytest.mark.parametrize(
    ("loop", "block_uvloop", "runs_on"),
    [(None, False, "uvloop"), ("asyncio", False, "asyncio"), ("auto", True, "asyncio")],
    ids=["default", "asked-for-asyncio", "auto-without-uvloop"],
)
def test_serve_speaks_on_the_loop_it_chose(tmp_path, loop, block_uvloop, runs_on):
    port = free_port()
    serve = ServeProcess(_config(tmp_path, port, loop), _env(tmp_path, block_uvloop))
    try:
        serve.wait_ready(120)
        ready = next(line for line in serve.log if "Ready" in line)
        assert ready.rstrip().endswith(f"loop: {runs_on}"), ready
        pcm, rate = asyncio.run(wyoming_speak(port, TEXT))
        assert_speech(pcm, rate, 1.0, 4.0)
        assert wer(TEXT, hear(pcm, rate)) <= 0.2
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.proc.wait(timeout=60) == 0, serve.tail()
    finally:
        serve.close()


def test_uvloop_asked_for_but_missing_is_a_clear_start_up_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "voxhost", "serve", "-c", str(_config(tmp_path, free_port(), "uvloop"))],
        env=_env(tmp_path, block_uvloop=True),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "loop = 'uvloop' but uvloop cannot be imported (no uvloop on this machine)" in done.stderr
    assert "Traceback" not in done.stderr and "never awaited" not in done.stderr
