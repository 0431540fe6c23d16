"""Each bench script, run in its shortest form, prints its figures: the commands in docs/benchmarks.md keep working.

No figure is judged here (machines are shared and noisy: the benches measure, docs/benchmarks.md records them).
What fails here is a bench that no longer runs against the code it measures. The servers voxhost is compared with
come from ``bench/setup.sh`` (``./scripts/test`` runs it), the heavy engines from their worker environments.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# (script, arguments for its shortest run, a line of figures it prints)
BENCHES = [
    pytest.param("core_vs_direct.py", ["--rounds", "2"], r"core/direct total time: \d+\.\d+", id="core_vs_direct"),
    pytest.param("http_ttfb.py", ["--rounds", "2"], r"(?m)^pcm\s+-?\d+\.\d+ /", id="http_ttfb"),
    pytest.param(
        "mqtt_latency.py",
        ["--requests", "3"],
        r"added per request, median \(inbound \+ outbound\):\s+\d+\.\d ms",
        id="mqtt_latency",
        marks=pytest.mark.mqtt,
    ),
    pytest.param("voice_lookup.py", ["--counts", "0", "2"], r"\| 2 \| \d+\.\d+ \| \d+ \|", id="voice_lookup"),
    pytest.param("spoken_latency.py", [], r"whole text \| \d+\.\d+ \|", id="spoken_latency"),
    pytest.param("timestretch.py", [], r"voxhost WSOLA \(numpy\) \| \d+\.\d+ /", id="timestretch"),
    pytest.param(
        "piper_inference.py", ["--rounds", "2"], r"\| wide \(voxhost[^|]*\| \d+\.\d+ \|", id="piper_inference"
    ),
    pytest.param("spoken_memory.py", ["--speed", "--rounds", "1"], r"long \(15 s\) \| \d+\.\d+ \|", id="spoken_memory"),
    pytest.param(
        "wyoming_vs_piper.py",
        ["--rounds", "1", "--concurrent-rounds", "1", "--per-count-rounds", "1"],
        r"describe round trip under 4 clients, p99 \(ms\) \| \d+\.\d+ \| \d+\.\d+ \| \d+\.\d+x",
        id="wyoming_vs_piper",
    ),
    pytest.param(
        "one_sentence.py",
        ["--rounds", "2", "--processes", "1"],
        r"\| voxhost \| [\d.]+ \| [\d.]+ \| \d\.\d+x \[",
        id="one_sentence",
    ),
    pytest.param(
        "one_sentence_stages.py",
        ["--rounds", "3"],
        r"\| request \(connected → audio-stop\) \| \d+",
        id="one_sentence_stages",
    ),
    pytest.param(
        "asr_vs_wyoming_whisper.py",
        ["--rounds", "1", "--describe-seconds", "1"],
        r"extra wall time per sentence \(median\): -?\d+ ms",
        id="asr_vs_wyoming_whisper",
    ),
    pytest.param(
        "f5_streaming.py", ["--repeats", "1"], r"time to first audio\s+\d+\.\d+ s", id="f5", marks=pytest.mark.heavy
    ),
    pytest.param(
        "chatterbox_bench.py",
        ["--runs", "1", "--vc-seconds", "2"],
        r"VC 2 s in -> \d+\.\d s out",
        id="chatterbox",
        marks=pytest.mark.heavy,
    ),
    pytest.param(
        "qwen3_streaming.py",
        ["--runs", "1"],
        r"time to first audio: non-streaming \d+\.\d+ s, streaming \d+\.\d+ s",
        id="qwen3",
        marks=pytest.mark.heavy,
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("script", "args", "figures"), BENCHES)
def test_the_bench_runs_and_prints_its_figures(script: str, args: list[str], figures: str, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TMPDIR": str(tmp_path)}
    env.pop("VOXHOST_CONFIG", None)
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{script} exited with {done.returncode}:\n{done.stderr[-4000:]}"
    assert re.search(figures, done.stdout), f"{script} printed no figures like {figures!r}:\n{done.stdout[-4000:]}"
    # A bench that leaves tasks pending or threads failing prints it on stderr, and still exits 0.
    for sign in ("Traceback", "Task was destroyed but it is pending", "Exception in thread"):
        assert sign not in done.stderr, f"{script}:\n{done.stderr[-4000:]}"
