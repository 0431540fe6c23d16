#!/usr/bin/env python
"""A request's voice lookup against the number of pulled Piper voices, and the watcher's walk of their directories.

Every request finds its voice in the catalog before anything is queued, on the event loop. The Piper voices on
disk are watched on a thread of their own (``voxhost/plugins/piper_voices.py``), so the lookup should cost the
same whatever is pulled; the walk that notices a new voice is timed apart (it runs every two seconds, off the
loop). Voices are written as a pull lays them out (``<lang>/<locale>/<name>/<quality>/``), with empty models.
``--f5`` enables F5 as well (no languages set, no models installed), whose built-in voices depend on the models
and Piper voices installed: its look at the disk is timed apart too (also on a watcher thread).

``--library`` fills the voice library with that many cloned voices (each count in turn) and enables the test
cloning engine (``tests/plugins/http/pitchshift.py``), so that every library voice is in the catalog: it times the
lookup of a library voice by its id, of a Piper voice by its engine-local id (found among every voice, the library's
too), and the listing a Wyoming describe makes, all on the loop; and the library's look that compares every voice
folder's files (on the library's watcher thread). Run it with ``PYTHONPATH`` set to another checkout to compare.

    python bench/voice_lookup.py
    python bench/voice_lookup.py --f5
    python bench/voice_lookup.py --counts 0 --library 0 300
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import timeit
from functools import partial
from pathlib import Path

import numpy as np

from voxhost.core import Core
from voxhost.operations import VoiceCreate
from voxhost.plugin_manager import build_plugins
from voxhost.plugins import piper_voices
from voxhost.plugins.f5 import F5Engine
from voxhost.plugins.piper import PiperEngine
from voxhost.settings import load_settings


def pull_fake_voices(root: Path, count: int) -> None:
    """``count`` voices in the layout of the Piper catalog (configs of no use: their files are never read)."""
    for i in range(count):
        directory = root / "en" / "en_US" / f"bench{i}" / "medium"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"en_US-bench{i}-medium.onnx").write_bytes(b"")
        (directory / f"en_US-bench{i}-medium.onnx.json").write_text("{}")
        (directory / "MODEL_CARD").write_text("bench")


PLUGINS = Path(__file__).resolve().parent.parent / "tests" / "plugins" / "http"
"""The test cloning engine's plugin (pitchshift): a library voice is in the catalog once a cloning engine runs."""


def fill_library(core: Core, count: int) -> list[str]:
    """The library holding ``count`` voices (added as a client adds them); their ids, oldest first."""
    rate = 24000
    t = np.arange(int(rate * 2.0)) / rate
    samples = (0.3 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
    core.library.max_voices = core.library.max_bytes = None  # past the default quota of 200 voices
    have = len(core.library.list())
    for i in range(have, count):
        core.library.add(VoiceCreate(name=f"Bench {i}", language="en"), samples, rate)
    return [voice.id for voice in core.library.list()]


def best_of(call: object, number: int) -> float:
    """Microseconds per call, the best of five runs."""
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]


async def main(counts: list[int], f5: bool, library: list[int]) -> None:
    with tempfile.TemporaryDirectory() as state:
        engines = {"f5": {"enabled": True}} if f5 else {}
        plugins = [str(PLUGINS)] if library else []
        core = Core(
            load_settings(None, state_dir=state, engines=engines), build_plugins(plugins, load_entrypoints=False)
        )
        await core.start()
        engine = core.registry.get("piper").engine
        assert isinstance(engine, PiperEngine)
        roots = engine._roots()
        print("| Pulled voices | Voice lookup (µs, on the loop) | Directory walk (µs, watcher thread) |")
        print("|---:|---:|---:|")
        for count in counts:
            pull_fake_voices(roots[-1], count)
            lookup = best_of(lambda: core.catalog.resolve("piper:en_US-joe-medium"), 2000)
            walk = best_of(lambda: piper_voices._configs(roots), 20)
            print(f"| {count} | {lookup:.1f} | {walk:.0f} |")
        if f5:
            f5_engine = core.registry.get("f5").engine
            assert isinstance(f5_engine, F5Engine)
            look = best_of(f5_engine._find_builtin, 200)
            print(f"\nF5 enabled: its look at the disk for its built-in voices {look:.0f} µs (watcher thread)")
        if library:
            print(
                "\n| Library voices | Library voice lookup (µs, loop) | Piper voice by engine-local id (µs, loop) "
                "| Listing, as a describe (µs, loop) | Comparing every voice folder (µs, watcher thread) |"
            )
            print("|---:|---:|---:|---:|---:|")
            for count in library:
                ids = fill_library(core, count)
                core.catalog.voices()  # the folder changed: listed once, as the first request after an add would
                cloned = f"{best_of(partial(core.catalog.resolve, ids[len(ids) // 2]), 500):.1f}" if ids else "-"
                piper = best_of(lambda: core.catalog.resolve("en_US-joe-medium"), 500)
                listing = best_of(core.catalog.voices, 500)
                scan = best_of(_thorough(core), 20)
                print(f"| {count} | {cloned} | {piper:.1f} | {listing:.1f} | {scan:.0f} |")
        await core.close()


def _thorough(core: Core) -> object:
    """The library's look that compares every voice folder's files: the watcher's, or every look's where there is
    none."""
    look = getattr(core.library, "_look", None)
    return (lambda: look(thorough=True)) if look is not None else core.library._scan


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[0, 10, 40])
    parser.add_argument("--f5", action="store_true", help="enable F5 as well (no languages set)")
    parser.add_argument(
        "--library", type=int, nargs="*", default=[], help="voice library sizes, with a cloning engine enabled"
    )
    args = parser.parse_args()
    asyncio.run(main(args.counts, args.f5, args.library))
