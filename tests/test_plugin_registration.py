"""Plugins that register something wrong, met as users meet them: ``voxhost plugins`` and the HTTP door."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import httpx2 as httpx

from .conftest import REPO, free_port, make_settings, running_daemon

MISREGISTERED = str(REPO / "tests" / "plugins_misregistered")


def test_plugins_command_lists_a_plugin_that_registers_no_engine_as_failed(tmp_path):
    # The registration hooks did not run, so the plugin was listed as fine; serve then stopped with a traceback.
    config = tmp_path / "voxhost.toml"
    config.write_text(f"plugins_dirs = [{MISREGISTERED!r}]\n")
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "plugins", "-c", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, "VOXHOST_STATE_DIR": str(tmp_path / "state")},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and failed[0].startswith("FAILED not_an_engine (directory): hook register_engines raised")
    assert "register() takes a voxhost.Engine subclass" in failed[0]


def test_the_daemon_serves_beside_plugins_that_register_wrong_engines_or_voices(state_dir, caplog):
    # A class that is no Engine, or an engine whose voices() raised, stopped the daemon's start with a traceback.
    port = free_port()
    settings = make_settings(state_dir, plugins_dirs=[MISREGISTERED], http={"enabled": True, "port": port})
    url = f"http://127.0.0.1:{port}/v1"
    with caplog.at_level(logging.ERROR), running_daemon(settings) as daemon:
        voices = [v["id"] for v in httpx.get(f"{url}/audio/voices", timeout=10).json()["voices"]]
        assert "piper:en_US-joe-medium" in voices and "stringvoices:ok" in voices
        assert not [v for v in voices if v.startswith("raisingvoices:")]
        body = {"model": "tts-1", "input": "Hello there.", "response_format": "wav"}
        assert httpx.post(f"{url}/audio/speech", json={**body, "voice": "alloy"}, timeout=60).status_code == 200
        assert (
            httpx.post(f"{url}/audio/speech", json={**body, "voice": "stringvoices:ok"}, timeout=60).status_code == 200
        )
        missing = httpx.post(f"{url}/audio/speech", json={**body, "voice": "raisingvoices:x"}, timeout=60)
        assert missing.status_code == 400 and missing.json()["error"]["code"] == "voice_not_found"
        assert [f.name for f in daemon.plugins.failures] == ["not_an_engine"]
    logged = [r.getMessage() for r in caplog.records]
    assert sum("Engine raisingvoices: voices() raised RuntimeError: no voices today" in m for m in logged) == 1
    assert sum("Engine stringvoices: voices() 1 of them not a usable VoiceInfo" in m for m in logged) == 1
