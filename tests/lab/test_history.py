"""The voice lab's jobs, history and library management in headless Chromium: a background job's progress and audio
on the Try tab, the History tab (filter, play, download, delete one and many), and the library on the Clone tab
(edit, tags, a new recording, export and import, deleting by tag); screenshots at 1280 and 390 px."""

from __future__ import annotations

import json
import time
import zipfile
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest
import soundfile

from ..protocols.http_helpers import tone, wav_bytes
from .conftest import API_KEY, DESKTOP, PHONE, base_url, screenshot
from .test_browser import check_layout, ready, speech_fixture, wait_for_audio
from .test_twice_browser import clone

pytestmark = pytest.mark.browser

AUTH = {"Authorization": f"Bearer {API_KEY}"}
LONG = " ".join(f"This is sentence number {i} of a job that runs in the background." for i in range(10))


def keep(lab: Any, text: str) -> str:
    """A kept output made through the API; its id."""
    response = httpx.post(
        base_url(lab) + "/v1/audio/speech",
        json={"input": text, "voice": "piper:en_US-joe-medium", "response_format": "pcm", "keep": True},
        headers=AUTH,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    lab.call(lab.core.jobstore.flush())
    return response.headers["x-voxhost-job"]


def clear_outputs(lab: Any) -> None:
    httpx.post(base_url(lab) + "/v1/outputs/delete", json={"all": True, "confirm": True}, headers=AUTH)


def test_a_background_job_shows_its_progress_then_its_audio(page_for, lab):
    page = page_for(DESKTOP)
    ready(page)
    page.select_option("#voice", "piper:en_US-joe-medium")
    page.fill("#text", LONG)
    page.check("#try-async")
    page.check("#try-keep")
    page.click("#speak")
    page.wait_for_selector("#try-result[data-state='running']", timeout=20000)
    assert "Background job" in page.locator("#try-status").inner_text()
    assert page.locator("#job-bar").is_visible()
    duration = wait_for_audio(page, "#try-result", "#player")
    assert duration > 20
    job_id = page.locator("#try-result").get_attribute("data-job")
    status = page.locator("#try-status").inner_text()
    assert f"Background job {job_id} finished" in status and "kept in history" in status
    assert page.evaluate("document.querySelector('#job-bar').value") == 10
    job = httpx.get(f"{base_url(lab)}/v1/jobs/{job_id}", headers=AUTH).json()
    assert job["state"] == "finished" and job["kept"] and abs(job["progress"]["audio_seconds"] - duration) < 0.1
    check_layout(page, ["label:has(#try-async)", "label:has(#try-keep)", "#speak", "#player", "#download"])
    screenshot(page, "try-job-desktop")
    page.set_viewport_size(PHONE)
    check_layout(page, ["label:has(#try-async)", "label:has(#try-keep)", "#speak", "#stop"])
    screenshot(page, "try-job-phone")
    assert not page.errors


def test_a_background_job_can_be_stopped(page_for, lab):
    page = page_for(DESKTOP)
    ready(page)
    page.fill("#text", LONG * 3)
    page.check("#try-async")
    page.click("#speak")
    page.wait_for_selector("#try-result[data-state='running']", timeout=20000)
    job_id = page.locator("#try-result").get_attribute("data-job")
    page.click("#stop")
    page.wait_for_selector("#try-result[data-state='cancelled']", timeout=10000)
    assert httpx.get(f"{base_url(lab)}/v1/jobs/{job_id}", headers=AUTH).status_code == 404
    assert not page.errors


def test_a_background_job_is_found_again_after_a_reload(page_for, lab):
    page = page_for(DESKTOP)
    ready(page)
    page.select_option("#voice", "piper:en_US-joe-medium")
    page.fill("#text", LONG * 2)
    page.check("#try-async")
    page.click("#speak")
    page.wait_for_selector("#try-result[data-state='running']", timeout=20000)
    job_id = page.locator("#try-result").get_attribute("data-job")
    page.reload()  # "come back for it later": the page closed, or reloaded, while the job runs
    ready(page)
    page.wait_for_selector(f"#try-result[data-job='{job_id}']", timeout=10000)
    assert wait_for_audio(page, "#try-result", "#player") > 20
    assert f"Background job {job_id} finished" in page.locator("#try-status").inner_text()
    assert page.locator("#download").is_visible()
    page.reload()  # finished: still there to play or download, as long as the daemon holds its audio
    ready(page)
    page.wait_for_selector(f"#try-result[data-job='{job_id}'][data-state='done']", timeout=20000)
    page.fill("#text", "Something else.")
    page.uncheck("#try-async")
    page.click("#speak")
    page.wait_for_selector("#try-result[data-state='done']:not([data-job])", timeout=20000)
    page.reload()  # a later request: the old job is no longer brought back
    ready(page)
    page.wait_for_timeout(1000)
    assert page.locator("#try-result").is_hidden()
    assert not page.errors


def test_history_filters_plays_downloads_and_deletes(page_for, lab, tmp_path):
    clear_outputs(lab)
    garden = keep(lab, "The garden lights turn on at sunset.")
    others = [keep(lab, f"Reminder number {i}: take out the bins.") for i in range(11)]
    page = page_for(DESKTOP, view="history")
    ready(page)
    page.wait_for_selector("#history-list li.output", timeout=10000)
    assert page.locator("#history-list li.output").count() == 10
    assert page.locator("#history-page").inner_text() == "1–10 of 12"
    page.click("#history-next")
    page.wait_for_selector("#history-page:text('11–12 of 12')", timeout=10000)
    assert page.locator(f"li[data-output='{garden}']").is_visible()  # the oldest, on the last page
    page.click("#history-prev")
    page.wait_for_selector("#history-page:text('1–10 of 12')", timeout=10000)
    # Filter by text.
    page.fill("#history-q", "garden")
    page.click("#history-search")
    page.wait_for_selector("#history-page:text('1–1 of 1')", timeout=10000)
    item = page.locator(f"li[data-output='{garden}']")
    assert "garden lights" in item.inner_text() and "piper:en_US-joe-medium" in item.inner_text()
    # Play it.
    item.get_by_role("button", name=f"Play {garden}").click()
    page.wait_for_function(
        f"document.querySelector(\"li[data-output='{garden}'] audio\").currentTime > 0.1", timeout=10000
    )
    # Download it.
    with page.expect_download() as info:
        item.get_by_role("button", name=f"Download {garden}").click()
    saved = tmp_path / "garden.wav"
    info.value.save_as(saved)
    samples, rate = soundfile.read(saved, dtype="float32")
    assert rate == 22050 and samples.size / rate > 1.0 and float(np.sqrt(np.mean(samples**2))) > 0.01
    check_layout(page, ["#history-q", "#history-voice", "#history-door", "#history-search", "#history-delete-all"])
    screenshot(page, "history-desktop")
    page.set_viewport_size(PHONE)
    check_layout(page, ["#tab-history", "#history-q", "#history-search", f"li[data-output='{garden}'] button"])
    screenshot(page, "history-phone")
    page.set_viewport_size(DESKTOP)
    # Delete it.
    page.once("dialog", lambda d: d.accept())
    item.get_by_role("button", name=f"Delete {garden}").click()
    item.wait_for(state="detached", timeout=10000)
    assert httpx.get(f"{base_url(lab)}/v1/outputs/{garden}", headers=AUTH).status_code == 404
    # A door filter that matches nothing, then delete every reminder at once (asked first).
    page.select_option("#history-door", "wyoming")
    page.fill("#history-q", "")
    page.click("#history-search")
    page.wait_for_selector("#history-page:text('0–0 of 0')", timeout=10000)
    page.select_option("#history-door", "")
    page.fill("#history-q", "reminder")
    page.click("#history-search")
    page.wait_for_selector("#history-page:text('1–10 of 11')", timeout=10000)
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("#history-delete-all")
    page.wait_for_selector("#history-status:text('Deleted 11 output(s).')", timeout=10000)
    assert "Delete 11 output(s)" in asked[0]
    assert httpx.get(base_url(lab) + "/v1/outputs", headers=AUTH).json()["total"] == 0
    assert not any((lab.settings.state_path / "outputs" / i).exists() for i in others)
    assert not page.errors


def test_older_pressed_twice_shows_the_page_its_numbers_say(page_for, lab):
    clear_outputs(lab)
    for i in range(25):
        keep(lab, f"Output number {i}.")
    page = page_for(DESKTOP, view="history")
    ready(page)
    page.wait_for_selector("#history-page:has-text('1–10 of 25')", timeout=10000)
    held = []  # the second page's answer, held back until the third page's has come: networks reorder answers
    page.route("**/v1/outputs?*offset=10*", lambda route: held.append(route))
    page.click("#history-next")
    page.click("#history-next")
    page.wait_for_selector("#history-page:has-text('21–25 of 25')", timeout=10000)
    assert held, "the second page was not asked for"
    held[0].continue_()
    page.wait_for_timeout(1500)
    assert page.locator("#history-page").inner_text() == "21–25 of 25"
    texts = page.locator("#history-list .text").all_inner_texts()
    assert texts == [f"Output number {i}." for i in (4, 3, 2, 1, 0)], texts
    assert not page.errors


def test_an_output_playing_plays_on_when_another_is_kept(page_for, lab):
    clear_outputs(lab)
    story = keep(lab, LONG)  # half a minute of audio
    page = page_for(DESKTOP, view="history")
    ready(page)
    play = page.get_by_role("button", name=f"Play {story}")
    play.click()
    audio = f"document.querySelector(\"li[data-output='{story}'] audio\")"
    page.wait_for_function(f"{audio}.currentTime > 0.3", timeout=10000)
    page.evaluate(f"window.playing = {audio}")
    other = keep(lab, "Meanwhile, the doorbell rang.")  # kept by another client: the list refreshes
    page.locator(f"li[data-output='{other}']").wait_for(timeout=10000)
    at = float(page.evaluate("window.playing.currentTime"))
    page.wait_for_timeout(700)
    # The same player, still in the page and still playing (the refresh rebuilt the list and cut it off).
    assert page.evaluate(f"window.playing === {audio} && !window.playing.paused")
    assert float(page.evaluate("window.playing.currentTime")) > at + 0.3
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == f"Play {story}"
    assert not page.errors


def test_library_management_on_the_clone_tab(page_for, lab, tmp_path):
    fixture = speech_fixture(lab, tmp_path / "rose.wav")
    with fixture.open("rb") as sample:
        created = httpx.post(
            base_url(lab) + "/v1/audio/voices",
            data={"name": "Aunt Rose", "transcript": "It is a lovely day for a walk in the park.", "language": "en"},
            files={"audio_sample": ("rose.wav", sample, "audio/wav")},
            headers=AUTH,
        ).json()
    voice_id = created["id"]
    page = page_for(DESKTOP, view="clone")
    ready(page)
    item = page.locator(f"#library li[data-voice='{voice_id}']")
    item.wait_for(timeout=10000)
    assert "not used yet" in item.inner_text()
    # Edit: name, tags, notes, and a new recording, without uploading the voice again.
    item.get_by_role("button", name="Edit Aunt Rose").click()
    form = item.locator("form.edit")
    form.get_by_label("Name").fill("Aunt Rose Marie")
    form.get_by_label("Tags (comma-separated)").fill("Family, garden")
    form.get_by_label("Notes").fill("Recorded in the kitchen")
    form.get_by_label("New recording (optional)").set_input_files(
        files=[{"name": "new.wav", "mimeType": "audio/wav", "buffer": wav_bytes(tone(300.0, 4.0))}]
    )
    check_layout(page, ["#library-q", "#library-tag", f"#library li[data-voice='{voice_id}'] form.edit button"])
    screenshot(page, "clone-edit-desktop")
    form.get_by_role("button", name="Save").click()
    page.wait_for_selector(f"#library li[data-voice='{voice_id}'] strong:text('Aunt Rose Marie')", timeout=10000)
    stored = lab.core.library.get(voice_id)
    assert stored.tags == ("family", "garden") and stored.notes == "Recorded in the kitchen"
    assert abs(stored.seconds - 4.0) < 0.01
    # Used once by a preview; its tags filter the list.
    item.get_by_role("button", name="Preview Aunt Rose Marie").click()
    wait_for_audio(page, "#preview-result", "#preview-player")
    page.locator("#library-q").fill("kitchen")
    page.wait_for_selector(f"#library li[data-voice='{voice_id}'] .usage:text('used 1×')", timeout=10000)
    page.locator("#library-q").fill("")
    item.get_by_role("button", name="Show the voices tagged garden").click()
    page.wait_for_function("document.querySelector('#library-tag').value === 'garden'")
    assert not page.locator("#library-delete-tag").is_disabled()
    # The list follows once its request comes back (the search emptied just before may answer first).
    page.wait_for_function("document.querySelectorAll('#library li.voice').length === 1", timeout=10000)
    # Export it, delete it, import it again: the same voice.
    with page.expect_download() as info:
        item.get_by_role("button", name="Export Aunt Rose Marie").click()
    archive = tmp_path / "rose.zip"
    info.value.save_as(archive)
    with zipfile.ZipFile(archive) as z:
        assert json.loads(z.read("manifest.json"))["voices"] == [{"id": voice_id, "name": "Aunt Rose Marie"}]
    before = (lab.core.library.root / voice_id / "reference.wav").read_bytes()
    httpx.delete(f"{base_url(lab)}/v1/audio/voices/{voice_id}", headers=AUTH)
    page.locator("#library-tools summary").click()
    page.set_input_files("#library-import-file", str(archive))
    page.click("#library-import")
    page.wait_for_selector("#library-tools-status:text('Imported 1 new voice')", timeout=10000)
    item.wait_for(timeout=10000)
    assert (lab.core.library.root / voice_id / "reference.wav").read_bytes() == before
    check_layout(page, ["#library-export", "#library-import-file", "#library-import", "#library-delete-tag"])
    screenshot(page, "clone-library-desktop")
    page.set_viewport_size(PHONE)
    check_layout(page, ["#tab-clone", "#library-q", "#library-import", f"#library li[data-voice='{voice_id}'] button"])
    screenshot(page, "clone-library-phone")
    page.set_viewport_size(DESKTOP)
    # Delete every voice with the tag (asked first).
    page.select_option("#library-tag", "garden")
    page.wait_for_selector("#library-delete-tag:not([disabled])", timeout=10000)
    page.once("dialog", lambda d: d.accept())
    page.click("#library-delete-tag")
    page.wait_for_selector("#library-tools-status:text('Deleted 1 voice(s)')", timeout=10000)
    item.wait_for(state="detached", timeout=10000)
    assert voice_id not in {v.id for v in lab.core.library.list()}
    assert not page.errors


def test_playing_another_output_pauses_the_first(page_for, lab):
    clear_outputs(lab)
    first, second = keep(lab, LONG), keep(lab, "The second output, played while the first one plays.")
    page = page_for(DESKTOP, view="history")
    ready(page)
    audio = "document.querySelector(\"li[data-output='{}'] audio\")"
    page.get_by_role("button", name=f"Play {first}").click()
    page.wait_for_function(f"{audio.format(first)}.currentTime > 0.3", timeout=10000)
    page.get_by_role("button", name=f"Play {second}").click()
    page.wait_for_function(f"{audio.format(second)}.currentTime > 0.1", timeout=10000)
    assert page.evaluate(f"{audio.format(first)}.paused")  # both played over each other
    assert not page.evaluate(f"{audio.format(second)}.paused")
    assert not page.errors


def test_an_edit_in_progress_survives_a_voice_added_elsewhere(page_for, lab, tmp_path):
    sample = speech_fixture(lab, tmp_path / "sample.wav")
    voice = clone(lab, "Edited Meanwhile", sample)
    page = page_for(DESKTOP, view="clone")
    ready(page)
    page.get_by_role("button", name="Edit Edited Meanwhile").click()
    notes = page.locator(f"#edit-notes-{voice}")
    notes.fill("Recorded at the lake, summer")
    other = clone(lab, "Added Elsewhere", sample)  # another client; its voice_added event refreshes the list
    page.locator(f"[data-voice='{other}']").wait_for(timeout=10000)
    page.wait_for_timeout(500)
    assert notes.is_visible() and notes.input_value() == "Recorded at the lake, summer"  # the form was rebuilt away
    assert page.evaluate("document.activeElement.id") == f"edit-notes-{voice}"
    page.keyboard.type(" of 2019.")
    page.get_by_role("form", name="Edit Edited Meanwhile").get_by_role("button", name="Save").click()
    page.locator(f"[data-voice='{voice}'] .notes").wait_for(timeout=10000)
    assert page.locator(f"[data-voice='{voice}'] .notes").inner_text() == "Recorded at the lake, summer of 2019."
    assert page.locator(f"[data-voice='{voice}'] form.edit").count() == 0  # saved: closed
    assert not page.errors


def test_a_bad_archive_is_refused_in_the_page(page_for, lab):
    page = page_for(DESKTOP, view="clone")
    ready(page)
    before = sorted(p.name for p in lab.core.library.root.iterdir())
    page.locator("#library-tools summary").click()
    page.set_input_files(
        "#library-import-file", files=[{"name": "x.zip", "mimeType": "application/zip", "buffer": b"PK\x03\x04no"}]
    )
    page.click("#library-import")
    page.wait_for_selector("#library-tools-status.bad", timeout=10000)
    assert "Nothing imported" in page.locator("#library-tools-status").inner_text()
    assert sorted(p.name for p in lab.core.library.root.iterdir()) == before
    time.sleep(0.1)
    assert not page.errors
