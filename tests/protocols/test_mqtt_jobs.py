"""Jobs over MQTT against a real mosquitto: a say request kept with ``keep``, fetched again later by its job id;
an asynchronous HTTP job fetched over MQTT; recent jobs listed; MQTT jobs read-only over HTTP."""

from __future__ import annotations

import io
import time

import httpx2 as httpx
import pytest
import soundfile

from ..conftest import assert_speech, make_settings, running_daemon
from .http_helpers import base_url, metric
from .mqtt_helpers import (  # noqa: F401 (fixtures)
    audio_of,
    broker,
    client,
    is_status,
    is_terminal,
    mqtt_section,
    new_id,
)

pytestmark = pytest.mark.mqtt

NODE = "hall"
ROOT = f"voxhost/{NODE}"
AUDIO_REQUESTS = 7
"""The MQTT door's ``max_audio_requests`` (the HTTP door's ``max_upload_requests`` is 16)."""


@pytest.fixture(scope="module")
def daemon(broker, tmp_path_factory):
    """MQTT and HTTP doors."""
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        http={"enabled": True, "port": 0},
        mqtt=mqtt_section(broker.port, NODE, max_audio_requests=AUDIO_REQUESTS),
    )
    with running_daemon(settings) as d:
        yield d


def say(client, text: str, **fields) -> tuple[str, list]:
    """A say request; its job id and its messages up to ``done``."""
    rid = new_id()
    client.subscribe(f"{ROOT}/response", f"{ROOT}/audio/{rid}/#")
    client.publish(f"{ROOT}/say", {"text": text, "id": rid, **fields})
    messages = client.collect(is_terminal(rid))
    queued = next(m.json() for m in messages if is_status("queued", rid)(m))
    return queued["job"], [m for m in messages if m.topic.startswith(f"{ROOT}/audio/{rid}/")]


def fetch(client, job_id: str, **fields) -> tuple[list, dict]:
    """``jobs/get`` for one job: the messages up to its ``done`` or ``error``, and the ``job`` reply."""
    rid = new_id()
    reply = f"test/jobs/{rid}"
    client.subscribe(reply, f"{ROOT}/audio/{rid}/#")
    client.publish(f"{ROOT}/jobs/get", {"job": job_id, "id": rid, "reply_to": reply, **fields})
    messages = client.collect(is_terminal(rid, reply))
    record = next(m.json() for m in messages if is_status("job", rid, reply)(m))
    return messages, record


def test_a_kept_say_request_is_fetched_again_by_its_job_id(client, daemon):
    job_id, first = say(client, "The laundry is dry. Please fold it.", keep=True)
    said, rate, _ = audio_of(first, first[0].topic.rsplit("/", 1)[0])
    time.sleep(0.3)  # the store seals the file once the job has finished
    messages, record = fetch(client, job_id, format="pcm", chunk_bytes=1024)
    assert record["job"]["id"] == job_id and record["job"]["door"] == "mqtt" and record["job"]["kept"]
    assert record["job"]["text"] == "The laundry is dry. Please fold it."
    rid = record["id"]
    pcm, fetched_rate, chunks = audio_of(messages, f"{ROOT}/audio/{rid}")
    assert fetched_rate == rate and pcm == said, "the same audio, again"
    assert max(len(c) for c in chunks) <= 1024
    done = messages[-1].json()
    assert done["status"] == "done" and done["bytes"] == len(pcm) and done["job"] == job_id
    # Over HTTP the MQTT job shows, read-only, and its output is in the history.
    url = base_url(daemon)
    listed = httpx.get(url + "/v1/jobs", params={"door": "mqtt"}).json()["data"]
    mine = next(j for j in listed if j["id"] == job_id)
    assert mine["read_only"] and mine["kept"]
    assert httpx.delete(f"{url}/v1/jobs/{job_id}").status_code == 403
    assert job_id in {o["id"] for o in httpx.get(url + "/v1/outputs").json()["data"]}


