"""The voice lab's speech-to-text in headless Chromium: the Clone tab's transcript fills in from the sample (and
stays editable), and the Dictate card transcribes the microphone. Chromium's fake microphone plays a WAV of Piper
speech, so what the page hears is checked against what was said."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voxhost.operations import SpeechRequest

from ..conftest import make_settings, running_daemon
from ..listener import wer
from .conftest import API_KEY, DESKTOP, LAUNCH_ARGS, PHONE, base_url, chromium, open_page, ready, screenshot

pytestmark = pytest.mark.browser

SAMPLE = "Welcome home. The front door is unlocked and the lights are on."
DICTATED = "Please turn on the kitchen lights."


def write_wav(path: Path, pcm: bytes, rate: int, pad_seconds: float = 0.0) -> Path:
    pad = b"\0\0" * int(rate * pad_seconds)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pad + pcm + pad * 8)
    return path


@pytest.fixture(scope="module")
def daemon(tmp_path_factory) -> Iterator[Any]:
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        engines={"whisper": {"enabled": True}},
        http={"enabled": True, "port": 0, "api_key": API_KEY},
    )
    with running_daemon(settings) as d:
        yield d


@pytest.fixture(scope="module")
def microphone(daemon, tmp_path_factory) -> Path:
    """What Chromium's fake microphone plays: half a second of silence, the sentence, then silence."""
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text=DICTATED, door="test")))
    return write_wav(tmp_path_factory.mktemp("mic") / "mic.wav", pcm, rate, pad_seconds=0.5)


@pytest.fixture(scope="module")
def browser(microphone) -> Iterator[Any]:
    """Headless Chromium whose fake microphone plays ``microphone``."""
    with chromium([*LAUNCH_ARGS, f"--use-file-for-fake-audio-capture={microphone}%noloop"]) as launched:
        yield launched


def open_ready_page(browser: Any, url: str, viewport: dict[str, int] = DESKTOP, view: str = "") -> Any:
    """A fresh page under its own Content-Security-Policy, once it has loaded its engines and voices."""
    page = open_page(browser, url, viewport, view=view, test_scripts=False)
    ready(page)
    return page


@pytest.fixture
def page_for(browser, daemon) -> Iterator[Any]:
    pages: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP, view: str = "") -> Any:
        page = open_ready_page(browser, base_url(daemon), viewport, view)
        page.wait_for_selector("body[data-transcribe='ready']", timeout=20000)
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.context.close()


def test_the_clone_transcript_fills_in_from_an_uploaded_sample(page_for, daemon, tmp_path):
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text=SAMPLE, door="test")))
    sample = write_wav(tmp_path / "welcome.wav", pcm, rate)
    page = page_for(DESKTOP, view="clone")
    page.fill("#clone-name", "Walker")
    page.set_input_files("#clone-file", str(sample))
    page.wait_for_selector("#clone-transcript[data-state='heard']", timeout=60000)
    heard = page.input_value("#clone-transcript")
    assert wer(SAMPLE, heard) <= 0.1, heard
    assert "Heard in the sample" in page.locator("#clone-transcript-status").inner_text()
    screenshot(page, "clone-transcript-desktop")
    # Editable: the user's correction is what is stored.
    page.fill("#clone-transcript", "Welcome home! The front door is unlocked, and the lights are on.")
    page.click("#clone-save")
    item = page.locator("#library li.voice", has_text="Walker")
    item.wait_for(timeout=30000)
    stored = daemon.core.library.get(item.get_attribute("data-voice"))
    assert stored.transcript == "Welcome home! The front door is unlocked, and the lights are on."
    assert not page.errors


def test_words_typed_first_are_not_replaced(page_for, daemon, tmp_path):
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text=SAMPLE, door="test")))
    page = page_for(DESKTOP, view="clone")
    page.fill("#clone-transcript", "My own words.")
    page.set_input_files("#clone-file", str(write_wav(tmp_path / "walk.wav", pcm, rate)))
    # The player's new source is what makes the page decide (at once, before any request) whether to listen.
    page.wait_for_selector("#clone-sample[src]", state="attached", timeout=10000)
    assert page.get_attribute("#clone-transcript", "data-state") is None, "the sample was sent to be transcribed"
    assert page.input_value("#clone-transcript") == "My own words."


def test_dictation_shows_what_the_microphone_heard(page_for):
    page = page_for(DESKTOP)
    page.click("#dictate-record")
    page.wait_for_selector("#dictate-record[aria-pressed='true']")
    page.wait_for_timeout(4000)  # the fake microphone's sentence is about two seconds, after half a second
    page.click("#dictate-record")
    page.wait_for_selector("#dictate[data-state='done'], #dictate[data-state='failed']", timeout=60000)
    assert page.get_attribute("#dictate", "data-state") == "done", page.inner_text("#dictate-status")
    heard = page.input_value("#dictate-text")
    assert wer(DICTATED, heard) <= 0.1, heard
    screenshot(page, "dictate-desktop")
    page.set_viewport_size(PHONE)
    width = page.evaluate("innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator("#dictate-record").bounding_box()
    assert box and box["x"] + box["width"] <= width and box["height"] >= 24
    screenshot(page, "dictate-phone")
    assert not page.errors


def test_without_a_recognizer_nothing_is_offered(browser, tmp_path):
    settings = make_settings(tmp_path / "state", http={"enabled": True, "port": 0, "api_key": API_KEY})
    with running_daemon(settings) as d:
        page = open_ready_page(browser, base_url(d))
        try:
            page.wait_for_timeout(500)
            assert page.locator("#dictate").count() == 0
            assert page.locator("#clone-transcript-status").count() == 0
            assert page.get_attribute("body", "data-transcribe") is None
            assert not page.errors
        finally:
            page.context.close()
