"""Shared pieces of the F5 tests: the worker interpreter, the tiny models, daemon settings, audio helpers."""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voxhost.operations import SpeechRequest, VoiceCreate

from ..conftest import REPO, make_settings

TINY_BUILDER = Path(__file__).resolve().parent / "tiny" / "f5_tiny.py"
REF_TEXT = "This is the reference voice speaking."
FRENCH_REF_TEXT = "Voici la voix de référence qui parle."


def f5_python() -> str:
    """The F5 worker interpreter: ``$VOXHOST_F5_PYTHON`` or ``<repo>/.venvs/f5/bin/python``; fails if absent."""
    python = os.environ.get("VOXHOST_F5_PYTHON") or str(REPO / ".venvs" / "f5" / "bin" / "python")
    if not Path(python).is_file():
        pytest.fail(
            f"F5 worker environment not found at {python}: run `envs/f5/setup.sh .venvs/f5` or set VOXHOST_F5_PYTHON",
            pytrace=False,
        )
    return python


@functools.cache
def _tiny_models_built() -> tuple[Path, str]:
    """The tiny models, built once per test run (the builder's seeds make every build the same files; each build
    costs a worker interpreter importing torch); the folder and the builder's JSON."""
    built = Path(tempfile.mkdtemp(prefix="voxhost-f5-tiny-"))
    atexit.register(shutil.rmtree, built, ignore_errors=True)
    out = subprocess.run(
        [f5_python(), str(TINY_BUILDER), str(built)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return built, out.stdout.strip().splitlines()[-1]


def build_tiny_models(models_dir: Path) -> dict[str, Any]:
    """Tiny English and French F5 models and a tiny Vocos, in the published layouts; returns registry overrides."""
    built, overrides = _tiny_models_built()
    shutil.copytree(built, models_dir, dirs_exist_ok=True)  # a copy of its own: tests prune, add and remove files
    tiny = json.loads(overrides)
    # French gets a reference of its own (its built-in voice needs one in French; English has Piper's)
    import soundfile

    reference = models_dir / "fr-reference.wav"
    soundfile.write(reference, reference_signal(), 16000)
    tiny["fr"] = {**tiny["fr"], "reference": str(reference), "reference_text": FRENCH_REF_TEXT}
    return tiny


def f5_settings(state_dir: Path, models_dir: Path, tiny: dict[str, Any], **f5: Any) -> Any:
    """Daemon settings running F5 in its worker environment on the tiny models."""
    table = {
        "enabled": True,
        "mode": "worker",
        "python": f5_python(),
        "models": tiny,
        "nfe_steps": 8,
        **f5,
    }
    return make_settings(state_dir, models_dir=str(models_dir), engines={"f5": table})


def reference_signal(seconds: float = 3.0, rate: int = 16000) -> np.ndarray:
    """A voiced-sounding test reference: a tone whose loudness moves like syllables."""
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def samples(pcm: bytes) -> np.ndarray:
    """s16le bytes as float32."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def speak(daemon: Any, text: str, **fields: Any) -> tuple[bytes, int]:
    """A whole request through the daemon's core."""
    return daemon.call(daemon.core.speak(SpeechRequest(text=text, **fields)), timeout=120)


def add_voice(daemon: Any, name: str, language: str | None = None) -> str:
    """Store a cloned voice (reference_signal + REF_TEXT) in the daemon's library; returns its id."""

    async def add() -> str:
        voice = daemon.core.add_voice(
            VoiceCreate(name=name, transcript=REF_TEXT, language=language), reference_signal(), 16000
        )
        return str(voice.id)

    return str(daemon.call(add()))


def expected_seconds(text: str, speed: float) -> float:
    """F5's duration rule: the reference's seconds per byte of transcript, times the text's bytes, over speed."""
    ref_seconds = 3.0 + 0.05  # the reference, plus the short tail preparation adds
    ref_bytes = len(REF_TEXT.encode()) + 2  # F5 appends ". "-style spacing to the transcript
    return ref_seconds * len(text.encode()) / ref_bytes / speed


def f5_status(daemon: Any) -> dict[str, Any]:
    """The F5 runner's status, as reported by its worker."""
    rows = daemon.call(daemon.core.engine_status())
    return next(row for row in rows if row["id"] == "f5")
