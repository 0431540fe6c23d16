"""The PyTorch backend (``qwen-tts``) for NVIDIA GPUs, Jetson and CPU: one utterance per sentence.

The clone prompt (reference codec codes and speaker embedding) is made once per voice with
``create_voice_clone_prompt`` and kept in memory and in the voice's cache directory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import EngineError
from ...replacing import replacing
from .backend import Backend, Generation
from .reference import VoiceRef

_LOGGER = logging.getLogger(__name__)

_PROMPT_FIELDS = ("ref_code", "ref_spk_embedding", "x_vector_only_mode", "icl_mode", "ref_text")


class TorchBackend(Backend):
    """qwen-tts ``Qwen3TTSModel`` with cached voice clone prompts."""

    name: ClassVar[str] = "torch"
    install_hint: ClassVar[str] = (
        "the Qwen3-TTS PyTorch backend needs qwen-tts==0.1.1 with transformers==4.57.3 and accelerate==1.12.0 "
        "(plus torch, torchaudio, librosa, soundfile, onnxruntime, sox, einops): create its environment with "
        '`envs/qwen/setup.sh VENV` and set [engines.qwen3] python = "VENV/bin/python"'
    )

    def __init__(self, model_dir: Path, settings: Any) -> None:
        super().__init__(model_dir, settings)
        self._device = "cpu"
        self._dtype = "float32"
        self.prompts_made = 0
        """Prompts computed from reference audio (the rest came from memory or the voice's cache directory)."""
        self.prompts_read = 0

    def load(self) -> None:
        try:
            import torch
            from qwen_tts import Qwen3TTSModel
        except ImportError as err:
            raise EngineError(f"{self.install_hint} ({err})") from err
        device = self.settings.device
        if device == "auto":
            device = "cuda:0" if torch.cuda.is_available() else "cpu"
        dtype = self.settings.dtype
        if dtype == "auto":
            dtype = "bfloat16" if device.startswith("cuda") else "float32"
        kwargs: dict[str, Any] = {"device_map": device, "dtype": getattr(torch, dtype)}
        if self.settings.attn_implementation:
            kwargs["attn_implementation"] = self.settings.attn_implementation
        _LOGGER.info("loading Qwen3-TTS from %s on %s (%s)", self.model_dir, device, dtype)
        self._model = Qwen3TTSModel.from_pretrained(str(self.model_dir), **kwargs)
        self._device, self._dtype = device, dtype

    def _release_device_memory(self) -> None:
        try:
            import torch
        except ImportError:
            return
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        mps = getattr(torch, "mps", None)
        if self._device.startswith("mps") and mps is not None and hasattr(mps, "empty_cache"):
            mps.empty_cache()

    # -- prompts ---------------------------------------------------------------------------------

    def _prompt(self, ref: VoiceRef) -> list[Any]:
        return self.prompts.get(ref.key, lambda: self._load_or_make_prompt(ref))  # type: ignore[no-any-return]

    def _load_or_make_prompt(self, ref: VoiceRef) -> list[Any]:
        import torch
        from qwen_tts.inference.qwen3_tts_model import VoiceClonePromptItem

        path = Path(ref.cache_dir, f"qwen3-prompt-{ref.key}.pt") if ref.cache_dir else None
        if path is not None and path.is_file():
            try:
                saved = torch.load(path, map_location=self._device, weights_only=True)
                self.prompts_read += 1
                _LOGGER.debug("clone prompt for %s read from %s", ref.audio_path, path)
                return [VoiceClonePromptItem(**saved)]
            except Exception:  # a stale or partial file: make it again
                _LOGGER.warning("ignoring unreadable clone prompt %s", path, exc_info=True)
        audio = ref.load_audio()
        self.prompts_made += 1
        items = self._model.create_voice_clone_prompt(
            ref_audio=(audio, 24000), ref_text=ref.transcript, x_vector_only_mode=ref.transcript is None
        )
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with replacing(path) as part:
                    torch.save({name: getattr(items[0], name) for name in _PROMPT_FIELDS}, part)
            except OSError:
                _LOGGER.warning("could not keep the clone prompt in %s", ref.cache_dir)
        return list(items)

    # -- synthesis -------------------------------------------------------------------------------

    def synthesize(self, generation: Generation, ref: VoiceRef) -> Iterator[np.ndarray]:
        import torch

        if self._model is None:
            raise EngineError("the Qwen3-TTS model is not loaded")
        prompt = self._prompt(ref)
        if generation.seed is not None:
            torch.manual_seed(generation.seed)
        kwargs: dict[str, Any] = {"max_new_tokens": generation.max_new_tokens}
        for name in ("temperature", "top_k", "top_p", "repetition_penalty"):
            value = getattr(generation, name)
            if value is not None:
                kwargs[name] = value
        wavs, rate = self._model.generate_voice_clone(
            text=generation.text, language=generation.language, voice_clone_prompt=prompt, **kwargs
        )
        if rate != 24000:
            raise EngineError(f"Qwen3-TTS returned {rate} Hz audio; expected 24000")
        yield np.asarray(wavs[0], dtype=np.float32)

    def status(self) -> dict[str, Any]:
        out = {
            **super().status(),
            "device": self._device,
            "dtype": self._dtype,
            "prompts_made": self.prompts_made,
            "prompts_read": self.prompts_read,
        }
        try:
            import torch

            if self._device.startswith("cuda") and torch.cuda.is_available():
                out["cuda_allocated_mb"] = round(torch.cuda.memory_allocated(self._device) / 2**20, 1)
        except ImportError:
            pass
        return out
