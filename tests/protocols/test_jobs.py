"""Jobs you can come back to and the history of what was said, over HTTP: the openai client and httpx against a
real daemon (Piper, a Wyoming door beside it), restarts included."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from hashlib import sha256
from pathlib import Path

import httpx2 as httpx
import pytest
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize

from voxhost.events import JobCancelled, JobFinished

from ..conftest import REPO, assert_speech, free_port, make_settings, running_daemon
from ..listener import hear, wer
from .http_helpers import EventLog, base_url, client, decode

TEXT = "The kitchen lights are on. Dinner is ready in ten minutes."
SENTENCES = " ".join(f"Sentence number {i} keeps the engine busy for a little while." for i in range(12))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """HTTP and Wyoming; nothing kept by default."""
    state = tmp_path_factory.mktemp("jobs-state")
    port = free_port()
    settings = make_settings(
        state,
        http={"enabled": True, "port": 0},
        wyoming={"enabled": True, "uri": [f"tcp://127.0.0.1:{port}"]},
    )
    with running_daemon(settings) as d:
        d.wyoming_port = port
        yield d


def start(d, text: str = TEXT, **body) -> dict:
    """An asynchronous speech request; its 202 answer."""
    response = httpx.post(base_url(d) + "/v1/audio/speech", json={"input": text, "async": True, **body}, timeout=30)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/jobs/{response.json()['id']}"
    return response.json()


def job(d, job_id: str) -> httpx.Response:
    """``GET /v1/jobs/{id}``."""
    return httpx.get(f"{base_url(d)}/v1/jobs/{job_id}", timeout=30)


def wait_done(d, job_id: str, timeout: float = 60) -> dict:
    """Poll a job until it has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = job(d, job_id).json()
        if state["state"] in ("finished", "failed", "cancelled"):
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end")


def wyoming_say(d, text: str) -> None:
    """Speak through the Wyoming door, as Home Assistant does."""

    async def talk() -> None:
        async with AsyncTcpClient("127.0.0.1", d.wyoming_port) as conn:
            await conn.write_event(Synthesize(text=text).event())
            while (event := await asyncio.wait_for(conn.read_event(), 30)) is not None:
                if event.type == "audio-stop":
                    return

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, talk()).result(60)


# -- asynchronous jobs ---------------------------------------------------------------------------------------


def test_async_round_trip_with_the_openai_client(daemon):
    raw = client(daemon).audio.speech.with_raw_response.create(
        model="tts-1", voice="alloy", input=TEXT, response_format="wav", extra_body={"async": True}
    )
    assert raw.status_code == 202
    accepted = json.loads(raw.content)
    assert accepted["object"] == "speech.job" and accepted["state"] in ("queued", "running")
    assert accepted["audio"] and accepted["audio_url"] == f"/v1/jobs/{accepted['id']}/audio?response_format=wav"
    assert accepted["door"] == "http" and not accepted["read_only"] and not accepted["kept"]
    done = wait_done(daemon, accepted["id"])
    assert done["state"] == "finished" and done["error"] is None
    assert done["progress"]["sentences_done"] == done["progress"]["sentences_total"] == 2
    timings = done["timings"]
    assert timings["accepted_at"] <= timings["started_at"] <= timings["first_audio_at"] <= timings["ended_at"]
    assert timings["ttfa"] > 0 and timings["rtf"] > 0 and done["expires_at"] > time.time()
    audio = httpx.get(base_url(daemon) + accepted["audio_url"], timeout=60)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    pcm, rate = decode("wav", audio.content)
    assert_speech(pcm, rate, 2.0, 6.0)
    assert abs(len(pcm) / 2 / rate - done["progress"]["audio_seconds"]) < 0.05
    assert wer(TEXT, hear(pcm, rate)) <= 0.1
    # Any format, any number of times while it is kept.
    mp3 = httpx.get(f"{base_url(daemon)}/v1/jobs/{accepted['id']}/audio", timeout=60)
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert abs(len(decode("mp3", mp3.content)[0]) / 2 / 22050 - done["progress"]["audio_seconds"]) < 0.2


