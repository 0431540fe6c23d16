"""Pressing twice in the voice lab: a second preview started while the first is still on its way is the one shown,
and the first one's end (stopped) does not mark it stopped or failed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from .conftest import API_KEY, DESKTOP, Requests, base_url, ready
from .test_browser import speech_fixture

pytestmark = pytest.mark.browser


def clone(lab: Any, name: str, sample: Path) -> str:
    """A voice stored through the API, as another client would; its id."""
    with sample.open("rb") as audio:
        answer = httpx.post(
            base_url(lab) + "/v1/audio/voices",
            headers={"Authorization": f"Bearer {API_KEY}"},
            data={"name": name, "transcript": "It is a lovely day for a walk in the park.", "language": "en"},
            files={"audio_sample": (sample.name, audio, "audio/wav")},
            timeout=30,
        )
    answer.raise_for_status()
    return str(answer.json()["id"])


def slow_network(page: Any, latency_ms: int) -> None:
    """Every request of the page takes ``latency_ms`` more (Chromium's network emulation), so that a second press
    comes while the first answer is still on its way, however fast the engine."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1},
    )


def stopped_on_its_way(request: Any) -> bool:
    """Whether ``request`` was aborted before any answer came (not cancelled once answered)."""
    return bool(request.failure) and request.response() is None


def test_a_second_preview_is_not_marked_stopped_by_the_first(page_for: Any, lab: Any, tmp_path: Path) -> None:
    sample = speech_fixture(lab, tmp_path / "sample.wav")
    first, second = "Twice Alpha", "Twice Beta"
    ids = {name: clone(lab, name, sample) for name in (first, second)}
    page = page_for(DESKTOP, view="clone")
    ready(page)
    page.get_by_role("button", name=f"Preview {second}").wait_for(timeout=10000)
    speech = Requests(page, "/v1/audio/speech")
    slow_network(page, 1000)
    page.get_by_role("button", name=f"Preview {first}").click()
    page.get_by_role("button", name=f"Preview {second}").click()
    result, status = page.locator("#preview-result"), page.locator("#preview-status")
    # While the second is on its way, it is not reported stopped (the first one's end said "Stopped." in red).
    speech.wait_ended(speech.started[0])
    assert stopped_on_its_way(speech.started[0]), "the first answer came before the second press"
    assert result.get_attribute("data-state") == "requesting", status.inner_text()
    page.wait_for_selector("#preview-result[data-state='done'], #preview-result[data-state='failed']", timeout=30000)
    assert result.get_attribute("data-state") == "done", status.inner_text()
    assert "bad" not in (status.get_attribute("class") or ""), status.inner_text()
    # A third press stops the second one for good: its late end does not take the player over.
    page.get_by_role("button", name=f"Preview {first}").click()
    page.get_by_role("button", name=f"Preview {second}").click()
    page.get_by_role("button", name=f"Preview {first}").click()
    speech.wait_ended(speech.started[-2])
    assert stopped_on_its_way(speech.started[-2]), "the third press did not stop the second"  # the abort was dropped
    assert result.get_attribute("data-state") == "requesting", status.inner_text()
    page.wait_for_selector("#preview-result[data-state='done']", timeout=30000)
    speech.wait_ended(None)  # a second answer still on its way would arrive by then
    job = status.inner_text().rsplit("job ", 1)[-1]
    answer = httpx.get(base_url(lab) + f"/v1/jobs/{job}", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
    assert answer.json()["voice"].endswith(ids[first]), answer.json()
    assert "bad" not in (status.get_attribute("class") or ""), status.inner_text()
    assert not page.errors


def test_stop_stays_usable_while_the_second_audio_plays(page_for: Any) -> None:
    page = page_for(DESKTOP)
    ready(page)
    page.select_option("#voice", "piper:en_US-joe-medium")
    # The page's timers on a clock the test moves (the audio plays on the real one): the end of the first audio
    # comes after the second is made, however fast the engine, and is not waited for.
    page.clock.install()
    page.clock.pause_at(time.time() + 1)
    page.fill("#text", "The first text.")
    page.click("#speak")
    page.wait_for_selector("#try-result[data-state='done']", timeout=30000)
    first = float(page.evaluate("tryUi.player.remaining"))  # what was left to play: Stop's timer
    page.fill("#text", "A longer second text, that plays on well after the first one would have ended.")
    page.click("#speak")  # while the first still plays
    page.wait_for_selector("#try-result[data-state='done']", timeout=30000)
    second = float(page.evaluate("tryUi.player.remaining"))
    assert second > first + 1, (first, second)
    page.clock.run_for(int(first * 1000) + 500)  # past the end of the first audio, well before the second's
    assert page.locator("#stop").is_enabled()  # the first audio's end disabled it
    page.clock.run_for(int((second - first) * 1000) + 500)  # past the end of the second
    assert page.locator("#stop").is_disabled()
    assert not page.errors


def test_two_voices_cloned_with_one_name_can_be_told_apart(page_for: Any, lab: Any, tmp_path: Path) -> None:
    sample = speech_fixture(lab, tmp_path / "sample.wav")
    ids = [clone(lab, "Grandma Twin", sample) for _ in range(2)]  # a second, better recording under the same name
    page = page_for(DESKTOP)
    ready(page)
    labels = [
        page.locator(f"#voice option[value$=':{voice}']").first.inner_text() for voice in ids
    ]  # as each cloning engine offers it
    assert labels[0] != labels[1], labels
    for voice, label in zip(ids, labels, strict=True):
        assert label.startswith("Grandma Twin") and voice in label, label
    assert not page.errors


def test_engine_options_typed_stay_when_the_lists_refresh(page_for: Any, lab: Any, tmp_path: Path) -> None:
    page = page_for(DESKTOP)
    ready(page)
    page.select_option("#voice", "piper:en_US-joe-medium")
    page.click("#options summary")
    page.fill("#opt-length_scale", "1.6")  # slower
    page.focus("#opt-noise_scale")
    voice = clone(lab, "Added While Typing", speech_fixture(lab, tmp_path / "sample.wav"))
    page.locator(f"#voice option[value$=':{voice}']").first.wait_for(state="attached", timeout=10000)
    page.wait_for_timeout(300)
    assert page.locator("#opt-length_scale").input_value() == "1.6"  # it was emptied: Speak used the default
    assert page.evaluate("document.activeElement.id") == "opt-noise_scale"
    page.select_option("#voice", "piper:en_US-joe-medium")  # the same engine: still there
    assert page.locator("#opt-length_scale").input_value() == "1.6"
    assert not page.errors


def test_the_chosen_voice_deleted_elsewhere_is_said(page_for: Any, lab: Any, tmp_path: Path) -> None:
    voice = clone(lab, "Gone Soon", speech_fixture(lab, tmp_path / "sample.wav"))
    page = page_for(DESKTOP)
    ready(page)
    option = page.locator(f"#voice option[value$=':{voice}']").first
    option.wait_for(state="attached", timeout=10000)
    page.select_option("#voice", option.get_attribute("value"))
    answer = httpx.delete(
        base_url(lab) + f"/v1/audio/voices/{voice}", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    option.wait_for(state="detached", timeout=10000)
    assert voice not in page.locator("#voice").input_value()
    assert "“Gone Soon" in page.locator("#notice").inner_text()  # another voice took its place without a word
    assert not page.errors
