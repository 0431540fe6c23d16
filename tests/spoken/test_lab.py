"""The voice lab's Watch tab shows what a job actually said (hover a job, or click it to expand its sentences)."""

from __future__ import annotations

import pytest

from ..lab.conftest import DESKTOP, browser, finished_job_row, lab, page_for, ready, screenshot  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_watch_shows_the_spoken_text_of_each_sentence(page_for, lab):
    page = page_for(DESKTOP, view="watch")
    ready(page)
    page.wait_for_selector("#live.ok", timeout=10000)
    row = finished_job_row(page, lab, "## Reminder\nThe **bins** go out at 9:00. 🎉")
    job_id = row.get_attribute("data-job")
    page.wait_for_selector(f"#jobs tr.has-spoken[data-job='{job_id}']", timeout=10000)
    title = row.get_attribute("title") or ""
    assert "Reminder." in title and "The bins go out at nine o'clock." in title, title
    # Expand: each sentence as said, and as written where that differs.
    row.click()
    detail = page.locator(f"#jobs tr.spoken[data-spoken-for='{job_id}']")
    detail.wait_for(timeout=5000)
    assert row.get_attribute("aria-expanded") == "true"
    items = detail.locator("li")
    assert items.count() == 2
    assert items.nth(1).locator(".said").inner_text() == "The bins go out at nine o'clock."
    assert "9:00. 🎉" in items.nth(1).locator(".written").inner_text()
    screenshot(page, "watch-spoken")
    # Enter on the row folds it again.
    row.focus()
    page.keyboard.press("Enter")
    detail.wait_for(state="detached", timeout=5000)
    assert not page.errors
