"""The worker process: runs one engine class in its own interpreter, speaking ``voxhost.wire`` frames on stdio.

Started by the daemon as ``<python> -m voxhost.worker``. Engine output on stdout would corrupt the frames, so
the frame channel gets a private copy of stdout and the process's stdout is pointed at stderr (which the daemon
logs). A reader thread takes frames from stdin so that a ``cancel`` arrives while the engine is busy.
"""

from __future__ import annotations

import importlib
import os
import queue
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any, BinaryIO

from . import wire
from .engine import (
    PCM,
    Engine,
    EngineContext,
    Segment,
    SynthesisRequest,
    TranscriptionRequest,
    TranscriptPart,
    checked_pcm,
    reference_from_dict,
)
from .errors import EngineError, VoxhostError, storage_error
from .loader import load_module
from .no_telemetry import opt_out


def _import_engine(header: dict[str, Any]) -> type[Engine]:
    if header.get("file"):
        module = load_module(header["file"], header["module"])
    else:
        module = importlib.import_module(header["module"])
    obj: Any = module
    for part in header["cls"].split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]


STREAMING_OPS = frozenset({"synth", "convert", "transcribe"})
"""Operations that serve a request (their errors reach a client)."""


class Worker:
    """Serve one engine over frames until the daemon says exit or closes stdin."""

    def __init__(self, inp: BinaryIO, out: BinaryIO) -> None:
        self._in, self._out = inp, out
        self._ops: queue.Queue[tuple[dict[str, Any], bytes] | None] = queue.Queue()
        self._cancel = threading.Event()
        self._engine: Engine | None = None

    def _read_loop(self) -> None:
        while True:
            frame = wire.read_frame(self._in)
            if frame is not None and frame[0].get("op") == "cancel":
                self._cancel.set()
                continue
            self._ops.put(frame)
            if frame is None:
                return

    def _send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        self._out.write(wire.encode(header, payload))
        self._out.flush()

    def run(self) -> None:
        """Main loop: one operation at a time, in order."""
        threading.Thread(target=self._read_loop, name="voxhost-worker-reader", daemon=True).start()
        while (frame := self._ops.get()) is not None:
            header, payload = frame
            op = header.get("op")
            if op == "exit":
                break
            try:
                self._dispatch(op, header, payload)
            except VoxhostError as err:
                self._send({"error": err.message, "code": err.code, "type": type(err).__name__, "param": err.param})
            except OSError as err:
                storage = storage_error(err)
                if storage is None:
                    traceback.print_exc()
                    storage = EngineError(f"{type(err).__name__}: {err}")
                self._send({"error": storage.message, "code": storage.code, "type": type(storage).__name__})
            except Exception as err:
                traceback.print_exc()
                message = f"{type(err).__name__}: {err}"
                if self._engine is not None and op in STREAMING_OPS:
                    # Worded as the thread runner words it, so a request's error names the engine in either mode.
                    message = f"engine {self._engine.engine_id} failed: {message}"
                self._send({"error": message, "code": "engine_error", "type": "EngineError"})
        if self._engine is not None:
            self._engine.unload()

    def _dispatch(self, op: str | None, header: dict[str, Any], payload: bytes) -> None:
        if op == "init":
            cls = _import_engine(header)
            settings = cls.Settings.model_validate(header["settings"])
            self._engine = cls(settings, EngineContext(**header["context"]))
            self._send({"ok": True, "pid": os.getpid()})
            return
        engine = self._engine
        if engine is None:
            raise RuntimeError("worker not initialised")
        if op == "load":
            engine.load()
            self._send({"ok": True})
        elif op == "unload":
            engine.unload()
            self._send({"ok": True})
        elif op == "status":
            self._send({"ok": True, "status": engine.status()})
        elif op == "synth":
            self._stream(engine.synthesize(SynthesisRequest.from_dict(header["request"])))
        elif op == "convert":
            audio = PCM(payload, int(header["rate"]))
            self._stream(engine.convert(audio, reference_from_dict(header["target"]), header.get("options") or {}))
        elif op == "transcribe":
            audio = PCM(payload, int(header["rate"]))
            self._stream_parts(engine.transcribe(audio, TranscriptionRequest(**header["request"])))
        else:
            raise ValueError(f"unknown worker operation {op!r}")

    def _stream(self, chunks: Iterator[PCM]) -> None:
        self._cancel.clear()
        for chunk in chunks:
            pcm = checked_pcm(chunk)
            self._send({"chunk": True, "rate": pcm.rate}, pcm.data)
            if self._cancel.is_set():
                break
        self._send({"done": True, "cancelled": self._cancel.is_set()})

    def _stream_parts(self, parts: Iterator[TranscriptPart]) -> None:
        self._cancel.clear()
        for part in parts:
            if isinstance(part, Segment):
                self._send({"segment": part.to_dict()})
            else:
                self._send({"info": asdict(part)})
            if self._cancel.is_set():
                break
        self._send({"done": True, "cancelled": self._cancel.is_set()})


def main() -> None:
    """Entry point of ``python -m voxhost.worker``."""
    opt_out()  # inherited from the daemon; set again for a worker started some other way
    nice = int(os.environ.get("VOXHOST_WORKER_NICE", "0") or 0)
    if nice > 0:
        try:
            os.nice(nice)  # the whole worker process: the daemon's event loop keeps a core
        except OSError:
            pass
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    Worker(sys.stdin.buffer, out).run()


if __name__ == "__main__":
    main()
