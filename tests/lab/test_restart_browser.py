"""The voice lab while the daemon restarts under it: the live feed comes back on its own, and a job that was
running when the daemon stopped does not stay "running" in the Watch tab for good."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from ..conftest import free_port, make_settings, running_daemon
from .conftest import API_KEY, DESKTOP, open_page, ready

pytestmark = pytest.mark.browser

LONG = "The kitchen lights are on, and dinner will be ready in ten minutes. " * 60
"""Long enough for Piper to be still speaking when the daemon stops."""


def settings(state: Path, port: int) -> Any:
    """The HTTP door with an API key on a fixed port, so the restarted daemon answers at the same address."""
    return make_settings(state, http={"enabled": True, "port": port, "api_key": API_KEY})


def speak_until_cut(url: str) -> threading.Thread:
    """A long speech request from another client, read until the daemon cuts it off."""

    def run() -> None:
        body = {"model": "tts-1", "voice": "alloy", "input": LONG, "response_format": "pcm"}
        headers = {"Authorization": f"Bearer {API_KEY}"}
        try:
            with httpx.stream("POST", url + "/v1/audio/speech", json=body, headers=headers, timeout=60) as answer:
                for _ in answer.iter_bytes():
                    pass
        except httpx.HTTPError:
            pass  # cut off by the stop, as expected

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_the_live_feed_comes_back_after_a_restart(browser: Any, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_daemon(settings(tmp_path / "state", port)):
        page = open_page(browser, url, DESKTOP, view="watch")
        try:
            ready(page)
            page.wait_for_selector("#live.ok", timeout=10000)
            talker = speak_until_cut(url)
            running = page.locator("#jobs td.state-running")
            running.wait_for(timeout=20000)
            job = running.locator("xpath=..").get_attribute("data-job")
        except BaseException:
            page.context.close()
            raise
    try:
        talker.join(30)
        page.wait_for_selector("#live.bad, #live.warn", timeout=10000)
        with running_daemon(settings(tmp_path / "state", port)):
            # It reconnected by itself (it stayed "offline" with "the server is stopping" until a reload).
            page.wait_for_selector("#live.ok", timeout=30000)
            assert page.locator("#notice").is_hidden(), page.locator("#notice").inner_text()
            # The job's end was missed while the feed was away; the new daemon does not know it.
            state = page.locator(f"#jobs tr[data-job='{job}'] td.state")
            state.locator("xpath=self::*[not(contains(@class, 'state-running'))]").wait_for(timeout=10000)
            assert state.inner_text() == "unknown"
            assert "restarted" in (state.get_attribute("title") or "")
            assert not page.errors
    finally:
        page.context.close()
