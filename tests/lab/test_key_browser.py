"""The voice lab's API key as a careless hand pastes it: a curly quote or an invisible space (which no browser can
send in a header) is refused by the key dialog with the reason, and a key already saved with one is asked for again,
rather than every request failing with the browser's own message."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import API_KEY, DESKTOP, Requests, idle
from .test_browser import ready

pytestmark = pytest.mark.browser

PASTED = API_KEY + "\u2019"
"""The key with the curly quote a word processor or chat puts after it."""


def test_a_key_no_browser_can_send_is_refused_with_the_reason(page_for: Any) -> None:
    page = page_for(DESKTOP, with_key=False, test_scripts=False)
    page.locator("#key-dialog").wait_for(state="visible", timeout=10000)
    page.fill("#key-input", PASTED)
    page.click("#key-save")
    assert page.locator("#key-dialog").is_visible()
    assert "cannot send" in page.locator("#key-dialog .hint").inner_text()
    page.fill("#key-input", API_KEY)
    page.click("#key-save")
    ready(page)
    assert page.evaluate("localStorage.getItem('voxhost.api_key')") == API_KEY
    assert not page.errors


def test_a_saved_key_no_browser_can_send_is_asked_for_again(page_for: Any) -> None:
    page = page_for(DESKTOP, with_key=False, test_scripts=False)
    page.evaluate(f"localStorage.setItem('voxhost.api_key', {PASTED!r})")
    page.reload()
    page.locator("#key-dialog").wait_for(state="visible", timeout=10000)
    assert "cannot send" in page.locator("#key-dialog .hint").inner_text()
    page.fill("#key-input", API_KEY)
    page.click("#key-save")
    ready(page)
    assert page.locator("#voice option[value='piper:en_US-joe-medium']").count() == 1
    assert not page.errors


@pytest.mark.parametrize("dismiss", ["Escape", "Cancel"])
def test_a_dismissed_key_dialog_stays_closed_until_asked_for(page_for: Any, dismiss: str) -> None:
    page = page_for(DESKTOP, with_key=False, test_scripts=False)
    dialog = page.locator("#key-dialog")
    dialog.wait_for(state="visible", timeout=10000)
    requests = Requests(page, "/v1/")
    if dismiss == "Escape":
        page.keyboard.press("Escape")
    else:
        page.get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="hidden", timeout=5000)
    ready(page)
    # The page's other requests, and the live feed, are refused meanwhile: the feed, then the request that asks why
    # it was refused (the last one the page makes without a key), every one of them answered and acted upon.
    feed = requests.wait_started("/v1/events")
    requests.wait_started("/v1/engines", after=feed)
    requests.wait_ended(None)
    idle(page)
    assert dialog.is_hidden()  # it came back at once after Escape, for good; after Cancel, twice more
    assert "press “API key”" in page.locator("#notice").inner_text()
    page.click("#key-button")
    dialog.wait_for(state="visible", timeout=5000)
    page.keyboard.type(API_KEY)
    page.keyboard.press("Enter")
    page.locator("#voice option[value='piper:en_US-joe-medium']").wait_for(state="attached", timeout=10000)
    page.wait_for_selector("#live.ok", timeout=10000)
    assert page.locator("#notice").is_hidden()
    assert not page.errors


def test_a_forgotten_key_is_asked_for_when_a_request_needs_it(page_for: Any) -> None:
    page = page_for(DESKTOP)
    ready(page)
    page.wait_for_selector("#live.ok", timeout=10000)
    dialog = page.locator("#key-dialog")
    page.click("#key-button")
    dialog.wait_for(state="visible", timeout=5000)
    page.get_by_role("button", name="Forget").click()
    dialog.wait_for(state="hidden", timeout=5000)
    # The dialog hides as the form is sent; its "close" event, which forgets the key, is a task after that.
    page.wait_for_function("localStorage.getItem('voxhost.api_key') === null", timeout=5000)
    # The live feed, which held the key, connects again without it and is refused: that asked again at once.
    page.locator("#key-dialog[open], #notice:has-text('needs its API key')").first.wait_for(timeout=10000)
    assert dialog.is_hidden()
    assert page.locator("#live").inner_text() == "offline"
    page.fill("#text", "Hello.")
    page.click("#speak")  # a request that needs the key
    dialog.wait_for(state="visible", timeout=5000)
    page.keyboard.type(API_KEY)
    page.keyboard.press("Enter")
    page.wait_for_selector("#try-result[data-state='done']", timeout=30000)
    page.wait_for_selector("#live.ok", timeout=10000)
    assert page.locator("#notice").is_hidden()
    assert not page.errors
