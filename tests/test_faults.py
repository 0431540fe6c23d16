"""Faults seen through the doors: a worker that dies while idle, an engine that hangs, and SIGTERM to a real
``voxhost serve`` with long jobs on every door; the daemon keeps serving, and stops within its bound."""

from __future__ import annotations

import asyncio
import configparser
import os
import signal
import socket
import sys
import threading
import time

import httpx2 as httpx
import openai
import pytest
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize, SynthesizeVoice

from voxhost.daemon import CLOSE_MARGIN
from voxhost.settings import Settings

from .conftest import REPO, ServeProcess, free_port, make_settings, running_daemon, wait_for
from .protocols.http_helpers import base_url, read_answer, refused_before_the_body
from .protocols.mqtt_helpers import Mosquitto, Probe, is_status, mosquitto_binary

TONES = str(REPO / "tests" / "plugins")


def openai_client(d) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url(d) + "/v1", api_key="none", max_retries=0, timeout=60)


def speak(d, text: str) -> bytes:
    with openai_client(d).audio.speech.with_streaming_response.create(
        model="tone", voice="tone:beep", input=text, response_format="pcm"
    ) as response:
        return response.read()


def engine_pid(d) -> int | None:
    tone = next(e for e in httpx.get(base_url(d) + "/v1/engines").json()["data"] if e["id"] == "tone")
    return tone.get("pid")


@pytest.fixture
def worker_daemon(state_dir):
    settings = make_settings(
        state_dir,
        plugins_dirs=[TONES],
        http={"enabled": True, "port": 0},
        engines={"tone": {"mode": "worker", "python": sys.executable, "progress_timeout": 1.5, "slow_delay": 30}},
    )
    with running_daemon(settings) as d:
        yield d


def test_worker_killed_while_idle_is_started_again_by_the_next_request(worker_daemon):
    d = worker_daemon
    assert speak(d, "Before the kill.")
    pid = engine_pid(d)
    assert pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)  # between two requests, as an out-of-memory kill would come
    pcm = speak(d, "After the kill.")  # not worker_crashed: a new worker serves it
    assert len(pcm) > 16000
    new_pid = engine_pid(d)
    assert new_pid and new_pid != pid
    # Killed again straight before a request: still served.
    os.kill(new_pid, signal.SIGKILL)
    assert speak(d, "Right after the kill.")


def test_hung_worker_fails_its_request_and_is_replaced(worker_daemon):
    d = worker_daemon
    assert speak(d, "Warm up.")
    pid = engine_pid(d)
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as failure:
        speak(d, "This is SLOW, the engine hangs.")
    assert time.monotonic() - started < 10
    assert failure.value.status_code == 504
    error = failure.value.response.json()["error"]
    assert error["code"] == "engine_timeout" and "no progress for 1.5 s" in error["message"]
    wait_for(lambda: not _alive(pid))
    assert len(speak(d, "And now it speaks again.")) > 16000
    assert engine_pid(d) not in (None, pid)


def test_worker_killed_mid_request_is_named_by_its_signal_not_by_what_it_wrote_before(worker_daemon):
    # The error read "exited (code -9): " and the worker's last stderr lines: a warning from an earlier request (or a
    # progress bar with every \r update) that had nothing to do with the kill.
    d = worker_daemon
    assert speak(d, "This is NOISY but fine.")
    pid = engine_pid(d)
    failures: list[BaseException] = []

    def slow() -> None:
        try:
            speak(d, "This is SLOW and gets killed.")
        except BaseException as err:  # the request's outcome, checked below
            failures.append(err)

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    thread.join(30)
    assert len(failures) == 1 and isinstance(failures[0], openai.APIStatusError), failures
    error = failures[0].response.json()["error"]
    assert failures[0].status_code == 500 and error["code"] == "worker_crashed"
    assert (
        error["message"]
        == "the tone worker process was killed by SIGKILL (the kernel's out-of-memory killer sends it too)"
    )
    assert len(speak(d, "And now it speaks again.")) > 16000


def test_hung_thread_engine_fails_its_request_and_serves_again(state_dir):
    settings = make_settings(
        state_dir,
        plugins_dirs=[TONES],
        http={"enabled": True, "port": 0},
        engines={"tone": {"mode": "thread", "progress_timeout": 1.0, "slow_delay": 5}},
    )
    with running_daemon(settings) as d:
        with pytest.raises(openai.APIStatusError) as failure:
            speak(d, "SLOW.")
        assert failure.value.response.json()["error"]["code"] == "engine_timeout"
        assert len(speak(d, "Fresh thread, fresh speech.")) > 16000


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- SIGTERM ---------------------------------------------------------------------------------------------