def test_fetch_while_generating_gives_the_part_so_far_then_the_rest(daemon):
    log = EventLog(daemon)
    try:
        accepted = start(daemon, SENTENCES, response_format="pcm")
        job_id = accepted["id"]
        deadline = time.monotonic() + 30
        while job(daemon, job_id).json()["progress"]["sentences_done"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        before = job(daemon, job_id).json()
        assert before["state"] == "running", "the job should still be running when its audio is fetched"
        received, first_at = [], None
        with httpx.stream("GET", f"{base_url(daemon)}/v1/jobs/{job_id}/audio?response_format=wav", timeout=60) as r:
            assert r.status_code == 200
            for chunk in r.iter_bytes():
                first_at = first_at or time.monotonic()
                received.append(chunk)
        finished_at, finished = log.wait_for(job_id, JobFinished)
    finally:
        log.close()
    assert first_at < finished_at, "the audio made so far must come before the job ends"
    pcm, rate = decode("wav", b"".join(received))
    assert abs(len(pcm) / 2 / rate - finished.audio_seconds) < 0.05, "the whole audio, once"
    assert_speech(pcm, rate, 20.0, 60.0)


def test_cancel_removes_the_job_and_frees_the_engine(daemon):
    log = EventLog(daemon)
    try:
        job_id = start(daemon, SENTENCES * 3)["id"]
        while job(daemon, job_id).json()["state"] != "running":
            time.sleep(0.02)
        deleted = httpx.delete(f"{base_url(daemon)}/v1/jobs/{job_id}")
        assert deleted.status_code == 200 and deleted.json() == {
            "id": job_id,
            "object": "speech.job.deleted",
            "deleted": True,
            "cancelled": True,
        }
        _, cancelled = log.wait_for(job_id, JobCancelled, timeout=5)
    finally:
        log.close()
    assert "removed" in cancelled.reason
    assert job(daemon, job_id).status_code == 404
    gone = httpx.get(f"{base_url(daemon)}/v1/jobs/{job_id}/audio")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "job_not_found"
    assert httpx.delete(f"{base_url(daemon)}/v1/jobs/{job_id}").status_code == 404
    assert not (daemon.settings.state_path / "outputs" / job_id).exists()
    assert daemon.core.registry.get("piper").scheduler.depth == 0


def test_a_reader_of_a_job_removed_mid_stream_is_cut_off_not_left_waiting(daemon):
    job_id = start(daemon, SENTENCES * 3, response_format="pcm")["id"]
    got, ended = threading.Event(), threading.Event()
    outcome: list[str] = []

    def read() -> None:
        try:
            with httpx.stream("GET", f"{base_url(daemon)}/v1/jobs/{job_id}/audio?response_format=pcm", timeout=60) as r:
                for _ in r.iter_bytes():
                    got.set()
            outcome.append("complete")
        except httpx.HTTPError as err:
            outcome.append(type(err).__name__)
        finally:
            ended.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert got.wait(30), "no audio reached the reader"
    time.sleep(0.3)  # caught up with the engine: the reader waits for the next chunk
    assert httpx.delete(f"{base_url(daemon)}/v1/jobs/{job_id}").status_code == 200
    # Before the fix the reader waited for a chunk that never came, holding its connection, for good.
    assert ended.wait(10), "the reader of a removed job was left waiting"
    assert outcome != ["complete"], "a job removed mid-stream must not look like a whole answer"


def test_jobs_of_every_door_are_listed_and_others_are_read_only(daemon):
    wyoming_say(daemon, "The front door is locked.")
    with client(daemon).audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="The garage is closed.", response_format="pcm"
    ) as response:
        streamed = response.headers["x-voxhost-job"]
        response.read()
    listed = httpx.get(base_url(daemon) + "/v1/jobs", params={"limit": 50}).json()
    assert listed["object"] == "list" and listed["total"] >= 2
    doors = {j["door"] for j in listed["data"]}
    assert {"http", "wyoming"} <= doors
    ours = next(j for j in listed["data"] if j["id"] == streamed)
    assert ours["state"] == "finished" and not ours["audio"] and ours["audio_url"] is None
    theirs = next(j for j in listed["data"] if j["door"] == "wyoming")
    assert theirs["read_only"] and theirs["state"] == "finished"
    refused = httpx.delete(f"{base_url(daemon)}/v1/jobs/{theirs['id']}")
    assert refused.status_code == 403 and "wyoming door" in refused.json()["error"]["message"]
    assert refused.json()["error"]["code"] == "read_only"
    no_audio = httpx.get(f"{base_url(daemon)}/v1/jobs/{streamed}/audio")
    assert no_audio.status_code == 404 and "no kept audio" in no_audio.json()["error"]["message"]
    assert no_audio.json()["error"]["code"] == "no_audio"
    only = httpx.get(base_url(daemon) + "/v1/jobs", params={"door": "wyoming"}).json()["data"]
    assert only and {j["door"] for j in only} == {"wyoming"}
    page = httpx.get(base_url(daemon) + "/v1/jobs", params={"limit": 1, "offset": 1}).json()
    assert len(page["data"]) == 1 and page["has_more"] == (page["total"] > 2)
    assert httpx.get(base_url(daemon) + "/v1/jobs", params={"limit": 0}).status_code == 400


