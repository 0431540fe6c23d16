"""Build tiny random F5-TTS models and a tiny Vocos in the published repositories' file layouts.

Run with an F5 worker environment's python: ``f5_tiny.py MODELS_DIR``. Writes ``<MODELS_DIR>/<org>--<repo>/...``
for an English model (SWivid/F5-TTS, v1-style flags, safetensors, the packaged vocab), a French model
(RASPIAUDIO/..., old-base flags, a ``.pt`` with ``ema_model_state_dict``, its own smaller vocab, so that a wrong
vocab/checkpoint pairing fails to load) and the vocoder (charactr/vocos-mel-24khz). Prints, as JSON, the
``[engines.f5.models]`` overrides a test needs: the registry entries with the tiny architectures.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from importlib.resources import files
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TINY = dict(dim=64, depth=2, heads=2, dim_head=32, ff_mult=2, text_dim=32, conv_layers=1)
V1_FLAGS = dict(text_mask_padding=True, qk_norm=None, pe_attn_head=None)
BASE_FLAGS = dict(text_mask_padding=False, pe_attn_head=1)
MEL = dict(
    n_fft=1024, hop_length=256, win_length=1024, n_mel_channels=100, target_sample_rate=24000, mel_spec_type="vocos"
)
FRENCH_CHARS = (
    " abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-()àâçéèêëîïôûùüÿœæÀÂÇÉÈÊËÎÏÔÛÙÜŸ"
)


def build_vocos(root: Path) -> None:
    """config.yaml with the real class paths and small widths; the state dict as pytorch_model.bin."""
    import torch
    import yaml
    from vocos import Vocos

    root.mkdir(parents=True, exist_ok=True)
    cfg = {
        "feature_extractor": {
            "class_path": "vocos.feature_extractors.MelSpectrogramFeatures",
            "init_args": {"sample_rate": 24000, "n_fft": 1024, "hop_length": 256, "n_mels": 100, "padding": "center"},
        },
        "backbone": {
            "class_path": "vocos.models.VocosBackbone",
            "init_args": {"input_channels": 100, "dim": 32, "intermediate_dim": 64, "num_layers": 1},
        },
        "head": {
            "class_path": "vocos.heads.ISTFTHead",
            "init_args": {"dim": 32, "n_fft": 1024, "hop_length": 256, "padding": "center"},
        },
    }
    (root / "config.yaml").write_text(yaml.safe_dump(cfg))
    torch.save(Vocos.from_hparams(str(root / "config.yaml")).state_dict(), root / "pytorch_model.bin")


def build_f5(ckpt: Path, vocab: Path, arch: dict, seed: int) -> None:
    """A random CFM+DiT sized by ``arch`` for ``vocab``, saved the way released checkpoints are."""
    import torch
    from f5_tts.model import CFM, DiT
    from f5_tts.model.utils import get_tokenizer

    torch.manual_seed(seed)
    vocab_map, vocab_size = get_tokenizer(str(vocab), "custom")
    model = CFM(
        transformer=DiT(**arch, text_num_embeds=vocab_size, mel_dim=100), mel_spec_kwargs=MEL, vocab_char_map=vocab_map
    )
    # DiT zero-initialises its output projections, so a fresh model predicts no motion at all and every model
    # would turn the same noise into the same audio; small random weights there make each tiny model its own.
    with torch.no_grad():
        for param in model.parameters():
            if not param.any():
                param.normal_(0.0, 0.05)
    ema = {"ema_model." + k: v.contiguous() for k, v in model.state_dict().items()}
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    if ckpt.suffix == ".safetensors":  # released safetensors hold the EMA weights
        from safetensors.torch import save_file

        save_file(ema, str(ckpt))
    else:  # released .pt files pruned to EMA
        torch.save({"ema_model_state_dict": {"initted": torch.tensor(True), "step": torch.tensor(1), **ema}}, ckpt)


def main(models_dir: str) -> dict:
    root = Path(models_dir)
    packaged_vocab = Path(str(files("f5_tts").joinpath("infer/examples/vocab.txt")))
    en = root / "SWivid--F5-TTS" / "F5TTS_v1_Base"
    en.mkdir(parents=True, exist_ok=True)
    shutil.copy(packaged_vocab, en / "vocab.txt")
    build_f5(en / "model_1250000.safetensors", en / "vocab.txt", {**TINY, **V1_FLAGS}, seed=1)
    fr = root / "RASPIAUDIO--F5-French-MixedSpeakers-reduced"
    fr.mkdir(parents=True, exist_ok=True)
    (fr / "vocab.txt").write_text("".join(ch + "\n" for ch in FRENCH_CHARS), encoding="utf-8")
    build_f5(fr / "model_last_reduced.pt", fr / "vocab.txt", {**TINY, **BASE_FLAGS}, seed=2)
    build_vocos(root / "charactr--vocos-mel-24khz")
    return {
        "en": {
            "repo": "SWivid/F5-TTS",
            "checkpoint": "F5TTS_v1_Base/model_1250000.safetensors",
            "vocab": "F5TTS_v1_Base/vocab.txt",
            "arch": {**TINY, **V1_FLAGS},
            "locale": "en_US",
        },
        "fr": {
            "repo": "RASPIAUDIO/F5-French-MixedSpeakers-reduced",
            "checkpoint": "model_last_reduced.pt",
            "vocab": "vocab.txt",
            "arch": {**TINY, **BASE_FLAGS},
            "locale": "fr_FR",
        },
    }


if __name__ == "__main__":
    from once import built_once  # beside this file (run as a script)

    print(json.dumps(built_once(Path(sys.argv[1]), sys.argv[2:], lambda: main(sys.argv[1]))))
