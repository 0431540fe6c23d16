"""Long text in the voice lab: a text longer than the daemon takes, pasted into the Try tab, is refused with the
limit rather than cut short without a word (the text box held only its first 4096 characters, whatever the daemon's
limit); and a message quoting one long word that was typed wraps on a phone rather than widening the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import DESKTOP, PHONE, ready
from .test_browser import check_layout, speech_fixture

pytestmark = pytest.mark.browser


def test_a_text_over_the_limit_is_refused_with_the_limit(page_for: Any) -> None:
    page = page_for(DESKTOP)
    ready(page)
    text = "The kitchen lights are on. " * 200  # 5400 characters; the daemon takes 4096 (http.max_input_chars)
    page.fill("#text", text)
    assert page.locator("#text").input_value() == text  # all of it, as pasted
    page.click("#speak")
    page.wait_for_selector("#try-result[data-state='done'], #try-result[data-state='failed']", timeout=30000)
    status = page.locator("#try-status").inner_text()
    assert page.locator("#try-result").get_attribute("data-state") == "failed", status
    assert f"input is {len(text)} characters long; the maximum is 4096" in status
    assert not page.errors


def test_a_message_quoting_a_long_word_wraps_on_a_phone(page_for: Any, lab: Any, tmp_path: Path) -> None:
    page = page_for(PHONE, view="clone")
    ready(page)
    page.fill("#clone-name", "Long word")
    page.set_input_files("#clone-file", str(speech_fixture(lab, tmp_path / "sample.wav")))
    page.fill("#clone-language", "z" * 200)  # a cat on the keyboard
    page.click("#clone-save")
    page.wait_for_selector("#clone-status.bad", timeout=20000)
    assert "invalid language 'zzz" in page.locator("#clone-status").inner_text()
    check_layout(page, ["#clone-name", "#clone-language", "#clone-save", "#clone-status"])
    page.click("#tab-try")
    page.fill("#language", "q" * 200)
    page.click("#speak")
    page.wait_for_selector("#try-result[data-state='failed']", timeout=30000)
    assert "invalid language 'qqq" in page.locator("#try-status").inner_text()
    check_layout(page, ["#language", "#speak", "#try-status"])
    assert not page.errors


def test_a_text_with_nothing_to_say_says_so(page_for: Any) -> None:
    page = page_for(DESKTOP)
    ready(page)
    page.select_option("#voice", "piper:en_US-joe-medium")
    page.fill("#text", "🎉🎉🎉 !!!")  # the daemon answers 200 with 0.1 s of silence, and says so in a header
    page.click("#speak")
    page.wait_for_selector("#try-result[data-state='done'], #try-result[data-state='failed']", timeout=30000)
    assert page.locator("#try-result").get_attribute("data-state") == "done"
    assert "Nothing to say" in page.locator("#try-status").inner_text()  # was "0.0 s of audio … after – s"
    assert page.locator("#download").is_hidden()  # no empty WAV offered
    assert not page.errors