def test_an_id_that_is_no_job_is_a_404_saying_so(daemon):
    # An id not shaped like voxhost's (a typo, another server's) missed the route and was "no such route; see
    # /openapi.json", as if /v1/jobs/{job_id} did not exist.
    url = base_url(daemon)
    for method, path, param in (
        ("GET", "/v1/jobs/nope", "job_id"),
        ("DELETE", "/v1/jobs/nope", "job_id"),
        ("GET", "/v1/jobs/nope/audio", "job_id"),
        ("GET", "/v1/outputs/nope", "output_id"),
        ("DELETE", "/v1/outputs/nope", "output_id"),
        ("GET", "/v1/outputs/nope/audio", "output_id"),
        ("GET", "/v1/outputs/delete/audio", "output_id"),
    ):
        response = httpx.request(method, url + path)
        error = response.json()["error"]
        assert response.status_code == 404 and error["code"] == "job_not_found", (method, path, response.text)
        assert error["param"] == param and "route" not in error["message"], (method, path, error)
    # The routes beside an output keep their own answers: a GET of the POST-only delete is a 405 naming POST.
    wrong = httpx.get(url + "/v1/outputs/delete")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST", wrong.text


def test_jobs_api_is_in_the_document(daemon):
    doc = httpx.get(base_url(daemon) + "/openapi.json").json()
    speech = doc["paths"]["/v1/audio/speech"]["post"]
    assert speech["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/SpeechJob")
    body = doc["components"]["schemas"]["CreateSpeechRequest"]["properties"]
    assert {"type": "boolean"} in body["async"]["anyOf"] and body["keep"]  # or null: not async
    for path in ("/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/audio", "/v1/outputs", "/v1/outputs/archive"):
        assert path in doc["paths"]
    assert set(doc["paths"]["/v1/jobs/{job_id}"]) == {"get", "delete"}


# -- stored outputs: keep, history, download, delete ---------------------------------------------------------


@pytest.fixture(scope="module")
def keeper(tmp_path_factory):
    """Nothing kept unless asked; at most 50 outputs."""
    state = tmp_path_factory.mktemp("keep-state")
    settings = make_settings(state, http={"enabled": True, "port": 0}, outputs={"max_count": 50})
    with running_daemon(settings) as d:
        yield d


