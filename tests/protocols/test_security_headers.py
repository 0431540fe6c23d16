"""Every HTTP answer carries the security headers the HTML pages send (nosniff, no referrer, a Content-Security-Policy
that is never framed): JSON, audio streams, events, preflights, aiohttp's own errors (unknown path, wrong method,
too large a body) and the refusal past the connection cap; errors under /v1/ are in OpenAI's shape. Spoken to with
httpx and the openai client."""

from __future__ import annotations

import socket
import time

import httpx2 as httpx
import openai
import pytest

from ..conftest import REPO, make_settings, running_daemon
from .http_helpers import base_url, client

ORIGIN = "http://app.example"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[str(REPO / "tests" / "plugins")],
        engines={"piper": {"enabled": False}},
        http={"enabled": True, "port": 0, "cors_origins": [ORIGIN], "max_connections": 6},
    )
    with running_daemon(settings) as d:
        yield d


def assert_secured(headers: httpx.Headers, what: str) -> None:
    """The headers every answer has; a page's policy may allow more, but never framing, plugins or a base URL."""
    assert headers.get("x-content-type-options") == "nosniff", (what, headers)
    assert headers.get("referrer-policy") == "no-referrer", (what, headers)
    policy = {part.split()[0]: part.split()[1:] for part in headers.get("content-security-policy", "").split("; ")}
    assert policy.get("frame-ancestors") == ["'none'"] and policy.get("object-src") == ["'none'"], (what, headers)
    assert policy.get("base-uri") == ["'none'"] and "default-src" in policy, (what, headers)


def assert_openai_error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == code, error


@pytest.fixture
def http(daemon):
    """One keep-alive connection for a test's requests (the daemon serves only a few at once)."""
    with httpx.Client(base_url=base_url(daemon), timeout=30) as c:
        yield c


def test_aiohttps_own_errors_carry_the_headers_and_are_openai_errors(daemon, http):
    for path in ("/v1/no/such/thing", "/no-such-page", "/static/no-such-file.js"):
        answer = http.get(path)
        assert_openai_error(answer, 404, "not_found")
        assert_secured(answer.headers, path)
    wrong_method = http.delete("/v1/models")
    assert_openai_error(wrong_method, 405, "method_not_allowed")
    assert "GET" in wrong_method.headers["allow"]
    assert_secured(wrong_method.headers, "405")
    too_large = http.post(
        "/v1/lexicon", content=b"[" + b"1," * 600_000 + b"1]", headers={"Content-Type": "application/json"}
    )
    assert_openai_error(too_large, 413, "too_large")
    assert_secured(too_large.headers, "413")
    # and the openai client reads them as the errors they are
    with pytest.raises(openai.NotFoundError):
        client(daemon).models.retrieve("no-such-model")


def test_every_kind_of_answer_carries_the_headers(http):
    for path in ("/v1/models", "/health", "/metrics", "/openapi.json"):
        answer = http.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert_secured(answer.headers, path)
    body = {"model": "tone", "voice": "beep", "input": "Hello there.", "response_format": "wav"}
    with http.stream("POST", "/v1/audio/speech", json=body) as speech:  # streamed as it is made
        assert speech.status_code == 200 and speech.headers["content-type"] == "audio/wav"
        assert_secured(speech.headers, "speech")
    with http.stream("GET", "/v1/events") as events:  # never ends: its headers are enough
        assert_secured(events.headers, "events")
    preflight = http.options("/v1/audio/speech", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == ORIGIN
    assert_secured(preflight.headers, "preflight")
    refused = http.post("/v1/audio/speech", json={**body, "voice": "nobody"})
    assert_openai_error(refused, 400, "voice_not_found")
    assert_secured(refused.headers, "400")


def test_html_pages_keep_their_own_policy(http):
    page = http.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert_secured(page.headers, "/")
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_the_refusal_past_the_connection_cap_carries_the_headers(daemon):
    host, port = base_url(daemon).removeprefix("http://").split(":")
    held = [socket.create_connection((host, int(port)), timeout=10) for _ in range(6)]
    try:
        time.sleep(0.2)
        refused = httpx.get(base_url(daemon) + "/health", timeout=10)
        assert_openai_error(refused, 503, "too_many_connections")
        assert_secured(refused.headers, "503")
    finally:
        for sock in held:
            sock.close()
