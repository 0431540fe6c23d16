"""The heavy half of the F5 engine (worker side): torch, f5-tts's loaders and its batch inference.

Only f5-tts's own entry points are used: ``load_model``, ``load_vocoder``, ``chunk_text`` and
``infer_batch_process`` (fed with audio already prepared by ``reference``, so torchaudio's file loading, which
needs torchcodec and FFmpeg, is never reached). f5-tts prints to stdout; that is sent to stderr so that a worker's
stdout stays clean.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import random
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .reference import PreparedReference
from .registry import SAMPLE_RATE, LanguageModel

_LOGGER = logging.getLogger(__name__)

BATCH_SECONDS = 22.0
"""F5 generates reference + text within about 30 s; text is cut into batches of about this much speech."""


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send f5-tts's prints to stderr."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def import_f5() -> Any:
    """Import f5-tts's inference module (slow: transformers, vocos, the trainer's imports)."""
    with quiet_stdout(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
        from f5_tts.infer import utils_infer
    return utils_infer


def pick_device(setting: str) -> str:
    """``auto``: CUDA, then MPS, then CPU; anything else is taken as a torch device string."""
    import torch

    if setting != "auto":
        return setting
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def half_allowed(device: str, capability_major: int | None) -> bool:
    """Float16 only on CUDA of compute capability 7 or newer; older GPUs (Pascal, Maxwell) stay float32, as in
    f5-tts itself, since their float16 is slow or emulated."""
    return device.startswith("cuda") and capability_major is not None and capability_major >= 7


def supports_half(device: str) -> bool:
    """Whether float16 is worth using on ``device`` (see ``half_allowed``)."""
    if not device.startswith("cuda"):
        return False
    import torch

    major = torch.cuda.get_device_properties(device).major if torch.cuda.is_available() else None
    return half_allowed(device, major)


def load_language_model(entry: LanguageModel, root: Path, device: str, *, half: bool) -> Any:
    """Build the entry's CFM+DiT with its vocab and load its checkpoint through f5-tts's ``load_model``.

    The checkpoint is read on the CPU: f5-tts casts the model to float16 *before* loading weights on CUDA, so
    ``half = False`` would otherwise run float32 on weights already rounded to float16, and a training checkpoint
    (optimizer state and all) would pass through device memory. The model then moves to ``device``, in float16
    only when ``half`` is asked for and the GPU supports it.
    """
    ui = import_f5()
    from f5_tts.model import DiT

    checkpoint = root / entry.checkpoint
    if entry.prune:
        from .prune import ensure_pruned

        checkpoint = ensure_pruned(checkpoint)
    with quiet_stdout():
        model = ui.load_model(
            DiT,
            entry.dit_kwargs(),
            str(checkpoint),
            mel_spec_type="vocos",
            vocab_file=str(root / entry.vocab),
            ode_method="euler",
            use_ema=True,
            device="cpu",
        )
    model = model.float().to(device)
    if half and supports_half(device):
        model = model.half()
    return model.eval()


def load_vocos(root: Path, device: str) -> Any:
    """Load Vocos from a local ``config.yaml`` + ``pytorch_model.bin`` through f5-tts's ``load_vocoder``."""
    ui = import_f5()
    with quiet_stdout():
        return ui.load_vocoder("vocos", is_local=True, local_path=str(root), device=device)


def release(device: str) -> None:
    """Give freed memory back after dropping a model."""
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
    elif device.startswith("mps"):
        import torch

        torch.mps.empty_cache()


def seed_all(seed: int) -> None:
    """Seed every generator F5 draws from."""
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


@dataclass(frozen=True)
class GenerationParams:
    """What one request asks of F5."""

    speed: float
    nfe_steps: int
    cfg_strength: float
    sway_sampling: float
    seed: int | None


def text_batches(text: str, ref: PreparedReference, speed: float) -> list[str]:
    """Cut ``text`` into batches F5 can speak in one pass after the reference (f5-tts's ``chunk_text``)."""
    ui = import_f5()
    room = max(BATCH_SECONDS - ref.seconds, 4.0)
    max_chars = max(40, int(len(ref.text.encode("utf-8")) / max(ref.seconds, 0.5) * room * speed))
    return [b for b in ui.chunk_text(text, max_chars=max_chars) if b.strip()]


def generate(
    model: Any, vocoder: Any, ref: PreparedReference, text: str, params: GenerationParams, device: str
) -> Iterator[np.ndarray]:
    """Speak ``text`` in the reference's voice; yields float32 24 kHz audio per text batch."""
    import torch

    ui = import_f5()
    audio = torch.from_numpy(ref.audio)[None]
    for i, batch in enumerate(text_batches(text, ref, params.speed)):
        if params.seed is not None:  # one seed per batch: the same request gives the same audio
            seed_all(params.seed + i)
        with quiet_stdout():
            wave, rate, _ = next(
                ui.infer_batch_process(
                    (audio, SAMPLE_RATE),
                    ref.text,
                    [batch],
                    model,
                    vocoder,
                    mel_spec_type="vocos",
                    progress=None,
                    target_rms=0.1,
                    cross_fade_duration=0.0,
                    nfe_step=params.nfe_steps,
                    cfg_strength=params.cfg_strength,
                    sway_sampling_coef=params.sway_sampling,
                    speed=params.speed,
                    device=device,
                )
            )
        if wave is None:
            continue
        assert rate == SAMPLE_RATE
        yield np.asarray(wave, dtype=np.float32).reshape(-1)
