#!/usr/bin/env python
"""One-sentence answers, voxhost against wyoming-piper, over several fresh processes of each server.

A one-sentence answer ("Good evening.", 30-40 ms of compute) is where voxhost's own work per request shows most,
and where the ratio to wyoming-piper moves most from run to run: one server process can be a few percent faster
or slower than another for its whole life (where its memory landed). So this starts ``--processes`` processes of
each server, and of each ``--variant``, interleaves them round by round (rotating which goes first), and reports
each process's median, the median of the process medians per server, and the mean of all its requests (a
median passes over slow requests), for each text in turn, each ratio with a 95% interval: a bootstrap that draws
each server's processes, then each process's rounds, again with replacement (process and round both vary, and
the rounds stay paired across servers), so a ratio whose interval holds 1.0 is a difference this run cannot tell
from noise.

    python bench/one_sentence.py --rounds 40 --processes 4
    python bench/one_sentence.py --rounds 40 --processes 2 --variant before:PYTHONPATH=/path/to/other/checkout
    python bench/one_sentence.py --rounds 40 --processes 3 --threaded-wyoming-piper

``--threaded-wyoming-piper`` adds wyoming-piper with its synthesis moved off its event loop onto a thread
(``bench/wyoming_piper_threaded.py``), as voxhost keeps its own loop free: what that design costs a lone client.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
from collections.abc import Callable
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


async def measure(servers: list[Server], rounds: int, warmups: int) -> None:
    """Each text on each server once per round, the servers' order rotated each time."""
    for server in servers:
        for _ in range(warmups):  # warm-up: the first requests load and fault in what later ones reuse
            await one_shot(server, TEXTS[0])
            await asyncio.sleep(PAUSE / 2)
    for r in range(rounds):
        for t, text in enumerate(TEXTS):
            shift = (r * len(TEXTS) + t) % len(servers)
            for server in servers[shift:] + servers[:shift]:
                _, total, _ = await one_shot(server, text)
                server.add(f"t{t}", total)
                await asyncio.sleep(PAUSE)


RESAMPLES = 2000
"""Bootstrap draws for each ratio's interval."""

Totals = list[list[float]]
"""One server's totals for one text: per process, per round."""


def median_of_medians(totals: Totals) -> float:
    """The median of the processes' medians."""
    return statistics.median(statistics.median(process) for process in totals)


def mean_of_all(totals: Totals) -> float:
    """The mean of every request."""
    return statistics.mean(x for process in totals for x in process)


def interval(totals: Totals, base: Totals, stat: Callable[[Totals], float], seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of ``stat(totals) / stat(base)``: processes drawn again, then rounds (the same
    rounds for both servers, as they were measured side by side)."""
    draw = random.Random(seed)
    n_rounds = len(base[0])
    ratios = []
    for _ in range(RESAMPLES):
        rounds = [draw.randrange(n_rounds) for _ in range(n_rounds)]
        pick = [[process[r] for r in rounds] for process in totals]
        pick_base = [[process[r] for r in rounds] for process in base]
        ratios.append(stat([draw.choice(pick) for _ in pick]) / stat([draw.choice(pick_base) for _ in pick_base]))
    ratios.sort()
    return ratios[int(0.025 * RESAMPLES)], ratios[int(0.975 * RESAMPLES) - 1]


def report(groups: dict[str, list[Server]], rounds: int) -> None:
    """Per text: each process's median total, each server's median of process medians against wyoming-piper, and
    the mean of all its requests (which counts the slow ones a median passes over), with their intervals."""
    for t, text in enumerate(TEXTS):
        print(f"\n{text!r} ({len(text)} characters), one-shot total time, {rounds} rounds:\n")
        print("| Server | Processes' medians (ms) | Median of processes (ms) | Ratio [95%] | Mean (ms) | Ratio [95%] |")
        print("|---|---|---:|---:|---:|---:|")
        totals = {name: [[x * 1000 for x in s.results[f"t{t}"]] for s in servers] for name, servers in groups.items()}
        base = totals["wyoming-piper"]
        for name, own in totals.items():
            middle, mean = median_of_medians(own), mean_of_all(own)
            ratio, ratio_mean = middle / median_of_medians(base), mean / mean_of_all(base)
            cells = ", ".join(f"{statistics.median(process):.1f}" for process in own)
            spread = spread_mean = ""
            if own is not base:
                low, high = interval(own, base, median_of_medians)
                spread = f" [{low:.3f}, {high:.3f}]"
                low, high = interval(own, base, mean_of_all)
                spread_mean = f" [{low:.3f}, {high:.3f}]"
            row = [
                name,
                cells,
                f"{middle:.1f}",
                f"{ratio:.3f}x{spread}",
                f"{mean:.1f}",
                f"{ratio_mean:.3f}x{spread_mean}",
            ]
            print(f"| {' | '.join(row)} |")


async def run(args: argparse.Namespace) -> None:
    groups: dict[str, list[Server]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            start_all(args, Path(tmp), groups)
            servers = [server for group in zip(*groups.values(), strict=True) for server in group]
            for server in servers:
                await wait_ready(server)
            await measure(servers, args.rounds, args.warmups)
        finally:
            stop([server for group in groups.values() for server in group], 10)
    report(groups, args.rounds)


def main() -> None:
    parser = side_by_side_parser(__doc__, warmups=5)
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
