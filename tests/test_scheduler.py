"""The scheduler on its own, with a fake runner on the test's event loop: no daemon, no thread, no engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from voxhost.engine import PCM, SynthesisRequest
from voxhost.errors import BusyError, EngineError
from voxhost.events import Event, JobAudio, JobCancelled, JobFailed, JobFinished, JobProgress
from voxhost.jobs import Job
from voxhost.operations import SpeechRequest
from voxhost.scheduler import Scheduler
from voxhost.spoken.frontend import Policy, SpokenText
from voxhost.voices import CatalogVoice, Resolved

RATE = 8000


class FakeRunner:
    """Speaks each sentence as ``chunks`` chunks of ``delay`` seconds each; the sample value is the sentence index."""

    engine_id = "fake"

    def __init__(self, chunks: int = 2, delay: float = 0.01) -> None:
        self.chunks = chunks
        self.delay = delay
        self.running = 0
        self.most = 0
        self.started: list[tuple[str, int]] = []

    async def synthesize(self, request: SynthesisRequest, on_cut: object = None) -> AsyncGenerator[PCM, None]:
        self.running += 1
        self.most = max(self.most, self.running)
        self.started.append((request.text, request.index))
        try:
            if "FAIL" in request.text:
                raise EngineError("asked to fail")
            for _ in range(self.chunks):
                await asyncio.sleep(self.delay)
                yield PCM(bytes([request.index % 256, 0]) * 80, RATE)
        finally:
            self.running -= 1


def make_job(text: str | None) -> Job:
    voice = CatalogVoice(id="fake:one", engine="fake", voice="one", name="One", languages=("en_US",), sample_rate=RATE)
    template = SynthesisRequest(text="", voice="one")
    spoken = SpokenText(Policy(language="en_US"))
    job = Job(Resolved(voice, None, None), template, SpeechRequest(text=text, door="test"), spoken)
    return job


def submit(scheduler: Scheduler, text: str) -> Job:
    job = make_job(text)
    scheduler.add(job)
    job.feed(text)
    job.finish_text()
    return job


async def events(job: Job) -> list[Event]:
    return [event async for event in job.events()]


@pytest.fixture
def published() -> list[Event]:
    return []


async def test_every_job_hears_its_first_sentence_before_any_job_ends(published):
    scheduler = Scheduler(FakeRunner(), published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    try:
        jobs = [
            submit(scheduler, "The lights are on. The door is locked. It will rain. Dinner is ready.") for _ in range(3)
        ]
        streams = await asyncio.gather(*(events(job) for job in jobs))
    finally:
        await scheduler.stop()
    audio = [e for e in published if isinstance(e, JobAudio)]
    first = {job.id: next(i for i, e in enumerate(audio) if e.job_id == job.id) for job in jobs}
    last = {job.id: max(i for i, e in enumerate(audio) if e.job_id == job.id) for job in jobs}
    assert max(first.values()) < min(last.values())
    for stream in streams:
        assert isinstance(stream[-1], JobFinished) and stream[-1].sentences == 4
    assert all(job.state == "finished" and job.done for job in jobs)


async def test_batches_hold_what_is_waiting_and_end_with_the_terminal_event(published):
    scheduler = Scheduler(FakeRunner(chunks=2, delay=0.02), published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    try:
        read_live = submit(scheduler, "The lights are on. The door is locked.")
        live = [batch async for batch in read_live.batches()]
        read_late = submit(scheduler, "The lights are on. The door is locked.")
        while not read_late.done:
            await asyncio.sleep(0.01)
        late = [batch async for batch in read_late.batches()]
    finally:
        await scheduler.stop()
    # Read as it is made: a batch per chunk (each waited for), and everything in its order, terminal last.
    flat = [e for batch in live for e in batch]
    assert [type(e) for e in flat] == [type(e) for e in published if e.job_id == read_live.id]
    assert len(live) > 2 and sum(isinstance(e, JobAudio) for e in flat) == 4
    assert isinstance(flat[-1], JobFinished) and all(not isinstance(e, JobFinished) for e in flat[:-1])
    # Read after the job ended: one batch, the whole stream.
    assert len(late) == 1 and isinstance(late[0][-1], JobFinished)
    assert [type(e) for e in late[0]] == [type(e) for e in published if e.job_id == read_late.id]


async def test_look_ahead_keeps_sentence_order(published):
    runner = FakeRunner(chunks=3)
    scheduler = Scheduler(runner, published.append, max_jobs=8, concurrency=2)
    scheduler.start()
    try:
        job = submit(
            scheduler, "The lights are on. The door is locked. It will rain. The mail is here. Dinner is ready."
        )
        stream = await events(job)
    finally:
        await scheduler.stop()
    sentences = [e.sentence for e in stream if isinstance(e, JobAudio)]
    assert sentences == sorted(sentences) and set(sentences) == {0, 1, 2, 3, 4}
    assert [e.audio[0] for e in stream if isinstance(e, JobAudio)] == sentences  # each chunk where it belongs
    assert runner.most == 2  # a sentence was computed ahead in the spare slot
    progress = [e.sentences_done for e in stream if isinstance(e, JobProgress)]
    assert progress == [1, 2, 3, 4, 5]


class CoresRunner:
    """Models an engine on two cores: a sentence takes its length in milliseconds alone, 1.8 times that beside
    another (the engine's overlapping session is slower; it keeps that pace once the other one ends)."""

    engine_id = "cores"

    def __init__(self) -> None:
        self.made: list[tuple[int, bool, float, float]] = []
        """(index, shared, started, ended) per sentence."""

    async def synthesize(self, request: SynthesisRequest, on_cut: object = None) -> AsyncGenerator[PCM, None]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.sleep(len(request.text) / 1000 * (1.8 if request.shared else 1.0))
        self.made.append((request.index, request.shared, started, loop.time()))
        yield PCM(bytes([request.index % 256, 0]) * 80, RATE)


FOUR = (
    "Good evening. The living room is at twenty-one degrees and the humidity is forty-five percent. "
    "I have turned off the lights in the kitchen and in the hallway, and the front door is locked. "
    "The washing machine finished twenty minutes ago, so the laundry is ready to hang up."
)


async def test_a_last_sentence_waits_to_run_alone_rather_than_run_slowly_beside_another(published):
    runner = CoresRunner()
    scheduler = Scheduler(runner, published.append, max_jobs=8, concurrency=2)
    scheduler.start()
    try:
        await events(submit(scheduler, FOUR))  # the scheduler learns the overlapped pace
        runner.made.clear()
        stream = await events(submit(scheduler, FOUR))
    finally:
        await scheduler.stop()
    made = {index: (shared, started, ended) for index, shared, started, ended in runner.made}
    assert not made[0][0] and made[1][0] and made[2][0]  # the first alone, the next two side by side
    shared, started, _ = made[3]
    assert not shared and started >= max(made[1][2], made[2][2])  # the last one waited, then had the engine alone
    assert [e.sentence for e in stream if isinstance(e, JobAudio)] == [0, 1, 2, 3]
    # Started beside the third sentence it would have ended 1.8 x 84 ms after the second one ended; it ended sooner.
    assert made[3][2] < made[1][2] + 1.8 * 0.084


async def test_a_pair_of_last_sentences_still_runs_side_by_side(published):
    runner = CoresRunner()
    scheduler = Scheduler(runner, published.append, max_jobs=8, concurrency=2)
    scheduler.start()
    try:
        await events(submit(scheduler, FOUR))
        runner.made.clear()
        await events(submit(scheduler, FOUR + " Tomorrow will be cloudy in the morning, with some sun later on."))
    finally:
        await scheduler.stop()
    shared = {index: shared for index, shared, _, _ in runner.made}
    assert shared == {0: False, 1: True, 2: True, 3: True, 4: True}


async def test_cancel_ends_the_job_and_frees_the_engine(published):
    runner = FakeRunner(chunks=50, delay=0.02)
    scheduler = Scheduler(runner, published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    try:
        slow = submit(scheduler, "Long one. " * 5)
        stream = slow.events()
        while not isinstance(await anext(stream), JobAudio):
            pass
        slow.cancel("client went away")
        assert slow.done and slow.state == "cancelled"  # at once, for the door
        rest = [event async for event in stream]
        quick = submit(scheduler, "Quick.")
        runner.chunks = 1
        done = await asyncio.wait_for(events(quick), 5)
    finally:
        await scheduler.stop()
    assert isinstance(rest[-1], JobCancelled) and rest[-1].reason == "client went away"
    assert isinstance(done[-1], JobFinished) and not scheduler.busy


async def test_failure_fails_only_its_job(published):
    scheduler = Scheduler(FakeRunner(), published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    try:
        bad, good = submit(scheduler, "Please FAIL."), submit(scheduler, "Fine.")
        bad_events, good_events = await asyncio.gather(events(bad), events(good))
    finally:
        await scheduler.stop()
    assert isinstance(bad_events[-1], JobFailed) and bad_events[-1].code == "engine_error"
    assert isinstance(good_events[-1], JobFinished)
    assert bad.state == "failed" and isinstance(bad.error, EngineError)


async def test_full_queue_is_busy_and_announces_nothing(published):
    scheduler = Scheduler(FakeRunner(), published.append, max_jobs=2, concurrency=1)
    scheduler.start()
    try:
        jobs = [submit(scheduler, "One.") for _ in range(2)]
        before = len(published)
        with pytest.raises(BusyError):
            scheduler.add(make_job("Three."))
        assert len(published) == before
        await asyncio.gather(*(events(job) for job in jobs))
    finally:
        await scheduler.stop()


async def test_one_shot_work_goes_before_look_ahead(published):
    runner = FakeRunner(chunks=2, delay=0.02)
    scheduler = Scheduler(runner, published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    order: list[str] = []
    try:
        job = submit(scheduler, "The lights are on. The door is locked. It will rain.")
        stream = job.events()
        while not isinstance(await anext(stream), JobAudio):
            pass

        async def one_shot() -> None:
            async with scheduler.exclusive():
                order.append(f"exclusive after {len(runner.started)} sentences")

        await asyncio.gather(one_shot(), events(job))
    finally:
        await scheduler.stop()
    # Granted when the first sentence ended, before the job's second sentence was taken.
    assert order == ["exclusive after 1 sentences"]


async def test_streamed_text_and_stop_cancels_what_is_left(published):
    scheduler = Scheduler(FakeRunner(chunks=1), published.append, max_jobs=8, concurrency=1)
    scheduler.start()
    job = make_job(None)
    scheduler.add(job)
    stream = job.events()
    for token in ["Hello", "there.", "How", ""]:
        job.feed(token + " ")
    while not isinstance(await anext(stream), JobAudio):
        pass
    await scheduler.stop("shutting down")
    rest = [event async for event in stream]
    assert isinstance(rest[-1], JobCancelled) and rest[-1].reason == "shutting down"
