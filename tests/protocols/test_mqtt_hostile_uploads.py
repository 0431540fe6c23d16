"""Uploads that decode to far more than they weigh, sent through the real MQTT door (paho, a real mosquitto) to a
running daemon: a small FLAC can claim many channels at a high rate, and decoding it at its own rate took memory
for every second at that rate. The daemon's Python allocations are traced while it answers, as for HTTP
(test_hostile_uploads.py); what it hears must still be what was said."""

from __future__ import annotations

import io
import logging
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import soundfile
import soxr

from voxhost.library import MAX_STORED_RATE
from voxhost.operations import MAX_REFERENCE_SECONDS, SpeechRequest, VoiceCreate

from ..conftest import make_settings, running_daemon
from ..listener import wer
from .http_helpers import plugin_dir, silence_flac, tone, wav_bytes
from .mqtt_helpers import (  # noqa: F401 (fixtures)
    SENTENCE,
    Probe,
    broker,
    client,
    is_status,
    is_terminal,
    mqtt_section,
    new_id,
    replies_of,
)

pytestmark = pytest.mark.mqtt

NODE = "attic"
ROOT = f"voxhost/{NODE}"
RATE, CHANNELS, SECONDS = 192000, 8, 110.0
MAX_BYTES = 1_000_000
"""The door's payload limit (``max_convert_bytes``): room for the wide file, nothing like what it decodes to."""
CLAIMED_MB = SECONDS * CHANNELS * RATE * 4 / 1e6
"""One copy of the audio as the file claims it, as float32 (675 MB)."""
LONG_MINUTES, LONG_RATE = 29, 48000
"""A long recording: 84 million samples at its own rate, which took the event loop over a second to turn into PCM."""
SLOW_STEP = 0.2
"""Seconds one step of the event loop may take while a request is handled (every other request waits that long)."""
OWN_RATE_MB = SECONDS * RATE * 4 / 1e6
"""Its mono samples at the file's own rate, as float32 (84 MB): what decoding at that rate holds, at the least."""


@pytest.fixture(scope="module")
def daemon(broker, tmp_path_factory):
    """Whisper, Piper and the pitchshift converter; the MQTT door transcribes half an hour, converts two minutes."""
    mqtt = mqtt_section(
        broker.port,
        NODE,
        max_command_bytes=4096,
        max_convert_bytes=MAX_BYTES,
        max_transcribe_seconds=LONG_MINUTES * 60 + 10,
        max_convert_seconds=SECONDS + 10,
    )
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[plugin_dir(tmp_path_factory.mktemp("plugins"))],
        engines={"whisper": {"enabled": True}},
        mqtt=mqtt,
        loop="asyncio",  # its debug mode reports a step that holds the loop
    )
    with running_daemon(settings) as d:
        yield d


def wide_flac(speech: np.ndarray, seconds: float = SECONDS) -> bytes:
    """``speech`` (at RATE) in the first of CHANNELS, then silence to ``seconds``, as 16-bit FLAC (under MAX_BYTES)."""
    out = io.BytesIO()
    with soundfile.SoundFile(out, "w", RATE, CHANNELS, format="FLAC", subtype="PCM_16") as sound:
        first = np.zeros((speech.size, CHANNELS), np.float32)
        first[:, 0] = speech  # one channel keeps the file small: a speech channel at 192 kHz is ~300 kB of FLAC
        sound.write(first)
        left = int(seconds * RATE) - speech.size
        while left > 0:
            sound.write(np.zeros((min(left, RATE), CHANNELS), np.float32))
            left -= RATE
    assert out.tell() < MAX_BYTES, out.tell()
    return out.getvalue()


@pytest.fixture(scope="module")
def said(daemon) -> np.ndarray:
    """SENTENCE spoken by Piper at RATE and full scale (the mix to mono takes it down by the channel count)."""
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text=SENTENCE)))
    samples = soxr.resample(np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0, rate, RATE)
    return (0.95 * samples / np.abs(samples).max()).astype(np.float32)


@pytest.fixture(scope="module")
def wide_speech(said) -> bytes:
    """SENTENCE, widened to SECONDS."""
    return wide_flac(said)


@pytest.fixture(scope="module")
def wide_tone() -> bytes:
    """A second of tone (voice-like enough for the converter), widened."""
    return wide_flac(tone(220.0, 1.0, RATE, level=0.9))


def traced_peak_mb(send: Callable[[], Any]) -> tuple[float, Any]:
    """The most Python memory traced (MB) while ``send()`` runs, and what it returned."""
    tracemalloc.start()
    try:
        result = send()
        return tracemalloc.get_traced_memory()[1] / 1e6, result
    finally:
        tracemalloc.stop()


