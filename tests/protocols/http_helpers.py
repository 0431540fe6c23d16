"""Helpers for the HTTP door tests: clients, decoding every response format, test audio, core event logs."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import openai
import soundfile
from prometheus_client.parser import text_string_to_metric_families

from ..conftest import REPO, RunningDaemon, make_settings, running_daemon

PLUGIN = REPO / "tests" / "plugins" / "http" / "pitchshift.py"
"""In its own folder: plugin directories load every file at their top level, and other tests use tests/plugins."""

TEXT = "The kitchen lights are on. Dinner is ready in ten minutes."


def plugin_dir(tmp: Path) -> str:
    """A plugins directory holding only the pitchshift test plugin."""
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(PLUGIN, tmp / PLUGIN.name)
    return str(tmp)


@contextlib.contextmanager
def cloning_daemon(factory: Any, state: str, **http: Any) -> Iterator[RunningDaemon]:
    """Piper plus the pitchshift test engine (clone + convert), the HTTP door on with these settings (``factory``:
    pytest's ``tmp_path_factory``, ``state``: the state directory's name)."""
    plugins = plugin_dir(factory.mktemp("plugins"))
    settings = make_settings(factory.mktemp(state), plugins_dirs=[plugins], http={"enabled": True, "port": 0, **http})
    with running_daemon(settings) as d:
        yield d


def base_url(d: RunningDaemon) -> str:
    """The door's root URL."""
    door = next(door for door in d.core.doors if door.name == "http")
    return f"http://127.0.0.1:{door.port}"


def client(d: RunningDaemon, api_key: str = "not-needed", retries: int = 0) -> openai.OpenAI:
    """The official client pointed at the daemon."""
    return openai.OpenAI(base_url=base_url(d) + "/v1", api_key=api_key, max_retries=retries, timeout=60)


Answer = tuple[int, dict[str, str], bytes]
"""An HTTP answer read off the wire: its status, headers (lower-case names) and body."""


def read_answer(wire: io.BufferedReader) -> Answer:
    """One answer read off a connection's reader."""
    status = int(wire.readline().split()[1])
    headers = {}
    while (line := wire.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, wire.read(int(headers.get("content-length", 0)))


def refused_before_the_body(answers: list[Answer], status: int, code: str) -> tuple[dict[str, str], Any]:
    """Check that an ``expect_continue`` request was refused instead of told to go on: ``status`` and ``code`` in
    the door's form, and the connection to be closed (the body announced is not coming); the refusal's headers and
    error."""
    assert [answer[0] for answer in answers] == [status], answers  # no 100 Continue: the body was never asked for
    _, headers, body = answers[0]
    assert headers["connection"] == "close", headers
    assert headers["content-type"].startswith("application/json") and "content-security-policy" in headers, headers
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == code, error
    return headers, error


def expect_continue(
    d: RunningDaemon, head: str, body: bytes | None, length: int | None = None, expect: str = "100-continue"
) -> list[Answer]:
    """Send a request as curl sends an upload: ``head`` (its request line and headers) with ``Expect:
    100-continue`` and a ``Content-Length`` (``length``, else the body's), and its body only once the server says
    ``100 Continue`` (``None``: never). The answers read: a refusal alone, or the 100 and then the final answer."""
    host, port = base_url(d).removeprefix("http://").split(":")
    size = length if length is not None else len(body or b"")
    request = f"{head}\r\nHost: {host}:{port}\r\nExpect: {expect}\r\nContent-Length: {size}\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as sock, sock.makefile("rb") as wire:
        sock.sendall(request.encode("latin-1"))
        answers = [read_answer(wire)]
        if answers[0][0] == 100 and body is not None:
            sock.sendall(body)
            answers.append(read_answer(wire))
        return answers


def metric(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with these labels in ``/metrics``' text."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                return sample.value
    raise AssertionError(f"no {name} {labels} in /metrics")


def decode(fmt: str, data: bytes) -> tuple[bytes, int]:
    """Any response format back to s16le mono PCM and its rate."""
    if fmt == "pcm":
        return data, 24000
    if fmt in ("wav", "mp3", "opus"):
        samples, rate = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)
        return samples.mean(axis=1).astype("<i2").tobytes(), rate
    # ADTS AAC has no libsndfile reader, and streamed FLAC has no length in its header: decode with FFmpeg.
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono")
        parts = [f.to_ndarray().reshape(-1) for frame in container.decode(stream) for f in resampler.resample(frame)]
        return np.concatenate(parts).astype("<i2").tobytes(), stream.rate


def tone(freq: float, seconds: float, rate: int = 24000, level: float = 0.4) -> np.ndarray:
    """A harmonic tone with a syllable-like loudness envelope (voice-like enough for the test engines)."""
    t = np.arange(int(seconds * rate)) / rate
    wave = sum(np.sin(2 * np.pi * freq * k * t) / k for k in (1, 2, 3))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 3 * t)
    return (level * wave * envelope / 1.8).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int = 24000, fmt: str = "WAV") -> bytes:
    """Samples as an audio file in memory."""
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format=fmt, subtype="PCM_16" if fmt == "WAV" else None)
    return buffer.getvalue()


def silence_flac(seconds: float, rate: int = 48000) -> bytes:
    """``seconds`` of silence as 16-bit FLAC: kilobytes that decode to megabytes."""
    out = io.BytesIO()
    left = int(seconds * rate)
    with soundfile.SoundFile(out, "w", rate, 1, format="FLAC", subtype="PCM_16") as sound:
        while left > 0:  # a minute at a time: the file is small, the samples need not be
            sound.write(np.zeros(min(left, rate * 60), np.float32))
            left -= rate * 60
    return out.getvalue()


def two_hours_of_silence() -> bytes:
    """Two hours of silence as FLAC at 8 kHz: a small file whose audio is far too long."""
    return silence_flac(7200.0, 8000)


def dominant_frequency(pcm: bytes, rate: int) -> float:
    """The strongest frequency above 50 Hz."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    spectrum[freqs < 50] = 0
    return float(freqs[int(np.argmax(spectrum))])


class EventLog:
    """Core events with the monotonic time they were published, collected from the daemon's loop."""

    def __init__(self, d: RunningDaemon) -> None:
        self.items: list[tuple[float, Any]] = []
        self._lock = threading.Lock()

        def record(event: Any) -> None:
            with self._lock:
                self.items.append((time.monotonic(), event))

        async def subscribe() -> Any:
            return d.core.bus.subscribe(record)

        self._unsubscribe = d.call(subscribe())
        self._d = d

    def close(self) -> None:
        """Stop recording."""
        self._d.loop.call_soon_threadsafe(self._unsubscribe)

    def of(self, job_id: str, kind: type | None = None) -> list[tuple[float, Any]]:
        """Events of one job, optionally of one type."""
        with self._lock:
            return [
                (t, e)
                for t, e in self.items
                if getattr(e, "job_id", None) == job_id and (kind is None or isinstance(e, kind))
            ]

    def wait_for(self, job_id: str, kind: type, timeout: float = 10.0) -> tuple[float, Any]:
        """The first event of a type for a job, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found := self.of(job_id, kind):
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no {kind.__name__} for job {job_id} within {timeout} s")
