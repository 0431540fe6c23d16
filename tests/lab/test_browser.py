"""The voice lab in headless Chromium against a running daemon: try, clone, watch, the API key, and layout."""

from __future__ import annotations

import asyncio
import io
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize

from voxhost.operations import SpeechRequest

from .conftest import API_KEY, DESKTOP, PHONE, finished_job_row, ready, screenshot

pytestmark = pytest.mark.browser

TEXT = (
    "Good evening! The kitchen lights are on. Dinner will be ready in ten minutes. "
    "Would you like some music while you wait?"
)


def check_layout(page: Any, controls: list[str]) -> None:
    """No sideways scrolling, and every given control visible, inside the viewport's width and not overlapping."""
    width = page.evaluate("innerWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll} px wide in a {width} px viewport"
    boxes = {}
    for selector in controls:
        locator = page.locator(selector).first
        assert locator.is_visible(), f"{selector} is not visible"
        box = locator.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, f"{selector}: {box}"
        assert box["width"] >= 24 and box["height"] >= 24, f"{selector} is too small to use: {box}"
        boxes[selector] = box
    items = list(boxes.items())
    for i, (a, ba) in enumerate(items):
        for b, bb in items[i + 1 :]:
            overlap_x = min(ba["x"] + ba["width"], bb["x"] + bb["width"]) - max(ba["x"], bb["x"])
            overlap_y = min(ba["y"] + ba["height"], bb["y"] + bb["height"]) - max(ba["y"], bb["y"])
            assert overlap_x <= 1 or overlap_y <= 1, f"{a} and {b} overlap"


def speech_fixture(lab: Any, path: Path) -> Path:
    """A WAV file of real speech (the bundled Piper voice), as a user would upload."""
    pcm, rate = lab.call(
        lab.core.speak(
            SpeechRequest(
                text="It is a lovely day for a walk in the park.", voice="piper:en_US-joe-medium", door="test"
            )
        )
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return path


def wait_for_audio(page: Any, result: str, player: str) -> float:
    """Wait for a finished stream and return the duration of the audio element it filled."""
    page.wait_for_selector(f"{result}[data-state='done'], {result}[data-state='failed']", timeout=60000)
    assert page.locator(result).get_attribute("data-state") == "done", page.locator(result).inner_text()
    page.wait_for_function(f"document.querySelector('{player}').duration > 0", timeout=10000)
    return float(page.evaluate(f"document.querySelector('{player}').duration"))


def test_try_streams_plays_and_downloads(page_for, tmp_path):
    page = page_for(DESKTOP)
    ready(page)
    assert page.locator("#voice optgroup[label='piper · en_US']").count() == 1
    page.select_option("#voice", "piper:en_US-joe-medium")
    page.fill("#text", TEXT)
    page.locator("#options summary").click()
    page.fill("#opt-noise_scale", "0.5")
    page.click("#speak")
    duration = wait_for_audio(page, "#try-result", "#player")
    assert duration > 1.0
    result = page.locator("#try-result")
    first, total = float(result.get_attribute("data-first-audio")), float(result.get_attribute("data-total"))
    assert first < total, "the first sentence should play before the whole text is made"
    # The audio element plays what was streamed.
    page.evaluate("document.querySelector('#player').play()")
    page.wait_for_function("document.querySelector('#player').currentTime > 0.2", timeout=10000)
    with page.expect_download() as info:
        page.click("#download")
    saved = tmp_path / "speech.wav"
    info.value.save_as(saved)
    samples, rate = soundfile.read(saved, dtype="float32")
    assert rate == 24000 and abs(samples.size / rate - duration) < 0.05
    assert float(np.sqrt(np.mean(samples**2))) > 0.01
    check_layout(page, ["#voice", "#text", "#speed", "#language", "#speak", "#stop", "#player", "#download"])
    screenshot(page, "try-desktop")
    assert not page.errors


def test_try_on_a_phone(page_for):
    page = page_for(PHONE)
    ready(page)
    page.fill("#text", "Hello from a phone.")
    page.click("#speak")
    assert wait_for_audio(page, "#try-result", "#player") > 0.5
    check_layout(
        page,
        [
            "#tab-try",
            "#tab-clone",
            "#tab-watch",
            "#key-button",
            "#voice",
            "#text",
            "#speed",
            "#speak",
            "#stop",
            "#player",
        ],
    )
    screenshot(page, "try-phone")
    assert not page.errors


def test_key_is_asked_once_and_kept(page_for):
    page = page_for(DESKTOP, with_key=False, test_scripts=False)  # the page under its own CSP
    dialog = page.locator("#key-dialog")
    dialog.wait_for(state="visible", timeout=10000)
    page.locator("#key-input").wait_for()
    assert page.locator("#key-input").evaluate("e => e === document.activeElement")  # type at once
    page.keyboard.type(API_KEY)
    page.keyboard.press("Enter")
    ready(page)
    page.reload()
    ready(page)
    assert not dialog.is_visible()
    page.wait_for_selector("#live.ok", timeout=10000)


def test_clone_upload_preview_and_delete(page_for, lab, tmp_path):
    fixture = speech_fixture(lab, tmp_path / "grandpa.wav")
    page = page_for(DESKTOP, view="clone")
    ready(page)
    page.fill("#clone-name", "Grandpa Joe")
    page.set_input_files("#clone-file", str(fixture))
    page.fill("#clone-transcript", "It is a lovely day for a walk in the park.")
    page.fill("#clone-language", "en")
    page.click("#clone-save")
    item = page.locator("#library li.voice", has_text="Grandpa Joe")
    item.wait_for(timeout=15000)
    voice_id = item.get_attribute("data-voice")
    assert voice_id and voice_id.startswith("voice_grandpa_joe")
    assert "Saved" in page.locator("#clone-status").inner_text()
    # Every door sees it: the voice list of the Try view, and Wyoming's describe.
    page.wait_for_selector(f"#voice option[value='pitchshift:{voice_id}']", state="attached", timeout=10000)
    assert f"pitchshift:{voice_id}" in wyoming_voice_names(lab)
    item.get_by_role("button", name="Preview Grandpa Joe").click()
    assert wait_for_audio(page, "#preview-result", "#preview-player") > 1.0
    check_layout(page, ["#clone-name", "#clone-file", "#record", "#clone-transcript", "#clone-language", "#clone-save"])
    screenshot(page, "clone-desktop")
    page.set_viewport_size(PHONE)
    check_layout(page, ["#tab-clone", "#clone-name", "#record", "#clone-save"])
    screenshot(page, "clone-phone")
    page.set_viewport_size(DESKTOP)
    page.once("dialog", lambda d: d.accept())
    item.get_by_role("button", name="Delete Grandpa Joe").click()
    item.wait_for(state="detached", timeout=10000)
    assert voice_id not in {v.voice for v in lab.core.voices()}
    assert not page.errors


def test_clone_from_the_microphone(page_for, lab):
    page = page_for(DESKTOP, view="clone")  # Chromium's fake microphone: a beeping tone
    ready(page)
    page.fill("#clone-name", "Beeper")
    page.click("#record")
    page.wait_for_selector("#record[aria-pressed='true']")
    page.wait_for_timeout(2500)
    page.click("#record")
    page.wait_for_selector("#clone-sample:not([hidden])", timeout=10000)
    assert "Recorded" in page.locator("#record-status").inner_text()
    page.click("#clone-save")
    item = page.locator("#library li.voice", has_text="Beeper")
    item.wait_for(timeout=15000)
    voice = lab.core.library.get(item.get_attribute("data-voice"))
    assert 1.0 <= voice.seconds <= 4.0  # the recording, decoded from the browser's WebM
    page.once("dialog", lambda d: d.accept())
    item.get_by_role("button", name="Delete Beeper").click()
    item.wait_for(state="detached", timeout=10000)
    assert not page.errors


def test_clone_refusal_is_shown(page_for):
    page = page_for(DESKTOP, view="clone")
    ready(page)
    page.fill("#clone-name", "Too short")
    page.set_input_files(
        "#clone-file",
        files=[{"name": "short.wav", "mimeType": "audio/wav", "buffer": _wav(np.zeros(8000, dtype=np.float32), 16000)}],
    )
    page.click("#clone-save")
    page.wait_for_selector("#clone-status.bad", timeout=10000)
    assert "Not saved" in page.locator("#clone-status").inner_text()


def test_watch_shows_jobs_engines_and_pulls(page_for, lab):
    page = page_for(DESKTOP, view="watch")
    ready(page)
    page.wait_for_selector("#live.ok", timeout=10000)
    piper = page.locator("article.engine[data-engine='piper']")
    piper.wait_for(timeout=10000)
    # A job from another client (the openai library) shows up with its figures.
    row = finished_job_row(page, lab, "The garage door is closed. Good night.")
    assert row.locator(".door").inner_text() == "http"
    assert row.locator(".ttfa").inner_text().endswith(" s")
    assert float(row.locator(".rtf").inner_text()) > 0
    # And one from Home Assistant's door.
    answers = wyoming(lab, Synthesize(text="The front door is locked.").event())
    assert answers[-1].type == "audio-stop"
    page.locator("#jobs tr", has=page.locator("td.door", has_text="wyoming")).locator(".state-finished").wait_for(
        timeout=15000
    )
    # Unload and load from the page.
    piper.get_by_role("button", name="Unload Piper", exact=True).click()
    piper.locator(".badge", has_text="not loaded").wait_for(timeout=15000)
    page.locator("article.engine[data-engine='piper']").get_by_role("button", name="Load Piper", exact=True).click()
    page.locator("article.engine[data-engine='piper'] .badge.ok").wait_for(timeout=30000)
    # A pull that cannot succeed here reports its failure live.
    model = page.locator("li[data-model='modelled/vocoder']")
    model.wait_for(timeout=10000)
    model.get_by_role("button", name="Pull modelled vocoder").click()
    model.locator(".msg.bad").wait_for(timeout=15000)
    assert "offline" in model.locator(".msg").inner_text()
    # Piper's voice catalog is fetched by the daemon when the page lists its models; offline, the card says why.
    catalog = piper.locator("[data-models='piper'] .hint")
    catalog.wait_for(timeout=10000)
    assert "Cannot list models" in catalog.inner_text() and "offline" in catalog.inner_text()
    check_layout(page, ["#tab-watch", "article.engine[data-engine='piper'] [data-action='load']", "#jobs"])
    screenshot(page, "watch-desktop")
    page.set_viewport_size(PHONE)
    check_layout(page, ["#tab-watch", "article.engine[data-engine='piper'] [data-action='unload']", "#jobs"])
    screenshot(page, "watch-phone")
    assert not page.errors


def test_tabs_work_from_the_keyboard(page_for):
    page = page_for(DESKTOP)
    ready(page)
    page.focus("#tab-try")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-clone"
    assert page.locator("#view-clone").is_visible() and not page.locator("#view-try").is_visible()
    page.keyboard.press("End")
    assert page.locator("#view-watch").is_visible()
    # Every form control has a label.
    unlabelled = page.evaluate("""[...document.querySelectorAll('input, select, textarea')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id)""")
    assert unlabelled == []


def _wav(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def wyoming(lab: Any, *events: Any) -> list[Any]:
    """Send events to the Wyoming door and read its answers up to ``info`` or ``audio-stop``.

    On its own thread: Playwright's sync API keeps an event loop on the test's thread.
    """

    async def talk() -> list[Any]:
        answers = []
        async with AsyncTcpClient("127.0.0.1", lab.wyoming_port) as client:
            for event in events:
                await client.write_event(event)
            while True:
                answer = await asyncio.wait_for(client.read_event(), 30)
                assert answer is not None, "the Wyoming door closed the connection"
                answers.append(answer)
                if answer.type in ("info", "audio-stop", "error"):
                    return answers

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, talk()).result(60)


def wyoming_voice_names(lab: Any) -> set[str]:
    """Voice names in the Wyoming door's ``describe`` answer."""
    info = Info.from_event(wyoming(lab, Describe().event())[-1])
    return {voice.name for program in info.tts for voice in program.voices}
