"""Qwen3-TTS settings, per-request options, model specs and backend choice (no heavy imports)."""

from __future__ import annotations

import platform
from typing import Literal

from pydantic import Field

from ...engine import EngineOptions, EngineSettings, ModelSpec
from ...errors import ConfigError

ENGINE_ID = "qwen3"
SAMPLE_RATE = 24000
"""Both backends decode the 12 Hz codec to 24 kHz."""

Backend = Literal["mlx", "torch"]

_QWEN_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "speech_tokenizer/config.json",
    "speech_tokenizer/model.safetensors",
    "speech_tokenizer/preprocessor_config.json",
)
# The mlx-community conversions keep the same layout; mlx-audio reads only these (weights may be sharded).
_MLX_FILES = (
    "config.json",
    "generation_config.json",
    "*.safetensors",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "speech_tokenizer/config.json",
    "speech_tokenizer/*.safetensors",
)
_SIZES = {"1.7b": "1.7B", "0.6b": "0.6B"}


class Qwen3Settings(EngineSettings):
    """``[engines.qwen3]``."""

    backend: Literal["auto", "mlx", "torch"] = "auto"
    """``auto``: mlx-audio on Apple Silicon (macOS arm64), qwen-tts (PyTorch) everywhere else."""
    model: Literal["1.7b", "0.6b"] = "1.7b"
    """Base model size, pulled with ``voxhost models pull qwen3 <size>`` (``mlx-<size>`` for MLX)."""
    model_path: str | None = None
    """A local model directory in the Hugging Face layout; overrides ``model``."""
    device: str = "auto"
    """PyTorch device: ``auto`` (``cuda:0`` when CUDA is present, else ``cpu``), ``cuda:1``, ``cpu``..."""
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    """PyTorch weights: ``auto`` is bfloat16 on CUDA and float32 on CPU."""
    attn_implementation: str | None = None
    """PyTorch attention kernel, e.g. ``flash_attention_2`` or ``sdpa`` (default: the transformers choice)."""
    max_new_tokens: int = Field(2048, ge=1, le=8192)
    """Upper bound of codec frames per sentence (12.5 per second of audio)."""
    streaming_interval: float = Field(0.32, ge=0.08, le=10.0)
    """MLX: seconds of audio per streamed chunk (0.32 s is 4 codec frames)."""
    prompt_cache_size: int = Field(16, ge=1, le=1024)
    """Voice clone prompts kept in memory (they are also kept on disk in each voice's cache directory)."""
    default_reference: str | None = None
    """WAV spoken by the built-in voices; unset: a sentence spoken by the bundled Piper voice."""
    default_reference_text: str | None = None
    """Transcript of ``default_reference``; unset: speaker embedding only (x-vector mode)."""


MIN_TEMPERATURE = 0.01
"""The least temperature: the logits are divided by it in float32 (float16 on some GPUs), where a smaller one (1e-300
is 0 there) makes them infinite and sampling fails (a 500 for a request's option); below 0.1 sampling is greedy
already."""


class Qwen3Options(EngineOptions):
    """Per-request sampling options; unset values come from the model's generation_config.json."""

    temperature: float | None = Field(None, ge=MIN_TEMPERATURE, le=2)
    top_k: int | None = Field(None, ge=1, le=1000)
    top_p: float | None = Field(None, gt=0, le=1)
    repetition_penalty: float | None = Field(None, ge=1, le=3)
    max_new_tokens: int | None = Field(None, ge=1, le=8192)
    x_vector_only: bool = False
    """Clone from the speaker embedding alone, ignoring the reference transcript."""


def select_backend(choice: str, system: str | None = None, machine: str | None = None) -> Backend:
    """The backend for a configured choice on this (or the given) platform."""
    if choice in ("mlx", "torch"):
        return choice  # type: ignore[return-value]
    if choice != "auto":
        raise ConfigError(f"engines.{ENGINE_ID}.backend: unknown backend {choice!r}; use auto, mlx or torch")
    system = platform.system() if system is None else system
    machine = platform.machine() if machine is None else machine
    return "mlx" if system == "Darwin" and machine.lower() in ("arm64", "aarch64") else "torch"


def model_spec(backend: Backend, size: str) -> ModelSpec:
    """The downloadable model for a backend and size."""
    label = _SIZES[size]
    if backend == "mlx":
        return ModelSpec(
            engine=ENGINE_ID,
            name=f"mlx-{size}",
            repo=f"mlx-community/Qwen3-TTS-12Hz-{label}-Base-bf16",
            files=_MLX_FILES,
            description=f"Qwen3-TTS {label} Base (voice cloning), bfloat16 MLX weights for Apple Silicon",
        )
    return ModelSpec(
        engine=ENGINE_ID,
        name=size,
        repo=f"Qwen/Qwen3-TTS-12Hz-{label}-Base",
        files=_QWEN_FILES,
        description=f"Qwen3-TTS {label} Base (voice cloning), PyTorch weights for NVIDIA, Jetson and CPU",
    )


def all_model_specs() -> list[ModelSpec]:
    """Every model the engine can use, PyTorch first."""
    return [model_spec(backend, size) for backend in ("torch", "mlx") for size in _SIZES]
