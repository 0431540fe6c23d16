"""Cross-site requests with the default config (no API key, bound to localhost): what a web page the user visits
could make the browser send is refused, while the voice lab, scripts and the openai client work as before."""

from __future__ import annotations

import json

import httpx2 as httpx
import pytest

from ..conftest import make_settings, running_daemon
from .http_helpers import base_url, client, expect_continue, refused_before_the_body, tone, wav_bytes

EVIL = "http://evil.example"
SPEECH = {"model": "tts-1", "voice": "alloy", "input": "Hello there.", "response_format": "wav"}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        http={"enabled": True, "port": 0, "cors_origins": ["http://app.example"], "allowed_hosts": ["voxhost.lan"]},
    )
    with running_daemon(settings) as d:
        yield d


def own_origin(d) -> str:
    return base_url(d)


def test_a_foreign_page_cannot_make_it_speak(daemon):
    url = base_url(daemon) + "/v1/audio/speech"
    # A "simple" cross-site request: text/plain needs no preflight in a browser.
    plain = httpx.post(url, content=json.dumps(SPEECH), headers={"Content-Type": "text/plain", "Origin": EVIL})
    assert plain.status_code == 403, plain.text
    assert plain.json()["error"]["code"] == "forbidden" and "evil.example" in plain.json()["error"]["message"]
    # Even from no page at all, the body must be JSON.
    no_origin = httpx.post(url, content=json.dumps(SPEECH), headers={"Content-Type": "text/plain"})
    assert no_origin.status_code == 415 and no_origin.json()["error"]["code"] == "unsupported_media_type"
    form = httpx.post(url, data={"input": "Hi."}, headers={"Origin": EVIL})
    assert form.status_code == 403
    assert httpx.post(url, json=SPEECH, headers={"Origin": "null"}).status_code == 403  # a sandboxed page


def test_a_foreign_page_cannot_store_a_voice_or_unload_an_engine(daemon):
    url = base_url(daemon)
    upload = httpx.post(
        url + "/v1/audio/voices",
        data={"name": "Intruder", "transcript": "Hello."},
        files={"audio_sample": ("a.wav", wav_bytes(tone(220, 2.0)), "audio/wav")},
        headers={"Origin": EVIL},
    )
    assert upload.status_code == 403
    assert not [v for v in httpx.get(url + "/v1/library/voices").json()["data"] if v["name"] == "Intruder"]
    unload = httpx.post(url + "/v1/engines/piper/unload", headers={"Origin": EVIL})
    assert unload.status_code == 403
    assert httpx.get(url + "/v1/engines").json()["data"][0]["loaded"] is True
    pull = httpx.post(url + "/v1/engines/piper/models/x/pull", headers={"Origin": EVIL})
    assert pull.status_code == 403


def test_a_foreign_upload_waiting_for_100_continue_is_refused_before_its_body(daemon):
    """A client that asks before sending its body is told the 403 instead of ``100 Continue``."""
    head = f"POST /v1/audio/voices HTTP/1.1\r\nOrigin: {EVIL}\r\nContent-Type: multipart/form-data; boundary=x"
    _, error = refused_before_the_body(expect_continue(daemon, head, None, length=5_000_000), 403, "forbidden")
    assert error["param"] == "Origin", error


def test_own_pages_allowed_origins_and_scripts_still_work(daemon):
    url = base_url(daemon) + "/v1/audio/speech"
    for origin in (own_origin(daemon), "http://app.example", None):
        headers = {"Origin": origin} if origin else {}
        response = httpx.post(url, json=SPEECH, headers=headers, timeout=60)
        assert response.status_code == 200, (origin, response.text)
        assert response.content[:4] == b"RIFF"
    cors = httpx.options(
        url, headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST"}, timeout=10
    )
    assert cors.status_code == 204
    # The openai client (no Origin, JSON): unchanged.
    with client(daemon).audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="Still works.", response_format="wav"
    ) as response:
        assert response.read()[:4] == b"RIFF"


@pytest.mark.parametrize(
    ("host", "answered"),
    [
        ("evil.example", False),
        ("evil.example:8000", False),
        ("localhost", True),
        ("localhost:8000", True),
        ("127.0.0.1", True),
        ("[::1]:8000", True),
        ("192.168.1.20:8000", True),
        ("voxhost.lan", True),
        ("VOXHOST.LAN:8000", True),
        ("voxhost.lan.evil.example", False),
    ],
)
def test_only_allowed_host_names_are_answered(daemon, host, answered):
    response = httpx.get(base_url(daemon) + "/v1/models", headers={"Host": host})
    assert (response.status_code == 200) == answered, response.text
    if not answered:
        assert response.status_code == 403 and "allowed_hosts" in response.json()["error"]["message"]


def test_with_an_api_key_any_host_is_answered(tmp_path):
    settings = make_settings(tmp_path, http={"enabled": True, "port": 0, "api_key": "k"})
    with running_daemon(settings) as d:
        response = httpx.get(
            base_url(d) + "/v1/engines", headers={"Host": "voxhost.example.com", "Authorization": "Bearer k"}
        )
        assert response.status_code == 200
        # Still: a page of another origin changes nothing (it could not know the key, and the Origin says so).
        unload = httpx.post(
            base_url(d) + "/v1/engines/piper/unload", headers={"Origin": EVIL, "Authorization": "Bearer k"}
        )
        assert unload.status_code == 403
