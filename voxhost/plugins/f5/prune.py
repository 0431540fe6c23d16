"""Prune an F5 training checkpoint to its EMA weights, without torch: ``model.pt`` → ``model.ema.safetensors``.

Some published F5 models are whole training checkpoints (the Japanese one is 5.4 GB: model, EMA model, optimizer
state). f5-tts loads such a ``.pt`` whole onto the device before keeping the EMA weights; its own tool
(``prune_checkpoint`` in ``train/finetune_gradio.py``) keeps only ``ema_model_state_dict``. Done here at pull time
(and at load, for a checkpoint copied in by hand) so that the language loads like the others.

No torch is needed, so it runs in the daemon's own environment: a ``torch.save`` file is a zip of ``data.pkl`` and
one raw little-endian file per storage. The pickle is read with stand-ins for torch's classes (tensors become
(storage, offset, shape, stride) records, storages stay unread references); only the storages the EMA weights use
are then read and written out as safetensors, which f5-tts loads as EMA weights. The result is verified by reading
it back: every tensor's bytes against a hash taken while writing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import EngineError
from ...models import MANIFEST, ModelSpec
from ...replacing import replacing

_LOGGER = logging.getLogger(__name__)

PRUNED_SUFFIX = ".ema.safetensors"

# torch storage class → (safetensors dtype, bytes per element)
_DTYPES = {
    "FloatStorage": ("F32", 4),
    "HalfStorage": ("F16", 2),
    "BFloat16Storage": ("BF16", 2),
    "DoubleStorage": ("F64", 8),
    "LongStorage": ("I64", 8),
    "IntStorage": ("I32", 4),
    "ShortStorage": ("I16", 2),
    "CharStorage": ("I8", 1),
    "ByteStorage": ("U8", 1),
    "BoolStorage": ("BOOL", 1),
}
_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


@dataclass(frozen=True)
class _Storage:
    key: str
    dtype: str
    itemsize: int
    numel: int


@dataclass(frozen=True)
class _Tensor:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


class _Stub:
    """Stands in for any class or function of the pickle that is not a tensor (optimizer, schedulers...)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _rebuild_tensor(storage: _Storage, offset: int, shape: Any, stride: Any, *_: Any) -> _Tensor:
    return _Tensor(storage, int(offset), tuple(int(n) for n in shape), tuple(int(n) for n in stride))


