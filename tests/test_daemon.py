"""Daemon lifecycle: graceful shutdown lets running jobs finish within a bound, then cancels the rest."""

from __future__ import annotations

import asyncio

from voxhost.events import JobCancelled, JobFinished
from voxhost.operations import SpeechRequest

from .conftest import REPO, RunningDaemon, make_settings


def _run_until_shutdown(settings, text):
    d = RunningDaemon(settings).start()
    events = []

    async def submit():
        job = d.core.submit(SpeechRequest(text=text, voice="tone:beep"))

        async def consume():
            async for event in job.events():
                events.append(event)

        return asyncio.ensure_future(consume())

    consumer = d.call(submit())
    d.call(asyncio.sleep(0.2))
    d.stop()
    assert consumer.done()
    return events


def test_shutdown_lets_running_jobs_finish(state_dir):
    settings = make_settings(
        state_dir,
        plugins_dirs=[str(REPO / "tests" / "plugins")],
        engines={"tone": {"chunk_delay": 0.1}},
        shutdown_timeout=10,
    )
    events = _run_until_shutdown(settings, "One sentence here. Another sentence here. A third one.")
    assert isinstance(events[-1], JobFinished) and events[-1].sentences == 3


def test_shutdown_cancels_jobs_past_the_bound(state_dir):
    settings = make_settings(
        state_dir,
        plugins_dirs=[str(REPO / "tests" / "plugins")],
        engines={"tone": {"chunk_delay": 0.5}},
        shutdown_timeout=0.3,
    )
    events = _run_until_shutdown(settings, " ".join(["A long sentence that takes a while."] * 20))
    assert isinstance(events[-1], JobCancelled) and events[-1].reason == "daemon shutting down"
