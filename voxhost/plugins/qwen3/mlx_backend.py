"""The MLX backend (``mlx-audio``) for Apple Silicon: native streaming, audio every fraction of a second.

On Linux it runs on ``mlx[cpu]`` (for tests). What voxhost caches per voice is the decoded reference audio as an
``mx.array``; mlx-audio 0.6.2 caches the reference's encoding itself (``_icl_cache``, keyed on the transcript and
the audio's size and sum), so passing the same array again skips the encoder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import EngineError
from .backend import Backend, Generation
from .reference import VoiceRef

_LOGGER = logging.getLogger(__name__)


class MlxBackend(Backend):
    """mlx-audio's Qwen3-TTS model, generating with ``stream=True``."""

    name: ClassVar[str] = "mlx"
    streams: ClassVar[bool] = True
    install_hint: ClassVar[str] = (
        "the Qwen3-TTS MLX backend needs mlx-audio==0.6.2 and mlx==0.32.4 (on Linux also mlx[cpu]): create its "
        'environment with `envs/mlx/setup.sh VENV` and set [engines.qwen3] python = "VENV/bin/python"'
    )

    def load(self) -> None:
        try:
            import mlx.core as mx  # noqa: F401 - fails first when mlx has no backend here
            from mlx_audio.tts.utils import load_model
        except ImportError as err:
            raise EngineError(f"{self.install_hint} ({err})") from err
        _LOGGER.info("loading Qwen3-TTS (MLX) from %s", self.model_dir)
        self._model = load_model(Path(self.model_dir))

    def _release_device_memory(self) -> None:
        try:
            import mlx.core as mx
        except ImportError:
            return
        mx.clear_cache()

    def synthesize(self, generation: Generation, ref: VoiceRef) -> Iterator[np.ndarray]:
        import mlx.core as mx

        if self._model is None:
            raise EngineError("the Qwen3-TTS model is not loaded")
        audio = self.prompts.get(ref.key, lambda: mx.array(ref.load_audio()))
        if generation.seed is not None:
            mx.random.seed(generation.seed)
        results = self._model.generate(
            text=generation.text,
            lang_code=generation.language,
            ref_audio=audio,
            ref_text=ref.transcript,
            stream=True,
            streaming_interval=self.settings.streaming_interval,
            max_tokens=generation.max_new_tokens,
            temperature=generation.temperature,
            top_k=generation.top_k,
            top_p=generation.top_p,
            repetition_penalty=generation.repetition_penalty,
        )
        for result in results:
            chunk = np.array(result.audio, dtype=np.float32).reshape(-1)
            if chunk.size:
                yield chunk

    def status(self) -> dict[str, Any]:
        out = super().status()
        try:
            import mlx.core as mx

            out["device"] = str(mx.default_device())
            out["active_memory_mb"] = round(mx.get_active_memory() / 2**20, 1)
        except ImportError:
            pass
        return out
