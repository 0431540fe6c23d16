"""Shared fixtures: free ports, isolated state, and a real daemon running on its own thread and event loop."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voxhost.daemon import Daemon
from voxhost.loops import new_event_loop
from voxhost.plugin_manager import build_plugins
from voxhost.settings import Settings, load_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.pop("VOXHOST_CONFIG", None)
os.environ.pop("VOXHOST_LOAD_PLUGINS", None)
# The tiny engine models are built once per test run (tests/engines/tiny/once.py): the engine tests and the benches
# that start the same builder copy that build instead of each importing torch to make it again.
_TINY_CACHE = tempfile.mkdtemp(prefix="voxhost-tiny-")
atexit.register(shutil.rmtree, _TINY_CACHE, ignore_errors=True)
os.environ.setdefault("VOXHOST_TINY_CACHE", _TINY_CACHE)

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DOORS = ("wyoming", "http", "mqtt")


def make_settings(state_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test daemon: all doors off unless asked, no zeroconf, isolated state, no speech recognition
    unless an ``engines`` table enables the whisper engine, and Piper without sampling noise (a text is the same
    audio on every run, so what a test hears of it does not change from run to run).

    ``wyoming=``, ``http=`` and ``mqtt=`` are the ``[doors.<name>]`` tables.
    """
    doors: dict[str, dict[str, Any]] = {
        "wyoming": {"enabled": False, "zeroconf": False},
        "http": {"enabled": False},
        "mqtt": {"enabled": False},
    }
    base: dict[str, Any] = {"state_dir": str(state_dir), "shutdown_timeout": 2.0}
    for key, value in overrides.items():
        if key in DOORS:
            doors[key] = {**doors[key], **value}
        elif key == "doors":
            for name, table in value.items():
                doors[name] = {**doors.get(name, {}), **table}
        else:
            base[key] = value
    engines = dict(base.pop("engines", {}))
    engines.setdefault("whisper", {"enabled": False})
    engines["piper"] = {"noise_scale": 0.0, "noise_w_scale": 0.0, **engines.get("piper", {})}
    return load_settings(None, **base, doors=doors, engines=engines)


class RunningDaemon:
    """A daemon on a background thread with its own event loop, as a separate process would be."""

    def __init__(self, settings: Settings, plugins_extra: tuple[tuple[str, object], ...] = ()) -> None:
        self.settings = settings
        self.plugins = build_plugins(settings.plugins_dirs, load_entrypoints=False, extra=plugins_extra)
        self.daemon = Daemon(settings, self.plugins)
        self.loop = new_event_loop(settings.loop)  # the loop `voxhost serve` would run
        self._thread = threading.Thread(target=self._run, name="test-daemon", daemon=True)
        self._ready = threading.Event()
        self.error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            task = asyncio.create_task(self.daemon.serve(install_signals=False))
            started = asyncio.create_task(self.daemon.started.wait())
            await asyncio.wait([task, started], return_when=asyncio.FIRST_COMPLETED)
            self._ready.set()
            await task

        try:
            self.loop.run_until_complete(main())
        except BaseException as err:  # surfaced to the test by start()/stop()
            self.error = err
            self._ready.set()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    @property
    def core(self) -> Any:
        """The running core."""
        return self.daemon.core

    def start(self, timeout: float = 120) -> RunningDaemon:
        """Start and wait until ready."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("daemon did not start")
        if self.error is not None:
            raise self.error
        return self

    def call(self, coro: Any, timeout: float = 180) -> Any:
        """Run a coroutine on the daemon's loop and return its result."""
        # A bound for a hang, not a speed check: a heavy engine's call on a loaded 2-core machine took over 60 s.
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def settle(self) -> None:
        """Wait until the daemon's loop has run every callback queued so far.

        The core hands events to the bus a turn after the door's reader, so a client can read a job's end before the
        bus's subscribers (running on the daemon's thread) have seen its last events.
        """
        self.call(asyncio.sleep(0))

    def stop(self, timeout: float = 30) -> None:
        """Graceful shutdown, as on SIGTERM."""
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.daemon.request_exit)
            self._thread.join(timeout)
        if self.error is not None and not isinstance(self.error, asyncio.CancelledError):
            raise self.error


@contextlib.contextmanager
def running_daemon(settings: Settings, plugins_extra: tuple[tuple[str, object], ...] = ()) -> Iterator[RunningDaemon]:
    """Context manager around RunningDaemon."""
    daemon = RunningDaemon(settings, plugins_extra).start()
    try:
        yield daemon
    finally:
        daemon.stop()


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    """Poll ``predicate`` until it holds, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)


class ServeProcess:
    """A real ``voxhost serve -c CONFIG`` in a subprocess with ``env``, its log read line by line as it comes."""

    def __init__(self, config: Path, env: dict[str, str], *, own_group: bool = False) -> None:
        """``own_group``: in a process group of its own, as a shell starts a job (a terminal signals all of it)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voxhost", "serve", "-c", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            process_group=0 if own_group else None,
        )
        self.log: list[str] = []
        self._reader = threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True)  # type: ignore[arg-type]
        self._reader.start()

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait for the daemon's ``Ready``; fail with its log if it exits first."""
        wait_for(lambda: any("Ready" in line for line in self.log) or self.proc.poll() is not None, timeout)
        assert self.proc.poll() is None, "".join(self.log)

    def tail(self, lines: int = 30) -> str:
        """The log's last lines, for assertion messages."""
        return "".join(self.log[-lines:])

    def close(self) -> None:
        """Kill the daemon if it still runs, and finish reading its log."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(5)


def wyoming_config(directory: Path, port: int, settings: str = "", tables: str = "") -> Path:
    """A config file for ``voxhost serve`` with only the Wyoming door, on localhost ``port``, and no speech
    recognition; ``settings``: top-level lines, ``tables``: more TOML tables."""
    config = directory / "voxhost.toml"
    config.write_text(
        f"""{settings}
