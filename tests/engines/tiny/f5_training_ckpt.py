"""A tiny F5 *training* checkpoint, as some published language models are (the Japanese one: model, EMA model,
optimizer and scheduler state in one 5.4 GB ``.pt``), and a check that a pruned copy loads the same EMA weights.

Run with the F5 worker environment's python:
``f5_training_ckpt.py build MODELS_DIR`` writes ``Jmica--F5TTS/JA_21999120/model_21999120.pt`` and its vocab and
prints the registry entry; ``f5_training_ckpt.py compare ORIGINAL.pt PRUNED.safetensors`` loads both through
f5-tts's own ``load_checkpoint`` and prints whether every weight is equal.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from importlib.resources import files
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from f5_tiny import BASE_FLAGS, MEL, TINY

ARCH = {**TINY, **BASE_FLAGS}


def model(vocab: Path):
    import torch
    from f5_tts.model import CFM, DiT
    from f5_tts.model.utils import get_tokenizer

    vocab_map, vocab_size = get_tokenizer(str(vocab), "custom")
    torch.manual_seed(3)
    cfm = CFM(
        transformer=DiT(**ARCH, text_num_embeds=vocab_size, mel_dim=100), mel_spec_kwargs=MEL, vocab_char_map=vocab_map
    )
    with torch.no_grad():
        for param in cfm.parameters():
            if not param.any():
                param.normal_(0.0, 0.05)
    return cfm


def build(models_dir: str) -> dict:
    import torch

    root = Path(models_dir) / "Jmica--F5TTS" / "JA_21999120"
    root.mkdir(parents=True, exist_ok=True)
    vocab = root / "vocab_japanese.txt"
    shutil.copy(Path(str(files("f5_tts").joinpath("infer/examples/vocab.txt"))), vocab)
    cfm = model(vocab)
    optimizer = torch.optim.AdamW(cfm.parameters(), lr=1e-4)
    for param in cfm.parameters():  # one training step: the optimizer holds two moments per weight
        param.grad = torch.randn_like(param) * 1e-3
    optimizer.step()
    ema = {"ema_model." + k: (v + 0.01).contiguous() for k, v in cfm.state_dict().items()}  # EMA differs from model
    checkpoint = {
        "model_state_dict": cfm.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "ema_model_state_dict": {"initted": torch.tensor(True), "step": torch.tensor(21999120), **ema},
        "scheduler_state_dict": {"last_epoch": 1, "_step_count": 2},
        "update": 21999120,
    }
    torch.save(checkpoint, root / "model_21999120.pt")
    return {
        "repo": "Jmica/F5TTS",
        "checkpoint": "JA_21999120/model_21999120.pt",
        "vocab": "JA_21999120/vocab_japanese.txt",
        "arch": ARCH,
        "locale": "ja_JP",
        "prune": True,
    }


def compare(original: str, pruned: str) -> dict:
    import torch
    from f5_tts.infer.utils_infer import load_checkpoint

    vocab = Path(pruned).parent / "vocab_japanese.txt"
    a = load_checkpoint(model(vocab), original, "cpu", dtype=torch.float32, use_ema=True).state_dict()
    b = load_checkpoint(model(vocab), pruned, "cpu", dtype=torch.float32, use_ema=True).state_dict()
    return {"keys": len(a), "same_keys": a.keys() == b.keys(), "equal": all(torch.equal(a[k], b[k]) for k in a)}


if __name__ == "__main__":
    if sys.argv[1] == "build":
        print(json.dumps(build(sys.argv[2])))
    else:
        print(json.dumps(compare(sys.argv[2], sys.argv[3])))
