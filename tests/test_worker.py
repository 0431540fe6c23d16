"""Engines in worker processes: same class as in-process, crash isolation, restart on next use, unload ends it."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from voxhost.events import EngineUnloaded, JobAudio, JobFailed, JobFinished
from voxhost.operations import SpeechRequest

from .conftest import REPO, make_settings, running_daemon


@pytest.fixture
def worker_daemon(state_dir):
    settings = make_settings(
        state_dir,
        plugins_dirs=[str(REPO / "tests" / "plugins")],
        engines={"tone": {"mode": "worker", "python": sys.executable, "chunk_delay": 0.02}},
    )
    with running_daemon(settings) as d:
        yield d


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _worker_pid(d) -> int:
    return d.call(d.core.registry.get("tone").runner.status())["engine_pid"]


def test_worker_runs_the_engine_in_another_process(worker_daemon):
    d = worker_daemon
    pcm, rate = d.call(d.core.speak(SpeechRequest(text="Hello from the worker.", voice="tone:beep")))
    assert rate == 16000 and len(pcm) == 2 * int(16000 * 0.05 * 10) * 2 + 2 * int(16000 * 0.05 * 2)
    pid = _worker_pid(d)
    assert pid != os.getpid() and _alive(pid)


def test_worker_crash_fails_only_its_job_and_restarts(worker_daemon):
    d = worker_daemon
    first_pid = _worker_pid(d)

    async def run():
        core = d.core
        unloaded = []
        off = core.bus.subscribe(lambda e: unloaded.append(e) if isinstance(e, EngineUnloaded) else None)
        crash = core.submit(SpeechRequest(text="This will CRASH the worker.", voice="tone:beep"))
        piper = core.submit(SpeechRequest(text="Piper keeps talking."))
        crash_events = [e async for e in crash.events()]
        piper_events = [e async for e in piper.events()]
        after = core.submit(SpeechRequest(text="A fresh worker.", voice="tone:beep"))
        after_events = [e async for e in after.events()]
        off()
        return crash_events, piper_events, after_events, unloaded

    crash_events, piper_events, after_events, unloaded = d.call(run())
    failed = crash_events[-1]
    assert isinstance(failed, JobFailed) and failed.code == "worker_crashed"
    assert "worker process exited (code 3)" in failed.message
    assert isinstance(piper_events[-1], JobFinished)
    assert isinstance(after_events[-1], JobFinished) and any(isinstance(e, JobAudio) for e in after_events)
    assert [e.reason for e in unloaded] == ["worker exited"]
    assert not _alive(first_pid)
    assert _worker_pid(d) != first_pid


def test_unload_ends_the_worker(worker_daemon):
    d = worker_daemon
    pid = _worker_pid(d)
    d.call(d.core.registry.get("tone").runner.unload("test"))
    assert not d.core.registry.get("tone").runner.loaded
    for _ in range(50):
        if not _alive(pid):
            break
        d.call(asyncio.sleep(0.05))
    assert not _alive(pid)
    pcm, _ = d.call(d.core.speak(SpeechRequest(text="Loaded again.", voice="tone:beep")))
    assert pcm and _worker_pid(d) != pid


def test_cancel_mid_sentence_in_worker(worker_daemon):
    d = worker_daemon

    async def run():
        core = d.core
        job = core.submit(SpeechRequest(text="SLOW " + "x" * 200, voice="tone:beep"))
        events = job.events()
        while not isinstance(await anext(events), JobAudio):
            pass
        job.cancel("stop")
        nxt = core.submit(SpeechRequest(text="Next.", voice="tone:beep"))
        return [e async for e in nxt.events()][-1]

    assert isinstance(d.call(run()), JobFinished)


def test_idle_unload(state_dir):
    settings = make_settings(
        state_dir,
        plugins_dirs=[str(REPO / "tests" / "plugins")],
        engines={"tone": {"mode": "worker", "python": sys.executable, "idle_unload": 0.5}},
    )
    with running_daemon(settings) as d:
        d.call(d.core.speak(SpeechRequest(text="Hi.", voice="tone:beep")))
        pid = _worker_pid(d)
        d.call(asyncio.sleep(2.5))
        assert not d.core.registry.get("tone").runner.loaded and not _alive(pid)


def test_missing_interpreter_is_a_clear_error(state_dir):
    settings = make_settings(
        state_dir,
        plugins_dirs=[str(REPO / "tests" / "plugins")],
        engines={"tone": {"mode": "worker", "python": "/nonexistent/bin/python"}},
    )
    with running_daemon(settings) as d:

        async def run():
            job = d.core.submit(SpeechRequest(text="Hi.", voice="tone:beep"))
            return [e async for e in job.events()][-1]

        failed = d.call(run())
        assert failed.code == "engine_error" and "/nonexistent/bin/python" in failed.message
        pcm, _ = d.call(d.core.speak(SpeechRequest(text="Piper still works.")))
        assert pcm
