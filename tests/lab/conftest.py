"""The voice lab's fixtures: a running daemon with an API key and a cloning engine, and headless Chromium.

Chromium is Debian's ``chromium`` package (scripts/test installs it), driven by Playwright's Python API with
``executable_path``; Playwright's own browser downloads are never used. Screenshots go to ``artifacts/lab/``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
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


@contextmanager
def chromium(args: list[str] = LAUNCH_ARGS) -> Iterator[Any]:
    """Headless Chromium launched with ``args``; fails (not skips) with what to install when it is missing."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test does), or set VOXHOST_CHROMIUM")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: pip install -e '.[test]'")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium.

    Module-scoped: Playwright's sync API holds an event loop on the test thread while it is open, which would
    break the asyncio tests that run after these.
    """
    with chromium() as launched:
        yield launched


def open_page(
    browser: Any,
    url: str,
    viewport: dict[str, int] = DESKTOP,
    with_key: bool = True,
    view: str = "",
    test_scripts: bool = True,
) -> Any:
    """A fresh page (own storage) at a viewport size, with the API key already given unless asked; its uncaught
    script errors collect in ``page.errors``. Close it with ``page.context.close()``."""
    # test_scripts: the tests' own waits evaluate strings, which the page's Content-Security-Policy forbids.
    context = browser.new_context(
        viewport=viewport,
        base_url=url,
        permissions=["microphone"],
        is_mobile=viewport is PHONE,
        has_touch=viewport is PHONE,
        bypass_csp=test_scripts,
    )
    if with_key:
        context.add_init_script(f"localStorage.setItem('voxhost.api_key', {API_KEY!r})")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto("/" + (f"#{view}" if view else ""))
    return page


@pytest.fixture
def page_for(browser: Any, lab: Any) -> Iterator[Any]:
    """A factory of pages on the lab daemon (``open_page``), closed after the test."""
    pages: list[Any] = []

    def make(
        viewport: dict[str, int] = DESKTOP, with_key: bool = True, view: str = "", test_scripts: bool = True
    ) -> Any:
        page = open_page(browser, base_url(lab), viewport, with_key, view, test_scripts)
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.context.close()


def ready(page: Any) -> None:
    """Wait until the page has loaded its engines and voices."""
    page.wait_for_selector("body[data-ready='true']", timeout=20000)


class Requests:
    """The page's requests whose URL holds ``part``, from now on, and which of them ended (answered in full, or
    failed: an aborted one)."""

    def __init__(self, page: Any, part: str) -> None:
        self.page = page
        self.started: list[Any] = []
        self.ended: list[Any] = []
        for event, seen in (("request", self.started), ("requestfinished", self.ended), ("requestfailed", self.ended)):
            page.on(event, lambda request, seen=seen: part in request.url and seen.append(request))

    def _wait(self, done: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, what()
            self.page.wait_for_timeout(20)  # Playwright hands over the page's events while it waits

    def wait_ended(self, request: Any, timeout: float = 30) -> None:
        """Wait until ``request`` (or, with None, every request started) has ended."""
        self._wait(
            lambda: request in self.ended if request else len(self.ended) >= len(self.started),
            timeout,
            lambda: f"still on their way: {set(self.started) - set(self.ended)}",
        )

    def wait_started(self, part: str, after: Any = None, timeout: float = 30) -> Any:
        """Wait for the first request whose URL holds ``part`` (started after the request ``after``, if given)."""
        found: list[Any] = []

        def started() -> bool:
            later = self.started[self.started.index(after) + 1 :] if after else self.started
            found[:] = [request for request in later if part in request.url][:1]
            return bool(found)

        self._wait(started, timeout, lambda: f"no request for {part} among {[r.url for r in self.started]}")
        return found[0]


def idle(page: Any) -> None:
    """Wait until the page's scripts have nothing left to run (``requestIdleCallback``): what the answers already
    come set off has happened (called through the DevTools protocol, so a strict Content-Security-Policy allows it)."""
    page.evaluate("() => new Promise((resolve) => requestIdleCallback(() => resolve(), { timeout: 5000 }))")


def finished_job_row(page: Any, daemon: Any, text: str) -> Any:
    """Speak ``text`` through the official ``openai`` client (another client than the page) and return the job's
    row on the Watch tab once it shows the job finished."""
    client = openai.OpenAI(base_url=base_url(daemon) + "/v1", api_key=API_KEY, max_retries=0)
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=text, response_format="wav"
    ) as response:
        job_id = response.headers["x-voxhost-job"]
        response.read()
    row = page.locator(f"#jobs tr[data-job='{job_id}']")
    row.locator(".state-finished").wait_for(timeout=15000)
    return row


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as an artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header belongs at the top of a full-page shot
    page.screenshot(path=str(path), full_page=True)
    return path
