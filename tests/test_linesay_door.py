"""The out-of-tree linesay door (plugins/voxhost-linesay): loaded from its entry point, enabled by its own
``[doors.linesay]`` table, spoken to by a plain TCP client."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import assert_speech, free_port, run_cli

PIPER = "piper:en_US-joe-medium"


def _env(state_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "VOXHOST_STATE_DIR": str(state_dir), **extra}


@contextlib.contextmanager
def serving(tmp: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """``voxhost serve`` as a user runs it: the door is enabled by the config file, its port set by environment."""
    config = tmp / "voxhost.toml"
    config.write_text('[doors.linesay]\nenabled = true\nhost = "127.0.0.1"\nmax_line_chars = 200\n')
    port = free_port()
    env = _env(tmp / "state", VOXHOST_DOORS__LINESAY__PORT=str(port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxhost", "serve", "-c", str(config), "--no", "wyoming", "--no", "http"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            lines.append(proc.stderr.readline())  # type: ignore[union-attr]
            if "Ready:" in lines[-1]:
                break
        assert any("Door linesay open" in line and f"tcp://127.0.0.1:{port}" in line for line in lines), lines
        assert "linesay" in lines[-1], lines
        yield port, proc
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with serving(tmp_path_factory.mktemp("linesay")) as (port, proc):
        yield port
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


class LineClient:
    """A plain TCP client of the linesay protocol."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.file = self.sock.makefile("rb")

    def send(self, line: str | bytes) -> None:
        self.sock.sendall(line if isinstance(line, bytes) else line.encode() + b"\n")

    def answer(self) -> tuple[str, list[str], bytes]:
        """The header's first word, its other words, and the audio that follows an ``OK``."""
        header = self.file.readline().decode()
        assert header.endswith("\n"), f"no header line: {header!r}"
        status, *rest = header.split(" ", 2) if header.startswith("ERR") else header.split()
        if status == "ERR":
            return status, [part.strip() for part in rest], b""
        assert status == "OK", header
        audio = self.file.read(int(rest[2]))
        assert len(audio) == int(rest[2])
        return status, rest, audio

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def client(daemon: int) -> Iterator[LineClient]:
    c = LineClient(daemon)
    yield c
    c.close()


def test_two_lines_are_spoken_in_order(client):
    client.send("Dinner is ready.")
    client.send(json.dumps({"text": "The kitchen lights are now on. The oven is heating up.", "voice": PIPER}))
    ids = []
    for min_s, max_s in [(0.6, 2.5), (2.0, 6.0)]:
        status, (job_id, rate, count), audio = client.answer()
        assert status == "OK" and int(count) == len(audio)
        assert_speech(audio, int(rate), min_s, max_s, expect_rate=22050)
        ids.append(job_id)
    assert len(set(ids)) == 2


@pytest.mark.parametrize(
    ("line", "code", "says"),
    [
        ('{"text": "Hello.", "voice": "nobody"}', "voice_not_found", "nobody"),
        ('{"text": "Hello.", "speed": 9}', "invalid_request", "speed must be between 0.25 and 4.0; got 9"),
        ('{"text": "Hello.", "door": "http"}', "invalid_request", "door: Extra inputs are not permitted"),
        ('{"voice": "nobody"}', "invalid_request", "text: Field required"),
        ("{not json", "invalid_request", "not valid JSON"),
        ("x" * 201, "text_too_long", "longer than 200 characters"),
        (b"\xff\xfe oops\n", "invalid_request", "not UTF-8"),
    ],
)
def test_a_bad_line_gets_err_and_the_connection_keeps_working(client, line, code, says):
    client.send(line)
    status, (got_code, message), _ = client.answer()
    assert (status, got_code) == ("ERR", code) and says in message
    client.send("")  # a blank line is no request: no answer
    client.send("Still here.")
    status, (_, rate, _), audio = client.answer()
    assert status == "OK"
    assert_speech(audio, int(rate), 0.4, 2.0)


def test_a_line_longer_than_the_stream_limit_is_dropped_whole(client):
    client.send("y" * 5000)  # far past max_line_chars: read in pieces and thrown away
    assert client.answer()[:2] == ("ERR", ["text_too_long", "the line is longer than 200 characters"])
    client.send("Fine.")
    assert client.answer()[0] == "OK"


def test_stopping_lets_the_line_being_spoken_finish(tmp_path):
    with serving(tmp_path) as (port, proc):
        idle, speaking = LineClient(port), LineClient(port)
        speaking.send(
            "The kitchen lights are now on. The oven is heating up to two hundred degrees. Dinner will be ready "
            "soon. Please set the table. The guests arrive at seven."
        )
        time.sleep(0.1)  # the line is being spoken
        proc.send_signal(signal.SIGTERM)
        status, (_, rate, _), audio = speaking.answer()
        assert status == "OK"
        assert_speech(audio, int(rate), 5.0, 16.0)
        assert speaking.file.readline() == b"", "then the connection closes"
        assert idle.file.readline() == b"", "an idle connection closes at once"
        assert proc.wait(30) == 0
        assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]


def test_a_typo_in_the_door_table_is_refused_naming_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[doors.linesay]\nenabled = true\nmax_line_char = 10\n")
    result = run_cli(tmp_path, "check-config", "-c", str(config), check=False, timeout=60)
    assert result.returncode == 2 and "doors.linesay.max_line_char" in result.stderr, result.stderr


def test_bad_value_from_the_environment_names_the_key(tmp_path):
    result = run_cli(tmp_path, "check-config", check=False, timeout=60, VOXHOST_DOORS__LINESAY__PORT="70000")
    assert result.returncode == 2 and "doors.linesay.port" in result.stderr, result.stderr


def test_an_unknown_default_voice_stops_the_start(tmp_path):
    config = tmp_path / "voxhost.toml"
    config.write_text('[doors.linesay]\nenabled = true\nport = 0\nvoice = "nobody"\n')
    result = run_cli(tmp_path, "serve", "-c", str(config), "--no", "wyoming", "--no", "http", check=False, timeout=90)
    assert result.returncode == 2 and "doors.linesay.voice: unknown voice 'nobody'" in result.stderr, result.stderr


def test_voxhost_plugins_lists_it(tmp_path):
    out = run_cli(tmp_path, "plugins").stdout
    line = next(line for line in out.splitlines() if line.startswith("linesay"))
    assert line.split() == ["linesay", "entrypoint", "0.1.0", "register_doors"]
