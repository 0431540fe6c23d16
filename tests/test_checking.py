"""Checking generated speech: sentences heard by a recognizer, made again with another seed when not understood.

First the scheduler on its own (a fake engine and a fake listener on the test's loop): priorities, overlap, retries
and the best attempt. Then a real daemon: the whisper engine hears Piper and a test engine that garbles chosen
sentences, and the listener of the tests checks what is finally said.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator

import numpy as np
import pytest

from voxhost.engine import PCM, SynthesisRequest
from voxhost.errors import UnsupportedError
from voxhost.events import Event, JobAudio, JobChecked, JobFinished
from voxhost.operations import SpeechRequest
from voxhost.scheduler import Scheduler
from voxhost.validation import SentenceCheck, retry_seed

from .conftest import REPO, make_settings, running_daemon
from .listener import hear, wer
from .test_scheduler import events, make_job, submit

RATE = 8000
PLUGINS = str(REPO / "tests" / "recognition_plugins")
THREE = "The kitchen lights are now on. The oven is heating up. Dinner will be ready soon."


class SeedRunner:
    """One chunk per sentence whose sample value says which attempt made it (0: the request's own seed)."""

    engine_id = "seedy"

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.log: list[tuple[str, float, int, int | None]] = []

    async def synthesize(self, request: SynthesisRequest, on_cut: object = None) -> AsyncGenerator[PCM, None]:
        self.log.append(("start", time.monotonic(), request.index, request.seed))
        await asyncio.sleep(self.delay)
        attempt = 0 if request.seed is None else 1 + [retry_seed(None, n) for n in (1, 2, 3)].index(request.seed)
        yield PCM(bytes([attempt + 1, 0]) * 400, RATE)
        self.log.append(("end", time.monotonic(), request.index, request.seed))


def listener(bad: dict[int, int], log: list[tuple[str, float, int]], delay: float = 0.1):
    """A fake recognizer: an attempt (by its sample value) is heard wrong while ``bad[attempt]`` says so."""

    async def hear_it(audio: PCM, language: str | None) -> str:
        attempt = audio.data[0] - 1
        sentence = audio.data[1]  # always 0 here; kept for clarity of the sample layout
        log.append(("hear", time.monotonic(), sentence))
        await asyncio.sleep(delay)
        return "completely different words" if bad.get(attempt, 0) else "__TEXT__"

    return hear_it


def check(bad: dict[int, int], log, retries: int = 2, delay: float = 0.1) -> SentenceCheck:
    hear_it = listener(bad, log, delay)

    async def text_of(audio: PCM, language: str | None) -> str:
        return await hear_it(audio, language)

    return SentenceCheck(max_wer=0.3, max_retries=retries, language="en", hear=text_of)


def checked_job(scheduler: Scheduler, text: str, sentence_check: SentenceCheck):
    job = make_job(text)
    job.check = _echo(sentence_check)
    scheduler.add(job)
    job.feed(text)
    job.finish_text()
    return job


def _echo(sentence_check: SentenceCheck) -> SentenceCheck:
    """The fake recognizer says "__TEXT__" for a good attempt: give back the sentence itself."""

    class Echo(SentenceCheck):
        async def score(self, chunks, text):
            heard = await self.hear(chunks[0], self.language)
            return await SentenceCheck(
                self.max_wer, self.max_retries, self.language, _const(heard.replace("__TEXT__", text))
            ).score(chunks, text)

    return Echo(sentence_check.max_wer, sentence_check.max_retries, sentence_check.language, sentence_check.hear)


def _const(text: str):
    async def hear_it(audio: PCM, language: str | None) -> str:
        return text

    return hear_it


@pytest.fixture
def published() -> list[Event]:
    return []


async def test_a_person_waiting_goes_before_checks_in_the_queue(published):
    scheduler = Scheduler(SeedRunner(), published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    order: list[str] = []
    gate = asyncio.Event()
    try:

        async def hold() -> None:
            async with scheduler.exclusive():
                order.append("held")
                await gate.wait()

        async def one(name: str, priority: int) -> None:
            async with scheduler.exclusive(priority):
                order.append(name)

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0.01)
        checks = [asyncio.create_task(one(f"check {n}", 0)) for n in range(2)]
        await asyncio.sleep(0.01)
        person = asyncio.create_task(one("person", 1))
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.gather(holder, person, *checks)
    finally:
        await scheduler.stop()
    assert order == ["held", "person", "check 0", "check 1"]


async def test_hearing_a_sentence_overlaps_making_the_next(published):
    runner, log = SeedRunner(delay=0.05), []
    scheduler = Scheduler(runner, published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    try:
        job = checked_job(scheduler, "One two. Three four. Five six.", check({}, log, delay=0.15))
        stream = await events(job)
    finally:
        await scheduler.stop()
    checked = [e for e in stream if isinstance(e, JobChecked)]
    assert [(e.sentence, e.retries, e.passed) for e in checked] == [(0, 0, True), (1, 0, True), (2, 0, True)]
    heard_first = next(t for kind, t, _ in log if kind == "hear")
    second_start = next(t for kind, t, index, _ in runner.log if kind == "start" and index == 1)
    assert second_start < heard_first + 0.15, "sentence 1 was made while sentence 0 was being heard"
    assert isinstance(stream[-1], JobFinished) and stream[-1].sentences == 3
    audio = [e for e in stream if isinstance(e, JobAudio)]
    assert [e.sentence for e in audio] == [0, 1, 2], "audio stays in order"


async def test_a_sentence_not_understood_is_made_again_and_the_good_attempt_kept(published):
    runner, log = SeedRunner(), []
    scheduler = Scheduler(runner, published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    try:
        job = checked_job(scheduler, "One two three.", check({0: 1}, log))
        stream = await events(job)
    finally:
        await scheduler.stop()
    (checked,) = [e for e in stream if isinstance(e, JobChecked)]
    assert (checked.retries, checked.passed, checked.wer) == (1, True, 0.0)
    assert [seed for kind, _, _, seed in runner.log if kind == "start"] == [None, retry_seed(None, 1)]
    (audio,) = [e for e in stream if isinstance(e, JobAudio)]
    assert audio.audio[0] == 2, "the retry's audio, not the first attempt's"


async def test_when_every_attempt_fails_the_best_is_kept_and_reported(published):
    runner, log = SeedRunner(), []
    scheduler = Scheduler(runner, published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    try:
        job = checked_job(scheduler, "One two three.", check({0: 1, 1: 1, 2: 1}, log, retries=2))
        stream = await events(job)
    finally:
        await scheduler.stop()
    (checked,) = [e for e in stream if isinstance(e, JobChecked)]
    assert checked.retries == 2 and not checked.passed and checked.wer >= 1.0
    assert [e.audio[0] for e in stream if isinstance(e, JobAudio)] == [1], "ties keep the first attempt"
    assert isinstance(stream[-1], JobFinished)


async def test_a_job_without_checks_is_not_held_back(published):
    runner = SeedRunner()
    scheduler = Scheduler(runner, published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    try:
        stream = await events(submit(scheduler, "One two. Three four."))
    finally:
        await scheduler.stop()
    assert not [e for e in stream if isinstance(e, JobChecked)]
    assert [seed for kind, _, _, seed in runner.log if kind == "start"] == [None, None]


async def test_cancelling_a_checked_job_frees_the_engine(published):
    runner, log = SeedRunner(), []
    scheduler = Scheduler(runner, published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    try:
        job = checked_job(scheduler, "One. Two. Three. Four.", check({0: 1, 1: 1, 2: 1}, log, delay=0.2))
        await asyncio.sleep(0.1)
        job.cancel("test")
        await events(job)
        after = submit(scheduler, "Five.")
        stream = await asyncio.wait_for(events(after), 5)
    finally:
        await scheduler.stop()
    assert isinstance(stream[-1], JobFinished)
    assert not scheduler.busy


# -- a real daemon: whisper hears Piper and the garbling engine ----------------------------------------------


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    settings = make_settings(
        tmp_path_factory.mktemp("state"),
        plugins_dirs=[PLUGINS],
        engines={"whisper": {"enabled": True}, "garble": {"sentences": [1]}},
    )
    with running_daemon(settings) as d:
        yield d


def run(d, request: SpeechRequest) -> tuple[list[Event], bytes, int]:
    async def go():
        job = d.core.submit(request)
        return [event async for event in job.events()]

    stream = d.call(go(), timeout=180)
    audio = [e for e in stream if isinstance(e, JobAudio)]
    return stream, b"".join(e.audio for e in audio), audio[0].rate


def test_a_garbling_engine_is_caught_and_its_sentence_made_again(daemon):
    stream, pcm, rate = run(daemon, SpeechRequest(text=THREE, voice="garble:mumble", validate=True))
    checked = {e.sentence: e for e in stream if isinstance(e, JobChecked)}
    assert sorted(checked) == [0, 1, 2]
    assert checked[0].retries == 0 and checked[2].retries == 0
    assert checked[1].retries >= 1 and checked[1].passed and checked[1].wer <= 0.3
    assert wer("The oven is heating up.", checked[1].heard) <= 0.3
    engine = daemon.core.registry.get("garble").engine
    assert [seed for index, seed in engine.attempts if index == 1][:2] == [None, retry_seed(None, 1)]
    heard = hear(pcm, rate)
    assert wer(THREE, heard) <= 0.1, heard
    assert "banana" not in heard.lower()


def test_a_clean_engine_passes_without_retries_and_sounds_the_same(daemon):
    stream, pcm, rate = run(daemon, SpeechRequest(text=THREE, voice="piper:en_US-joe-medium", validate=True))
    checked = [e for e in stream if isinstance(e, JobChecked)]
    assert [(e.sentence, e.retries, e.passed) for e in checked] == [(0, 0, True), (1, 0, True), (2, 0, True)]
    plain, plain_pcm, _ = run(daemon, SpeechRequest(text=THREE, voice="piper:en_US-joe-medium"))
    assert not [e for e in plain if isinstance(e, JobChecked)], "off: nothing is checked"
    # Test daemons speak Piper without sampling noise: checked or not, a text is the same audio (to a rounding step,
    # as a sentence may run on a session of fewer threads while another is heard).
    ours, theirs = np.frombuffer(pcm, "<i2").astype(int), np.frombuffer(plain_pcm, "<i2").astype(int)
    assert len(ours) == len(theirs) and np.max(np.abs(ours - theirs)) <= 1
    assert wer(THREE, hear(pcm, rate)) <= 0.1


def test_without_a_check_the_garbled_sentence_goes_out(daemon):
    stream, pcm, rate = run(daemon, SpeechRequest(text=THREE, voice="garble:mumble"))
    assert not [e for e in stream if isinstance(e, JobChecked)]
    assert "banana" in hear(pcm, rate).lower()


def test_a_bound_that_cannot_be_met_keeps_the_best_attempt(daemon):
    request = SpeechRequest(text=THREE, voice="garble:mumble", validate={"max_wer": 0.0, "max_retries": 1})
    stream, _, _ = run(daemon, request)
    assert all(e.retries <= 1 for e in stream if isinstance(e, JobChecked))
    finished = stream[-1]
    assert isinstance(finished, JobFinished) and finished.sentences == 3


def test_checking_is_set_per_engine_and_per_voice(tmp_path):
    settings = make_settings(
        tmp_path / "state",
        plugins_dirs=[PLUGINS],
        engines={"whisper": {"enabled": True}, "garble": {"validate": {"max_retries": 3}}},
        recognition={"voices": {"piper:en_US-joe-medium": True}},
    )
    with running_daemon(settings) as d:
        stream, _, _ = run(d, SpeechRequest(text="Good morning. The oven is heating up.", voice="garble:mumble"))
        assert [e.sentence for e in stream if isinstance(e, JobChecked)] == [0, 1], "on for the engine"
        stream, _, _ = run(d, SpeechRequest(text="Good morning.", voice="garble:mumble", validate=False))
        assert not [e for e in stream if isinstance(e, JobChecked)], "the request turns it off"
        stream, _, _ = run(d, SpeechRequest(text="Good morning.", voice="piper:en_US-joe-medium"))
        assert [e.sentence for e in stream if isinstance(e, JobChecked)] == [0], "on for the voice"


def test_asking_for_a_check_with_no_recognizer_is_refused(tmp_path):
    with running_daemon(make_settings(tmp_path / "state")) as d:
        with pytest.raises(UnsupportedError) as err:
            d.core.submit(SpeechRequest(text="Hello.", validate=True))
        assert err.value.param == "validate" and "voxhost[asr]" in err.value.message
