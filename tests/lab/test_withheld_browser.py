"""The voice lab names the voices engines withhold, and why: next to the voice picker (which does not list them)
and on the Watch tab's engine card, at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ..conftest import make_settings, running_daemon
from .conftest import API_KEY, DESKTOP, PHONE, ready, screenshot
from .test_browser import check_layout

pytestmark = pytest.mark.browser

HINDI = "f5:default-hi"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A daemon with F5 enabled for English and Hindi but never loaded: with no Hindi reference recording it
    withholds ``f5:default-hi``, decided without any worker (there is no F5 Python here)."""
    f5 = {"enabled": True, "preload": False, "python": "/nonexistent/python", "languages": ["en", "hi"]}
    settings = make_settings(
        tmp_path_factory.mktemp("state"), http={"enabled": True, "port": 0, "api_key": API_KEY}, engines={"f5": f5}
    )
    with running_daemon(settings) as d:
        yield d


def hindi_reason(lab: Any) -> str:
    """Why F5 withholds its Hindi voice, as the engine says it."""
    (withheld,) = lab.core.engine("f5").withheld
    assert f"f5:{withheld.id}" == HINDI
    return str(withheld.reason)


def test_the_picker_leaves_out_a_withheld_voice_and_says_why(page_for, lab):
    reason = hindi_reason(lab)
    page = page_for(DESKTOP)
    ready(page)
    assert page.locator("#voice option[value='f5:default-en']").count() == 1
    assert page.locator(f"#voice option[value='{HINDI}']").count() == 0
    summary = page.locator("#withheld-summary")
    assert summary.is_visible() and summary.inner_text() == f"Not offered: {HINDI}"
    item = page.locator(f"#withheld-list li[data-withheld='{HINDI}']")
    assert not item.is_visible()  # folded: the picker stays short
    # Opened from the keyboard, it gives the reason and what would offer the voice.
    summary.focus()
    page.keyboard.press("Enter")
    item.wait_for(state="visible", timeout=5000)
    text = item.inner_text()
    assert text.startswith(f"{HINDI} (hi_IN)") and reason in text
    assert "[engines.f5.models.hi] reference" in text
    check_layout(page, ["#voice", "#withheld-summary", "#text", "#speak"])
    screenshot(page, "try-withheld-desktop")
    assert not page.errors


def test_the_engine_card_lists_withheld_voices_on_a_phone(page_for, lab):
    reason = hindi_reason(lab)
    page = page_for(PHONE, view="watch")
    ready(page)
    card = page.locator("article.engine[data-engine='f5']")
    card.wait_for(timeout=10000)
    section = card.get_by_role("region", name="F5-TTS: voices not offered")
    item = section.locator(f"li[data-withheld='{HINDI}']")
    assert item.is_visible() and reason in item.inner_text()
    assert section.get_by_role("heading", name="Not offered").is_visible()
    check_layout(page, ["#tab-watch", "article.engine[data-engine='f5'] .withheld", "#jobs"])
    screenshot(page, "watch-withheld-phone")
    # The Try tab on the phone: the summary fits the screen, and so does the reason once opened.
    page.click("#tab-try")
    page.click("#withheld-summary")
    check_layout(page, ["#voice", "#withheld-summary", f"#withheld-list li[data-withheld='{HINDI}']", "#speak"])
    screenshot(page, "try-withheld-phone")
    assert not page.errors