def answered(probe: Probe, topic: str, payload: bytes, properties: list[tuple[str, str]]) -> list[dict]:
    """Send a request with a reply topic of its own; its replies up to done or error."""
    rid = new_id()
    reply_topic = f"test/replies/{rid}"
    probe.subscribe(reply_topic)
    probe.publish(topic, payload, response_topic=reply_topic, user_properties=[("id", rid), *properties])
    return replies_of(probe.collect(is_terminal(rid, reply_topic), timeout=240), reply_topic, rid)


def test_a_wide_high_rate_recording_is_transcribed_in_bounded_memory(client, wide_speech):
    peak, replies = traced_peak_mb(lambda: answered(client, f"{ROOT}/transcribe", wide_speech, [("language", "en")]))
    assert [r["status"] for r in replies] == ["queued", "done"], replies
    queued, done = replies
    assert queued["input_duration"] == pytest.approx(SECONDS, abs=0.1)
    assert wer(SENTENCE, done["text"]) <= 0.1, done["text"]
    assert peak < OWN_RATE_MB, f"{peak:.0f} MB"  # mono 16 kHz is 7 MB


def test_a_wide_high_rate_recording_is_converted_in_bounded_memory(client, daemon, wide_tone):
    voice = daemon.call(daemon.core.store_voice(VoiceCreate(name="Target"), tone(300.0, 2.0), 24000)).id
    peak, replies = traced_peak_mb(
        lambda: answered(client, f"{ROOT}/convert", wide_tone, [("voice", voice), ("format", "none")])
    )
    assert [r["status"] for r in replies] == ["queued", "started", "done"], replies
    done = replies[-1]
    assert done["input_duration"] == pytest.approx(SECONDS, abs=0.1)
    assert done["duration"] == pytest.approx(SECONDS * 220 / 300, rel=0.01)  # 220 Hz moved to 300 Hz, like tape
    assert peak < CLAIMED_MB / 2, f"{peak:.0f} MB"  # the test engine's own arrays (float64, FFTs) included


def test_a_wide_high_rate_reference_is_added_in_bounded_memory(client, daemon, said):
    """A voice's reference: at most 30 s, stored at most at 48 kHz; heard by the recognizer for its transcript."""
    seconds = MAX_REFERENCE_SECONDS - 1
    flac = wide_flac(said, seconds)
    peak, replies = traced_peak_mb(lambda: answered(client, f"{ROOT}/voices/add", flac, [("name", "Wide")]))
    assert [r["status"] for r in replies] == ["done"], replies
    voice = replies[0]["voice"]
    assert voice["sample_rate"] == MAX_STORED_RATE and voice["seconds"] == pytest.approx(seconds, abs=0.01)
    assert wer(SENTENCE, voice["transcript"]) <= 0.1, voice["transcript"]
    # Decoding at the file's rate held its mono samples twice (45 MB); at 48 kHz a quarter of that, and the recognizer.
    assert peak < 2 * seconds * RATE * 4 / 1e6, f"{peak:.0f} MB"


def test_a_long_recording_is_made_ready_off_the_event_loop(client, daemon, caplog):
    """The decoded samples become PCM in the decoding thread: on the loop, every other MQTT request and the
    connection's keepalive waited while half an hour of audio was converted."""
    long_file = silence_flac(LONG_MINUTES * 60.0, LONG_RATE)
    assert len(long_file) < MAX_BYTES
    daemon.loop.call_soon_threadsafe(daemon.loop.set_debug, True)
    daemon.loop.slow_callback_duration = SLOW_STEP
    try:
        with caplog.at_level(logging.WARNING, logger="asyncio"):
            replies = answered(client, f"{ROOT}/transcribe", long_file, [("language", "en")])
    finally:
        daemon.loop.call_soon_threadsafe(daemon.loop.set_debug, False)
    assert replies[0]["input_duration"] == pytest.approx(LONG_MINUTES * 60, abs=0.1), replies
    assert replies[-1]["status"] == "done", replies
    slow = [r.getMessage()[-40:] for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage()]
    assert slow == [], slow


def _first_replies(
    probe: Probe, topic: str, ids: list[str], match: Callable[[Any], bool], seen: list[dict] | None = None
) -> dict[str, dict]:
    """The first reply on ``topic`` that ``match`` accepts of each request in ``ids``, whatever their order (every
    reply on ``topic`` on the way is added to ``seen``)."""
    found: dict[str, dict] = {}
    while len(found) < len(ids):
        message = probe.wait(lambda m: m.topic == topic, 60)
        if seen is not None:
            seen.append(message.json())
        if message.json()["id"] in ids and match(message):
            found.setdefault(message.json()["id"], message.json())
    return found


WAITING, WAITING_MINUTES = 4, 10
"""Transcriptions queued behind another, each of silence (a FLAC of kilobytes)."""


