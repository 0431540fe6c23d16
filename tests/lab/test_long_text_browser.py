"""A text longer than the daemon takes, pasted into the Try tab, is refused with the limit rather than cut short
without a word (the text box held only its first 4096 characters, whatever the daemon's limit)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import DESKTOP, ready

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