def speak(d, text: str, **body) -> str:
    """A streamed speech request; its job id."""
    # 60 s, not httpx's 5: a first request at another speed measures the voice's speed curve (4-5 s on a loaded machine)
    response = httpx.post(
        base_url(d) + "/v1/audio/speech", json={"input": text, "response_format": "pcm", **body}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.headers["x-voxhost-job"]


def flush(d) -> None:
    """Wait until the job store has written what it was given."""
    d.call(d.core.jobstore.flush())


def outputs(d, **params) -> dict:
    """``GET /v1/outputs``."""
    response = httpx.get(base_url(d) + "/v1/outputs", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_outputs_are_kept_only_when_asked(keeper):
    before = outputs(keeper)["total"]
    speak(keeper, "Nothing to keep here.")
    kept = speak(keeper, "Please keep this one.", keep=True, seed=7, speed=1.2, options={"noise_scale": 0.5})
    flush(keeper)
    listed = outputs(keeper)
    assert listed["total"] == before + 1
    record = listed["data"][0]
    assert record["id"] == kept and record["object"] == "speech.output"
    assert record["text"] == "Please keep this one." and record["voice"] == "piper:en_US-joe-medium"
    assert record["engine"] == "piper" and record["door"] == "http" and record["seed"] == 7
    assert record["speed"] == 1.2 and record["options"] == {"noise_scale": 0.5}
    assert record["timings"]["ttfa"] > 0 and record["sentences"] == 1 and record["sample_rate"] == 22050
    one = httpx.get(f"{base_url(keeper)}/v1/outputs/{kept}").json()
    assert one == record
    wav = httpx.get(f"{base_url(keeper)}{record['audio_url']}")
    assert wav.headers["content-type"] == "audio/wav" and len(wav.content) == record["size"]
    assert f"voxhost-{kept}.wav" in wav.headers["content-disposition"]
    pcm, rate = decode("wav", wav.content)
    assert_speech(pcm, rate, 0.8, 4.0)
    flac = httpx.get(f"{base_url(keeper)}{record['audio_url']}", params={"response_format": "flac"})
    assert flac.headers["content-type"] == "audio/flac"
    assert abs(len(decode("flac", flac.content)[0]) - len(pcm)) / 2 / rate < 0.05
    job_view = job(keeper, kept).json()
    assert job_view["kept"] and job_view["audio"]


def test_a_kept_text_with_nothing_to_say_stores_the_silence_it_answered(keeper):
    # Emoji alone: the answer is 0.1 s of silence, and the job said it had audio, but the stored output had none:
    # GET /v1/outputs/{id}/audio was a 404 "has no audio (yet)" and the archive left it out.
    answer = httpx.post(
        base_url(keeper) + "/v1/audio/speech", json={"input": "😀🎉 ... 👍", "response_format": "wav", "keep": True}
    )
    assert answer.status_code == 200, answer.text
    kept, (sent, rate) = answer.headers["x-voxhost-job"], decode("wav", answer.content)
    flush(keeper)
    stored = httpx.get(f"{base_url(keeper)}/v1/outputs/{kept}/audio")
    assert stored.status_code == 200, stored.text
    assert decode("wav", stored.content) == (sent, rate) and len(sent) == rate // 10 * 2 and not any(sent)
    record = httpx.get(f"{base_url(keeper)}/v1/outputs/{kept}").json()
    assert record["audio_seconds"] == 0.1 and record["sample_rate"] == rate and record["size"] == len(stored.content)
    assert httpx.get(f"{base_url(keeper)}/v1/jobs/{kept}/audio", params={"response_format": "wav"}).content == (
        stored.content
    )
    archive = httpx.get(base_url(keeper) + "/v1/outputs/archive", params={"ids": kept})
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert z.read(f"{kept}/audio.wav") == stored.content


def test_stored_audio_is_served_in_byte_ranges(keeper):
    # Browsers' <audio> elements and the voice lab seek with Range: a kept output's WAV and a finished job's (its
    # file, whole on disk) answer one range with a 206; an unsatisfiable one is a 416 in the door's error form.
    kept = speak(keeper, "Please keep this one as well.", keep=True)
    held = start(keeper, "This one is fetched later.", response_format="wav")
    assert wait_done(keeper, held["id"])["state"] == "finished"
    flush(keeper)
    for url in (f"/v1/outputs/{kept}/audio", held["audio_url"]):
        whole = httpx.get(base_url(keeper) + url)
        size = len(whole.content)
        assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes", whole.headers
        assert_speech(*decode("wav", whole.content), 0.5, 4.0)
        for asked, expected in (("bytes=0-99", whole.content[:100]), ("bytes=100-", whole.content[100:])):
            part = httpx.get(base_url(keeper) + url, headers={"Range": asked})
            assert part.status_code == 206 and part.content == expected, (url, asked, part.status_code)
            first = int(asked[6:].split("-")[0])
            assert part.headers["content-range"] == f"bytes {first}-{first + len(expected) - 1}/{size}"
        tail = httpx.get(base_url(keeper) + url, headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == whole.content[-10:]
        for unsatisfiable in (f"bytes={size}-", "bytes=-0", "bytes=9-3"):
            refused = httpx.get(base_url(keeper) + url, headers={"Range": unsatisfiable})
            assert refused.status_code == 416 and refused.headers["content-range"] == f"bytes */{size}", unsatisfiable
            error = refused.json()["error"]
            assert error["type"] == "invalid_request_error" and error["code"] == "range_not_satisfiable", error
            assert refused.headers["x-content-type-options"] == "nosniff"
        unknown_unit = httpx.get(base_url(keeper) + url, headers={"Range": "seconds=1-2"})
        assert unknown_unit.status_code == 200 and unknown_unit.content == whole.content, "ignored, as HTTP says"
    encoded = httpx.get(base_url(keeper) + held["audio_url"].replace("wav", "mp3"), headers={"Range": "bytes=0-9"})
    assert encoded.status_code == 200 and encoded.headers["accept-ranges"] == "none", "encoded as it is sent"
    assert len(encoded.content) > 10


def test_stored_audio_honours_an_etag_in_if_range_and_if_none_match(keeper):
    # A player resuming a download sends the ETag it has in If-Range: the range if the file is the same, else the
    # whole file (a date was the only validator understood: an ETag, matching or not, got the range).
    kept = speak(keeper, "Resume this one from where it stopped.", keep=True)
    flush(keeper)
    url = f"{base_url(keeper)}/v1/outputs/{kept}/audio"
    whole = httpx.get(url)
    etag = whole.headers["etag"]
    assert whole.status_code == 200 and etag.startswith('"'), whole.headers  # strong: the file never changes
    part = httpx.get(url, headers={"Range": "bytes=0-99", "If-Range": etag})
    assert part.status_code == 206 and part.content == whole.content[:100]
    for stale in ('"another-file"', f"W/{etag}"):  # If-Range compares strongly: a weak tag never matches
        for asked in ("bytes=0-99", f"bytes={len(whole.content)}-"):
            answer = httpx.get(url, headers={"Range": asked, "If-Range": stale})
            assert answer.status_code == 200 and answer.content == whole.content, (stale, asked, answer.status_code)
    cached = httpx.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == etag


def test_history_search_filters_and_pages(keeper):
    start_time = time.time()
    ids = [speak(keeper, f"The {word} is ready, number {i}.", keep=True) for i, word in enumerate(["tea"] * 5)]
    ids.append(speak(keeper, "The coffee is ready too.", keep=True))
    flush(keeper)
    found = outputs(keeper, q="TEA ready", since=start_time, limit=2)
    assert found["total"] == 5 and [o["id"] for o in found["data"]] == ids[4:2:-1] and found["has_more"]
    rest = outputs(keeper, q="tea", since=start_time, limit=2, offset=4)
    assert [o["id"] for o in rest["data"]] == [ids[0]] and not rest["has_more"]
    assert outputs(keeper, q="coffee", since=start_time)["total"] == 1
    assert outputs(keeper, voice="joe", since=start_time)["total"] == 6
    assert outputs(keeper, voice="nobody")["total"] == 0
    assert outputs(keeper, door="wyoming")["total"] == 0
    assert outputs(keeper, engine="piper", since=start_time)["total"] == 6
    assert outputs(keeper, until=start_time - 3600)["total"] == 0
    assert httpx.get(base_url(keeper) + "/v1/outputs", params={"since": "yesterday"}).status_code == 400


def test_bulk_download_and_delete_need_confirmation(keeper):
    ids = [speak(keeper, f"Archive me, part {i}.", keep=True) for i in range(3)]
    flush(keeper)
    archive = httpx.get(base_url(keeper) + "/v1/outputs/archive", params={"ids": ",".join(ids)})
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["format"] == "voxhost-outputs" and {o["id"] for o in manifest["outputs"]} == set(ids)
        for output_id in ids:
            for name in ("audio.wav", "record.json"):
                member = z.read(f"{output_id}/{name}")
                assert manifest["files"][f"{output_id}/{name}"]["sha256"] == sha256(member).hexdigest()
            assert json.loads(z.read(f"{output_id}/record.json"))["text"].startswith("Archive me")
    url = base_url(keeper) + "/v1/outputs/delete"
    dry = httpx.post(url, json={"q": "archive me"})
    assert dry.status_code == 200 and not dry.json()["confirmed"] and dry.json()["deleted"] == []
    assert set(dry.json()["matched"]) == set(ids)
    assert outputs(keeper, q="archive me")["total"] == 3  # nothing deleted without confirm
    assert httpx.post(url, json={}).json()["matched"] == []  # nothing chosen: nothing, never everything
    assert httpx.post(url, json={"ids": ids[:1], "confirm": 1}).status_code == 400  # confirm is a JSON boolean
    done = httpx.post(url, json={"ids": ids[:2], "confirm": True}).json()
    assert done["confirmed"] and sorted(done["deleted"]) == sorted(ids[:2])
    assert [o["id"] for o in outputs(keeper, q="archive me")["data"]] == [ids[2]]
    single = httpx.delete(f"{base_url(keeper)}/v1/outputs/{ids[2]}")
    assert single.status_code == 200 and single.json()["deleted"]
    assert httpx.delete(f"{base_url(keeper)}/v1/outputs/{ids[2]}").status_code == 404
    assert not any((keeper.settings.state_path / "outputs" / i).exists() for i in ids)


def test_keep_false_overrides_the_door_default(tmp_path):
    settings = make_settings(tmp_path / "state", http={"enabled": True, "port": 0}, outputs={"keep_doors": ["http"]})
    with running_daemon(settings) as d:
        kept = speak(d, "Kept by the door's default.")
        speak(d, "Not this one.", keep=False)
        flush(d)
        assert [o["id"] for o in outputs(d)["data"]] == [kept]


# -- retention ---------------------------------------------------------------------------------------------


def test_retention_by_count_size_and_age(tmp_path):
    settings = make_settings(
        tmp_path / "state",
        http={"enabled": True, "port": 0},
        outputs={"keep_doors": ["http"], "max_count": 3, "max_mb": 0.25, "max_age_days": 1},
    )
    with running_daemon(settings) as d:
        ids = [speak(d, f"Short one number {i}.") for i in range(4)]
        flush(d)
        assert [o["id"] for o in outputs(d)["data"]] == ids[:0:-1], "the oldest goes when the count is passed"
        health = httpx.get(base_url(d) + "/health").json()["outputs"]
        assert health["count"] == 3 and health["max_count"] == 3 and "count" in health["near_limit"]
        metrics = httpx.get(base_url(d) + "/metrics").text
        assert 'voxhost_outputs_near_limit{limit="count"} 1.0' in metrics and "voxhost_outputs 3.0" in metrics
        # About 3 s of audio is 130 KB: two long ones pass 0.25 MiB, so older ones go to make room.
        big = [speak(d, "This is a much longer output. " * 2 + f"It is number {i}.") for i in range(2)]
        flush(d)
        kept = outputs(d)["data"]
        assert sum(o["size"] for o in kept) <= 0.25 * 1024 * 1024 and kept[0]["id"] == big[1]
        assert ids[1] not in {o["id"] for o in kept}, "the oldest go first to make room"
        # Age: two days later (the store's clock) everything is past the one-day limit.
        d.core.jobstore.clock = lambda: time.time() + 2 * 86400
        d.call(d.core.jobstore.cleanup())
        flush(d)
        assert outputs(d)["total"] == 0
        assert not [p for p in (d.settings.state_path / "outputs").iterdir() if not p.name.startswith(".")]


def test_cleanup_at_start_applies_the_limits(tmp_path):
    state = tmp_path / "state"
    settings = make_settings(state, http={"enabled": True, "port": 0}, outputs={"keep_doors": ["http"]})
    with running_daemon(settings) as d:
        ids = [speak(d, f"Kept before the restart, {i}.") for i in range(3)]
    tighter = make_settings(state, http={"enabled": True, "port": 0}, outputs={"max_count": 1})
    with running_daemon(tighter) as d:
        assert [o["id"] for o in outputs(d)["data"]] == [ids[2]]
        assert sorted(p.name for p in (state / "outputs").iterdir()) == [ids[2]]


# -- restarts ------------------------------------------------------------------------------------------------


def test_outputs_survive_a_restart_and_running_jobs_are_reported_failed(tmp_path):
    settings = make_settings(tmp_path / "state", http={"enabled": True, "port": 0})
    with running_daemon(settings) as d:
        kept = speak(d, "I will still be here.", keep=True)
        wav = httpx.get(f"{base_url(d)}/v1/outputs/{kept}/audio").content
        done = start(d, "A short job that ends before the restart.")["id"]
        wait_done(d, done)
        running = start(d, SENTENCES * 4, keep=True)["id"]
        while job(d, running).json()["state"] != "running":
            time.sleep(0.02)
    with running_daemon(settings) as d:
        assert httpx.get(f"{base_url(d)}/v1/outputs/{kept}/audio").content == wav
        # The kept job's record still names its audio, and that URL serves it (it was a 404 "ask with keep").
        kept_job = job(d, kept).json()
        assert kept_job["kept"] and kept_job["audio"]
        again = httpx.get(base_url(d) + kept_job["audio_url"], params={"response_format": "wav"})
        assert again.status_code == 200 and again.content[44:] == wav[44:]
        as_pcm = httpx.get(f"{base_url(d)}/v1/outputs/{kept}/audio", params={"response_format": "pcm"})
        assert as_pcm.status_code == 200 and as_pcm.headers["content-type"].startswith("audio/pcm")
        assert outputs(d)["data"][0]["text"] == "I will still be here."
        assert job(d, done).json()["state"] == "finished"
        assert httpx.get(f"{base_url(d)}/v1/jobs/{done}/audio", params={"response_format": "pcm"}).status_code == 200
        failed = job(d, running).json()
        assert failed["state"] == "failed" and failed["error"]["code"] == "interrupted"
        assert "stopped before the job finished" in failed["error"]["message"]
        assert not failed["kept"] and running not in {o["id"] for o in outputs(d)["data"]}
        refused = httpx.get(f"{base_url(d)}/v1/jobs/{running}/audio")
        assert refused.status_code == 404 and "failed" in refused.json()["error"]["message"]


def test_a_crash_mid_job_is_reported_failed_after_the_restart(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXHOST_")}
    env["VOXHOST_STATE_DIR"] = str(tmp_path / "state")
    command = [sys.executable, "-m", "voxhost", "serve", "--no", "wyoming", "--http-port", str(port)]
    url = f"http://127.0.0.1:{port}"

    def serve() -> subprocess.Popen:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
        ready = threading.Event()
        threading.Thread(target=lambda: [ready.set() for line in proc.stderr if "Ready:" in line], daemon=True).start()
        assert ready.wait(90), "the daemon did not start"
        return proc

    proc = serve()
    try:
        response = httpx.post(url + "/v1/audio/speech", json={"input": SENTENCES * 4, "async": True}, timeout=30)
        job_id = response.json()["id"]
        while httpx.get(f"{url}/v1/jobs/{job_id}").json()["progress"]["sentences_done"] < 1:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # no shutdown at all: the record on disk still says running
        proc.wait(10)
        record = json.loads(Path(tmp_path / "state" / "outputs" / job_id / "record.json").read_text())
        assert record["state"] in ("queued", "running")
        proc = serve()
        after = httpx.get(f"{url}/v1/jobs/{job_id}").json()
        assert after["state"] == "failed" and after["error"]["code"] == "interrupted"
        assert after["expires_at"] is None or after["expires_at"] > time.time()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
