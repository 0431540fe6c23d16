"""A real ``voxhost serve`` speaking with Piper sends nothing home: ONNX Runtime's telemetry never starts, in the
daemon or in an engine's worker process, and nothing is written to the user's home directory."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from voxhost.no_telemetry import OPT_OUTS

from .conftest import ServeProcess, assert_speech, free_port, wyoming_config, wyoming_speak

ORT_TELEMETRY_STORE = Path(".cache", "Microsoft", "DeveloperTools", ".onnxruntime")
"""Where ONNX Runtime's telemetry keeps its device id and event database, under the home directory."""


@pytest.mark.parametrize("mode", ["thread", "worker"])
def test_serving_speech_starts_no_telemetry_and_writes_nothing_home(tmp_path: Path, mode: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    config = wyoming_config(tmp_path, port, tables=f'[engines.piper]\nmode = "{mode}"\n')
    env = {**os.environ, "HOME": str(home), "HF_HUB_OFFLINE": "1"}
    for name in ("XDG_CACHE_HOME", "VOXHOST_LOAD_PLUGINS", *OPT_OUTS):  # as a user's shell would have it
        env.pop(name, None)
    serve = ServeProcess(config, env)
    try:
        serve.wait_ready(120)
        pcm, rate = asyncio.run(wyoming_speak(port, "Good evening. The lights are off."))
        assert_speech(pcm, rate, 1.0, 4.0)
        # ONNX Runtime writes its store when a session is created and sends from it every few seconds after.
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.proc.wait(timeout=60) == 0, serve.tail()
    finally:
        serve.close()
    assert not (home / ORT_TELEMETRY_STORE).exists(), sorted(str(p) for p in (home / ORT_TELEMETRY_STORE).iterdir())
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []
