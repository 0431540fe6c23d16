#!/usr/bin/env python
"""Texts at the core's length limit: how long the event loop is held while one is read, and its first audio.

Reading a text into spoken sentences (markup, symbols, numbers, the sentence splitter) is Python work on the
daemon's event loop. For each kind of text, at ``--chars`` characters (the core's ``text.max_chars``, 100,000 by
default), a Wyoming client sends it in one ``synthesize`` while another makes a ``describe`` on a fresh connection
every 20 ms, as Home Assistant does (it gives up after 1 s); the slowest describe is how long the loop was held.
The client leaves after its first two seconds of audio (its job is cancelled). ``--variant NAME:KEY=VALUE`` adds
another voxhost, e.g. an earlier checkout on ``PYTHONPATH``, measured in the same rounds.

    python bench/long_text.py --rounds 3
    python bench/long_text.py --rounds 3 --variant before:PYTHONPATH=/path/to/other/checkout
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize, SynthesizeVoice
from wyoming_servers import Server, describe, stop, wait_ready
from wyoming_vs_piper import parse_variant, start_voxhost

KINDS = {
    "prose": "The hallway light turned on when the front door opened. ",
    "abbreviations": "Dr. Lee met Mr. Hill and Mrs. Ray at St. Mary's. ",
    "numbers": "It cost $1,234.56 (12%) on 3/4 at 21:30, 5 km/h and 21 °C. ",
    "markdown": "- **Step 3:** open [the forecast](https://example.com/a) and `light.turn_on`.\n",
    "brackets": "[" * 60 + " ",
}
AUDIO_SECONDS = 2.0


async def one(server: Server, text: str) -> tuple[float, float]:
    """(slowest describe while the text is read, time to first audio) for one text."""
    answered: list[float] = []
    first: list[float] = []

    async def describes() -> None:
        while not first or len(answered) < 10:
            answered.append(await describe(server.port))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(describes())
    async with AsyncTcpClient("127.0.0.1", server.port) as client:
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(name=server.voice)).event())
        samples = 0
        while samples < AUDIO_SECONDS * 22050:
            event = await client.read_event()
            if event is None or event.type in ("error", "audio-stop"):
                break  # a text with nothing to say ends at once
            if event.type == "audio-chunk":
                if not first:
                    first.append(time.monotonic() - started)
                samples += len(event.payload or b"") // 2
        first.append(time.monotonic() - started)  # also ends the watcher of a text that said nothing
    await watcher
    return max(answered), first[0]


async def run(args: argparse.Namespace) -> None:
    variants = [parse_variant(text) for text in args.variant]
    with tempfile.TemporaryDirectory() as tmp:
        servers = [start_voxhost(Path(tmp) / "voxhost")]
        servers += [start_voxhost(Path(tmp) / name, name, env) for name, env in variants]
        try:
            for server in servers:
                await wait_ready(server)
            results: dict[tuple[str, str], list[tuple[float, float]]] = {}
            for round_ in range(args.rounds):
                for kind, unit in KINDS.items():
                    text = (unit * (args.chars // len(unit) + 1))[: args.chars]
                    order = servers if round_ % 2 == 0 else servers[::-1]
                    for server in order:
                        results.setdefault((server.name, kind), []).append(await one(server, text))
                        await asyncio.sleep(0.3)
                print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
        finally:
            stop(servers, 10)
    print(f"{args.chars} characters a text, {args.rounds} rounds; medians, in ms\n")
    print("| Text | Server | Slowest describe | First audio |")
    print("|---|---|---:|---:|")
    for kind in KINDS:
        for server in servers:
            held, first = zip(*results[(server.name, kind)], strict=True)
            print(f"| {kind} | {server.name} | {statistics.median(held) * 1000:.0f} | "
                  f"{statistics.median(first) * 1000:.0f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chars", type=int, default=100_000)
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE,...")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
