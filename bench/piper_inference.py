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

``--lengths`` times the wide and the narrow session on texts from one word to a long sentence instead, and splits
a sentence's time into a part that does not grow with its audio (a line fitted through the medians) and, from the
two sessions side by side, the part that the wide session's threads could not share between them.

    python bench/piper_inference.py --rounds 60
    python bench/piper_inference.py --rounds 30 --busy 1
    python bench/piper_inference.py --rounds 30 --lengths
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
from wyoming_vs_piper import SENTENCES, VOICE

from voxhost.core import Core
from voxhost.plugin_manager import build_plugins
from voxhost.plugins.piper import PiperEngine
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
        assert isinstance(engine, PiperEngine)
        files = engine._files[VOICE]
        loaded = {
            "wide (voxhost: a thread per core, spinning)": engine._load_voice(files),
            "a thread per core, not spinning": engine._load_voice(files, spin=False),
            "narrow (voxhost: one thread)": engine._load_overlapping(files),
        }
        await core.close()
    return loaded


LENGTHS = ["Hi.", SENTENCES[0], SENTENCES[1], SENTENCES[2]]
"""Texts from one word to a 93-character sentence."""


def main(rounds: int, pause: float, busy: int, lengths: bool) -> None:
    """Load the sessions, keep ``busy`` other processes busy, and measure."""
    from piper import SynthesisConfig

    loaded = asyncio.run(sessions())
    others = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        if lengths:
            # Without noise a text's durations, and so its audio's length, are the same every run (the work is not
            # less: the noise is added all the same).
            measure_lengths(loaded, rounds, pause, SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0))
        else:
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


def measure_lengths(loaded: dict[str, Any], rounds: int, pause: float, config: Any) -> None:
    """The wide and the narrow session on each of ``LENGTHS``, interleaved; print medians, fixed and serial parts."""
    wide, _, narrow = loaded.values()  # in the order ``sessions`` loads them
    threads = wide.session.get_session_options().intra_op_num_threads
    ids = [wide.phonemes_to_ids(wide.phonemize(text)[0]) for text in LENGTHS]
    seconds = [wide.phoneme_ids_to_audio(i, config).size / wide.config.sample_rate for i in ids]  # also the warm-up
    runs = {
        (name, n): timed(voice, i, config)
        for name, voice in (("wide", wide), ("narrow", narrow))
        for n, i in enumerate(ids)
    }
    times: dict[tuple[str, int], list[float]] = {key: [] for key in runs}
    for _ in range(rounds):
        for key, run in runs.items():
            times[key].append(run())
            time.sleep(pause)
    ms = {key: statistics.median(values) * 1000 for key, values in times.items()}
    print(f"Piper's inference by the text's length, medians of {rounds} runs ({threads} threads in the wide session)\n")
    print("| Text | Phoneme ids | Audio s | Wide ms | Narrow ms | Not shared between the threads, ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for n, text in enumerate(LENGTHS):
        # Amdahl: wide = serial + (narrow - serial) / threads, the narrow session running it all on one thread.
        serial = (threads * ms["wide", n] - ms["narrow", n]) / (threads - 1) if threads > 1 else float("nan")
        row = [
            f"{text[:30]!r}",
            str(len(ids[n])),
            f"{seconds[n]:.2f}",
            f"{ms['wide', n]:.1f}",
            f"{ms['narrow', n]:.1f}",
        ]
        print("| " + " | ".join([*row, f"{serial:.1f}"]) + " |")
    for name in ("wide", "narrow"):
        slope, fixed = statistics.linear_regression(seconds, [ms[name, n] for n in range(len(LENGTHS))])
        print(f"\n{name}: {fixed:.1f} ms a sentence whatever its length, and {slope:.1f} ms per second of audio")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between runs")
    parser.add_argument("--busy", type=int, default=0, help="other processes kept busy on the CPU meanwhile")
    parser.add_argument("--lengths", action="store_true", help="the time by the length of the text instead")
    args = parser.parse_args()
    main(args.rounds, args.pause, args.busy, args.lengths)
