"""Hostile and careless uploads to the transcription and conversion doors, sent through the real doors (the
``openai`` client, httpx) to a running daemon.

Uploads that decode to far more than they weigh: a small FLAC of near-silence can claim many channels at a high
rate, and decoding it whole took memory for every channel at that rate; the daemon's Python allocations are traced
while it answers. A file sent under the wrong field name is a 400 that says which name the request takes."""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import numpy as np
import openai
import pytest
import soundfile

from voxhost.audio import pcm_to_float
from voxhost.operations import SpeechRequest, VoiceCreate

from ..conftest import RunningDaemon, make_settings, running_daemon
from .http_helpers import base_url, client, plugin_dir, silence_flac, tone, wav_bytes

SAID = "Dinner is ready, please come to the kitchen."
RATE, CHANNELS, SECONDS = 192000, 8, 110.0
SLOW_STEP = 0.2
"""Seconds one step of the event loop may take while a request is handled (a health check waits that long)."""
CLAIMED_MB = SECONDS * CHANNELS * RATE * 4 / 1e6
"""One copy of the audio as the file claims it, as float32 (675 MB); decoding it whole took more than that."""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[plugin_dir(tmp_path_factory.mktemp("plugins"))],
        engines={"whisper": {"enabled": True}},
        http={"enabled": True, "port": 0},
        loop="asyncio",  # its debug mode reports a step that holds the loop
    )
    with running_daemon(settings) as d:
        yield d


@pytest.fixture(scope="module")
def wide_flac() -> bytes:
    """SECONDS of 8-channel 192 kHz FLAC: a short tone, then silence (a few hundred kB)."""
    out = io.BytesIO()
    second = np.zeros((RATE, CHANNELS), np.float32)
    with soundfile.SoundFile(out, "w", RATE, CHANNELS, format="FLAC", subtype="PCM_16") as sound:
        sound.write(np.repeat(tone(220.0, 1.0, RATE)[:, None], CHANNELS, axis=1).astype(np.float32))
        for _ in range(int(SECONDS) - 1):
            sound.write(second)
    assert out.tell() < 1024 * 1024
    return out.getvalue()


def traced_peak_mb(send: Callable[[], object]) -> float:
    """The most Python memory traced (MB) while ``send()`` runs; tracing starts and stops around it."""
    tracemalloc.start()
    try:
        send()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def test_a_wide_high_rate_file_is_transcribed_in_bounded_memory(daemon: RunningDaemon, wide_flac: bytes) -> None:
    results = []
    peak = traced_peak_mb(
        lambda: results.append(
            client(daemon).audio.transcriptions.create(model="whisper-1", file=("wide.flac", wide_flac))
        )
    )
    assert results[0].usage.seconds == pytest.approx(SECONDS, abs=0.1)
    assert peak < CLAIMED_MB / 5, f"{peak:.0f} MB"  # mono 16 kHz is 7 MB


@pytest.fixture(scope="module")
def voice(daemon: RunningDaemon) -> str:
    """A library voice to convert into (Piper's speech, so its transcript checks out)."""
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text=SAID)))
    made = httpx.post(
        base_url(daemon) + "/v1/audio/voices",
        files={"audio_sample": ("grandma.wav", wav_bytes(pcm_to_float(pcm), rate))},
        data={"name": "Grandma", "language": "en", "transcript": SAID},
        timeout=60,
    )
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def test_a_wide_high_rate_file_is_converted_in_bounded_memory(
    daemon: RunningDaemon, wide_flac: bytes, voice: str
) -> None:
    url = base_url(daemon)
    answers = []
    peak = traced_peak_mb(
        lambda: answers.append(
            httpx.post(
                url + "/v1/audio/conversions",
                files={"audio": ("wide.flac", wide_flac)},
                data={"voice": voice, "response_format": "pcm"},
                timeout=120,
            )
        )
    )
    assert answers[0].status_code == 200, answers[0].text
    assert len(answers[0].content) > 24000 * 2 * (SECONDS - 20)  # the length held (pitchshift changes it a little)
    assert peak < CLAIMED_MB / 2, f"{peak:.0f} MB"  # the test engine's own arrays (float64, FFTs) included


