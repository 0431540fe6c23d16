"""The HTTP door as careless clients and configurations use it: a base URL ending in "/" (Open WebUI joins
``{base}/audio/speech``), an origin copied from the address bar into ``cors_origins``, a voice or model name with
stray spaces, requests aiohttp cannot parse (a URL or header too long, a malformed header), and curl's uploads to a
route that is not there."""

from __future__ import annotations

import json
import socket

import httpx2 as httpx
import openai
import pytest

from ..conftest import make_settings, running_daemon
from .http_helpers import base_url, client, expect_continue, refused_before_the_body

ORIGIN = "http://ui.example:3000"
"""What a browser sends as ``Origin`` for a page at http://UI.example:3000/chat."""
SECURITY = ("content-security-policy", "x-content-type-options", "referrer-policy")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """Piper; CORS for one origin, written as copied from a browser's address bar."""
    settings = make_settings(
        tmp_path_factory.mktemp("careless-state"),
        http={"enabled": True, "port": 0, "cors_origins": ["HTTP://UI.example:3000/"]},
    )
    with running_daemon(settings) as d:
        yield d


def test_a_base_url_ending_in_a_slash_reaches_every_route(daemon):
    # Open WebUI posts to f"{base}/audio/speech": with the base URL "http://host:8000/v1/" that is /v1//audio/speech,
    # which was a 404 (and its voice list, fetched the same way, fell back to OpenAI's names without a word).
    base = base_url(daemon) + "/v1/"
    with httpx.Client(follow_redirects=True, timeout=60) as http:
        speech = http.post(f"{base}/audio/speech", json={"model": "tts-1", "input": "Hello there.", "voice": "alloy"})
        assert speech.status_code == 200, speech.text
        assert speech.headers["content-type"] == "audio/mpeg" and len(speech.content) > 1000
        assert speech.history[0].status_code == 308  # the same method and body, at the route meant
        voices = http.get(f"{base}/audio/voices")
        assert voices.status_code == 200 and voices.json()["voices"]
        assert http.get(base_url(daemon) + "/v1/models/").json()["object"] == "list"
    # The official client joins its paths onto whatever base URL it is given.
    audio = openai.OpenAI(base_url=base + "/", api_key="x", max_retries=0).audio.speech.create(
        model="tts-1", voice="alloy", input="Hello there.", response_format="wav"
    )
    assert audio.content[:4] == b"RIFF"
    assert httpx.get(base_url(daemon) + "//nothing/here/").status_code == 404  # only routes there are


def test_a_path_one_character_too_long_is_not_sent_to_another_route(daemon):
    # aiohttp's path normalizer cut the last character off any path no route took, slash or not: /v1/modelsX was a
    # 308 to /v1/models, and DELETE /v1/jobs/<id>x to DELETE of the job whose id is one character shorter.
    url = base_url(daemon)
    for method, path in (("GET", "/v1/modelsX"), ("GET", "/v1/audio/voicesX"), ("POST", "/v1/audio/speechs")):
        response = httpx.request(method, url + path, json={"input": "Hi."})
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", (path, response)
    wrong_method = httpx.get(url + "/v1/audio/speech")  # a 405 names the methods; no path is tried instead
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    moved = httpx.get(url + "/v1//models/?x=1")  # what is normalized still is, with its query
    assert moved.status_code == 308 and moved.headers["location"] == "/v1/models?x=1", moved.headers


