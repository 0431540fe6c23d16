#!/usr/bin/env python3
"""The HTTP API's contract: a real daemon against its own OpenAPI document, once without and once with an API key.

Each run starts ``python -m voxhost serve`` (the bundled Piper voice, HTTP on a free port, the other doors off, a
temporary state directory, speech inputs of at most 1024 characters), then:

1. reads ``/v1/events`` (never ending, so it is left out of fuzzing): the ``hello`` event and the events of one
   speech job must validate against the document's ``LiveEvent`` schema, and the events of a ``stream_format: sse``
   answer against ``SpeechStreamEvent``;
2. runs schemathesis on every other operation with ``--checks all`` and a bounded number of examples
   (``scripts/schemathesis.toml`` says which answers are the contract's own: see there;
   ``scripts/schemathesis_hooks.py`` puts a real recording or voice archive in the positive cases of the uploads
   that need one). The coverage phase (every boundary of every field) runs on the open server only; with a key,
   examples, fuzzing and stateful runs.

The two runs go side by side (each shows its output whole when it ends); exit status 0 only when both pass.
``scripts/check`` runs it; ``--examples N`` trades time for depth.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

import httpx2 as httpx
import jsonschema_rs

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "scripts" / "schemathesis.toml"
HOOKS = REPO / "scripts" / "schemathesis_hooks.py"
KEY = "contract-test-key"
MAX_INPUT_CHARS = 256


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Daemon:
    """``voxhost serve`` in a subprocess with its own state directory and config."""

    def __init__(self, root: Path, api_key: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "daemon.log"
        config = root / "voxhost.toml"
        # The document's maxLength of `input` is the configured limit, and the coverage phase speaks a text at it,
        # once for each speaker the document names (0 too, which every voice takes): at the default 4096, a string
        # of digits is 27 minutes of speech (95 s of compute). The limit is enforced and documented the same way at
        # any value, so the contract runs at a sixteenth of it.
        lines = ["[doors.http]", f"port = {self.port}", f"max_input_chars = {MAX_INPUT_CHARS}"]
        if api_key:
            lines.append(f'api_key = "{api_key}"')
        lines += ["[doors.wyoming]", "enabled = false", "[doors.mqtt]", "enabled = false"]
        lines += ["[engines.morse]", "enabled = false"]  # the example plugin, where installed: Piper alone
        config.write_text("\n".join(lines) + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOXHOST_")}
        env["HF_HUB_OFFLINE"] = "1"  # nothing is downloaded: the bundled voice is all it needs
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voxhost", "serve", "-c", str(config), "--state-dir", str(root / "state")],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the daemon exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the daemon did not answer within 60 s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM, then wait (the daemon drains its jobs)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def validator(doc: dict[str, Any], name: str) -> jsonschema_rs.Validator:
    """A validator of one component of the document (its references resolve within the document)."""
    return jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def data_lines(lines: Any) -> Any:
    """The JSON of each ``data:`` line of a server-sent event stream."""
    for line in lines:
        if line.startswith("data:"):
            yield json.loads(line[5:].strip())


def check_events(url: str, headers: dict[str, str], doc: dict[str, Any]) -> int:
    """Live events and SSE speech events, validated against the document; returns how many were checked."""
    live = validator(doc, "LiveEvent")
    seen: list[dict[str, Any]] = []
    done = threading.Event()
    opened = threading.Event()

    def read() -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=None)) as client,
            client.stream("GET", url + "/v1/events", headers=headers) as response,
        ):
            assert response.status_code == 200, response.status_code
            for event in data_lines(response.iter_lines()):
                seen.append(event)
                opened.set()
                if event.get("event") == "job_finished" or done.is_set():
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not opened.wait(10):
        raise SystemExit("contract: /v1/events sent no hello event")
    body = {"model": "tts-1", "voice": "alloy", "input": "Hello there. A second sentence.", "stream_format": "sse"}
    speech = httpx.post(url + "/v1/audio/speech", json=body, headers=headers, timeout=60)
    assert speech.status_code == 200, speech.text
    sse = validator(doc, "SpeechStreamEvent")
    events = list(data_lines(speech.text.splitlines()))
    for event in events:
        sse.validate(event)
    assert events[-1]["type"] == "speech.audio.done", events[-1]
    reader.join(15)
    done.set()
    kinds = [event.get("event") for event in seen]
    for event in seen:
        live.validate(event)
    for kind in ("hello", "job_accepted", "job_started", "job_finished"):
        if kind not in kinds:
            raise SystemExit(f"contract: no {kind} event on /v1/events (saw {kinds})")
    return len(seen) + len(events)


ALL_PHASES = "examples,coverage,fuzzing,stateful"


def run(api_key: str | None, examples: int, seed: int, workdir: Path, phases: str, out: TextIO) -> bool:
    """One daemon, its events checked and its API fuzzed in ``phases``, reported to ``out``; True when all passed."""
    label = "with an API key" if api_key else "without an API key"
    root = Path(tempfile.mkdtemp(prefix="voxhost-contract-", dir=workdir))
    daemon = Daemon(root, api_key)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        doc = httpx.get(daemon.url + "/openapi.json", timeout=10).json()
        checked = check_events(daemon.url, headers, doc)
        print(f"== contract {label}: {checked} events match the document's schemas", file=out, flush=True)
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(CONFIG),
            "run",
            daemon.url + "/openapi.json",
            "--checks",
            "all",
            "--exclude-path",
            "/v1/events",
            "--max-examples",
            str(examples),
            "--seed",
            str(seed),
            "--phases",
            phases,
            "--workers",
            "1",
            "--request-timeout",
            "60",
            "--generation-database",
            "none",
            "--report",
            "junit",
            "--report-dir",
            str(root / "report"),
        ]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        print(f"== schemathesis {label}", file=out, flush=True)
        # Positive uploads of a recording or a voice archive send real ones (see the hooks' docstring).
        env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
        result = subprocess.run(command, cwd=root, env=env, check=False, stdout=out, stderr=subprocess.STDOUT)
        ok = result.returncode == 0
        if not ok:
            print(f"daemon log ({daemon.log}):\n{daemon.log.read_text()[-4000:]}", file=out, flush=True)
        return ok
    finally:
        daemon.stop()


def main() -> int:
    """Both runs; the exit status says whether the contract holds."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=25, help="examples per operation (default 25)")
    parser.add_argument("--seed", type=int, default=12, help="schemathesis' seed (default 12: the same cases each run)")
    parser.add_argument("--only", choices=("open", "key"), help="one run only")
    args = parser.parse_args()
    started = time.monotonic()
    # The coverage phase (every boundary of every field) runs once, on the open server: it costs minutes
    # (each accepted speech and transcription request does real work), and a key changes only who may call.
    runs: list[tuple[str | None, str]] = []
    if args.only in (None, "open"):
        runs.append((None, ALL_PHASES))
    if args.only in (None, "key"):
        runs.append((KEY, ALL_PHASES if args.only == "key" else "examples,fuzzing,stateful"))
    with tempfile.TemporaryDirectory(prefix="voxhost-contract-") as tmp:
        # The runs are independent (a daemon, a state directory and a port each) and each is one request at a time:
        # side by side they keep two cores busy, and take about the time of the longer one rather than the sum.
        # Each writes to a log of its own, shown whole when it ends, so their outputs do not interleave.
        logs = [Path(tmp) / f"run{i}.log" for i in range(len(runs))]
        with ThreadPoolExecutor(len(runs)) as pool:
            futures = [
                pool.submit(_logged, log, run, key, args.examples, args.seed, Path(tmp), phases)
                for log, (key, phases) in zip(logs, runs, strict=True)
            ]
            results = []
            for log, future in zip(logs, futures, strict=True):
                results.append(future.result())
                sys.stdout.write(log.read_text())
                sys.stdout.flush()
    print(f"== contract: {'passed' if all(results) else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if all(results) else 1


def _logged(log: Path, body: Callable[..., bool], *args: Any) -> bool:
    """``body(*args, out)`` with ``out`` the file ``log``; what it raises (a daemon that did not start, an event that
    did not come) fails the run, its traceback in that log."""
    with log.open("w") as out:
        try:
            return body(*args, out)
        except BaseException:  # SystemExit too: its message is the run's failure
            traceback.print_exc(file=out)
            return False


if __name__ == "__main__":
    sys.exit(main())