@pytest.mark.parametrize(
    ("route", "sent_as", "takes", "extra"),
    [
        ("/v1/audio/transcriptions", "audio", "file", {"model": "whisper-1"}),
        ("/v1/audio/conversions", "file", "audio", {"voice": "nobody"}),
    ],
)
def test_a_file_under_the_wrong_name_says_which_name_the_route_takes(
    daemon: RunningDaemon, route: str, sent_as: str, takes: str, extra: dict[str, str]
) -> None:
    sample = wav_bytes(tone(220.0, 1.0, 16000), 16000)
    answer = httpx.post(base_url(daemon) + route, files={sent_as: ("speech.wav", sample)}, data=extra, timeout=60)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == sent_as and error["type"] == "invalid_request_error"
    assert f"takes its file as '{takes}'" in error["message"], error["message"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("model", "piper", "not_supported"), ("model", "nope", "engine_not_found"), ("voice", "piper:", "not_supported")],
)
def test_a_conversion_naming_an_engine_that_cannot_convert_is_a_400(
    daemon: RunningDaemon, voice: str, field: str, value: str, code: str
) -> None:
    """A client's mistake, not the server's: the openai client retries a 501 as a server error."""
    sample = wav_bytes(tone(220.0, 1.0, 16000), 16000)
    data = {"voice": voice, field: value + voice if field == "voice" else value}
    answer = httpx.post(
        base_url(daemon) + "/v1/audio/conversions", files={"audio": ("speech.wav", sample)}, data=data, timeout=60
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (field, code, "invalid_request_error"), error


@pytest.mark.parametrize(("route", "field"), [("/v1/audio/transcriptions", "file"), ("/v1/audio/conversions", "audio")])
def test_two_files_in_one_field_are_a_400(daemon: RunningDaemon, voice: str, route: str, field: str) -> None:
    first, second = (wav_bytes(tone(f, 1.0, 16000), 16000) for f in (220.0, 330.0))
    answer = httpx.post(
        base_url(daemon) + route,
        files=[(field, ("one.wav", first)), (field, ("two.wav", second))],
        data={"model": "auto", "voice": voice} if field == "audio" else {"model": "whisper-1"},
        timeout=60,
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["param"] == field and "more than once" in error["message"], error


def test_a_long_upload_is_made_ready_off_the_event_loop(
    daemon: RunningDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    """Half an hour of audio is 29 million samples: turning them into PCM took the event loop for most of a second
    per request, while health checks and every other client waited. A file whose header claims two hours, sent
    meanwhile, is refused at once: it waited for the recognizer behind the long one before its header was read."""
    long_file = silence_flac(29 * 60.0, 16000)
    claims = bytearray(silence_flac(1.0, 16000))
    claims[21] &= 0xF0  # STREAMINFO's total samples (the last 36 bits of bytes 18-25): two hours' worth
    claims[22:26] = (16000 * 7200).to_bytes(4, "big")
    transcribe = client(daemon).audio.transcriptions.create
    daemon.loop.call_soon_threadsafe(daemon.loop.set_debug, True)
    daemon.loop.slow_callback_duration = SLOW_STEP
    try:
        with caplog.at_level(logging.WARNING, logger="asyncio"), ThreadPoolExecutor(1) as pool:
            long = pool.submit(transcribe, model="whisper-1", file=("long.flac", long_file))
            time.sleep(0.3)  # it has the recognizer
            with pytest.raises(openai.UnprocessableEntityError, match="7200.0 s long") as refused:
                transcribe(model="whisper-1", file=("claims.flac", bytes(claims)))
            answered_first = not long.done()
            result = long.result()
    finally:
        daemon.loop.call_soon_threadsafe(daemon.loop.set_debug, False)
    assert result.usage.seconds == pytest.approx(29 * 60, abs=0.1)
    assert answered_first, f"{refused.value} came after the long transcription's answer"
    slow = [r.getMessage()[-40:] for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert slow == [], slow


def test_a_flac_that_never_recorded_its_length_is_transcribed(daemon: RunningDaemon) -> None:
    """A FLAC written to a pipe (``arecord | flac -``) says 0 samples; it was refused as 576 trillion seconds long."""
    out = io.BytesIO()
    soundfile.write(out, tone(220.0, 5.0, 16000), 16000, format="FLAC")
    data = bytearray(out.getvalue())
    data[21] &= 0xF0  # STREAMINFO's total samples: the last 36 bits of bytes 18-25
    data[22:26] = bytes(4)
    result = client(daemon).audio.transcriptions.create(model="whisper-1", file=("piped.flac", bytes(data)))
    assert result.usage.seconds == pytest.approx(5.0, abs=0.01)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_waits_for_100_continue_and_its_recording_is_transcribed(daemon: RunningDaemon, tmp_path: Path) -> None:
    """curl sends ``Expect: 100-continue`` for a large upload (over 1 MiB; over 1 KiB before curl 8) and its body
    once told to go on."""
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text=SAID)))
    (tmp_path / "said.wav").write_bytes(wav_bytes(pcm_to_float(pcm), rate))
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "-v",
            "-H",
            "Expect: 100-continue",
            "-F",
            f"file=@{tmp_path / 'said.wav'}",
            "-F",
            "model=whisper-1",
        ]
        + [base_url(daemon) + "/v1/audio/transcriptions"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Expect: 100-continue" in out.stderr and "HTTP/1.1 100 Continue" in out.stderr, out.stderr
    assert "dinner is ready" in json.loads(out.stdout)["text"].lower(), out.stdout


def test_conversions_waiting_for_the_converter_hold_their_files_only(daemon: RunningDaemon) -> None:
    """Each conversion was decoded on arrival and waited for the engine as PCM (100 s at 48 kHz: 9.6 MB, twice that
    as float32 while decoding); it is held as sent until the engine takes it up, as a transcription is. Its header
    is read at once: a file too long is refused while the engine is still busy."""
    slow = daemon.call(daemon.core.store_voice(VoiceCreate(name="Slow"), tone(300.0, 2.0), 24000)).id
    waiting, too_long = silence_flac(100.0), silence_flac(125.0)  # max_conversion_seconds: 120
    decoded_mb = 100.0 * 48000 * 2 / 1e6

    def convert(audio: bytes, timeout: float) -> httpx.Response:
        return httpx.post(
            base_url(daemon) + "/v1/audio/conversions",
            files={"audio": ("speech.flac", audio)},
            data={"voice": slow, "response_format": "pcm"},
            timeout=timeout,
        )

    with ThreadPoolExecutor(6) as pool:
        # Into a voice named "slow", the test engine holds itself a second: the others queue behind it, then give up.
        busy = pool.submit(convert, wav_bytes(tone(220.0, 1.0, 24000, level=0.9), 24000), 30)
        time.sleep(0.2)
        tracemalloc.start()
        try:
            queued = [pool.submit(convert, waiting, 0.5) for _ in range(4)]
            refused = convert(too_long, 0.5)
            for request in queued:
                with pytest.raises(httpx.TimeoutException):
                    request.result()
            peak = tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()
        answer = busy.result()
    assert peak < decoded_mb, f"{peak:.0f} MB traced with 4 conversions waiting"
    assert refused.status_code == 422 and "at most 120 s" in refused.json()["error"]["message"], refused.text
    assert answer.status_code == 200 and len(answer.content) / 2 / 24000 == pytest.approx(220 / 300, rel=0.02)
