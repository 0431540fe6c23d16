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
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def bench(command: str, figures: str, *marks: pytest.MarkDecorator, mode: str = "") -> Any:
    """One case: the script and the arguments of its shortest run, and a line of figures it prints."""
    script, *args = command.split()
    name = script.removesuffix(".py") + (f"-{mode}" if mode else "")
    return pytest.param(script, args, figures, id=name, marks=marks)


BENCHES = [
    bench("core_vs_direct.py --rounds 2", r"core/direct total time: \d+\.\d+"),
    bench("http_ttfb.py --rounds 2", r"(?m)^pcm\s+-?\d+\.\d+ /"),
    bench(
        "mqtt_latency.py --requests 3",
        r"added per request, median \(inbound \+ outbound\):\s+\d+\.\d ms",
        pytest.mark.mqtt,
    ),
    bench("voice_lookup.py --counts 0 2", r"\| 2 \| \d+\.\d+ \| \d+ \|"),
    bench("spoken_latency.py", r"whole text \| \d+\.\d+ \|"),
    bench("timestretch.py", r"voxhost WSOLA \(numpy\) \| \d+\.\d+ /"),
    bench("piper_inference.py --rounds 2", r"\| wide \(voxhost[^|]*\| \d+\.\d+ \|"),
    bench(
        "piper_inference.py --rounds 2 --lengths",
        r"wide: -?\d+\.\d ms a sentence whatever its length, and \d+\.\d ms per second of audio",
        mode="lengths",
    ),
    bench("long_text.py --rounds 1 --chars 5000", r"\| prose \| voxhost \| \d+ \| \d+ \|"),
    bench("spoken_memory.py --speed --rounds 1", r"long \(15 s\) \| \d+\.\d+ \|"),
    bench("transcription_memory.py -n 2 -m 1", r"RSS before \d+ MiB, peak \d+ MiB \(\+-?\d+ MiB\)"),
    bench(
        "wyoming_vs_piper.py --rounds 1 --concurrent-rounds 1 --per-count-rounds 1 --counts 1 --warmups 1",
        r"describe round trip under 4 clients, p99 \(ms\) \| \d+\.\d+ \| \d+\.\d+ \| \d+\.\d+x",
    ),
    bench(
        "one_sentence.py --rounds 2 --processes 1 --threaded-wyoming-piper --warmups 1",
        r"\| voxhost \| [\d.]+ \| [\d.]+ \| \d\.\d+x \[",
    ),
    bench("one_sentence_stages.py --rounds 3", r"\| request \(connected → audio-stop\) \| \d+"),
    bench(
        "asr_vs_wyoming_whisper.py --rounds 1 --describe-seconds 1 --clips 2 --long-repeats 1",
        r"extra wall time per sentence \(median\): -?\d+ ms",
    ),
    bench("f5_streaming.py --repeats 1", r"time to first audio\s+\d+\.\d+ s", pytest.mark.heavy),
    bench(
        "chatterbox_bench.py --runs 1 --sentences 2 --vc-seconds 2", r"VC 2 s in -> \d+\.\d s out", pytest.mark.heavy
    ),
    bench(
        "qwen3_streaming.py --runs 1 --tokens 12",
        r"time to first audio: non-streaming \d+\.\d+ s, streaming \d+\.\d+ s",
        pytest.mark.heavy,
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


def test_every_bench_is_run_here() -> None:
    # A new bench gets its case above; the helpers are run through the benches that import or start them.
    helpers = {"wyoming_servers.py", "wyoming_piper_threaded.py", "job_marks.py"}
    scripts = {path.name for path in (REPO / "bench").glob("*.py")} - helpers
    assert scripts == {case.values[0] for case in BENCHES}


def test_a_variant_on_pythonpath_runs_its_own_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ``--variant NAME:PYTHONPATH=<checkout>`` compares another checkout side by side; started from the
    # repository's root (as docs/benchmarks.md runs the benches), ``python -m voxhost`` would import this one.
    checkout = tmp_path / "other"
    (checkout / "voxhost").mkdir(parents=True)
    (checkout / "voxhost" / "__init__.py").write_text("")
    (checkout / "voxhost" / "__main__.py").write_text(
        "import os, pathlib\npathlib.Path(os.environ['RAN']).write_text(__file__)\n"
    )
    ran = tmp_path / "ran"
    monkeypatch.chdir(REPO)
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from wyoming_vs_piper import start_voxhost

    proc = start_voxhost(tmp_path / "state", extra={"PYTHONPATH": str(checkout), "RAN": str(ran)}).proc
    assert proc is not None
    try:
        assert proc.wait(30) == 0
    finally:
        proc.kill()  # this checkout's daemon, when the variant was passed over
    assert ran.read_text() == str(checkout / "voxhost" / "__main__.py")
