"""The voice lab's fixtures: a running daemon with an API key and a cloning engine, and headless Chromium.

Chromium is Debian's ``chromium`` package (scripts/test installs it), driven by Playwright's Python API with
``executable_path``; Playwright's own browser downloads are never used. Screenshots go to ``artifacts/lab/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import REPO, free_port, make_settings, running_daemon

API_KEY = "lab-secret"
CHROMIUM = os.environ.get("VOXHOST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "artifacts" / "lab"
PLUGINS = [REPO / "tests" / "plugins" / "http" / "pitchshift.py", REPO / "tests" / "lab" / "plugins" / "modelled.py"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def lab_settings(state: Path, plugins: Path, wyoming_port: int) -> Any:
    """HTTP with an API key, Wyoming, and the engines Piper, pitchshift (clones) and modelled (no model)."""
    plugins.mkdir(parents=True, exist_ok=True)
    for plugin in PLUGINS:
        shutil.copy(plugin, plugins / plugin.name)
    return make_settings(
        state,
        plugins_dirs=[str(plugins)],
        http={"enabled": True, "port": 0, "api_key": API_KEY},
        wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{wyoming_port}"], "zeroconf": False},
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A running daemon for the lab tests."""
    root = tmp_path_factory.mktemp("lab")
    port = free_port()
    with running_daemon(lab_settings(root / "state", root / "plugins", port)) as d:
        d.wyoming_port = port
        yield d


def http_door(d: Any) -> Any:
    """The daemon's HTTP door."""
    return next(door for door in d.core.doors if door.name == "http")


def base_url(d: Any) -> str:
    """The HTTP door's root URL."""
    return f"http://127.0.0.1:{http_door(d).port}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium; fails (not skips) with what to install when it is missing.

    Module-scoped: Playwright's sync API holds an event loop on the test thread while it is open, which would
    break the asyncio tests that run after these.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does), or set VOXHOST_CHROMIUM")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: pip install -e '.[test]'")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_for(browser: Any, lab: Any) -> Iterator[Any]:
    """A factory of fresh pages (own storage) at a viewport size, with the API key already given unless asked."""
    contexts = []

    def open_page(
        viewport: dict[str, int] = DESKTOP, with_key: bool = True, view: str = "", test_scripts: bool = True
    ) -> Any:
        # test_scripts: the tests' own waits evaluate strings, which the page's Content-Security-Policy forbids.
        context = browser.new_context(
            viewport=viewport,
            base_url=base_url(lab),
            permissions=["microphone"],
            is_mobile=viewport is PHONE,
            has_touch=viewport is PHONE,
            bypass_csp=test_scripts,
        )
        contexts.append(context)
        if with_key:
            context.add_init_script(f"localStorage.setItem('voxhost.api_key', {API_KEY!r})")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors  # type: ignore[attr-defined]
        page.goto("/" + (f"#{view}" if view else ""))
        return page

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as an artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header belongs at the top of a full-page shot
    page.screenshot(path=str(path), full_page=True)
    return path