def _queued_behind(client: Probe, topic: str, busy: bytes, waiting_file: bytes, count: int) -> Waiting:
    """``busy`` sent to ``topic`` and queued, then ``count`` requests of ``waiting_file`` behind it: their ``queued``
    replies, and the memory traced while they were taken in."""
    reply_topic, first, waiting = f"test/replies/{new_id()}", new_id(), [new_id() for _ in range(count)]
    client.subscribe(reply_topic)
    tracemalloc.start()
    try:
        client.publish(f"{topic}/{first}", busy, response_topic=reply_topic)
        client.wait(is_status("queued", first, reply_topic), 20)
        for rid in waiting:
            client.publish(f"{topic}/{rid}", waiting_file, response_topic=reply_topic)
        seen: list[dict] = []
        queued = _first_replies(client, reply_topic, waiting, is_status("queued", None, reply_topic), seen)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()
    return Waiting(reply_topic, first, waiting, queued, peak, seen)


@dataclass
class Waiting:
    """Requests queued behind a first one (``_queued_behind``)."""

    reply_topic: str
    first: str
    waiting: list[str]
    queued: dict[str, dict]
    peak_mb: float
    seen: list[dict]
    """Every reply on ``reply_topic`` read so far."""

    def statuses(self, rid: str) -> list[str]:
        """The statuses of one request's replies read so far."""
        return [reply["status"] for reply in self.seen if reply["id"] == rid]

    def stop_waiting(self, client: Probe) -> dict:
        """Stop each waiting request by its id; the first one's last reply, once every waiting one is cancelled."""
        for rid in self.waiting:
            client.publish(f"{ROOT}/stop", {"id": rid})
        ends = _first_replies(
            client,
            self.reply_topic,
            [self.first, *self.waiting],
            lambda m: m.json()["status"] in ("done", "error"),
            self.seen,
        )
        done = ends.pop(self.first)
        assert {(r["status"], r["code"]) for r in ends.values()} == {("error", "cancelled")}, ends
        return done


def test_transcriptions_waiting_for_the_recognizer_hold_their_files_only(client, said):
    """Each transcription was decoded on arrival and waited for the one engine slot as PCM (ten minutes: 19 MB, and
    twice that as float32 while decoding); it is held as sent until the engine takes it up, as on the HTTP door,
    and ``queued`` states the length its header gives. A stop naming a waiting one cancels it."""
    speech = soxr.resample(said, RATE, 16000)
    busy = wav_bytes(np.concatenate([speech, np.zeros(16000, np.float32)] * 3), 16000)  # holds the engine a while
    silence, decoded_mb = silence_flac(WAITING_MINUTES * 60.0, 16000), WAITING_MINUTES * 60 * 16000 * 2 / 1e6
    run = _queued_behind(client, f"{ROOT}/transcribe/en", busy, silence, WAITING)
    assert run.peak_mb < decoded_mb, f"{run.peak_mb:.0f} MB traced with {WAITING} transcriptions waiting"
    assert [r["input_duration"] for r in run.queued.values()] == [WAITING_MINUTES * 60.0] * WAITING, run.queued
    done = run.stop_waiting(client)
    assert wer(" ".join([SENTENCE] * 3), done["text"]) <= 0.1, done


CONVERT_WAITING, CONVERT_WAITING_SECONDS = 4, 100.0
"""Conversions queued behind another, each of 48 kHz silence."""


def test_conversions_waiting_for_the_converter_hold_their_files_only(client, daemon):
    """Each conversion was decoded on arrival and waited for the engine as PCM (100 s at 48 kHz: 9.6 MB, twice that
    as float32 while decoding; sixteen of two minutes, half a gigabyte); it is held as sent until the engine takes
    it up, as a transcription is, and ``queued`` states the length its header gives. A stop cancels a waiting one,
    which never said ``started`` (each said it as it was queued)."""
    slow = daemon.call(daemon.core.store_voice(VoiceCreate(name="Slow"), tone(300.0, 2.0), 24000)).id
    waiting_file = silence_flac(CONVERT_WAITING_SECONDS)
    decoded_mb = CONVERT_WAITING_SECONDS * 48000 * 2 / 1e6
    # Into a voice named "slow", the test engine holds itself a while: the others queue behind it.
    busy = wav_bytes(tone(220.0, 1.0, 24000, level=0.9), 24000)
    run = _queued_behind(client, f"{ROOT}/convert/{slow}", busy, waiting_file, CONVERT_WAITING)
    assert run.peak_mb < decoded_mb, f"{run.peak_mb:.0f} MB traced with {CONVERT_WAITING} conversions waiting"
    expected = [CONVERT_WAITING_SECONDS] * CONVERT_WAITING
    assert [r["input_duration"] for r in run.queued.values()] == expected, run.queued
    done = run.stop_waiting(client)
    assert done["status"] == "done" and done["duration"] == pytest.approx(220 / 300, rel=0.02), done
    assert run.statuses(run.first) == ["started", "done"], run.seen  # its queued was read before
    assert all(run.statuses(rid) == ["queued", "error"] for rid in run.waiting), run.seen
