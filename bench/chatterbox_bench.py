"""Chatterbox through the core in worker mode: time to first audio vs whole text, and voice-conversion cost.

    python bench/chatterbox_bench.py --python .venvs/chatterbox/bin/python             # tiny random models
    python bench/chatterbox_bench.py --python ... --models-dir ~/.local/state/voxhost/models --device cuda

Without ``--models-dir`` it builds tiny random models (tests/engines/tiny) and loads them through the real
``from_local`` path, so figures show voxhost's overheads and scheduling, not real-model speed.
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
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from voxhost.operations import ConvertParams, VoiceCreate

TEXT = (
    "The kitchen lights are on. The front door is locked. It is twenty degrees outside. "
    "Dinner is ready in ten minutes. Remember to take the bins out tonight."
)


def _build_tiny(python: str, where: Path) -> Path:
    subprocess.run(
        [python, str(REPO / "tests/engines/tiny/tiny_chatterbox.py"), str(where)],
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL,
    )
    site = str(REPO / "tests/engines/tiny/site")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (site, os.environ.get("PYTHONPATH")) if p)
    os.environ["VOXHOST_TINY_CHATTERBOX"] = "1"
    return where


async def _speak(core: Any, text: str, voice: str, seed: int) -> tuple[float, float, float]:
    """(time to first audio, whole time, seconds of audio) for one request."""
    from voxhost.operations import SpeechRequest

    start = time.perf_counter()
    first, audio = 0.0, 0.0
    job = core.submit(SpeechRequest(text=text, voice=voice, seed=seed))
    async for pcm in job.pcm():
        if not first:
            first = time.perf_counter() - start
        audio += pcm.seconds
    return first, time.perf_counter() - start, audio


async def _convert(core: Any, seconds: float, voice_id: str) -> tuple[float, float]:
    """(wall time, seconds of audio out) for converting ``seconds`` of speech-like audio."""
    from tests.engines.tiny.tiny_chatterbox import reference_tone
    from voxhost.engine import PCM

    source = PCM.from_float(reference_tone(seconds, 130.0, rate=16000), 16000)
    start = time.perf_counter()
    out = 0.0
    async for pcm in core.convert(source, ConvertParams(voice=voice_id, engine="chatterbox")):
        out += pcm.seconds
    return time.perf_counter() - start, out


async def _pipeline(core: Any, text: str, voice_id: str) -> tuple[float, float, float]:
    """(time to first audio, whole time, seconds of audio) for Piper's voice converted into ``voice_id``."""
    from voxhost.operations import SpeechRequest
    from voxhost.pipelines import convert_stream

    start = time.perf_counter()
    first, audio = 0.0, 0.0
    job = core.submit(SpeechRequest(text=text, voice="piper:en_US-joe-medium"))
    async for pcm in convert_stream(
        job.pcm(), lambda seg: core.convert(seg, ConvertParams(voice=voice_id, engine="chatterbox"))
    ):
        if not first:
            first = time.perf_counter() - start
        audio += pcm.seconds
    return first, time.perf_counter() - start, audio


async def run(args: argparse.Namespace, models_dir: Path, state: Path) -> None:
    from tests.engines.tiny.tiny_chatterbox import reference_tone
    from voxhost.core import Core
    from voxhost.plugin_manager import build_plugins
    from voxhost.settings import load_settings

    engine: dict[str, Any] = {"enabled": True, "mode": "worker", "python": args.python, "device": args.device}
    if args.max_speech_tokens:
        engine["max_speech_tokens"] = args.max_speech_tokens
    settings = load_settings(
        None,
        state_dir=str(state),
        models_dir=str(models_dir),
        doors={"wyoming": {"enabled": False}, "http": {"enabled": False}, "mqtt": {"enabled": False}},
        engines={"chatterbox": engine, "whisper": {"enabled": False}},
    )
    plugins = build_plugins(load_entrypoints=False)
    core = Core(settings, plugins)
    t0 = time.perf_counter()
    await core.start()
    print(f"worker start + load: {time.perf_counter() - t0:.1f} s")
    voice = core.add_voice(VoiceCreate(name="Bench"), reference_tone(5.0, 200.0), 24000)
    try:
        await _speak(core, "Warm up.", "chatterbox:en_US-default", 0)
        await _speak(core, "Warm up.", f"chatterbox:{voice.id}", 0)  # computes and caches its conditionals
        text = ". ".join(TEXT.rstrip(".").split(". ")[: args.sentences]) + "."
        sentences = text.count(".")
        rows = [await _speak(core, text, "chatterbox:en_US-default", seed) for seed in range(args.runs)]
        ttfa = statistics.median(r[0] for r in rows)
        whole = statistics.median(r[1] for r in rows)
        audio = statistics.median(r[2] for r in rows)
        print(f"TTS, {sentences} sentences ({len(text)} chars), median of {args.runs}:")
        print(
            f"  time to first audio {ttfa:.2f} s | whole text {whole:.2f} s | audio {audio:.1f} s "
            f"| first audio after {100 * ttfa / whole:.0f}% of the whole time"
        )
        rows = [await _pipeline(core, text, voice.id) for _ in range(args.runs)]
        print(
            f"Pipeline Piper -> Chatterbox VC, same text: time to first audio "
            f"{statistics.median(r[0] for r in rows):.2f} s | whole text {statistics.median(r[1] for r in rows):.2f} s"
            f" | audio {statistics.median(r[2] for r in rows):.1f} s"
        )
        for seconds in args.vc_seconds:
            runs = [await _convert(core, seconds, voice.id) for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            print(
                f"VC {seconds:g} s in -> {runs[0][1]:.1f} s out: {wall:.2f} s, "
                f"{wall / seconds:.3f} s per second of audio"
            )
    finally:
        await core.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--python", default=os.environ.get("VOXHOST_CHATTERBOX_PYTHON", str(REPO / ".venvs/chatterbox/bin/python"))
    )
    parser.add_argument("--models-dir", type=Path, help="real models (voxhost models pull chatterbox en)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-speech-tokens", type=int, help="default: 30 for tiny models, upstream's 1000 else")
    parser.add_argument("--sentences", type=int, default=5, help="how many of the text's five sentences to speak")
    parser.add_argument("--vc-seconds", type=float, nargs="+", default=[2.0, 8.0])
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="voxhost-cb-bench-") as tmp:
        models = args.models_dir
        if models is None:
            models = _build_tiny(args.python, Path(tmp) / "models")
            args.max_speech_tokens = args.max_speech_tokens or 30
        asyncio.run(run(args, models, Path(tmp) / "state"))


if __name__ == "__main__":
    main()
