#!/usr/bin/env python
"""A request's voice lookup against the number of pulled Piper voices, and the watcher's walk of their directories.

Every request finds its voice in the catalog before anything is queued, on the event loop. The Piper voices on
disk are watched on a thread of their own (``voxhost/plugins/piper_voices.py``), so the lookup should cost the
same whatever is pulled; the walk that notices a new voice is timed apart (it runs every two seconds, off the
loop). Voices are written as a pull lays them out (``<lang>/<locale>/<name>/<quality>/``), with empty models.

    python bench/voice_lookup.py
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import timeit
from pathlib import Path

from voxhost.core import Core
from voxhost.plugin_manager import build_plugins
from voxhost.plugins import piper_voices
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


def best_of(call: object, number: int) -> float:
    """Microseconds per call, the best of five runs."""
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]


async def main(counts: list[int]) -> None:
    with tempfile.TemporaryDirectory() as state:
        core = Core(load_settings(None, state_dir=state), build_plugins([], load_entrypoints=False))
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
        await core.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[0, 10, 40])
    asyncio.run(main(parser.parse_args().counts))