def test_an_asynchronous_http_job_fetched_over_mqtt_as_wav(client, daemon):
    url = base_url(daemon)
    accepted = httpx.post(url + "/v1/audio/speech", json={"input": "Fetched over another door.", "async": True})
    job_id = accepted.json()["id"]
    messages, record = fetch(client, job_id, format="wav")
    assert record["job"]["door"] == "http"
    wav = next(m for m in messages if m.topic.endswith("/wav"))
    samples, rate = soundfile.read(io.BytesIO(wav.payload), dtype="int16")
    assert_speech(samples.tobytes(), rate, 1.0, 4.0)


def test_recent_jobs_and_errors(client):
    job_id, _ = say(client, "Not kept at all.")
    rid = new_id()
    client.subscribe(f"{ROOT}/jobs")
    client.publish(f"{ROOT}/jobs/get", {"id": rid, "door": "mqtt", "limit": 5})
    listed = client.wait(is_status("ok", rid, f"{ROOT}/jobs")).json()
    assert listed["total"] >= 1 and job_id in {j["id"] for j in listed["jobs"]}
    assert {j["door"] for j in listed["jobs"]} == {"mqtt"}
    messages, record = fetch(client, job_id)
    assert record["job"]["state"] == "finished" and not record["job"]["audio"]
    error = messages[-1].json()
    assert error["status"] == "error" and error["code"] == "no_audio" and "no kept audio" in error["message"]
    rid = new_id()
    client.publish(f"{ROOT}/jobs/get", {"id": rid, "job": "1-abcdef"})
    missing = client.wait(is_terminal(rid, f"{ROOT}/jobs")).json()
    assert missing["status"] == "error" and missing["code"] == "job_not_found"
    rid = new_id()
    client.publish(f"{ROOT}/jobs/get", {"id": rid, "job": "../etc"})
    bad = client.wait(is_terminal(rid, f"{ROOT}/jobs")).json()
    assert bad["code"] == "invalid_request" and bad["param"] == "job"


def test_both_doors_upload_budgets_are_in_the_metrics(daemon):
    """One set of metrics, labelled by door, for what each door's requests with a payload hold and are refused."""
    text = httpx.get(base_url(daemon) + "/metrics").text
    assert metric(text, "voxhost_upload_limit", door="mqtt", limit="requests") == AUDIO_REQUESTS
    assert metric(text, "voxhost_upload_limit", door="http", limit="requests") == 16
    for door in ("mqtt", "http"):
        assert metric(text, "voxhost_upload_limit", door=door, limit="bytes") == 64 * 1024 * 1024
        assert metric(text, "voxhost_uploads_in_progress", door=door) == 0
        assert metric(text, "voxhost_upload_bytes_in_progress", door=door) == 0
        assert metric(text, "voxhost_uploads_refused_total", door=door) == 0


def test_a_kept_say_with_nothing_to_say_stores_the_silence_it_sent(client, daemon):
    # Emoji alone: nothing to say. A streamed say got no audio at all (no start, no stop: a speaker waiting for them
    # waited on), and its kept output was a record without audio (a 404, left out of archives) while its job said
    # it had some. Now the say gets the 0.1 s of silence the other doors give, and the output holds it.
    job_id, first = say(client, "😀🎉 👍", keep=True)
    assert first, "no audio message at all"
    sent, rate, _ = audio_of(first, first[0].topic.rsplit("/", 1)[0])
    assert len(sent) == rate // 10 * 2 and not any(sent)
    daemon.call(daemon.core.jobstore.flush())
    stored = httpx.get(f"{base_url(daemon)}/v1/outputs/{job_id}/audio")
    assert stored.status_code == 200, stored.text
    samples, stored_rate = soundfile.read(io.BytesIO(stored.content), dtype="int16")
    assert (samples.tobytes(), stored_rate) == (sent, rate)
