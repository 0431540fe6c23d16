"""The core through a running daemon: fair scheduling, cancellation, bounded queues and bad input."""

from __future__ import annotations

import asyncio

import httpx2 as httpx
import pytest

from voxhost.errors import (
    BusyError,
    InvalidRequestError,
    TextTooLongError,
    UnknownVoiceError,
)
from voxhost.events import JobAudio, JobCancelled, JobFinished, JobSentence
from voxhost.operations import SpeechRequest, parse

from .conftest import REPO, assert_speech, make_settings, running_daemon
from .protocols.http_helpers import base_url

FIVE = (
    "The kitchen lights are on. The front door is locked. "
    "It will rain this afternoon. Your package has arrived. Dinner is ready."
)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    settings = make_settings(
        state,
        plugins_dirs=[str(REPO / "tests" / "plugins")],
        scheduler={"max_jobs_per_engine": 6},
        http={"enabled": True, "port": 0},  # for what clients send as JSON
    )
    with running_daemon(settings) as d:
        yield d


async def _collect(core, requests):
    jobs = [core.submit(r) for r in requests]
    order = []

    async def consume(job):
        async for event in job.events():
            order.append((job.id, type(event).__name__))

    await asyncio.gather(*(consume(j) for j in jobs))
    return jobs, order


def test_four_jobs_each_hear_first_audio_before_any_finishes(daemon):
    jobs, order = daemon.call(_collect(daemon.core, [SpeechRequest(text=FIVE, door="test") for _ in range(4)]))
    audio = [i for i, (_, kind) in enumerate(order) if kind == "JobAudio"]
    first_audio = {job.id: next(i for i in audio if order[i][0] == job.id) for job in jobs}
    last_audio = {job.id: max(i for i in audio if order[i][0] == job.id) for job in jobs}
    assert max(first_audio.values()) < min(last_audio.values())
    assert all(order[-1][1] == "JobFinished" for _ in [0])
    assert sum(1 for _, kind in order if kind == "JobFinished") == 4


def test_piper_speech_is_real(daemon):
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text="Dinner is ready. Please come to the table.")))
    assert_speech(pcm, rate, 1.5, 4.5)


def test_speed_changes_duration(daemon):
    normal, _ = daemon.call(daemon.core.speak(SpeechRequest(text="The garage door is open.")))
    fast, _ = daemon.call(daemon.core.speak(SpeechRequest(text="The garage door is open.", speed=2.0)))
    assert 0.35 < len(fast) / len(normal) < 0.7


def test_finished_event_reports_timing(daemon):
    async def run():
        job = daemon.core.submit(SpeechRequest(text=FIVE))
        return [e async for e in job.events()][-1]

    finished = daemon.call(run())
    assert isinstance(finished, JobFinished)
    assert finished.sentences == 5 and finished.ttfa is not None and 0 < finished.ttfa < finished.elapsed
    assert finished.rtf is not None and finished.rtf > 0 and 4 < finished.audio_seconds < 16


def test_cancel_frees_the_engine(daemon):
    async def run():
        core = daemon.core
        slow = core.submit(SpeechRequest(text=" ".join(["SLOW tone sentence."] * 10), voice="tone:beep"))
        events = slow.events()
        while not isinstance(await anext(events), JobAudio):
            pass
        slow.cancel("client went away")
        rest = [e async for e in events]
        after = core.submit(SpeechRequest(text="Quick one.", voice="tone:beep"))
        done = [e async for e in after.events()]
        return rest, done, core.registry.get("tone").scheduler.depth

    rest, done, depth = daemon.call(run())
    assert isinstance(rest[-1], JobCancelled) and rest[-1].reason == "client went away"
    assert not any(isinstance(e, JobAudio) for e in rest[1:])
    assert isinstance(done[-1], JobFinished) and depth == 0


def test_full_queue_is_busy(daemon):
    async def run():
        core = daemon.core
        jobs = [core.submit(SpeechRequest(text="SLOW " * 3, voice="tone:beep")) for _ in range(6)]
        try:
            with pytest.raises(BusyError, match="busy"):
                core.submit(SpeechRequest(text="one more", voice="tone:beep"))
        finally:
            for job in jobs:
                job.cancel("test over")

    daemon.call(run())


@pytest.mark.parametrize(
    "fields, error, message",
    [
        (dict(text=""), InvalidRequestError, "empty"),
        (dict(text=" \n\t "), InvalidRequestError, "empty"),
        (dict(text="x" * 1_000_001), TextTooLongError, "at most 100000"),
        (dict(text="hi", voice="piper:nobody"), UnknownVoiceError, "unknown voice 'piper:nobody'"),
        (dict(text="hi", voice="tone:beep", speaker="middle"), UnknownVoiceError, "no speaker 'middle'"),
        (dict(text="hi", speaker="3"), UnknownVoiceError, "single speaker"),
        (dict(text="hi", language="xx_XX"), UnknownVoiceError, "no voice speaks language"),
        (dict(text="hi", speed=9), InvalidRequestError, "speed"),
        (dict(text="hi", options={"noise_scale": 7}), InvalidRequestError, "noise_scale"),
        (dict(text="hi", options={"bogus": 1}), InvalidRequestError, "bogus"),
    ],
)
def test_bad_input_gets_typed_errors_and_daemon_keeps_serving(daemon, fields, error, message):
    with pytest.raises(error, match=message):
        daemon.core.submit(parse(SpeechRequest, fields))
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(text="Still here.")))
    assert len(pcm) > rate  # more than half a second of audio


