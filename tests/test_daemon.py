"""Daemon lifecycle: graceful shutdown lets running jobs finish within a bound, then cancels the rest."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import socket
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from voxhost.daemon import CLOSE_MARGIN
from voxhost.door import host_port
from voxhost.events import JobCancelled, JobFinished
from voxhost.operations import SpeechRequest

from .conftest import REPO, RunningDaemon, ServeProcess, free_port, make_settings, run_cli, wait_for


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


# -- a real `voxhost serve`: signals, exit status and log -------------------------------------------------------------


def _config(
    directory: Path, state: Path, *, uri: str = "", http_port: int = 0, plugins: str = "plugins", tables: str = ""
) -> Path:
    """A config for ``voxhost serve`` with the tone engine (no Piper, no speech recognition), the Wyoming door on
    ``uri`` and the HTTP door on ``http_port`` (each off when not given)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "voxhost.toml"
    config.write_text(
        f"""state_dir = "{state}"
shutdown_timeout = 2
plugins_dirs = ["{REPO / "tests" / plugins}"]
[engines.whisper]
enabled = false
[engines.piper]
enabled = false
[doors.wyoming]
enabled = {"true" if uri else "false"}
uri = ["{uri or "tcp://127.0.0.1:1"}"]
zeroconf = false
[doors.http]
enabled = {"true" if http_port else "false"}
host = "127.0.0.1"
port = {http_port or 1}
[doors.mqtt]
enabled = false
{tables}"""
    )
    return config


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **extra}
    env.pop("VOXHOST_LOAD_PLUGINS", None)
    env.pop("NOTIFY_SOCKET", None)
    return {**env, **extra}