def _rebuild_parameter(data: Any, *_: Any) -> Any:
    return data


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name.startswith("_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch._tensor" and name == "_rebuild_from_type_v2":
            return lambda func, new_type, args, state: func(*args)
        if module == "torch" and name in _DTYPES:
            return name  # a storage type: only its name matters
        return type(name, (_Stub,), {"__module__": f"stub.{module}"})

    def persistent_load(self, pid: Any) -> Any:
        kind, storage_type, key, _location, numel = pid
        if kind != "storage" or storage_type not in _DTYPES:
            raise pickle.UnpicklingError(f"unsupported storage {storage_type!r} in the checkpoint")
        dtype, itemsize = _DTYPES[storage_type]
        return _Storage(str(key), dtype, itemsize, int(numel))


def _ema_tensors(archive: zipfile.ZipFile) -> tuple[str, dict[str, _Tensor]]:
    pickles = [name for name in archive.namelist() if name.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise EngineError("not a zip-format torch checkpoint (data.pkl missing); prune it with f5-tts instead")
    prefix = pickles[0][: -len("data.pkl")]
    with archive.open(pickles[0]) as handle:
        checkpoint = _Unpickler(handle).load()
    ema = checkpoint.get("ema_model_state_dict") if isinstance(checkpoint, dict) else None
    if not isinstance(ema, dict) or not ema:
        raise EngineError("the checkpoint has no ema_model_state_dict to keep")
    tensors = {str(name): value for name, value in ema.items() if isinstance(value, _Tensor)}
    return prefix, tensors


def _tensor_bytes(tensor: _Tensor, storage: bytes) -> bytes:
    item = tensor.storage.itemsize
    numel = math.prod(tensor.shape)
    contiguous = tuple(math.prod(tensor.shape[i + 1 :]) for i in range(len(tensor.shape)))
    if numel == 0:
        return b""
    if tensor.stride == contiguous or numel == 1:
        return storage[tensor.offset * item : (tensor.offset + numel) * item]
    flat = np.frombuffer(storage, dtype=_UINT[item])
    view = np.lib.stride_tricks.as_strided(
        flat[tensor.offset :], shape=tensor.shape, strides=tuple(s * item for s in tensor.stride)
    )
    return np.ascontiguousarray(view).tobytes()


def prune_file(source: Path, target: Path) -> dict[str, Any]:
    """Write ``source``'s EMA weights to ``target`` (safetensors) and verify it; returns a summary.

    The header comes from the shapes alone, so the weights stream through one storage at a time.
    """
    with zipfile.ZipFile(source) as archive:
        prefix, tensors = _ema_tensors(archive)
        names = sorted(tensors)
        header: dict[str, Any] = {"__metadata__": {"format": "pt", "pruned_from": source.name}}
        offset = 0
        for name in names:
            tensor = tensors[name]
            size = math.prod(tensor.shape) * tensor.storage.itemsize
            header[name] = {
                "dtype": tensor.storage.dtype,
                "shape": list(tensor.shape),
                "data_offsets": [offset, offset + size],
            }
            offset += size
        encoded = json.dumps(header, separators=(",", ":")).encode()
        encoded += b" " * (-len(encoded) % 8)
        hashes: dict[str, str] = {}
        cache: dict[str, bytes] = {}
        with replacing(target) as part:  # a failure or a crash part-way leaves no half-written weights
            with part.open("wb") as out:
                out.write(struct.pack("<Q", len(encoded)))
                out.write(encoded)
                for name in names:
                    tensor = tensors[name]
                    key = tensor.storage.key
                    if key not in cache:
                        cache = {key: archive.read(f"{prefix}data/{key}")}  # one storage in memory at a time
                    data = _tensor_bytes(tensor, cache[key])
                    start, end = header[name]["data_offsets"]
                    if len(data) != end - start:
                        raise EngineError(
                            f"tensor {name} of {source.name} is truncated ({len(data)} of {end - start} bytes)"
                        )
                    hashes[name] = hashlib.sha256(data).hexdigest()
                    out.write(data)
            verify_pruned(part, hashes)
    summary = {"tensors": len(tensors), "bytes": target.stat().st_size, "source_bytes": source.stat().st_size}
    _LOGGER.info("pruned %s to its EMA weights: %s (%s)", source, target, summary)
    return summary


def _read_safetensors(path: Path) -> Iterator[tuple[str, dict[str, Any], bytes]]:
    with path.open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
        base = 8 + length
        for name, info in header.items():
            if name == "__metadata__":
                continue
            start, end = info["data_offsets"]
            handle.seek(base + start)
            yield name, info, handle.read(end - start)


def verify_pruned(path: Path, hashes: dict[str, str]) -> None:
    """Read a pruned file back: every tensor present, of its shape's size, with the bytes that were written."""
    seen = set()
    for name, info, data in _read_safetensors(path):
        itemsize = next(size for dtype, size in _DTYPES.values() if dtype == info["dtype"])
        if len(data) != math.prod(info["shape"]) * itemsize or hashlib.sha256(data).hexdigest() != hashes.get(name):
            raise EngineError(f"the pruned checkpoint {path} does not read back as written ({name})")
        seen.add(name)
    if seen != set(hashes):
        raise EngineError(f"the pruned checkpoint {path} lacks {sorted(set(hashes) - seen)[:5]}")


def pruned_path(checkpoint: Path) -> Path:
    """Where the EMA weights of ``checkpoint`` go: ``model.pt`` → ``model.ema.safetensors``."""
    return checkpoint.with_name(checkpoint.name.removesuffix(".pt") + PRUNED_SUFFIX)


def ensure_pruned(checkpoint: Path) -> Path:
    """The EMA-only file of a training checkpoint, made (and the 5 GB original removed) when missing."""
    target = pruned_path(checkpoint)
    if target.is_file():
        return target
    if not checkpoint.is_file():
        raise EngineError(f"neither {target} nor {checkpoint} exists")
    prune_file(checkpoint, target)
    checkpoint.unlink()
    return target


def prune_pulled(spec: ModelSpec, root: Path) -> None:
    """``ModelSpec.after_pull`` of a training checkpoint: prune it and record the pruned file in the manifest."""
    checkpoints = [path for path in root.glob(spec.files[0]) if path.suffix == ".pt"]
    manifest_path = root / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {"repo": spec.repo, "files": {}}
    for checkpoint in checkpoints:
        target = ensure_pruned(checkpoint)
        rel_old = checkpoint.relative_to(root).as_posix()
        rel_new = target.relative_to(root).as_posix()
        manifest["files"].pop(rel_old, None)
        digest = hashlib.sha256()
        with target.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        manifest["files"][rel_new] = {"size": target.stat().st_size, "algo": "sha256", "hash": digest.hexdigest()}
    with replacing(manifest_path) as part:  # a torn manifest would make the pruned weights read as unverified
        part.write_text(json.dumps(manifest, indent=1))
