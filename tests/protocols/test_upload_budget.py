"""Uploads in progress are bounded on the HTTP door: past ``max_upload_requests`` (or ``max_uploads_mb`` held) an
upload is answered 503 ``busy`` at once, before its body is read, while those held finish and the daemon serves on.

Each upload's file is held in memory until it is answered; only ``max_connections`` (128) bounded them, so a flood of
25 MiB transcriptions could hold gigabytes on a small board. Slow uploads are sent with httpx: half a body, then a
wait, then the rest."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx2 as httpx
import numpy as np
import pytest

from voxhost.audio import pcm_to_float
from voxhost.operations import SpeechRequest
from voxhost.protocols.http.uploads import UPLOADS

from ..conftest import RunningDaemon
from .http_helpers import base_url, cloning_daemon, expect_continue, metric, refused_before_the_body, wav_bytes

SAID = "Dinner is ready, please come to the kitchen."
HELD = 2
"""``max_upload_requests`` of the daemon under test."""
BUDGET = 480 * 1024
"""``max_uploads_mb`` of the daemon under test, in bytes: room for two short samples, not a short and a long one."""
TOO_LARGE = 11 * 1024 * 1024
"""Past ``max_upload_mb`` (10 MiB) and the room beside it for the form's fields."""
UPLOAD_ROUTES = {
    "transcriptions": ("POST /v1/audio/transcriptions", "file"),
    "translations": ("POST /v1/audio/translations", "file"),
    "conversions": ("POST /v1/audio/conversions", "audio"),
    "create_voice": ("POST /v1/audio/voices", "audio_sample"),
    "replace_voice_audio": ("PUT /v1/audio/voices/nobody/audio", "audio_sample"),
    "import_voices": ("POST /v1/library/import", "archive"),
}
"""Each route that takes a file (``UPLOADS``): its method and a path, and its file's field."""
MULTIPART = "Content-Type: multipart/form-data; boundary=x"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    with cloning_daemon(tmp_path_factory, "state", max_upload_requests=HELD, max_uploads_mb=BUDGET / 1024 / 1024) as d:
        yield d


@pytest.fixture(scope="module")
def speech(daemon: RunningDaemon) -> tuple[np.ndarray, int]:
    """A few seconds of Piper's speech (a valid voice sample)."""
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text=SAID)))
    return pcm_to_float(pcm), rate


@pytest.fixture(scope="module")
def sample(speech: tuple[np.ndarray, int]) -> bytes:
    """The speech as WAV, some 100 kB."""
    return wav_bytes(*speech)


def voice_form(name: str, sample: bytes, times: int = 1) -> tuple[dict[str, str], bytes]:
    """The headers and multipart body of a new voice (``times``: how often its sample says ``SAID``)."""
    data = {"name": name, "language": "en", "transcript": " ".join([SAID] * times)}
    request = httpx.Request("POST", "http://x/", files={"audio_sample": ("s.wav", sample)}, data=data)
    return {"Content-Type": request.headers["Content-Type"]}, request.read()