state_dir = "{directory / "state"}"
[engines.whisper]
enabled = false
[doors.wyoming]
uri = ["tcp://127.0.0.1:{port}"]
zeroconf = false
[doors.http]
enabled = false
[doors.mqtt]
enabled = false
{tables}"""
    )
    return config


async def wyoming_speak(
    port: int, text: str, voice: str | None = "piper:en_US-joe-medium", timeout: float = 60
) -> tuple[bytes, int]:
    """A one-shot ``synthesize`` to a Wyoming server on localhost, as Home Assistant sends it (``voice=None``: the
    server's default voice): the PCM and its rate. An ``error`` or a closed connection fails the test."""
    from wyoming.audio import AudioChunk
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import Synthesize, SynthesizeVoice

    audio, rate = bytearray(), 0
    async with AsyncTcpClient("127.0.0.1", port) as client:
        named = SynthesizeVoice(name=voice) if voice else None
        await client.write_event(Synthesize(text=text, voice=named).event())
        while (event := await asyncio.wait_for(client.read_event(), timeout)) is not None:
            if AudioChunk.is_type(event.type):
                chunk = AudioChunk.from_event(event)
                audio += chunk.audio
                rate = chunk.rate
            elif event.type in ("audio-stop", "error"):
                assert event.type == "audio-stop", event.data
                return bytes(audio), rate
    raise AssertionError("the server closed the connection before audio-stop")


def run_cli(
    state_dir: Path, *args: str, check: bool = True, timeout: float = 180, stdin: Any = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``voxhost ARGS`` in a subprocess on ``state_dir``, offline (models only from disk), with ``env`` added to the
    environment and ``stdin`` (a file, or a descriptor) as its standard input; its output as text."""
    environ = {**os.environ, "VOXHOST_STATE_DIR": str(state_dir), "HF_HUB_OFFLINE": "1", **env}
    return subprocess.run(
        [sys.executable, "-m", "voxhost", *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        check=check,
        env=environ,
        timeout=timeout,
    )


def run_cli_measured(
    state_dir: Path, *args: str, timeout: float = 300, **env: str
) -> tuple[subprocess.CompletedProcess[str], int]:
    """``run_cli`` (unchecked), and the most memory the command's process held (its peak resident set, bytes, as
    ``os.wait4`` reports it for that one child)."""
    environ = {**os.environ, "VOXHOST_STATE_DIR": str(state_dir), "HF_HUB_OFFLINE": "1", **env}
    command = [sys.executable, "-m", "voxhost", *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=environ, text=True)
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    return result, usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def namespaces_work() -> bool:
    """Whether a process may take a user and mount namespace of its own (``unshare -rm``) and mount a tmpfs there."""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt 2>/dev/null || mount -t tmpfs tmpfs /tmp"],
        capture_output=True,
    )
    return probe.returncode == 0


def run_cli_on_tmpfs(
    folder: Path,
    *args: str,
    size: str = "1m",
    prepare: str = "",
    read_only: bool = False,
    after: str = "",
    timeout: float = 180,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """``voxhost ARGS`` (offline) in a user and mount namespace of its own, where ``folder`` is a tmpfs of ``size``:
    a real full, or really read-only, file system for that command alone, that needs no root and is gone with it.
    ``prepare`` (shell) runs on it first; ``read_only`` then remounts it read-only; ``after`` (shell) runs once the
    command has ended, while the tmpfs is still there (its output follows the command's); the status is voxhost's.
    ``env`` is added to the environment."""
    where = shlex.quote(str(folder))
    steps = [
        f"mount -t tmpfs -o size={size} tmpfs {where}",
        prepare,
        f"mount -o remount,ro {where}" if read_only else "",
    ]
    voxhost = shlex.join([sys.executable, "-m", "voxhost", *args])
    script = (
        " && ".join(step for step in steps if step) + f" && {{ {voxhost}; status=$?; {after or ':'}; exit $status; }}"
    )
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        timeout=timeout,
    )


def assert_speech(pcm: bytes, rate: int, min_seconds: float, max_seconds: float, expect_rate: int = 22050) -> None:
    """Real speech: the expected rate, a plausible duration, and not silence."""
    assert rate == expect_rate
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    seconds = samples.size / rate
    assert min_seconds <= seconds <= max_seconds, f"duration {seconds:.2f} s outside [{min_seconds}, {max_seconds}]"
    level = float(np.sqrt(np.mean(samples**2)))
    assert level > 0.01, f"audio is near silence (rms {level:.4f})"
    # Speech has pauses and loud parts: a constant tone or noise would not.
    frames = samples[: samples.size // 441 * 441].reshape(-1, 441)
    frame_levels = np.sqrt((frames**2).mean(axis=1))
    assert frame_levels.max() > 4 * np.median(frame_levels[frame_levels > 0]) or frame_levels.min() < 0.005


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """An empty state directory."""
    path = tmp_path / "state"
    path.mkdir()
    return path
