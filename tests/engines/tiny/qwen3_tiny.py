"""Build a tiny random Qwen3-TTS-12Hz Base model in the Hugging Face layout (run with the qwen worker python).

The directory has the published file set (config.json, generation_config.json, model.safetensors, the Qwen2 BPE
tokenizer files, speech_tokenizer/) so that both ``qwen_tts.Qwen3TTSModel.from_pretrained`` and
``mlx_audio.tts.utils.load_model`` load it through their real code paths.

Widths: mlx-audio guesses whether a conv weight is in PyTorch or MLX layout from its shape (a kernel-1 conv is
taken as PyTorch layout only when it has more than 64 input channels), so every kernel-1 conv here has more than 64
inputs. The speech decoder makes ``--samples-per-frame`` samples per codec frame (the real one makes 1920): fewer
samples keep the convolutions cheap on a CPU, where mlx is slow; 1920 gives real-length audio.

Usage: python qwen3_tiny.py DEST [--samples-per-frame 60|1920] [--seed 0]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Decoder upsampling stages per samples-per-frame: (upsampling_ratios, upsample_rates, decoder_dim).
# decoder_dim // 2**len(rates) must exceed 64 (see above); each transposed conv has more outputs than its kernel.
_DECODERS: dict[int, tuple[tuple[int, ...], tuple[int, ...], int]] = {
    60: ((2, 2), (5, 3), 260),
    1920: ((2, 2), (8, 5, 4, 3), 1088),
}
# Codec language ids as laid out in the published configs (a subset suffices for a random model).
_LANGUAGES = {"english": 2050, "german": 2053, "chinese": 2055, "french": 2061}


def _text_tokenizer(dest: Path):
    """A 400-token byte-level BPE with the ChatML specials, saved as a Qwen2 tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Qwen2TokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    corpus = ["hello world this is a tiny test of text to speech for the voxhost assistant"] * 10
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(corpus, trainer)
    tok = Qwen2TokenizerFast(
        tokenizer_object=bpe, unk_token=None, bos_token=None, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tok.save_pretrained(dest)
    return tok


def _talker(dest: Path, tok) -> None:
    from qwen_tts.core.models import Qwen3TTSConfig, Qwen3TTSForConditionalGeneration
    from qwen_tts.core.models.configuration_qwen3_tts import (
        Qwen3TTSSpeakerEncoderConfig,
    )

    n_text = len(tok)
    hidden = 32
    cfg = Qwen3TTSConfig(
        tokenizer_type="qwen3_tts_tokenizer_12hz",
        tts_model_size="0b6",
        tts_model_type="base",
        im_start_token_id=tok.convert_tokens_to_ids("<|im_start|>"),
        im_end_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        # pad/bos/eos are text-embedding rows just past the tokenizer's vocabulary
        tts_pad_token_id=n_text,
        tts_bos_token_id=n_text + 1,
        tts_eos_token_id=n_text + 2,
        speaker_encoder_config=dict(
            mel_dim=128,
            enc_dim=hidden,
            enc_channels=[128, 128, 128, 128, 384],
            enc_attention_channels=128,
            enc_res2net_scale=2,
            enc_se_channels=128,
            sample_rate=24000,
        ),
        talker_config=dict(
            vocab_size=3072,
            hidden_size=hidden,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=8,
            max_position_embeddings=4096,
            rope_theta=10000,
            rope_scaling={"rope_type": "default", "mrope_section": [2, 1, 1], "interleaved": True},
            num_code_groups=16,
            text_hidden_size=hidden,
            text_vocab_size=n_text + 16,
            codec_pad_id=2148,
            codec_bos_id=2149,
            codec_eos_token_id=2150,
            codec_think_id=2154,
            codec_nothink_id=2155,
            codec_think_bos_id=2156,
            codec_think_eos_id=2157,
            codec_language_id=dict(_LANGUAGES),
            spk_id={},
            spk_is_dialect={},
            code_predictor_config=dict(
                vocab_size=2048,
                hidden_size=hidden,
                intermediate_size=64,
                num_hidden_layers=1,
                num_attention_heads=4,
                num_key_value_heads=2,
                head_dim=8,
                num_code_groups=16,
                max_position_embeddings=64,
            ),
        ),
    )
    model = Qwen3TTSForConditionalGeneration(cfg).eval()
    model.save_pretrained(dest, safe_serialization=True)
    # save_pretrained adds config bookkeeping keys to the nested speaker encoder config, whose __init__ takes no
    # **kwargs; the published config.json holds only its parameters.
    path = dest / "config.json"
    config = json.loads(path.read_text())
    allowed = set(inspect.signature(Qwen3TTSSpeakerEncoderConfig.__init__).parameters)
    config["speaker_encoder_config"] = {k: v for k, v in config["speaker_encoder_config"].items() if k in allowed}
    path.write_text(json.dumps(config, indent=1))
    generation = {
        "do_sample": True,
        "top_k": 50,
        "top_p": 1.0,
        "temperature": 0.9,
        "repetition_penalty": 1.05,
        "subtalker_dosample": True,
        "subtalker_top_k": 50,
        "subtalker_top_p": 1.0,
        "subtalker_temperature": 0.9,
        "max_new_tokens": 16,
    }
    (dest / "generation_config.json").write_text(json.dumps(generation, indent=1))


def _speech_tokenizer(dest: Path, samples_per_frame: int) -> None:
    from qwen_tts.core import Qwen3TTSTokenizerV2Config, Qwen3TTSTokenizerV2Model
    from transformers import EncodecFeatureExtractor

    ratios, rates, decoder_dim = _DECODERS[samples_per_frame]
    cfg = Qwen3TTSTokenizerV2Config(
        encoder_config=dict(
            hidden_size=32,
            num_filters=4,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=2,
            head_dim=16,
            intermediate_size=64,
            codebook_dim=128,
            vector_quantization_hidden_dimension=128,
            codebook_size=2048,
            num_quantizers=16,
            num_semantic_quantizers=1,
            upsampling_ratios=[8, 6, 5, 4],
            frame_rate=12.5,
            upsample_groups=32,
            sampling_rate=24000,
            use_streaming=False,
        ),
        decoder_config=dict(
            codebook_size=2048,
            hidden_size=128,
            latent_dim=128,
            num_attention_heads=2,
            num_key_value_heads=2,
            intermediate_size=64,
            num_hidden_layers=1,
            num_quantizers=16,
            upsample_rates=rates,
            upsampling_ratios=ratios,
            decoder_dim=decoder_dim,
            codebook_dim=256,
        ),
        encoder_valid_num_quantizers=16,
        input_sample_rate=24000,
        output_sample_rate=24000,
        decode_upsample_rate=samples_per_frame,
        encode_downsample_rate=1920,
    )
    import torch

    model = Qwen3TTSTokenizerV2Model(cfg).eval()
    # Codebooks start empty (their sums are learned statistics), which would decode every code to silence.
    with torch.no_grad():
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            if name.endswith("embedding_sum"):
                tensor.normal_()
    sub = dest / "speech_tokenizer"
    model.save_pretrained(sub, safe_serialization=True)
    EncodecFeatureExtractor(feature_size=1, sampling_rate=24000, padding_value=0.0).save_pretrained(sub)


def build(dest: Path, *, samples_per_frame: int = 60, seed: int = 0) -> Path:
    """Write the tiny model into ``dest`` (created) and return it."""
    import torch

    if samples_per_frame not in _DECODERS:
        raise ValueError(f"samples_per_frame must be one of {sorted(_DECODERS)}")
    torch.manual_seed(seed)
    (dest / "speech_tokenizer").mkdir(parents=True, exist_ok=True)
    tok = _text_tokenizer(dest)
    _talker(dest, tok)
    _speech_tokenizer(dest, samples_per_frame)
    return dest


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--samples-per-frame", type=int, default=60, choices=sorted(_DECODERS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from once import built_once  # beside this file (run as a script)

    key = ["--samples-per-frame", str(args.samples_per_frame), "--seed", str(args.seed)]
    built_once(args.dest, key, lambda: str(build(args.dest, samples_per_frame=args.samples_per_frame, seed=args.seed)))
    print(args.dest)


if __name__ == "__main__":
    main()