def test_voice_lookup(daemon):
    catalog = daemon.core.catalog
    assert catalog.resolve().voice.id == "piper:en_US-joe-medium"
    assert catalog.resolve(language="de_DE").voice.id == "tone:beep"
    assert catalog.resolve(language="en").voice.id == "piper:en_US-joe-medium"
    assert catalog.resolve("en_US-joe-medium").voice.id == "piper:en_US-joe-medium"
    assert catalog.resolve("tone:beep", speaker="1").speaker == "high"
    # A single-speaker voice's speaker 0 is the voice itself (Home Assistant sends it); any other is refused.
    assert catalog.resolve(speaker="0").voice.id == "piper:en_US-joe-medium"
    assert catalog.resolve(speaker="0").speaker is None


def test_an_enum_option_is_named_by_its_value(daemon):
    # Options are checked as the JSON values they are: "square" names the enum's member (a strict check of Python
    # values refused every enum option, "Input should be an instance of Wave"), and a wrong JSON type is refused.
    sine, _ = daemon.call(daemon.core.speak(parse(SpeechRequest, {"text": "abc", "voice": "tone:beep"})))
    request = parse(SpeechRequest, {"text": "abc", "voice": "tone:beep", "options": {"wave": "square"}})
    square, _ = daemon.call(daemon.core.speak(request))
    assert len(square) == len(sine) and square != sine
    for bad, words in (({"wave": "saw"}, "options.wave"), ({"amplitude": True}, "options.amplitude")):
        with pytest.raises(InvalidRequestError, match=words):
            daemon.core.submit(parse(SpeechRequest, {"text": "abc", "voice": "tone:beep", "options": bad}))


def test_an_integer_option_sent_as_an_integral_number_is_that_integer(daemon):
    # JSON Schema counts 2.0 an integer, and a JavaScript client's arithmetic sends one: the strict check refused it
    # ("Input should be a valid integer"). The engine gets the integer (the tone engine's range() takes no float).
    url, body = base_url(daemon) + "/v1/audio/speech", {"input": "abc", "voice": "tone:beep", "response_format": "pcm"}
    plain = httpx.post(url, json=body, timeout=30)
    two = httpx.post(url, json={**body, "options": {"harmonics": 2}}, timeout=30)
    assert plain.status_code == two.status_code == 200 and plain.content != two.content
    template = '{"input": "abc", "voice": "tone:beep", "response_format": "pcm", "options": {"harmonics": N}}'
    for integral in ("2.0", "2e0", "20E-1"):  # as JSON text: each a float to the door's parser
        sent = template.replace("N", integral)
        answer = httpx.post(url, content=sent, headers={"content-type": "application/json"}, timeout=30)
        assert answer.status_code == 200 and answer.content == two.content, (integral, answer.text)
    for refused in (2.5, True, "2"):
        answer = httpx.post(url, json={**body, "options": {"harmonics": refused}}, timeout=30)
        error = answer.json()["error"]
        assert answer.status_code == 400 and "options.harmonics" in error["message"], (refused, error)


def test_speakers_change_the_audio(daemon):
    low, _ = daemon.call(daemon.core.speak(SpeechRequest(text="abc", voice="tone:beep", speaker="low")))
    high, _ = daemon.call(daemon.core.speak(SpeechRequest(text="abc", voice="tone:beep", speaker="high")))
    assert len(low) == len(high) and low != high


def test_engine_failure_fails_only_that_job(daemon):
    async def run():
        bad = daemon.core.submit(SpeechRequest(text="Please FAIL now.", voice="tone:beep"))
        good = daemon.core.submit(SpeechRequest(text="Fine.", voice="tone:beep"))
        return [e async for e in bad.events()][-1], [e async for e in good.events()][-1]

    bad, good = daemon.call(run())
    assert bad.code == "engine_error" and "asked to fail" in bad.message
    assert isinstance(good, JobFinished)


def test_streamed_text_is_spoken_sentence_by_sentence(daemon):
    async def run():
        job = daemon.core.submit(SpeechRequest(text=None))
        events = job.events()
        for token in ["Hello", "there.", "How"]:
            job.feed(token + " ")
        first = [await anext(events) for _ in range(4)]  # accepted, started, sentence 1 and its audio
        for token in ["are", "you", "today?"]:
            job.feed(token + " ")
        job.finish_text()
        return first, [e async for e in events]

    first, rest = daemon.call(run())
    assert isinstance(first[2], JobSentence) and first[2].text == "Hello there."
    assert isinstance(first[3], JobAudio) and first[3].sentence == 0
    assert isinstance(rest[-1], JobFinished) and rest[-1].sentences == 2
