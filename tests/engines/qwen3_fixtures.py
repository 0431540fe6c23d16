"""Shared pieces of the Qwen3-TTS tests: worker interpreters, the tiny model, daemon settings, audio helpers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voxhost.operations import SpeechRequest, VoiceCreate

from ..conftest import REPO, make_settings

TINY_BUILDER = Path(__file__).resolve().parent / "tiny" / "qwen3_tiny.py"
TORCH_REPO_DIR = "Qwen--Qwen3-TTS-12Hz-0.6B-Base"
MLX_REPO_DIR = "mlx-community--Qwen3-TTS-12Hz-0.6B-Base-bf16"
SAMPLES_PER_FRAME = 60
"""The tiny speech decoder's samples per codec frame (the real one makes 1920)."""
MAX_TOKENS = 12
REF_TEXT = "this is a test of the reference voice"


def worker_python(env: str) -> str:
    """A worker interpreter: ``$VOXHOST_<ENV>_PYTHON`` or ``<repo>/.venvs/<env>/bin/python``; fails if absent."""
    python = os.environ.get(f"VOXHOST_{env.upper()}_PYTHON") or str(REPO / ".venvs" / env / "bin" / "python")
    if not Path(python).is_file():
        pytest.fail(
            f"{env} worker environment not found at {python}: run `envs/{env}/setup.sh .venvs/{env}` "
            f"or set VOXHOST_{env.upper()}_PYTHON",
            pytrace=False,
        )
    return python


def build_tiny_model(models_dir: Path) -> Path:
    """The tiny Base model where ``voxhost models pull`` puts both the Qwen and the mlx-community repos."""
    target = models_dir / TORCH_REPO_DIR
    subprocess.run(
        [worker_python("qwen"), str(TINY_BUILDER), str(target), "--samples-per-frame", str(SAMPLES_PER_FRAME)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    (models_dir / MLX_REPO_DIR).symlink_to(target, target_is_directory=True)
    return target


def qwen3_settings(
    state_dir: Path, models_dir: Path, backend: str, doors: dict[str, Any] | None = None, **table: Any
) -> Any:
    """Daemon settings running Qwen3-TTS in its worker environment on the tiny model; Piper off; ``doors``: the
    door tables (``wyoming``, ``http``, ``mqtt``) to open."""
    engine = {
        "enabled": True,
        "mode": "worker",
        "python": worker_python("mlx" if backend == "mlx" else "qwen"),
        "backend": backend,
        "model": "0.6b",
        "max_new_tokens": MAX_TOKENS,
        **table,
    }
    return make_settings(
        state_dir, models_dir=str(models_dir), engines={"qwen3": engine, "piper": {"enabled": False}}, **(doors or {})
    )


def reference_signal(seconds: float = 2.0, rate: int = 16000, pitch: float = 220.0) -> np.ndarray:
    """A voiced-sounding test reference: a tone whose loudness moves like syllables."""
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * pitch * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def samples(pcm: bytes) -> np.ndarray:
    """s16le bytes as float32."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def add_voice(
    daemon: Any, name: str, transcript: str | None = REF_TEXT, language: str | None = "en_US", pitch: float = 220.0
) -> str:
    """Store a cloned voice in the daemon's library; returns its id. Voices with the same audio and transcript
    share a fingerprint, and so a clone prompt: give each test its own ``pitch``."""

    async def add() -> str:
        voice = daemon.core.add_voice(
            VoiceCreate(name=name, transcript=transcript, language=language), reference_signal(pitch=pitch), 16000
        )
        return str(voice.id)

    return str(daemon.call(add()))


def speak_chunks(daemon: Any, text: str, timeout: float = 300, **fields: Any) -> tuple[list[bytes], int]:
    """A whole request through the daemon's core, keeping the PCM chunks apart."""

    async def run() -> tuple[list[bytes], int]:
        job = daemon.core.submit(SpeechRequest(text=text, **fields))
        chunks, rate = [], 0
        async for pcm in job.pcm():
            chunks.append(pcm.data)
            rate = pcm.rate
        return chunks, rate

    return daemon.call(run(), timeout=timeout)  # type: ignore[no-any-return]


def engine_status(daemon: Any) -> dict[str, Any]:
    """The qwen3 entry of the core's engine status."""
    entries = daemon.call(daemon.core.engine_status())
    return next(entry for entry in entries if entry["id"] == "qwen3")
