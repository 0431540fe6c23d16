"""What the engine asks of a backend (qwen-tts on PyTorch, or mlx-audio)."""

from __future__ import annotations

import gc
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .config import Qwen3Settings
from .reference import PromptCache, VoiceRef


@dataclass(frozen=True)
class Generation:
    """One sentence to speak."""

    text: str
    language: str
    """A model language name (``english``) or ``auto``."""
    seed: int | None = None
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float | None = None
    max_new_tokens: int = 2048


class Backend(ABC):
    """A loaded Qwen3-TTS Base model that clones a reference voice."""

    name: ClassVar[str]
    streams: ClassVar[bool] = False
    """Whether ``synthesize`` yields audio while it generates (several chunks per sentence)."""
    install_hint: ClassVar[str]
    """What to install when the backend's packages are missing."""

    def __init__(self, model_dir: Path, settings: Qwen3Settings) -> None:
        self.model_dir = model_dir
        self.settings = settings
        self.prompts: PromptCache[Any] = PromptCache(settings.prompt_cache_size)
        self._model: Any = None

    @abstractmethod
    def load(self) -> None:
        """Load the model (heavy imports happen here)."""

    def unload(self) -> None:
        """Free the model and the backend's caches, then the device's cached memory."""
        self._model = None
        self.prompts.clear()
        gc.collect()
        self._release_device_memory()

    @abstractmethod
    def _release_device_memory(self) -> None:
        """Give the framework's cached device memory back (MLX cache, CUDA cache)."""

    @abstractmethod
    def synthesize(self, generation: Generation, ref: VoiceRef) -> Iterator[np.ndarray]:
        """Float32 audio at 24 kHz for one sentence in ``ref``'s voice."""

    def status(self) -> dict[str, Any]:
        """Backend details for health pages."""
        return {"backend": self.name, "model_dir": str(self.model_dir), "prompt_cache": self.prompts.stats()}
