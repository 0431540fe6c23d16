"""Time to first audio vs total time for a five-sentence text on F5, through the core with sentence streaming.

    python bench/f5_streaming.py --python /path/to/f5-venv/bin/python            # tiny random models, CPU
    python bench/f5_streaming.py --python ... --models-dir DIR --nfe 32 --real   # pulled models (GPU if present)

With the tiny models the figures show the scheduling, not F5's speed: the first chunk should arrive after
about one sentence's compute, not the whole text's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from voxhost.core import Core
from voxhost.operations import SpeechRequest
from voxhost.plugin_manager import build_plugins
from voxhost.settings import load_settings

TEXT = (
    "The kitchen lights are now switched off. "
    "Tomorrow will be sunny with a light breeze from the west. "
    "Your package was delivered to the front door this afternoon. "
    "The washing machine has finished its cycle. "
    "Remember to take the bins out before eight o'clock."
)


async def run(settings, voice: str, repeats: int, seed: int) -> list[dict[str, float]]:
    core = Core(settings, build_plugins(settings.plugins_dirs, load_entrypoints=False))
    await core.start()
    rows = []
    try:
        for i in range(repeats + 1):  # the first run warms up (model load, reference preparation)
            started = time.perf_counter()
            first = None
            chunks = 0
            seconds = 0.0
            job = core.submit(SpeechRequest(text=TEXT, voice=voice, seed=seed))
            async for pcm in job.pcm():
                if first is None:
                    first = time.perf_counter() - started
                chunks += 1
                seconds += pcm.seconds
            total = time.perf_counter() - started
            if i > 0:
                rows.append({"ttfa": first or total, "total": total, "audio": seconds, "chunks": chunks})
    finally:
        await core.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=os.environ.get("VOXHOST_F5_PYTHON", str(REPO / ".venvs/f5/bin/python")))
    parser.add_argument("--models-dir", help="pulled models (default: build tiny random ones)")
    parser.add_argument("--real", action="store_true", help="use the built-in registry (no tiny overrides)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--nfe", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--voice", default="f5:default-en")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="voxhost-f5-bench-"))
    models_dir = Path(args.models_dir) if args.models_dir else work / "models"
    overrides = {}
    if not args.real:
        out = subprocess.run(
            [args.python, str(REPO / "tests/engines/tiny/f5_tiny.py"), str(models_dir)],
            check=True,
            capture_output=True,
            text=True,
        )
        overrides = json.loads(out.stdout.strip().splitlines()[-1])
    table = {
        "enabled": True,
        "mode": "worker",
        "python": args.python,
        "models": overrides,
        "nfe_steps": args.nfe,
        "device": args.device,
        "languages": ["en"],
    }
    settings = load_settings(
        None,
        state_dir=str(work / "state"),
        models_dir=str(models_dir),
        doors={"wyoming": {"enabled": False}, "http": {"enabled": False}, "mqtt": {"enabled": False}},
        engines={"f5": table, "piper": {"enabled": False}, "whisper": {"enabled": False}},
    )
    rows = asyncio.run(run(settings, args.voice, args.repeats, seed=1))
    ttfa = statistics.median(r["ttfa"] for r in rows)
    total = statistics.median(r["total"] for r in rows)
    audio = statistics.median(r["audio"] for r in rows)
    print(
        f"F5 {'real' if args.real else 'tiny'} models, nfe {args.nfe}, device {args.device}, "
        f"5 sentences, median of {len(rows)}:"
    )
    print(f"  time to first audio  {ttfa:6.3f} s")
    print(f"  total                {total:6.3f} s   ({ttfa / total:.0%} of total)")
    print(f"  audio                {audio:6.2f} s in {rows[0]['chunks']} chunks (real-time factor {total / audio:.2f})")


if __name__ == "__main__":
    main()
