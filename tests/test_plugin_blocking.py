"""A plugin that blocks the event loop in a hook called there, met by clients of the HTTP door."""

from __future__ import annotations

import logging
import threading
import time

import httpx2 as httpx

from .conftest import REPO, free_port, make_settings, running_daemon

BLOCKING = str(REPO / "tests" / "plugins_blocking")


def _speak(port: int) -> httpx.Response:
    body = {"model": "tts-1", "input": "The door is open.", "voice": "alloy", "response_format": "wav"}
    return httpx.post(f"http://127.0.0.1:{port}/v1/audio/speech", json=body, timeout=60)


def test_a_plugin_blocking_the_event_loop_is_named_and_disabled(state_dir, caplog):
    # Its 1.5 s sleep on every event held every door: each request took seconds more, a health check waited
    # behind it, and nothing named the plugin.
    port = free_port()
    settings = make_settings(state_dir, plugins_dirs=[BLOCKING], http={"enabled": True, "port": port})
    with caplog.at_level(logging.WARNING), running_daemon(settings) as daemon:
        assert _speak(port).status_code == 200
        disabled = [r.getMessage() for r in caplog.records if "Plugin sleepy_observer" in r.getMessage()]
        assert len(disabled) == 1 and "disabled" in disabled[0] and "observe_event held the event loop" in disabled[0]
        assert [f.name for f in daemon.plugins.failures] == ["sleepy_observer"]

        answered: list[float] = []
        speaking = threading.Thread(target=lambda: answered.append(_speak(port).status_code))
        started = time.monotonic()
        speaking.start()
        while speaking.is_alive():
            asked = time.monotonic()
            assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
            assert time.monotonic() - asked < 1.0, "the health check waited behind a plugin"
            time.sleep(0.05)
        speaking.join()
        assert answered == [200] and time.monotonic() - started < 5

    slow = [r.getMessage() for r in caplog.records if "Plugin dawdling_observer" in r.getMessage()]
    assert len(slow) == 1 and "held the event loop for 0.1" in slow[0], slow  # warned once, kept
    assert "dawdling_observer" not in [f.name for f in daemon.plugins.failures]
