#!/usr/bin/env python
"""Piper's inference alone, in one process: voxhost's session options against others, and its thread against
the main thread.

voxhost speaks each sentence on an engine thread with sessions of its own options (``PiperEngine._load_voice``):
a wide session (a thread per core, spinning between operations) for a sentence that has the machine to itself, a
narrow one (one thread) when sentences overlap. This times ``PiperVoice.phoneme_ids_to_audio`` of the bench's
shortest and longest sentence with each session, and the wide one called from a thread as the engine calls it,
interleaved round by round with a pause between runs (as requests 0.1 s apart find the machine idle). Prints the
median of each in milliseconds. ``--busy N`` keeps N other processes busy on the CPU meanwhile (a machine that
runs other programs beside voxhost).

    python bench/piper_inference.py --rounds 60
    python bench/piper_inference.py --rounds 30 --busy 1
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from one_sentence import TEXTS
from wyoming_vs_piper import VOICE

from voxhost.core import Core
from voxhost.plugin_manager import build_plugins
from voxhost.settings import load_settings


def timed(voice: Any, ids: list[int], config: Any) -> Callable[[], float]:
    """A call that runs one inference and returns its seconds."""

    def run() -> float:
        started = time.perf_counter()
        voice.phoneme_ids_to_audio(ids, config)
        return time.perf_counter() - started

    return run


async def sessions() -> dict[str, Any]:
    """The bundled voice's sessions, loaded by voxhost's Piper engine with each set of options."""
    with tempfile.TemporaryDirectory() as state:
        core = Core(load_settings(None, state_dir=state), build_plugins([], load_entrypoints=False))
        await core.start()
        engine = core.registry.get("piper").engine
        files = engine._files[VOICE]
        loaded = {
            "wide (voxhost: a thread per core, spinning)": engine._load_voice(files),
            "a thread per core, not spinning": engine._load_voice(files, spin=False),
            "narrow (voxhost: one thread)": engine._load_overlapping(files),
        }
        await core.close()
    return loaded


def main(rounds: int, pause: float, busy: int) -> None:
    """Load the sessions, keep ``busy`` other processes busy, and measure."""
    from piper import SynthesisConfig

    loaded = asyncio.run(sessions())
    others = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        measure(loaded, rounds, pause, SynthesisConfig())
    finally:
        for other in others:
            other.kill()
    if busy:
        print(f"\n(with {busy} other process{'es' if busy > 1 else ''} busy on the CPU)")


def on(thread: ThreadPoolExecutor, call: Callable[[], float]) -> Callable[[], float]:
    """``call`` run on ``thread``, waited for."""
    return lambda: thread.submit(call).result()


def measure(loaded: dict[str, Any], rounds: int, pause: float, config: Any) -> None:
    """Time every session (and the wide one on a thread) on each text, interleaved; print the medians."""
    wide = next(iter(loaded.values()))
    thread = ThreadPoolExecutor(1)  # one long-lived thread, as the engine's own executor gives it
    for text in TEXTS:
        ids = wide.phonemes_to_ids(wide.phonemize(text)[0])
        runs: dict[str, Callable[[], float]] = {name: timed(voice, ids, config) for name, voice in loaded.items()}
        runs["wide, called from a thread (as the engine thread calls it)"] = on(thread, timed(wide, ids, config))
        for run in runs.values():  # warm-up
            run()
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(rounds):
            for name, run in runs.items():
                seconds[name].append(run())
                time.sleep(pause)
        print(f"\n{text!r}: Piper's inference, medians of {rounds} runs\n")
        print("| Session | ms |\n|---|---:|")
        for name, values in seconds.items():
            print(f"| {name} | {statistics.median(values) * 1000:.1f} |")
    thread.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between runs")
    parser.add_argument("--busy", type=int, default=0, help="other processes kept busy on the CPU meanwhile")
    args = parser.parse_args()
    main(args.rounds, args.pause, args.busy)
