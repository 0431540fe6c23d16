"""The voice lab with the keyboard alone: deleting a voice or a kept output with Enter leaves the focus on the
list, at the item that takes its place (or on Delete, where the delete failed), rather than back at the top of the
page; an engine card drawn again (an engine loaded or unloaded anywhere) keeps the focus on its control."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from .conftest import API_KEY, DESKTOP, base_url, ready
from .test_browser import speech_fixture
from .test_history import clear_outputs, keep
from .test_twice_browser import clone

pytestmark = pytest.mark.browser

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def focused(page: Any) -> str:
    """What has the focus: the aria-label (or text) of the focused element, and the item of the list it is in."""
    return str(
        page.evaluate(
            """() => { const e = document.activeElement;
            const item = e.closest('[data-voice], [data-output]');
            return (e.getAttribute('aria-label') || e.textContent || e.tagName) + ' @ ' +
              (item ? item.dataset.voice || item.dataset.output : 'no item'); }"""
        )
    )


def press_delete(page: Any, button: Any) -> None:
    """Tab's way onto ``button``, Enter, and yes to the question."""
    page.once("dialog", lambda dialog: dialog.accept())
    button.focus()
    page.keyboard.press("Enter")


def test_deleting_a_voice_with_the_keyboard_keeps_the_focus_in_the_library(
    page_for: Any, lab: Any, tmp_path: Path
) -> None:
    sample = speech_fixture(lab, tmp_path / "sample.wav")
    older, newer = clone(lab, "Keys Older", sample), clone(lab, "Keys Newer", sample)
    page = page_for(DESKTOP, view="clone")
    ready(page)
    page.locator(f"[data-voice='{older}']").wait_for(timeout=10000)
    press_delete(page, page.get_by_role("button", name="Delete Keys Newer", exact=True))
    page.locator(f"[data-voice='{newer}']").wait_for(state="detached", timeout=10000)
    page.wait_for_function("document.activeElement !== document.body", timeout=5000)
    assert focused(page).endswith("@ " + older), focused(page)  # the next voice in the list
    assert not page.errors


def test_deleting_an_output_with_the_keyboard_keeps_the_focus_in_the_history(page_for: Any, lab: Any) -> None:
    clear_outputs(lab)
    first, second = keep(lab, "The first thing said."), keep(lab, "The second thing said.")
    page = page_for(DESKTOP, view="history")
    ready(page)
    page.locator(f"[data-output='{first}']").wait_for(timeout=10000)
    press_delete(page, page.get_by_role("button", name=f"Delete {second}"))  # the newest, at the top
    page.locator(f"[data-output='{second}']").wait_for(state="detached", timeout=10000)
    page.wait_for_function("document.activeElement !== document.body", timeout=5000)
    assert focused(page) == f"Play {first} @ {first}"
    press_delete(page, page.get_by_role("button", name=f"Delete {first}"))  # the last one: the search is next
    page.locator(f"[data-output='{first}']").wait_for(state="detached", timeout=10000)
    page.wait_for_function("document.activeElement !== document.body", timeout=5000)
    assert page.evaluate("document.activeElement.id") == "history-q"
    assert not page.errors


def test_a_failed_delete_leaves_the_focus_on_delete_and_says_why(page_for: Any, lab: Any, tmp_path: Path) -> None:
    sample = speech_fixture(lab, tmp_path / "sample.wav")
    kept, stuck = clone(lab, "Keys Kept", sample), clone(lab, "Keys Stuck", sample)
    # A file where the delete moves the voice folder to: not a folder voxhost left there, so the daemon leaves it
    # alone, cannot move the voice away, and answers with an error saying so (whatever user the tests run as).
    in_the_way = lab.core.library.root / f".tmp-del-{stuck}"
    in_the_way.write_text("not voxhost's")
    try:
        page = page_for(DESKTOP, view="clone")
        ready(page)
        page.locator(f"[data-voice='{kept}']").wait_for(timeout=10000)
        press_delete(page, page.get_by_role("button", name="Delete Keys Stuck", exact=True))
        alert = page.get_by_role("alert")
        alert.filter(has_text="Could not delete").wait_for(timeout=10000)
        assert in_the_way.name in alert.filter(has_text="Could not delete").inner_text()  # what is in the way
        # A voice added elsewhere draws the list again once more: the focus wished for is placed by then.
        later = clone(lab, "Keys Later", sample)
        page.locator(f"[data-voice='{later}']").wait_for(timeout=10000)
        assert focused(page) == f"Delete Keys Stuck @ {stuck}"  # it went to the next voice, as if this one were gone
        assert page.locator(f"[data-voice='{stuck}']").count() == 1
    finally:
        in_the_way.unlink()
    for voice in (kept, stuck, later):
        httpx.delete(base_url(lab) + f"/v1/audio/voices/{voice}", headers=AUTH, timeout=10).raise_for_status()
    assert not page.errors


def focus_lands_on(page: Any, label: str) -> None:
    """Wait until the control labelled ``label`` has the focus."""
    page.wait_for_function(f"document.activeElement.getAttribute('aria-label') === {label!r}", timeout=5000)


def test_an_engine_card_drawn_again_keeps_the_focus_on_its_control(page_for: Any, lab: Any) -> None:
    page = page_for(DESKTOP, view="watch")
    ready(page)
    card = page.locator("article.engine[data-engine='pitchshift']")
    page.get_by_role("button", name="Pull modelled vocoder").focus()
    # Another client unloads and loads an engine: every card is drawn again, and the models lists after them.
    for verb, badge in (("unload", ".badge:not(.ok)"), ("load", ".badge.ok")):
        answer = httpx.post(base_url(lab) + f"/v1/engines/pitchshift/{verb}", headers=AUTH, timeout=30)
        assert answer.status_code == 200, answer.text
        card.locator(badge).wait_for(timeout=10000)
        focus_lands_on(page, "Pull modelled vocoder")
    # Pressed, Pull is disabled while it runs (which drops a button's focus); it fails here, and has the focus again.
    page.keyboard.press("Enter")
    page.locator("li[data-model='modelled/vocoder'] .msg.bad").wait_for(timeout=10000)
    focus_lands_on(page, "Pull modelled vocoder")
    # Unload and Load from the keyboard: the button pressed is disabled meanwhile, then the one beside it takes over.
    for pressed, then in (("Unload", "Load"), ("Load", "Unload")):
        card.get_by_role("button", name=f"{pressed} Pitch shift (test)", exact=True).focus()
        page.keyboard.press("Enter")
        focus_lands_on(page, f"{then} Pitch shift (test)")
    card.locator(".badge.ok").wait_for(timeout=10000)
    assert not page.errors
