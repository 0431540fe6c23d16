"""Tiny random Chatterbox models (English + multilingual) in the ResembleAI/chatterbox file layout.

Run with the Chatterbox worker python: ``python tests/engines/tiny/tiny_chatterbox.py MODELS_DIR`` writes
``MODELS_DIR/ResembleAI--chatterbox/`` with every file of both model specs, loadable by
``ChatterboxTTS/ChatterboxMultilingualTTS.from_local`` once ``shrink()`` has run in the loading process too
(Chatterbox keeps its sizes in code, not in files; ``site/sitecustomize.py`` calls it in a worker).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

LANGUAGE_IDS = [
    "ar",
    "da",
    "de",
    "el",
    "en",
    "es",
    "fi",
    "fr",
    "he",
    "hi",
    "it",
    "ja",
    "ko",
    "ms",
    "nl",
    "no",
    "pl",
    "pt",
    "ru",
    "sv",
    "sw",
    "tr",
    "zh",
]
_CHARS = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()") + list(
    "äöåéèüßàçñ\u0301\u0308\u0300\u0327\u0303日月金"
)
SAMPLE_RATE = 24000
_SHRUNK = False


def shrink() -> None:
    """Make Chatterbox's constructors build tiny modules (idempotent; call before building or loading)."""
    global _SHRUNK
    if _SHRUNK:
        return
    import chatterbox.models.s3gen.s3gen as s3gen_module
    import chatterbox.models.t3.llama_configs as llama_configs
    import chatterbox.models.t3.modules.cond_enc as cond_enc
    from chatterbox.models.t3.modules.t3_config import T3Config
    from s3tokenizer.model_v2 import S3TokenizerV2

    # Multilingual: 14 layers x 16 heads, as its alignment analyser hooks heads (9,2), (12,15), (13,11).
    small = dict(llama_configs.LLAMA_520M_CONFIG_DICT, hidden_size=64, intermediate_size=128)
    llama_configs.LLAMA_CONFIGS["Llama_520M"] = dict(
        small, num_hidden_layers=14, num_attention_heads=16, num_key_value_heads=16, head_dim=4
    )
    # English needs no hooks: 2 layers x 4 heads, under a name of its own.
    llama_configs.LLAMA_CONFIGS["Llama_tiny_en"] = dict(
        small, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4, head_dim=16
    )
    english_only = T3Config.english_only.__func__

    def tiny_english_only(cls: type) -> Any:
        config = english_only(cls)
        config.llama_config_name = "Llama_tiny_en"
        return config

    T3Config.english_only = classmethod(tiny_english_only)
    # chatterbox's S3Tokenizer passes no config, so S3TokenizerV2 uses its shared default ModelConfig.
    config = S3TokenizerV2.__init__.__defaults__[0]
    config.n_audio_state, config.n_audio_head, config.n_audio_layer = 128, 2, 1  # head dim stays 64 (rotary)

    def override(cls: Any, **small: Any) -> Any:
        def make(*args: Any, **kwargs: Any) -> Any:
            kwargs.update(small)
            return cls(*args, **kwargs)

        return make

    # output size stays 512: PreLookaheadLayer hard-codes it
    s3gen_module.UpsampleConformerEncoder = override(
        s3gen_module.UpsampleConformerEncoder, attention_heads=2, linear_units=128, num_blocks=1
    )
    s3gen_module.ConditionalDecoder = override(
        s3gen_module.ConditionalDecoder, channels=[64], attention_head_dim=16, n_blocks=1, num_mid_blocks=1, num_heads=2
    )
    s3gen_module.HiFTGenerator = override(s3gen_module.HiFTGenerator, base_channels=32)
    cond_enc.Perceiver = override(cond_enc.Perceiver, pre_attention_query_size=64, embedding_dim=64, num_attn_heads=4)
    _SHRUNK = True


def reference_tone(seconds: float, pitch: float, rate: int = SAMPLE_RATE) -> Any:
    """A voiced-sounding test signal: a few harmonics with a slow vibrato."""
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    f0 = pitch * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    wave = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (0.25 * wave * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t) ** 2)).astype(np.float32)


def _tokenizer(path: Path, multilingual: bool) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    specials = ["[STOP]", "[START]", "[UNK]", "[SPACE]"]
    if multilingual:
        specials += [f"[{code}]" for code in LANGUAGE_IDS]
    vocab = {token: i for i, token in enumerate(specials + _CHARS)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(pattern="", behavior="isolated")
    tok.add_special_tokens(specials)
    tok.save(str(path))


def build(models_dir: Path, seed: int = 0) -> Path:
    """Write both tiny models into ``models_dir/ResembleAI--chatterbox``; returns that directory."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    shrink()
    import soundfile
    import torch
    from chatterbox.models.s3gen.s3gen import S3Token2Wav
    from chatterbox.models.t3 import T3
    from chatterbox.models.t3.modules.t3_config import T3Config
    from chatterbox.models.voice_encoder import VoiceEncoder
    from chatterbox.tts import ChatterboxTTS, Conditionals
    from safetensors.torch import save_file

    root = Path(models_dir) / "ResembleAI--chatterbox"
    root.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)

    def state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
        return {k: v.contiguous() for k, v in module.state_dict().items()}

    # English: safetensors files
    ve, s3 = VoiceEncoder(), S3Token2Wav()
    save_file(state(ve), str(root / "ve.safetensors"))
    save_file(state(T3(T3Config.english_only())), str(root / "t3_cfg.safetensors"))
    save_file(state(s3), str(root / "s3gen.safetensors"))
    _tokenizer(root / "tokenizer.json", multilingual=False)
    # Multilingual: torch pickles for VE and S3Gen (the same weights, as upstream ships), its own T3
    torch.save(ve.state_dict(), root / "ve.pt")
    torch.save(s3.state_dict(), root / "s3gen.pt")
    save_file(state(T3(T3Config.multilingual())), str(root / "t3_mtl23ls_v2.safetensors"))
    _tokenizer(root / "grapheme_mtl_merged_expanded_v1.json", multilingual=True)
    (root / "Cangjie5_TC.json").write_text(json.dumps(["日\ta", "月\tb", "金\tc"]), encoding="utf-8")

    # The bundled voice: conditionals of a reference tone, computed by the English model itself.
    reference = root.parent / "tiny-chatterbox-builtin.wav"
    soundfile.write(reference, reference_tone(4.0, 140.0), SAMPLE_RATE)
    import perth

    saved = perth.PerthImplicitWatermarker
    perth.PerthImplicitWatermarker = perth.DummyWatermarker  # construction only; nothing is generated
    try:
        model = ChatterboxTTS.from_local(str(root), "cpu")
    finally:
        perth.PerthImplicitWatermarker = saved
    model.prepare_conditionals(str(reference), exaggeration=0.5)
    conds: Conditionals = model.conds
    conds.save(root / "conds.pt")
    reference.unlink()
    return root


def main() -> None:
    """CLI: build into the directory given as the only argument."""
    if len(sys.argv) != 2:
        sys.exit("usage: tiny_chatterbox.py MODELS_DIR")
    from once import built_once  # beside this file (run as a script)

    start = time.perf_counter()
    dest = Path(sys.argv[1])
    built_once(dest, [], lambda: str(build(dest)))
    print(f"tiny chatterbox models in {dest} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
