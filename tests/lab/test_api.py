"""The HTTP routes the voice lab uses, spoken to over the network: the page's files, engines, models and events."""

from __future__ import annotations

import time

import httpx2 as httpx
import openai

from ..conftest import RunningDaemon, assert_speech, make_settings
from ..protocols.http_helpers import decode, tone, wav_bytes
from .conftest import API_KEY, base_url
from .sse import EventStream

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def test_page_and_files_are_served_without_the_key(lab):
    url = base_url(lab)
    page = httpx.get(url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # Everything the page loads comes from this server: no CDN, no other origin.
    for ref in ("/static/lab.css", "/static/lab.js"):
        assert ref in page.text
        assert httpx.get(url + ref).status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    js = httpx.get(url + "/static/lab.js")
    assert js.headers["content-type"].startswith("text/javascript")
    again = httpx.get(url + "/static/lab.js", headers={"If-None-Match": js.headers["etag"]})
    assert again.status_code == 304
    for bad in ("/static/nothing.js", "/static/..%2F__init__.py", "/static/%2e%2e%2Fstatic%2Flab.js"):
        missing = httpx.get(url + bad)
        assert missing.status_code == 404, bad
        assert missing.json()["error"]["code"] == "not_found"


def test_engines_list_needs_the_key_and_describes_options(lab):
    url = base_url(lab)
    assert httpx.get(url + "/v1/engines").status_code == 401
    engines = {e["id"]: e for e in httpx.get(url + "/v1/engines", headers=AUTH).json()["data"]}
    assert {"piper", "pitchshift", "modelled"} <= set(engines)
    piper = engines["piper"]
    assert piper["mode"] == "thread" and "tts" in piper["capabilities"] and piper["voices"] >= 1
    assert "noise_scale" in piper["options"]["properties"]
    assert engines["modelled"]["models"] == 2 and engines["piper"]["models"] == 0


def test_load_and_unload_announce_events(lab):
    url = base_url(lab)
    stream = EventStream(url + "/v1/events", headers=AUTH)
    try:
        unloaded = httpx.post(url + "/v1/engines/piper/unload", headers=AUTH, timeout=30)
        assert unloaded.status_code == 200 and unloaded.json()["loaded"] is False
        loaded = httpx.post(url + "/v1/engines/piper/load", headers=AUTH, timeout=60)
        assert loaded.status_code == 200 and loaded.json()["loaded"] is True
        stream.wait_for(lambda e: e["event"] == "engine_unloaded" and e["engine"] == "piper")
        event = stream.wait_for(lambda e: e["event"] == "engine_loaded" and e["engine"] == "piper")
        assert event["seconds"] >= 0
    finally:
        stream.close()
    assert httpx.post(url + "/v1/engines/nope/load", headers=AUTH).status_code == 404


def test_loading_without_its_model_names_the_pull_command(lab):
    url = base_url(lab)
    answer = httpx.post(url + "/v1/engines/modelled/load", headers=AUTH, timeout=30)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "model_missing"
    assert "voxhost models pull modelled" in answer.json()["error"]["message"]
    engines = {e["id"]: e for e in httpx.get(url + "/v1/engines", headers=AUTH).json()["data"]}
    assert engines["modelled"]["loaded"] is False and "not installed" in engines["modelled"]["error"]


def test_models_pull_reports_failure_on_the_event_stream(lab):
    url = base_url(lab)
    models = httpx.get(url + "/v1/engines/modelled/models", headers=AUTH).json()["data"]
    assert [(m["name"], m["installed"]) for m in models] == [("base", False), ("vocoder", False)]
    assert models[0]["requires"] == ["vocoder"] and models[0]["repo"] == "voxhost-tests/no-such-model"
    stream = EventStream(url + "/v1/events?api_key=" + API_KEY)  # the key as EventSource sends it
    try:
        started = httpx.post(url + "/v1/engines/modelled/models/base/pull", headers=AUTH)
        assert started.status_code == 202
        assert started.json()["models"] == ["vocoder", "base"]  # what it needs comes first
        first = stream.wait_for(lambda e: e["event"] == "model_pull_started")
        assert (first["engine"], first["model"]) == ("modelled", "vocoder")
        failed = stream.wait_for(lambda e: e["event"] == "model_pull_failed")
        assert failed["model"] == "vocoder" and failed["code"] == "model_download_failed"
        assert "offline" in failed["message"]
        time.sleep(0.2)
        assert not [e for e in stream.events if e["event"] == "model_pull_started" and e["model"] == "base"]
    finally:
        stream.close()
    missing = httpx.post(url + "/v1/engines/modelled/models/huge/pull", headers=AUTH)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    assert httpx.get(url + "/v1/engines/modelled/models").status_code == 401


def test_events_need_the_key(lab):
    url = base_url(lab)
    for suffix in ("/v1/events", "/v1/events?api_key=wrong"):
        stream = EventStream(url + suffix)
        assert stream.status == 401, suffix
        stream.close()


def test_jobs_of_other_clients_stream_with_ttfa_and_rtf(lab):
    url = base_url(lab)
    stream = EventStream(url + "/v1/events", headers=AUTH)
    try:
        hello = stream.wait_for(lambda e: e["event"] == "hello")
        assert isinstance(hello["jobs"], list)
        client = openai.OpenAI(base_url=url + "/v1", api_key=API_KEY, max_retries=0)
        with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Two sentences here. And a second one.", response_format="pcm"
        ) as response:
            job_id = response.headers["x-voxhost-job"]
            pcm, rate = decode("pcm", response.read())
        assert_speech(pcm, rate, 1.0, 8.0, expect_rate=24000)
        accepted = stream.wait_for(lambda e: e["event"] == "job_accepted" and e["job_id"] == job_id)
        assert accepted["door"] == "http" and accepted["voice"] == "piper:en_US-joe-medium"
        finished = stream.wait_for(lambda e: e["event"] == "job_finished" and e["job_id"] == job_id)
        assert 0 < finished["ttfa"] < 10 and 0 < finished["rtf"] < 5 and finished["audio_seconds"] > 1
        assert not stream.of_kind("job_audio")  # no audio on the stream unless asked
    finally:
        stream.close()


def test_library_lists_every_stored_voice(lab):
    url = base_url(lab)
    made = httpx.post(
        url + "/v1/audio/voices",
        headers=AUTH,
        data={"name": "Listed", "language": "en"},
        files={"audio_sample": ("s.wav", wav_bytes(tone(220, 2.0)), "audio/wav")},
    )
    assert made.status_code == 200, made.text
    voice_id = made.json()["id"]
    try:
        listed = httpx.get(url + "/v1/library/voices", headers=AUTH).json()
        found = [v for v in listed["data"] if v["id"] == voice_id]
        assert found and found[0]["name"] == "Listed" and found[0]["engines"] == [f"pitchshift:{voice_id}"]
        assert httpx.get(url + "/v1/library/voices").status_code == 401
    finally:
        httpx.delete(url + f"/v1/audio/voices/{voice_id}", headers=AUTH)


def test_open_event_streams_do_not_hold_up_shutdown(tmp_path):
    settings = make_settings(tmp_path / "state", http={"enabled": True, "port": 0}, shutdown_timeout=10.0)
    d = RunningDaemon(settings).start()
    stream = EventStream(base_url(d) + "/v1/events")
    try:
        started = time.monotonic()
        d.stop()
        assert time.monotonic() - started < 3.0, "an open event stream held the shutdown up"
    finally:
        stream.close()
