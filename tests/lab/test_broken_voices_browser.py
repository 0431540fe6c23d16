"""The voice lab shows the library's broken voices (their voice.json cannot be read): marked, with the problem as
text, their size, counted with the rest (they count towards the quota), and deleted from the page over the API.
Broken on disk in a running daemon's state directory, then looked at in headless Chromium (CSP bypassed, so markup
in a problem would run rather than be blocked)."""

from __future__ import annotations

import json
from typing import Any

import httpx2 as httpx
import pytest

from ..protocols.http_helpers import tone, wav_bytes
from .conftest import API_KEY, DESKTOP, PHONE, base_url, ready, screenshot
from .test_browser import check_layout
from .test_stored_text import MARKUP, untouched

pytestmark = pytest.mark.browser

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def add_voice(lab: Any, name: str) -> str:
    """A library voice stored over the API; its id."""
    made = httpx.post(
        base_url(lab) + "/v1/audio/voices",
        files={"audio_sample": ("sample.wav", wav_bytes(tone(170.0, 3.0)))},
        data={"name": name, "language": "en"},
        headers=AUTH,
        timeout=60,
    )
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def library(lab: Any) -> dict[str, Any]:
    """``GET /v1/library/voices``."""
    listed = httpx.get(base_url(lab) + "/v1/library/voices", headers=AUTH)
    assert listed.status_code == 200, listed.text
    return dict(listed.json())


def human(size: int) -> str:
    """A size as the page writes it (lab.js's ``human``), for sizes under a GiB."""
    units = ["B", "KB", "MB"]
    power = 0 if size < 1024 else 1 if size < 1024**2 else 2
    return f"{size} B" if power == 0 else f"{size / 1024**power:.1f} {units[power]}"


def test_a_broken_voice_is_shown_and_deleted_from_the_page(page_for: Any, lab: Any) -> None:
    damaged, misnamed = add_voice(lab, "Damaged"), add_voice(lab, "Misnamed")
    root = lab.core.library.root
    (root / damaged / "voice.json").write_text("{not json")
    meta = json.loads((root / misnamed / "voice.json").read_text())
    (root / misnamed / "voice.json").write_text(json.dumps({**meta, "id": MARKUP}))  # named in its problem
    kept = add_voice(lab, "Bystander")  # the library's folder changed: it is read again, as at a start
    listed = library(lab)
    broken = {v["id"]: v for v in listed["broken"]}
    assert set(broken) == {damaged, misnamed} and [v["id"] for v in listed["data"]] == [kept]

    page = page_for(DESKTOP, view="clone")
    ready(page)
    item = page.locator(f"#library-broken-list li[data-broken='{damaged}']")
    item.wait_for(timeout=10000)
    assert page.get_by_role("heading", name="Broken voices").is_visible()
    text = item.inner_text()
    assert f"Broken: {broken[damaged]['problem']}" in text and human(broken[damaged]["bytes"]) in text
    assert "not JSON" in text
    other = page.locator(f"#library-broken-list li[data-broken='{misnamed}']")
    assert MARKUP in other.inner_text()  # the problem quotes the id it names: text, never markup
    untouched(page)
    # Not among the usable voices, but counted with them: they take space in the quota until deleted.
    assert page.locator(f"#library li[data-voice='{kept}']").is_visible()
    assert page.locator(f"#library li[data-voice='{damaged}']").count() == 0
    assert page.locator("#library-count").inner_text() == "(1 · 2 broken)"
    check_layout(page, ["#library-q", f"#library-broken-list li[data-broken='{damaged}'] button"])
    screenshot(page, "clone-broken-desktop")
    page.set_viewport_size(PHONE)
    check_layout(page, ["#tab-clone", f"#library-broken-list li[data-broken='{damaged}'] button"])
    screenshot(page, "clone-broken-phone")
    page.set_viewport_size(DESKTOP)

    page.once("dialog", lambda d: d.accept())
    item.get_by_role("button", name=f"Delete the broken voice {damaged}").click()
    item.wait_for(state="detached", timeout=10000)
    assert page.locator("#library-count").inner_text() == "(1 · 1 broken)"
    assert [v["id"] for v in library(lab)["broken"]] == [misnamed] and not (root / damaged).exists()
    assert httpx.delete(base_url(lab) + f"/v1/audio/voices/{damaged}", headers=AUTH).status_code == 404

    page.once("dialog", lambda d: d.accept())
    other.get_by_role("button", name=f"Delete the broken voice {misnamed}").click()
    page.locator("#library-broken").wait_for(state="hidden", timeout=10000)
    assert page.locator("#library-count").inner_text() == "(1)"
    assert library(lab)["broken"] == [] and [v["id"] for v in library(lab)["data"]] == [kept]
    assert lab.core.library.usage()[0] == 1
    assert not page.errors