def test_an_origin_written_as_an_address_gets_cors(daemon):
    # cors_origins = ["HTTP://UI.example:3000/"]: the browser's Origin is "http://ui.example:3000". The guard took
    # them as one origin but CORS did not: the preflight was a 405 and the page could not read any answer.
    url = base_url(daemon)
    preflight = httpx.options(
        url + "/v1/audio/speech",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    body = {"input": "Hi there.", "voice": "alloy", "response_format": "wav"}
    speech = httpx.post(url + "/v1/audio/speech", json=body, headers={"Origin": ORIGIN}, timeout=60)
    assert speech.status_code == 200 and speech.headers["access-control-allow-origin"] == ORIGIN
    other = httpx.post(url + "/v1/audio/speech", json=body, headers={"Origin": "http://ui.example:3001"})
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers


def test_an_openai_voice_name_with_stray_spaces_is_that_voice(daemon):
    # " alloy" went past the mapping of OpenAI names to the catalog, which trims names: "unknown voice 'alloy'".
    for voice in (" alloy", "alloy ", "Nova\n"):
        with client(daemon).audio.speech.with_streaming_response.create(
            model="tts-1", voice=voice, input="Hi.", response_format="pcm"
        ) as response:
            assert response.headers["x-voxhost-voice"] == "piper:en_US-joe-medium", voice
            assert response.read()


def test_a_model_name_with_stray_spaces_is_that_model(daemon):
    # A model typed into a settings field (Open WebUI's TTS model, a Home Assistant option) with a space or a newline
    # after it was "unknown model 'tts-1 '", while the voice beside it was trimmed.
    for model in (" tts-1", "piper\n", "auto "):
        with client(daemon).audio.speech.with_streaming_response.create(
            model=model, voice="alloy", input="Hi.", response_format="pcm"
        ) as response:
            assert response.headers["x-voxhost-voice"] == "piper:en_US-joe-medium", model
            assert response.read()
    voices = httpx.get(base_url(daemon) + "/v1/audio/voices", params={"model": "piper "})
    assert voices.status_code == 200 and voices.json()["voices"], voices.text


def test_an_empty_model_or_voice_is_the_default(daemon):
    # Open WebUI sends model "" once its TTS model field is cleared, and a client leaving the voice unset sends "":
    # each was a 400 ("model is empty", "voice should have at least 1 character"), while a transcription's model=""
    # and a voice of spaces alone were the defaults.
    for model, voice in (("", "alloy"), ("  ", "alloy"), ("tts-1", ""), ("", " ")):
        with client(daemon).audio.speech.with_streaming_response.create(
            model=model, voice=voice, input="Hi.", response_format="pcm"
        ) as response:
            assert response.headers["x-voxhost-voice"] == "piper:en_US-joe-medium", (model, voice)
            assert response.read()
    everyone = httpx.get(base_url(daemon) + "/v1/audio/voices").json()["voices"]
    for query in ({"model": ""}, {"engine": " "}):  # a voice list's filters alike: none, every voice
        voices = httpx.get(base_url(daemon) + "/v1/audio/voices", params=query)
        assert voices.status_code == 200 and voices.json()["voices"] == everyone, (query, voices.text)
    # The document says so: it stated minLength 1, and no "" among the names.
    doc = httpx.get(base_url(daemon) + "/openapi.json").json()
    speech = doc["components"]["schemas"]["CreateSpeechRequest"]["properties"]
    for field in ("model", "voice"):
        strings = [branch for branch in speech[field]["anyOf"] if branch.get("type") == "string"]
        assert strings and all("" in s["enum"] and "minLength" not in s for s in strings), (field, speech[field])


def test_a_json_body_with_a_byte_order_mark_is_read(daemon):
    # What `curl -d @body.json` sends after PowerShell wrote the file: "the request body is not valid JSON:
    # expected value at line 1 column 1", for a body that looks right in every editor.
    body = b"\xef\xbb\xbf" + json.dumps({"input": "Hi there.", "voice": "alloy", "response_format": "wav"}).encode()
    speech = httpx.post(
        base_url(daemon) + "/v1/audio/speech", content=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert speech.status_code == 200, speech.text
    assert speech.content[:4] == b"RIFF"


def _raw(daemon, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; the status, headers (lower-case names) and body of the answer."""
    host, port = base_url(daemon).removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_requests_aiohttp_cannot_parse_get_openai_errors_with_the_security_headers(daemon):
    # These never reach the application: aiohttp answered them in plain text, echoing the request, without the
    # headers every other answer carries.
    with pytest.raises(openai.BadRequestError) as caught:
        client(daemon).models.retrieve("a" * 9000)
    assert caught.value.body["code"] == "too_long" and "longer than 8190 bytes" in caught.value.message
    assert all(name in caught.value.response.headers for name in SECURITY)
    huge = httpx.get(base_url(daemon) + "/v1/models", headers={"X-Note": "b" * 9000})
    assert huge.status_code == 400 and huge.json()["error"]["code"] == "too_long"
    status, headers, body = _raw(daemon, b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n")
    assert status == 400 and headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == "bad_request"
    assert all(name in headers for name in SECURITY)
    assert httpx.get(base_url(daemon) + "/health").status_code == 200


def test_curl_is_told_404_or_405_before_it_sends_its_file(daemon):
    # curl sends "Expect: 100-continue" with a large body and waits: a route that is not there, or a method the route
    # does not take, is said at once, and the file is never sent. (aiohttp said 100 Continue to both first.)
    mb = 5_000_000
    refused_before_the_body(
        expect_continue(daemon, "POST /v1/audio/transcription HTTP/1.1", None, mb), 404, "not_found"
    )
    headers, error = refused_before_the_body(
        expect_continue(daemon, "PUT /v1/audio/speech HTTP/1.1", None, mb), 405, "method_not_allowed"
    )
    assert "POST" in headers["allow"] and error["message"] == "PUT is not allowed here; use POST", (headers, error)
    # A base URL ending in "/" is still sent on to the route meant, before the body too.
    [(status, moved, _)] = expect_continue(daemon, "POST /v1//audio/speech HTTP/1.1", None, mb)
    assert status == 308 and moved["location"] == "/v1/audio/speech" and moved["connection"] == "close", moved
    assert httpx.get(base_url(daemon) + "/health").status_code == 200
