"""Time to first byte of /v1/audio/speech (pcm and mp3) against the engine's first chunk, in one run.

The daemon runs in this process; the HTTP client runs in a child process, as a real client would. The door's
overhead for a request is (first byte at the client) - (the engine's first chunk: the job's accept plus its own
time to first audio, ``bench/job_marks.py``); both come from the machine's monotonic clock. A probe on the daemon's
event loop measures how late a 5 ms timer fires: idle, and while each format streams (encoding runs on threads, so
streaming mp3 should not lag more than pcm).

Run: PYTHONPATH=. python bench/http_ttfb.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from job_marks import JobMarks

from tests.conftest import make_settings, running_daemon

TEXTS = [
    "The front door is locked.",
    "It is twenty one degrees in the living room.",
    "Your timer for the pasta is done.",
    "Good morning. Today will be sunny with a high of twenty four degrees.",
]
FORMATS = ("pcm", "mp3")

CLIENT = r"""
import json, sys, time
import httpx2 as httpx
url, rounds, texts, formats = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
with httpx.Client(timeout=60) as client:
    for warm in range(2):
        for fmt in formats:
            client.post(url, json={"input": texts[warm], "response_format": fmt, "voice": "alloy"})
    print(json.dumps({"phase": "idle"}), flush=True)
    time.sleep(3)
    for i in range(rounds):
        for fmt in formats:  # interleaved, so both formats see the same machine load
            print(json.dumps({"phase": fmt}), flush=True)
            body = {"model": "tts-1", "voice": "alloy", "input": texts[i % len(texts)], "response_format": fmt}
            sent = time.monotonic()
            with client.stream("POST", url, json=body) as response:
                chunks = response.iter_bytes()
                next(chunks)
                first = time.monotonic()
                job = response.headers["x-voxhost-job"]
                for _ in chunks:
                    pass
            print(json.dumps({"fmt": fmt, "job": job, "sent": sent, "first": first}), flush=True)
    print(json.dumps({"phase": "done"}), flush=True)
"""


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="requests per format")
    args = parser.parse_args()

    marks = JobMarks()
    phase: list[str] = [""]
    lags: dict[str, list[float]] = {"idle": [], **{fmt: [] for fmt in FORMATS}}

    async def probe() -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(0.005)
            if phase[0] in lags:
                lags[phase[0]].append(time.monotonic() - started - 0.005)

    with tempfile.TemporaryDirectory() as state:
        settings = make_settings(Path(state), http={"enabled": True, "port": 0})
        with running_daemon(settings) as d:

            async def setup() -> asyncio.Task[None]:
                d.core.bus.subscribe(marks.observe)
                return asyncio.create_task(probe())

            probing = d.call(setup())
            port = next(door for door in d.core.doors if door.name == "http").port
            url = f"http://127.0.0.1:{port}/v1/audio/speech"
            child = subprocess.Popen(
                [sys.executable, "-c", CLIENT, url, str(args.rounds), json.dumps(TEXTS), json.dumps(FORMATS)],
                stdout=subprocess.PIPE,
                text=True,
            )
            rows: dict[str, list[tuple[float, float, float]]] = {fmt: [] for fmt in FORMATS}
            assert child.stdout is not None
            for line in child.stdout:
                record = json.loads(line)
                if "phase" in record:
                    phase[0] = record["phase"]
                    continue
                engine_first = marks.first_audio(record["job"])
                rows[record["fmt"]].append(
                    (record["first"] - engine_first, engine_first - record["sent"], record["first"] - record["sent"])
                )
            if child.wait() != 0:
                raise SystemExit("the client failed")
            d.loop.call_soon_threadsafe(probing.cancel)

    print(f"{args.rounds} requests per format; Piper en_US-joe-medium; client in its own process")
    print(f"{'format':<8}{'door overhead ms: median / p90 / max':<40}{'engine 1st chunk ms':<22}{'TTFB ms':<8}")
    for fmt, values in rows.items():
        overhead = [r[0] * 1000 for r in values]
        engine = statistics.median(r[1] * 1000 for r in values)
        ttfb = statistics.median(r[2] * 1000 for r in values)
        print(
            f"{fmt:<8}{statistics.median(overhead):8.1f} / {percentile(overhead, 90):6.1f} / {max(overhead):6.1f}"
            f"{'':<14}{engine:8.1f}{'':<14}{ttfb:8.1f}"
        )
    print("event-loop lag of a 5 ms timer (median / p99 / max ms):")
    for name, lag_seconds in lags.items():
        lag_ms = [lag * 1000 for lag in lag_seconds]
        print(
            f"  {name:<8}{statistics.median(lag_ms):6.2f} / {percentile(lag_ms, 99):6.2f} / {max(lag_ms):6.2f}"
            f"  ({len(lag_ms)} samples)"
        )


if __name__ == "__main__":
    main()
