"""Daemon memory under a hostile mix of legal requests: RSS before, during (peak) and after, old vs new settings.

    python bench/spoken_memory.py                 # both modes, one daemon process each
    python bench/spoken_memory.py --mode new      # only voxhost's defaults
    python bench/spoken_memory.py --speed         # CPU time per sentence, arena on vs off, side by side

"old" is how voxhost ran before the text front-end: onnxruntime's CPU arena on and never emptied, no bound on a
sentence's length (600 s), text spoken as written. "new" is the defaults. Both get the same requests, half of them
with ``normalize: false`` (the worst case a client may legally ask for). RSS is the daemon process's ``VmRSS``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx

REPO = Path(__file__).resolve().parent.parent

HOSTILE = [
    ("100 emoji, as written", "🎉👍🔥😀" * 25, False),
    ("100 emoji, normalized", "🎉👍🔥😀" * 25, True),
    ("digit runs", "1234567890 " * 30, False),
    ("800 words, no sentence mark", "word " * 800, False),
    (
        "markdown table and code",
        "| a | b |\n|---|---|\n" + "| 12345 | 67890 |\n" * 60 + "```\n" + "x = 1\n" * 200 + "```",
        True,
    ),
    ("URLs", "See https://www.home-assistant.io/docs/automation/trigger/ now " * 30, False),
    ("symbols", "✓ ★ → " * 200, False),
]
NORMAL = "The kitchen lights are on and the front door is locked."


def rss(pid: int) -> float:
    """Resident set size of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(mode: str) -> dict[str, float]:
    port = free_port()
    state = tempfile.mkdtemp(prefix="voxhost-bench-")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),  # this checkout's voxhost, wherever the bench is run from
        "HF_HUB_OFFLINE": "1",
        "VOXHOST_STATE_DIR": state,
        "VOXHOST_DOORS__HTTP__PORT": str(port),
        "VOXHOST_DOORS__HTTP__MAX_INPUT_CHARS": "8000",
    }
    if mode == "old":
        env |= {
            "VOXHOST_ENGINES__PIPER__MEMORY_ARENA": "true",
            "VOXHOST_ENGINES__PIPER__TRIM_ABOVE_MIB": "1000000",
            "VOXHOST_TEXT__MAX_SENTENCE_SECONDS": "600",
            "VOXHOST_TEXT__MAX_SENTENCE_CHARS": "100000",
        }
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxhost", "serve", "--no", "wyoming", "--no", "mqtt"],
        cwd=state,  # ``-m`` would put the working directory's checkout ahead of PYTHONPATH
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss(proc.pid))
            time.sleep(0.05)

    try:
        assert proc.stderr is not None
        while "Ready:" not in proc.stderr.readline():
            if proc.poll() is not None:
                raise RuntimeError("daemon exited")
        url = f"http://127.0.0.1:{port}/v1/audio/speech"
        with httpx.Client(timeout=600) as client:

            def speak(text: str, normalize: bool) -> float:
                body = {"input": text, "response_format": "pcm", "normalize": normalize}
                reply = client.post(url, json=body)
                reply.raise_for_status()
                return len(reply.content) / 2 / 24000

            speak(NORMAL, True)
            time.sleep(1)
            before = rss(proc.pid)
            threading.Thread(target=sample, daemon=True).start()
            overall = 0.0
            for name, text, normalize in HOSTILE:
                started = time.perf_counter()
                peak = 0.0
                seconds = speak(text, normalize)
                overall = max(overall, peak)
                print(
                    f"  {mode}: {name:<30} {seconds:7.1f} s audio in {time.perf_counter() - started:5.1f} s; "
                    f"RSS peak {peak:6.0f} MiB, after {rss(proc.pid):6.0f} MiB",
                    flush=True,
                )
            speak(NORMAL, True)
            stop.set()
            time.sleep(2)
            busy = rss(proc.pid)
            time.sleep(13)  # the engine gives memory back after trim_idle_seconds (10 s) idle
            after = rss(proc.pid)
        return {"before": before, "peak": overall, "busy": busy, "after": after}
    finally:
        stop.set()
        proc.terminate()
        proc.wait(30)


def speed(rounds: int = 15) -> None:
    """CPU seconds per sentence with and without onnxruntime's arena: both sessions in one process, alternated."""
    import statistics

    from voxhost.engine import EngineContext, SynthesisRequest
    from voxhost.plugins.piper import PiperEngine, PiperSettings

    context = EngineContext(tempfile.mkdtemp(), tempfile.mkdtemp(), tempfile.mkdtemp())
    engines = {
        arena: PiperEngine(PiperSettings(memory_arena=arena, onnx_threads=1, trim_above_mib=None), context)
        for arena in (True, False)
    }
    for engine in engines.values():
        engine.load()
    texts = {"normal (3.8 s)": NORMAL + " " + NORMAL[:20] + ".", "long (15 s)": "The kitchen lights are on. " * 9}
    print("\nsentence | arena on (CPU s) | arena off | ratio")
    for name, text in texts.items():
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(rounds):
            for arena, engine in engines.items():
                started = time.process_time()
                for _chunk in engine.synthesize(SynthesisRequest(text=text, voice="en_US-joe-medium", shared=True)):
                    pass
                times[arena].append(time.process_time() - started)
        on, off = statistics.median(times[True]), statistics.median(times[False])
        print(f"{name} | {on:.3f} | {off:.3f} | {off / on:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["old", "new", "both"], default="both")
    parser.add_argument("--speed", action="store_true", help="CPU time per sentence, arena on vs off")
    parser.add_argument("--rounds", type=int, default=15, help="with --speed: sentences per session and text")
    args = parser.parse_args()
    if args.speed:
        speed(args.rounds)
        return
    modes = ["old", "new"] if args.mode == "both" else [args.mode]
    results = {mode: run(mode) for mode in modes}
    print("\nmode | RSS before (MiB) | peak during | 2 s after | 15 s after")
    for mode, r in results.items():
        print(f"{mode} | {r['before']:.0f} | {r['peak']:.0f} | {r['busy']:.0f} | {r['after']:.0f}")


if __name__ == "__main__":
    main()
