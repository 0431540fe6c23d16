"""Time to first audio of Qwen3-TTS on MLX, streaming vs non-streaming, on the tiny random model.

The absolute times of a random tiny model on a CPU mean little; the ratio of first-audio times is what carries over
to a real model on Apple Silicon: streaming yields after ``streaming_interval`` seconds of audio, non-streaming only
after the whole sentence is generated and decoded.

Run from the repository root (builds the tiny model with the qwen environment, measures in the mlx environment):

    python bench/qwen3_streaming.py [--tokens 36] [--runs 3] [--samples-per-frame 60|1920] [--model DIR]

Interpreters: ``$VOXHOST_QWEN_PYTHON`` / ``$VOXHOST_MLX_PYTHON``, else ``.venvs/qwen`` / ``.venvs/mlx``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEXT = "The kitchen lights are on and the front door is locked."


def _python(env: str) -> str:
    python = os.environ.get(f"VOXHOST_{env.upper()}_PYTHON") or str(REPO / ".venvs" / env / "bin" / "python")
    if not Path(python).is_file():
        sys.exit(f"no {env} environment at {python}: run envs/{env}/setup.sh .venvs/{env}")
    return python


def measure(model_dir: str, tokens: int, runs: int, interval: float) -> dict[str, object]:
    """In the mlx environment: first-audio and total times of both modes, after one warm-up of each."""
    import mlx.core as mx
    import numpy as np
    from mlx_audio.tts.utils import load_model

    sys.path.insert(0, str(REPO))
    from voxhost.plugins.qwen3.reference import DEFAULT_REFERENCE_TEXT

    t0 = time.perf_counter()
    model = load_model(Path(model_dir))
    load_s = time.perf_counter() - t0
    rate = 24000
    t = np.arange(3 * rate) / rate
    ref = mx.array((0.3 * np.sin(2 * np.pi * 200 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32))

    def once(stream: bool) -> tuple[float, float, int, float]:
        mx.random.seed(0)
        start = time.perf_counter()
        first, chunks, samples = None, 0, 0
        for result in model.generate(
            text=TEXT,
            ref_audio=ref,
            ref_text=DEFAULT_REFERENCE_TEXT,
            lang_code="english",
            max_tokens=tokens,
            stream=stream,
            streaming_interval=interval,
        ):
            audio = np.array(result.audio)
            first = first if first is not None else time.perf_counter() - start
            chunks += 1
            samples += audio.size
        return first or 0.0, time.perf_counter() - start, chunks, samples / rate

    out: dict[str, object] = {"load_s": round(load_s, 2), "tokens": tokens, "interval_s": interval, "runs": runs}
    for label, stream in (("non_streaming", False), ("streaming", True)):
        once(stream)  # warm-up: compilation and first-use allocations
        results = [once(stream) for _ in range(runs)]
        out[label] = {
            "ttfa_s": round(statistics.median(r[0] for r in results), 3),
            "total_s": round(statistics.median(r[1] for r in results), 3),
            "chunks": results[0][2],
            "audio_s": round(results[0][3], 3),
        }
    ttfa = out["non_streaming"]["ttfa_s"], out["streaming"]["ttfa_s"]  # type: ignore[index]
    out["ttfa_ratio"] = round(ttfa[0] / ttfa[1], 2) if ttfa[1] else None
    return out


def main() -> None:
    """Build the model if needed, measure in the mlx environment, print JSON and a summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="an existing model directory (default: build the tiny one)")
    parser.add_argument("--tokens", type=int, default=36, help="codec frames per sentence (12.5 per second)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.32, help="streaming_interval in seconds")
    parser.add_argument("--samples-per-frame", type=int, default=60, choices=(60, 1920))
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.model, args.tokens, args.runs, args.interval)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            model = str(Path(tmp, "tiny"))
            builder = REPO / "tests" / "engines" / "tiny" / "qwen3_tiny.py"
            cmd = [_python("qwen"), str(builder), model, "--samples-per-frame", str(args.samples_per_frame)]
            subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        cmd = [
            _python("mlx"),
            __file__,
            "--measure",
            "--model",
            model,
            "--tokens",
            str(args.tokens),
            "--runs",
            str(args.runs),
            "--interval",
            str(args.interval),
        ]
        done = subprocess.run(
            cmd, check=True, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["samples_per_frame"] = args.samples_per_frame if args.model is None else None
    print(json.dumps(result, indent=1))
    ns, st = result["non_streaming"], result["streaming"]
    print(
        f"time to first audio: non-streaming {ns['ttfa_s']:.3f} s, streaming {st['ttfa_s']:.3f} s "
        f"({result['ttfa_ratio']}x sooner; {st['chunks']} chunks vs {ns['chunks']})"
    )


if __name__ == "__main__":
    main()