async def slowly(body: bytes, go_on: asyncio.Event) -> AsyncIterator[bytes]:
    """Half the body, then the rest once ``go_on`` is set."""
    yield body[: len(body) // 2]
    await go_on.wait()
    yield body[len(body) // 2 :]


async def post_slowly(
    http: httpx.AsyncClient, headers: dict[str, str], body: bytes, go_on: asyncio.Event, sized: bool = True
) -> httpx.Response:
    """Post ``body`` in two halves; ``sized=False``: chunked, without a ``Content-Length``."""
    if sized:
        headers = {**headers, "Content-Length": str(len(body))}
    return await http.post("/v1/audio/voices", headers=headers, content=slowly(body, go_on))


@contextlib.asynccontextmanager
async def budget_in_use(
    http: httpx.AsyncClient, sample: bytes, name: str
) -> AsyncIterator[list[tuple[dict[str, str], bytes]]]:
    """``HELD`` uploads sent half-way and held for the block (the budget's whole count in use), then finished: each
    one served. Yields their forms."""
    go_on = asyncio.Event()
    forms = [voice_form(f"{name} {n}", sample) for n in range(HELD)]
    held = [asyncio.create_task(post_slowly(http, *form, go_on)) for form in forms]
    await asyncio.sleep(0.5)  # their headers and half their bodies are in
    assert not any(task.done() for task in held)
    yield forms
    go_on.set()
    for answer in await asyncio.gather(*held):
        assert answer.status_code == 200, answer.text


async def uploads_metric(http: httpx.AsyncClient, name: str) -> float:
    """The HTTP door's value of one upload budget metric."""
    return metric((await http.get("/metrics")).text, name, door="http")


async def voices_answered(http: httpx.AsyncClient, status: int) -> float:
    """How many uploads of a voice /metrics counts as answered with ``status``."""
    text = (await http.get("/metrics")).text
    try:
        return metric(text, "voxhost_http_requests_total", route="/v1/audio/voices", status=str(status))
    except AssertionError:
        return 0.0  # none yet


def assert_too_large(answer: httpx.Response) -> None:
    assert answer.status_code == 413, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["param"]) == ("too_large", "audio_sample"), error


def assert_busy(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["type"]) == ("busy", "server_error"), error
    assert "max_upload_requests" in error["message"], error
    assert int(answer.headers["Retry-After"]) >= 1


def test_uploads_past_the_bound_are_refused_at_once_while_those_held_finish(
    daemon: RunningDaemon, sample: bytes
) -> None:
    async def run() -> None:
        async with httpx.AsyncClient(base_url=base_url(daemon), timeout=30) as http:
            refusals = await uploads_metric(http, "voxhost_uploads_refused_total")
            async with budget_in_use(http, sample, "Held") as forms:
                headers, body = voice_form("One too many", sample)
                # /metrics shows what the held ones hold: their count, and their bytes (by Content-Length).
                assert await uploads_metric(http, "voxhost_uploads_in_progress") == HELD
                assert await uploads_metric(http, "voxhost_upload_bytes_in_progress") == sum(len(b) for _, b in forms)
                started = time.monotonic()
                assert (HELD + 1) * len(body) < BUDGET  # refused for the count alone
                refused = await http.post("/v1/audio/voices", headers=headers, content=body)
                assert_busy(refused)
                assert time.monotonic() - started < 3.0  # answered at once, not after the held ones
                assert await uploads_metric(http, "voxhost_uploads_refused_total") == refusals + 1
                assert (await http.get("/health")).status_code == 200
            # The budget was given back: the next upload is served.
            headers, body = voice_form("After", sample)
            after = await http.post("/v1/audio/voices", headers=headers, content=body)
            assert after.status_code == 200, after.text
            assert await uploads_metric(http, "voxhost_uploads_in_progress") == 0
            assert await uploads_metric(http, "voxhost_upload_bytes_in_progress") == 0

    asyncio.run(run())


def test_an_upload_past_the_bytes_held_is_refused_counted_by_length_or_as_read(
    daemon: RunningDaemon, speech: tuple[np.ndarray, int], sample: bytes
) -> None:
    """One short upload is held; a long one that would pass ``max_uploads_mb`` with it is refused by its
    ``Content-Length`` before it is read, and a chunked one as soon as what it sent passes the budget."""
    samples, rate = speech
    long_sample = wav_bytes(np.tile(samples, 4), rate)

    async def run() -> None:
        async with httpx.AsyncClient(base_url=base_url(daemon), timeout=30) as http:
            go_on = asyncio.Event()
            short_headers, short_body = voice_form("Short", sample)
            held = asyncio.create_task(post_slowly(http, short_headers, short_body, go_on))
            await asyncio.sleep(0.5)
            headers, body = voice_form("Long", long_sample, times=4)
            assert len(body) < BUDGET < len(short_body) + len(body)
            assert_busy(await http.post("/v1/audio/voices", headers=headers, content=body))
            sent_at_once = asyncio.Event()
            sent_at_once.set()
            assert_busy(await post_slowly(http, headers, body, sent_at_once, sized=False))
            go_on.set()
            answer = await held
            assert answer.status_code == 200, answer.text
            # Alone, the long upload is served: the refusals held nothing back.
            answer = await http.post("/v1/audio/voices", headers=headers, content=body)
            assert answer.status_code == 200, answer.text

    asyncio.run(run())


def test_an_upload_past_its_routes_own_limit_is_a_413_while_the_budget_is_in_use(
    daemon: RunningDaemon, sample: bytes
) -> None:
    """Too large is the client's mistake whatever else is in progress: a 503 would have it retry the same upload."""

    async def run() -> None:
        async with (
            httpx.AsyncClient(base_url=base_url(daemon), timeout=30) as http,
            budget_in_use(http, sample, "Holding"),
        ):
            headers, _ = voice_form("Too large", sample)
            assert_too_large(await http.post("/v1/audio/voices", headers=headers, content=bytes(TOO_LARGE)))

    asyncio.run(run())


def test_a_refused_upload_still_being_sent_gets_its_answer(daemon: RunningDaemon, sample: bytes) -> None:
    """A client that reads only once it has sent its whole body (httpx, the openai client) and sends for longer than
    the connection lingered after a 413 had the connection cut under it, and saw a connection error."""
    headers, _ = voice_form("Sent slowly", sample)
    chunk = TOO_LARGE // 10

    async def trickle() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield bytes(chunk)
            await asyncio.sleep(0.25)  # 2.5 s in all: a large file over a slow link

    async def run() -> None:
        async with httpx.AsyncClient(base_url=base_url(daemon), timeout=30) as http:
            sized = {**headers, "Content-Length": str(10 * chunk)}
            assert_too_large(await http.post("/v1/audio/voices", headers=sized, content=trickle()))

    asyncio.run(run())


def test_an_upload_past_its_routes_limit_is_refused_before_the_client_sends_it(daemon: RunningDaemon) -> None:
    """A client that sends ``Expect: 100-continue`` (curl) waits for ``100 Continue``; it was told to go on before
    any check, and sent gigabytes only to be refused."""
    assert set(UPLOAD_ROUTES) == set(UPLOADS)
    for route, (line, field) in UPLOAD_ROUTES.items():
        answers = expect_continue(daemon, f"{line} HTTP/1.1\r\n{MULTIPART}", None, length=2**40)
        _, error = refused_before_the_body(answers, 413, "too_large")
        assert error["param"] == field, (route, error)
    answers = expect_continue(daemon, f"POST /v1/audio/voices HTTP/1.1\r\n{MULTIPART}", None, 10, "later")
    refused_before_the_body(answers, 417, "expectation_failed")


def test_an_upload_waiting_for_100_continue_is_refused_while_the_budget_is_full(
    daemon: RunningDaemon, sample: bytes
) -> None:
    async def run() -> None:
        async with httpx.AsyncClient(base_url=base_url(daemon), timeout=30) as http:
            async with budget_in_use(http, sample, "Waiting"):
                refusals = await uploads_metric(http, "voxhost_uploads_refused_total")
                busy = await voices_answered(http, 503)
                headers, body = voice_form("Asks first", sample)
                head = f"POST /v1/audio/voices HTTP/1.1\r\nContent-Type: {headers['Content-Type']}"
                answers = await asyncio.to_thread(expect_continue, daemon, head, None, len(body))
                answer_headers, error = refused_before_the_body(answers, 503, "busy")
                assert int(answer_headers["retry-after"]) >= 1 and "max_upload_requests" in error["message"], error
                assert await uploads_metric(http, "voxhost_uploads_refused_total") == refusals + 1
                assert await voices_answered(http, 503) == busy + 1  # counted as every answer is
            # With room again, the same request is told to go on, sends its body and is served.
            answers = await asyncio.to_thread(expect_continue, daemon, head, body)
            assert [status for status, _, _ in answers] == [100, 200], answers

    asyncio.run(run())


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_sends_no_file_that_would_be_refused_and_uploads_one_that_is_not(
    daemon: RunningDaemon, sample: bytes, tmp_path: Path
) -> None:
    (tmp_path / "large.wav").write_bytes(bytes(TOO_LARGE))
    (tmp_path / "sample.wav").write_bytes(sample)
    url = base_url(daemon) + "/v1/audio/voices"

    def curl(file: str, name: str) -> tuple[str, str, str]:
        fields = ["-F", f"audio_sample=@{tmp_path / file}", "-F", f"name={name}", "-F", f"transcript={SAID}"]
        out = subprocess.run(
            ["curl", "-sS", "-v", "-H", "Expect: 100-continue", *fields, "-w", "\n%{http_code} %{size_upload}", url],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        body, _, written = out.stdout.rpartition("\n")
        return body, written, out.stderr

    body, written, log = curl("large.wav", "Too large")
    assert "100 Continue" not in log, log  # it was told to go on, and began sending, before the 413
    status, sent = written.split()
    assert status == "413" and '"too_large"' in body, body
    assert int(sent) < 1024 * 1024, log  # curl sent none of the file
    body, written, log = curl("sample.wav", "Sent by curl")
    assert "Expect: 100-continue" in log and "HTTP/1.1 100 Continue" in log, log
    status, sent = written.split()
    assert status == "200" and int(sent) > len(sample), written
    assert '"Sent by curl"' in body, body
