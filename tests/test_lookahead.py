"""The look-ahead decision on its own: a spare engine slot computes a job's next sentence only while its listener
would otherwise hear a gap. A fast engine leaves a lone job's sentences one at a time (each gets the whole machine);
a slow one computes ahead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from voxhost.engine import PCM, SynthesisRequest
from voxhost.events import Event, JobAudio, JobFinished
from voxhost.scheduler import Scheduler

from .test_scheduler import make_job

RATE = 8000
TEXT = "The lights are on. The door is locked. It will rain tonight. The mail is here. Dinner is ready."


class TimedRunner:
    """Each sentence takes ``compute`` seconds and gives ``audio`` seconds of audio, in one chunk at the end."""

    engine_id = "timed"

    def __init__(self, compute: float, audio: float) -> None:
        self.compute, self.audio = compute, audio
        self.running = 0
        self.most = 0

    async def synthesize(self, request: SynthesisRequest) -> AsyncGenerator[PCM, None]:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(self.compute)
            yield PCM(bytes([request.index % 256, 0]) * int(RATE * self.audio), RATE)
        finally:
            self.running -= 1


async def run_alone(runner: TimedRunner) -> list[Event]:
    scheduler = Scheduler(runner, lambda _: None, max_jobs=8, concurrency=2)
    scheduler.start()
    try:
        job = make_job(TEXT)
        scheduler.add(job)
        job.feed(TEXT)
        job.finish_text()
        return [event async for event in job.events()]
    finally:
        await scheduler.stop()


async def test_fast_engine_speaks_a_lone_jobs_sentences_one_at_a_time():
    runner = TimedRunner(compute=0.02, audio=2.0)  # 100 times faster than real time, as Piper is
    stream = await run_alone(runner)
    assert runner.most == 1  # never two sentences at once: each gets the whole engine
    assert isinstance(stream[-1], JobFinished) and stream[-1].sentences == 5
    assert [e.sentence for e in stream if isinstance(e, JobAudio)] == [0, 1, 2, 3, 4]


async def test_slow_engine_computes_ahead_so_the_listener_hears_no_gap():
    runner = TimedRunner(compute=0.05, audio=0.06)  # barely faster than real time
    stream = await run_alone(runner)
    assert runner.most == 2  # the spare slot worked ahead
    assert [e.sentence for e in stream if isinstance(e, JobAudio)] == [0, 1, 2, 3, 4]
