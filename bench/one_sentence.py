#!/usr/bin/env python
"""One-sentence answers, voxhost against wyoming-piper, over several fresh processes of each server.

A one-sentence answer ("Good evening.", 30-40 ms of compute) is where voxhost's own work per request shows most,
and where the ratio to wyoming-piper moves most from run to run: one server process can be a few percent faster
or slower than another for its whole life (where its memory landed). So this starts ``--processes`` processes of
each server, and of each ``--variant``, interleaves them round by round (rotating which goes first), and reports
each process's median, the median of the process medians per server, and the mean of all its requests (a
median passes over slow requests), for each text in turn.

    python bench/one_sentence.py --rounds 40 --processes 4
    python bench/one_sentence.py --rounds 40 --processes 2 --variant before:PYTHONPATH=/path/to/other/checkout
    python bench/one_sentence.py --rounds 40 --processes 3 --threaded-wyoming-piper

``--threaded-wyoming-piper`` adds wyoming-piper with its synthesis moved off its event loop onto a thread
(``bench/wyoming_piper_threaded.py``), as voxhost keeps its own loop free: what that design costs a lone client.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from wyoming_servers import Server, stop, wait_ready
from wyoming_vs_piper import (
    SENTENCES,
    one_shot,
    parse_side_by_side,
    parse_variant,
    side_by_side_parser,
    start_voxhost,
    start_wyoming_piper,
)

TEXTS = [SENTENCES[0], SENTENCES[2]]
"""The shortest sentence of the bench's answer, and its longest."""
THREADED = "wyoming-piper, synthesis on a thread"
PAUSE = 0.1
"""Seconds between requests: each request finds its server idle, as a voice assistant's do."""


def start_all(args: argparse.Namespace, tmp: Path, groups: dict[str, list[Server]]) -> None:
    """Start every process into ``groups``, by the server (or variant) it belongs to."""
    variants = [parse_variant(text) for text in args.variant]
    groups.update({"wyoming-piper": [], "voxhost": [], **{name: [] for name, _ in variants}})
    if args.threaded_wyoming_piper:
        groups[THREADED] = []
    for i in range(args.processes):
        data = tmp / f"wyoming-piper-{i}"
        data.mkdir()
        server = start_wyoming_piper(args.wyoming_piper_python, data)
        server.name = f"wyoming-piper#{i}"
        groups["wyoming-piper"].append(server)
        groups["voxhost"].append(start_voxhost(tmp / f"voxhost-{i}", f"voxhost#{i}"))
        for name, env in variants:
            groups[name].append(start_voxhost(tmp / f"{name}-{i}", f"{name}#{i}", env))
        if args.threaded_wyoming_piper:
            data = tmp / f"threaded-{i}"
            data.mkdir()
            server = start_wyoming_piper(args.wyoming_piper_python, data, threaded=True)
            server.name = f"{THREADED}#{i}"
            groups[THREADED].append(server)


async def measure(servers: list[Server], rounds: int) -> None:
    """Each text on each server once per round, the servers' order rotated each time."""
    for server in servers:
        for _ in range(5):  # warm-up: the first requests load and fault in what later ones reuse
            await one_shot(server, TEXTS[0])
            await asyncio.sleep(PAUSE / 2)
    for r in range(rounds):
        for t, text in enumerate(TEXTS):
            shift = (r * len(TEXTS) + t) % len(servers)
            for server in servers[shift:] + servers[:shift]:
                _, total, _ = await one_shot(server, text)
                server.add(f"t{t}", total)
                await asyncio.sleep(PAUSE)


def report(groups: dict[str, list[Server]], rounds: int) -> None:
    """Per text: each process's median total, each server's median of process medians against wyoming-piper, and
    the mean of all its requests (which counts the slow ones a median passes over)."""
    for t, text in enumerate(TEXTS):
        print(f"\n{text!r} ({len(text)} characters), one-shot total time, {rounds} rounds:\n")
        print("| Server | Processes' medians (ms) | Median of processes (ms) | Ratio | Mean (ms) | Ratio |")
        print("|---|---|---:|---:|---:|---:|")
        medians = {
            name: [statistics.median(s.results[f"t{t}"]) * 1000 for s in servers] for name, servers in groups.items()
        }
        means = {
            name: statistics.mean(x for s in servers for x in s.results[f"t{t}"]) * 1000
            for name, servers in groups.items()
        }
        base, base_mean = statistics.median(medians["wyoming-piper"]), means["wyoming-piper"]
        for name, values in medians.items():
            middle, mean = statistics.median(values), means[name]
            cells = ", ".join(f"{v:.1f}" for v in values)
            print(f"| {name} | {cells} | {middle:.1f} | {middle / base:.3f}x | {mean:.1f} | {mean / base_mean:.3f}x |")


async def run(args: argparse.Namespace) -> None:
    groups: dict[str, list[Server]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            start_all(args, Path(tmp), groups)
            servers = [server for group in zip(*groups.values(), strict=True) for server in group]
            for server in servers:
                await wait_ready(server)
            await measure(servers, args.rounds)
        finally:
            stop([server for group in groups.values() for server in group], 10)
    report(groups, args.rounds)


def main() -> None:
    parser = side_by_side_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=40, help="requests per text and process")
    parser.add_argument("--processes", type=int, default=4, help="fresh processes of each server")
    parser.add_argument(
        "--threaded-wyoming-piper",
        action="store_true",
        help="also wyoming-piper with its synthesis on a thread instead of its event loop",
    )
    asyncio.run(run(parse_side_by_side(parser)))


if __name__ == "__main__":
    main()
