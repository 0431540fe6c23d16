"""The command line: say writes real speech through the core; serve reports ready and stops on SIGTERM."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

import soundfile

from .conftest import assert_speech


def _env(state_dir):
    return {**os.environ, "VOXHOST_STATE_DIR": str(state_dir)}


def test_say_writes_a_wav(tmp_path, state_dir):
    out = tmp_path / "out.wav"
    subprocess.run(
        [sys.executable, "-m", "voxhost", "say", "Dinner is ready.", "-o", str(out)],
        check=True,
        env=_env(state_dir),
        timeout=120,
    )
    data, rate = soundfile.read(out, dtype="int16")
    assert_speech(data.tobytes(), rate, 0.6, 2.5)


def test_say_to_stdout(state_dir):
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "say", "-", "-o", "-"],
        input=b"Good morning. The coffee is ready.",
        capture_output=True,
        check=True,
        env=_env(state_dir),
        timeout=120,
    )
    data, rate = soundfile.read(io.BytesIO(result.stdout), dtype="int16")
    assert_speech(data.tobytes(), rate, 1.5, 4.5)


def test_say_unknown_voice_is_a_clear_error(state_dir):
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "say", "Hi", "-v", "nobody", "-o", "-"],
        capture_output=True,
        text=True,
        env=_env(state_dir),
        timeout=120,
    )
    assert result.returncode == 1 and "unknown voice 'nobody'" in result.stderr and not result.stdout


def test_serve_ready_and_sigterm(state_dir):
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxhost", "serve", "--no", "wyoming", "--no", "http"],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(state_dir),
    )
    try:
        deadline = time.monotonic() + 90
        lines = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "Ready:" in line:
                break
        assert any("Ready:" in line and "piper" in line for line in lines), lines
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert "Stopped" in proc.stderr.read()
    finally:
        proc.kill()


def test_engines_and_voices_commands(state_dir):
    engines = subprocess.run(
        [sys.executable, "-m", "voxhost", "engines"], capture_output=True, text=True, check=True, env=_env(state_dir)
    ).stdout
    assert engines.startswith("piper") and "enabled" in engines
    voices = subprocess.run(
        [sys.executable, "-m", "voxhost", "voices"], capture_output=True, text=True, check=True, env=_env(state_dir)
    ).stdout
    assert "piper:en_US-joe-medium" in voices and "22050" in voices
