"""Text a client stores is shown as text in every view of the voice lab, never read as HTML: a voice's transcript and
notes (the library and its edit form), a kept output's text (History), a job's sentences (Watch), and an error that
echoes the request. Stored through the API, then looked at in headless Chromium with the page's
Content-Security-Policy bypassed, so markup put into the page would run rather than be blocked."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest

from ..protocols.http_helpers import tone, wav_bytes
from .conftest import API_KEY, DESKTOP, base_url
from .test_browser import ready

pytestmark = pytest.mark.browser

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MARKUP = '<img src=x onerror="window.__pwned=1">"><svg onload="window.__pwned=2">'
"""Markup that runs a script wherever it is parsed as HTML, in an element or an attribute."""
HOOKS = "[onerror], [onload], img, svg, iframe, script:not([src])"
"""Elements and attributes the page never makes itself."""


def stored(lab: Any) -> str:
    """A library voice with MARKUP in its transcript and notes, and a kept output speaking it; the voice's id."""
    url = base_url(lab)
    made = httpx.post(
        url + "/v1/audio/voices",
        files={"audio_sample": ("sample.wav", wav_bytes(tone(180.0, 3.0)))},
        data={"name": "Markup Aunt", "language": "en", "transcript": "She said " + MARKUP},
        headers=AUTH,
        timeout=60,
    )
    assert made.status_code == 200, made.text
    voice = made.json()["id"]
    notes = httpx.patch(url + f"/v1/audio/voices/{voice}", json={"notes": "Notes " + MARKUP}, headers=AUTH)
    assert notes.status_code == 200, notes.text
    kept = httpx.post(
        url + "/v1/audio/speech",
        json={"input": "Kept " + MARKUP, "voice": "piper:en_US-joe-medium", "response_format": "pcm", "keep": True},
        headers=AUTH,
        timeout=60,
    )
    assert kept.status_code == 200, kept.text
    lab.call(lab.core.jobstore.flush())
    return str(voice)


def untouched(page: Any) -> None:
    """Nothing of MARKUP ran or became an element."""
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate(f"document.querySelectorAll({HOOKS!r}).length") == 0, page.content()
    assert page.errors == []


def test_stored_markup_shows_as_text_in_every_view(page_for: Any, lab: Any) -> None:
    voice = stored(lab)
    page = page_for(DESKTOP)
    ready(page)

    page.click("#tab-clone")
    item = page.locator(f"#library li.voice[data-voice='{voice}']")
    item.wait_for(timeout=10000)
    assert "Notes " + MARKUP in item.inner_text()
    item.get_by_role("button", name="Edit Markup Aunt").click()
    assert item.locator("form.edit textarea").first.input_value().endswith(MARKUP)
    untouched(page)

    page.click("#tab-history")
    output = page.locator("#history-list li.output", has_text="Kept")
    output.first.wait_for(timeout=10000)
    assert "Kept " + MARKUP in output.first.inner_text()
    untouched(page)

    page.click("#tab-watch")
    said = httpx.post(
        base_url(lab) + "/v1/audio/speech",
        json={"input": "Live " + MARKUP, "voice": "piper:en_US-joe-medium", "response_format": "wav"},
        headers=AUTH,
        timeout=60,
    )
    row = page.locator(f"#jobs tr[data-job='{said.headers['x-voxhost-job']}']")
    row.locator(".state-finished").wait_for(timeout=15000)
    page.wait_for_selector(f"#jobs tr.has-spoken[data-job='{said.headers['x-voxhost-job']}']", timeout=10000)
    row.click()
    assert MARKUP in page.locator("#jobs tr.spoken").first.inner_text()
    untouched(page)

    page.click("#tab-try")
    page.select_option("#voice", "piper:en_US-joe-medium")
    page.fill("#language", MARKUP)  # echoed in the refusal
    page.fill("#text", "Hello.")
    page.click("#speak")
    page.wait_for_selector("#try-result[data-state='failed']", timeout=20000)
    assert MARKUP in page.locator("#try-status").inner_text()
    untouched(page)