def _stop(serve: ServeProcess, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
    """Send ``sig`` and wait for the exit status."""
    serve.proc.send_signal(sig)
    return serve.proc.wait(timeout)


def _exited(serve: ServeProcess, timeout: float = 60) -> int:
    """The exit status of a daemon that stops by itself."""
    code = serve.proc.wait(timeout)
    serve._reader.join(5)
    return code


def _describes(path: Path) -> bool:
    """Whether a Wyoming server answers ``describe`` on the Unix socket ``path``."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(str(path))
        sock.sendall(b'{"type": "describe"}\n')
        return b'"info"' in sock.recv(4096)


def test_a_second_daemon_keeps_off_a_live_unix_socket(tmp_path):
    path = tmp_path / "wyoming.sock"
    first = ServeProcess(_config(tmp_path / "a", tmp_path / "a" / "state", uri=f"unix://{path}"), _env())
    try:
        first.wait_ready()
        second = ServeProcess(_config(tmp_path / "b", tmp_path / "b" / "state", uri=f"unix://{path}"), _env())
        try:
            assert _exited(second) == 1, second.tail()
        finally:
            second.close()
        refusal = [line for line in second.log if "the wyoming door could not start" in line]
        assert refusal and "address already in use" in refusal[0], second.tail()
        assert _describes(path)  # the first daemon still has its socket
        # A daemon killed outright leaves its socket file: nobody listens there, so the next one takes it.
        first.proc.kill()
        first.proc.wait(10)
        assert path.is_socket()
        third = ServeProcess(_config(tmp_path / "c", tmp_path / "c" / "state", uri=f"unix://{path}"), _env())
        try:
            third.wait_ready()
            assert _describes(path)
            assert _stop(third) == 0, third.tail()
        finally:
            third.close()
    finally:
        first.close()


def test_a_second_daemon_on_the_same_state_dir_refuses(tmp_path):
    state = tmp_path / "state"
    first = ServeProcess(_config(tmp_path / "a", state, http_port=free_port()), _env())
    try:
        first.wait_ready()
        second = ServeProcess(_config(tmp_path / "b", state, http_port=free_port()), _env())
        try:
            assert _exited(second) == 1, second.tail()
        finally:
            second.close()
        assert any(f"the state_dir {state.resolve()} is in use" in line for line in second.log), second.tail()
        assert _stop(first) == 0, first.tail()
    finally:
        first.close()
    # The lock went with the first daemon: a new one starts (as after a kill -9: the kernel drops an flock).
    third = ServeProcess(_config(tmp_path / "b", state), _env())
    try:
        third.wait_ready()
        assert _stop(third) == 0, third.tail()
    finally:
        third.close()


def _kept_job(port: int) -> str:
    """Start a long asynchronous kept job on the HTTP door; its id once it runs."""
    text = " ".join(["A long sentence that keeps the engine busy for a good while."] * 20)
    body = {"input": text, "voice": "tone:beep", "async": True, "keep": True}
    response = httpx.post(f"http://127.0.0.1:{port}/v1/audio/speech", json=body, timeout=30)
    assert response.status_code == 202, response.text
    job_id = str(response.json()["id"])
    state = lambda: httpx.get(f"http://127.0.0.1:{port}/v1/jobs/{job_id}", timeout=30).json()["state"]  # noqa: E731
    wait_for(lambda: state() == "running", 20)
    return job_id


def _record(state: Path, job_id: str) -> dict[str, object]:
    return dict(json.loads((state / "outputs" / job_id / "record.json").read_text()))


def test_say_beside_the_daemon_leaves_its_jobs_alone(tmp_path):
    state, port = tmp_path / "state", free_port()
    config = _config(tmp_path, state, http_port=port, tables="[engines.tone]\nchunk_delay = 0.2\n")
    serve = ServeProcess(config, _env())
    try:
        serve.wait_ready()
        job_id = _kept_job(port)
        before = _record(state, job_id)
        assert before["state"] in ("queued", "running")
        done = run_cli(
            state, "say", "Hello there.", "-v", "tone:beep", "-c", str(config), "-o", str(tmp_path / "o.wav")
        )
        assert (tmp_path / "o.wav").stat().st_size > 44, done.stderr
        assert _record(state, job_id)["state"] == before["state"]  # not "failed" (interrupted) by the CLI
        job = httpx.get(f"http://127.0.0.1:{port}/v1/jobs/{job_id}", timeout=30).json()
        assert job["state"] == "running"
        assert _stop(serve) == 0, serve.tail()
    finally:
        serve.close()


def test_sigterm_during_startup_stops_without_waiting_for_engines(tmp_path):
    notify_path = tmp_path / "notify.sock"
    notified = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notified.bind(str(notify_path))
    notified.settimeout(0.1)
    config = _config(
        tmp_path, tmp_path / "state", http_port=free_port(), plugins="plugins_slow", tables="[engines.slowload]\n"
    )
    serve = ServeProcess(config, _env(NOTIFY_SOCKET=str(notify_path)))
    try:
        wait_for(lambda: any("Loading engine slowload" in line for line in serve.log), 60)
        started = time.monotonic()
        code = _stop(serve, timeout=60)
        took = time.monotonic() - started
    finally:
        serve.close()
    messages = []
    while True:
        try:
            messages.append(notified.recv(200).decode())
        except OSError:
            break
    notified.close()
    assert code == 0, serve.tail()
    assert took <= 2 + CLOSE_MARGIN, f"stopping took {took:.1f} s:\n{serve.tail()}"
    assert not any("Ready" in line for line in serve.log), serve.tail()
    assert not any("READY=1" in message for message in messages), messages
    assert any("Stopped" in line for line in serve.log), serve.tail()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_plugins_import_stops_cleanly(tmp_path, sig):
    state, mark = tmp_path / "state", tmp_path / "importing"
    config = _config(tmp_path, state, http_port=free_port(), plugins="plugins_slow_import")
    serve = ServeProcess(config, _env(VOXHOST_TEST_IMPORT_MARK=str(mark), VOXHOST_TEST_IMPORT_SECONDS="3"))
    try:
        wait_for(mark.exists, 60)  # the signal handlers of the event loop do not exist yet
        started = time.monotonic()
        code = _stop(serve, sig, timeout=60)
        took = time.monotonic() - started
    finally:
        serve.close()
    assert code == 0, serve.tail()  # not killed by the signal's default action (-15), nor KeyboardInterrupt's 130
    # the rest of the import (3 s), then a shutdown with nothing to drain
    assert took <= 3 + CLOSE_MARGIN, f"stopping took {took:.1f} s:\n{serve.tail()}"
    assert any(f"Received {sig.name} while starting: stopping" in line for line in serve.log), serve.tail()
    assert any("Stopped" in line for line in serve.log), serve.tail()
    assert not any("Ready" in line for line in serve.log), serve.tail()
    lock = state / "daemon.lock"
    if lock.exists():  # nothing holds the state_dir's lock: the next daemon may start
        with lock.open() as held:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_the_daemon_removes_part_files_that_killed_writes_left(tmp_path):
    state = tmp_path / "state"
    stale = [  # as replacing() names them: what a kill -9 part-way through a write leaves
        state / ".usage.json.abcd1234.part",
        state / "voices" / "grandma-1" / ".meta.json.0123abcd.part",
        state / "cache" / "piper" / ".speed-curves.json.deadbeef.part",
        state / "outputs" / "job1" / ".record.json.00ff00ff.part",
        state / "models" / "org--gone" / ".model.onnx.1234abcd.part",
    ]
    kept = [
        state / "notes.part",  # the user's: not replacing()'s naming
        state / ".notes.zz12zz12.part",
        state / "cache" / ".fresh.json.feedbeef.part",  # changed a moment ago: a write may still be going on
        state / "models" / "org--pulling" / ".model.onnx.cafe0123.part",  # a pull of another process writes it
    ]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 1000)
        if path.name != ".fresh.json.feedbeef.part":
            os.utime(path, (time.time() - 3600, time.time() - 3600))
    lock = state / "models" / ".locks" / "org--pulling.lock"
    lock.parent.mkdir()
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as `voxhost models pull` holds it while it downloads
        serve = ServeProcess(_config(tmp_path, state), _env())
        try:
            serve.wait_ready()
            assert _stop(serve) == 0, serve.tail()
        finally:
            serve.close()
    assert [path for path in stale if path.exists()] == [], serve.tail()
    assert [path for path in kept if not path.exists()] == [], serve.tail()
    said = " ".join(line for line in serve.log if "INFO" in line and "unfinished write" in line)
    assert "Removed 4 unfinished write(s)" in said and "(4000 bytes)" in said, serve.tail()
    assert "Removed 1 unfinished write(s)" in said and "org--gone (1000 bytes): .model.onnx.1234abcd.part" in said, (
        serve.tail()
    )


def test_a_daemon_with_every_door_off_says_so(tmp_path):
    serve = ServeProcess(_config(tmp_path, tmp_path / "state"), _env())  # wyoming, http and mqtt all off
    try:
        serve.wait_ready()
        assert _stop(serve) == 0, serve.tail()
    finally:
        serve.close()
    warning = [line for line in serve.log if "No door is open" in line and "no client can reach the daemon" in line]
    assert warning and "WARNING" in warning[0], serve.tail()


@pytest.mark.parametrize(
    ("host", "port", "written"),
    [("::1", 8000, "[::1]:8000"), ("[::1]", 80, "[::1]:80"), ("127.0.0.1", 1883, "127.0.0.1:1883"), ("", 1, ":1")],
)
def test_host_port_brackets_an_ipv6_literal(host, port, written):
    assert host_port(host, port) == written


def test_doors_write_their_ipv6_addresses_in_brackets(tmp_path):
    # "http://::1:8000/v1" and "tcp://::1:10200" name no port: a client copying them from the log fails.
    http_port, wyoming_port = free_port(), free_port()
    config = _config(tmp_path, tmp_path / "state", uri=f"tcp://[::1]:{wyoming_port}", http_port=http_port)
    config.write_text(config.read_text().replace('host = "127.0.0.1"', 'host = "::1"'))
    serve = ServeProcess(config, _env())
    try:
        serve.wait_ready()
        assert _stop(serve) == 0, serve.tail()
    finally:
        serve.close()
    opened = {line.split("Door ")[1].split()[0]: line for line in serve.log if "Door " in line and " open " in line}
    assert f"'http://[::1]:{http_port}/v1'" in opened["http"], serve.tail()
    assert f"'tcp://[::1]:{wyoming_port}'" in opened["wyoming"], serve.tail()


def test_sighup_shuts_down_cleanly(tmp_path):
    """A terminal that closes sends SIGHUP to its whole process group (as Ctrl-C sends SIGINT): the engine's worker
    process must leave the stop to the daemon, which drains its running job first."""
    state, port = tmp_path / "state", free_port()
    tables = '[engines.tone]\nchunk_delay = 0.2\nmode = "worker"\n'
    config = _config(tmp_path, state, http_port=port, tables=tables)
    # Started as from a terminal: a test run under nohup (CI's is) would pass its ignored SIGHUP on to the daemon,
    # which then rightly keeps ignoring it (the next test).
    previous = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        serve = ServeProcess(config, _env(), own_group=True)
    finally:
        signal.signal(signal.SIGHUP, previous)
    try:
        serve.wait_ready()
        job_id = _kept_job(port)
        os.killpg(serve.proc.pid, signal.SIGHUP)
        code = serve.proc.wait(30)
    finally:
        serve.close()
    assert code == 0, serve.tail()
    assert not any("worker exited" in line or "worker died" in line for line in serve.log), serve.tail()
    assert any("Stopped" in line for line in serve.log), serve.tail()
    record = _record(state, job_id)  # drained, then recorded as interrupted: not left "queued"
    assert record["state"] == "failed" and record["error_code"] == "interrupted", record


def test_sighup_ignored_by_the_parent_stays_ignored(tmp_path):
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as `nohup voxhost serve` starts it
    try:
        serve = ServeProcess(_config(tmp_path, tmp_path / "state"), _env())
    finally:
        signal.signal(signal.SIGHUP, previous)
    try:
        serve.wait_ready()
        serve.proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        assert serve.proc.poll() is None, serve.tail()  # it outlives the terminal
        assert _stop(serve) == 0, serve.tail()
    finally:
        serve.close()