def test_sigterm_with_long_jobs_on_every_door_exits_0_within_the_bound(tmp_path):
    if mosquitto_binary() is None:
        pytest.fail("mosquitto is not installed: apt-get install -y mosquitto")
    broker = Mosquitto(tmp_path / "mosquitto", free_port()).start()
    wyoming_port, http_port = free_port(), free_port()
    config = tmp_path / "voxhost.toml"
    shutdown_timeout = 2.0
    config.write_text(
        f"""
state_dir = "{tmp_path / "state"}"
plugins_dirs = ["{TONES}"]
shutdown_timeout = {shutdown_timeout}
[engines.tone]
chunk_delay = 0.5
[doors.wyoming]
uri = ["tcp://127.0.0.1:{wyoming_port}"]
zeroconf = false
[doors.http]
port = {http_port}
[doors.mqtt]
enabled = true
host = "127.0.0.1"
port = {broker.port}
node_id = "den"
discovery = false
"""
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("VOXHOST_LOAD_PLUGINS", None)
    serve = ServeProcess(config, env)
    long_text = " ".join(["A long sentence that keeps the engine busy for a good while."] * 6)
    try:
        serve.wait_ready(60)
        # Long jobs on every door: two Wyoming clients, two HTTP streams, two MQTT say requests.
        clients = [
            threading.Thread(target=_wyoming_long, args=(wyoming_port, long_text), daemon=True) for _ in range(2)
        ]
        clients += [threading.Thread(target=_http_long, args=(http_port, long_text), daemon=True) for _ in range(2)]
        for thread in clients:
            thread.start()
        probe = Probe(broker.port, "5").subscribe("voxhost/den/#")
        for index in range(2):
            probe.publish("voxhost/den/say", {"id": f"long{index}", "text": long_text})
            probe.wait(is_status("queued", f"long{index}"))
        try:
            wait_for(lambda: httpx.get(f"http://127.0.0.1:{http_port}/health").json()["jobs"] >= 6, 20)
        except TimeoutError:
            raise AssertionError(httpx.get(f"http://127.0.0.1:{http_port}/health").text + serve.tail(20)) from None
        # A client with a connection open: once the door drains, curl's upload is refused before its body.
        held = socket.create_connection(("127.0.0.1", http_port), timeout=10)
        wire = held.makefile("rb")
        held.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_answer(wire)[0] == 200
        started = time.monotonic()
        serve.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: not _listening(http_port), 5)  # the door has begun its drain
        held.sendall(
            b"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
            b"boundary=x\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n"
        )
        stopping, _ = refused_before_the_body([read_answer(wire)], 503, "shutting_down")
        assert stopping["retry-after"] == "5", stopping
        held.close()
        code = serve.proc.wait(timeout=60)
        took = time.monotonic() - started
        probe.close()
    finally:
        serve.close()
        broker.stop()
    assert code == 0, serve.tail()
    assert took <= shutdown_timeout + CLOSE_MARGIN, f"shutdown took {took:.1f} s:\n{serve.tail()}"
    assert any("Cancelling job" in line for line in serve.log)  # they were still running at the deadline
    assert any("Stopped" in line for line in serve.log)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _wyoming_long(port: int, text: str) -> None:
    async def run() -> None:
        async with AsyncTcpClient("127.0.0.1", port) as c:
            await c.write_event(Synthesize(text=text, voice=SynthesizeVoice(name="tone:beep")).event())
            while await c.read_event() is not None:
                pass

    try:
        asyncio.run(run())
    except OSError:
        pass


def _http_long(port: int, text: str) -> None:
    body = {"model": "tone", "voice": "tone:beep", "input": text, "response_format": "pcm"}
    try:
        with httpx.stream("POST", f"http://127.0.0.1:{port}/v1/audio/speech", json=body, timeout=60) as response:
            for _ in response.iter_bytes():
                pass
    except httpx.HTTPError:
        pass


def test_systemd_stop_timeout_exceeds_the_shutdown_bound():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(REPO / "systemd" / "voxhost.service")
    stop = float(unit["Service"]["TimeoutStopSec"])
    default_timeout = Settings.model_fields["shutdown_timeout"].default
    assert stop > default_timeout + CLOSE_MARGIN + 5, "TimeoutStopSec leaves no room above the shutdown bound"
