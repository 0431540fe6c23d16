"""What ``voxhost doctor`` learns inside an engine's interpreter: ``<python> -m voxhost.probe`` (JSON in, JSON out).

Reads the engine's import spec, settings and context (as a worker's ``init`` frame) from stdin, builds the engine
without loading a model, and reports: the interpreter, each module of ``Engine.environment()`` imported (or the
error that stopped it), installed versions against the tested ones, the device torch or MLX would use, torchaudio's
state, and the configured models on disk. Heavy imports happen only here, never in the daemon.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from .engine import Engine, EngineContext
from .models import status, verify_manifest
from .worker import _import_engine

PLATFORM_FILE = ".voxhost-platform"
"""Written by envs/lib.sh into each worker environment: the platform and torch plan it was built with."""


def _error(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}".strip().splitlines()
    cause = err.__cause__ or err.__context__
    head = text[0] if text else type(err).__name__
    if cause is not None and str(cause) not in head:
        head += f" (caused by {type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''})"
    return head[:600]


def _imports(modules: tuple[str, ...]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for module in modules:
        try:
            importlib.import_module(module)
            out[module] = None
        except BaseException as err:  # an extension that fails to load raises OSError, RuntimeError, ...
            out[module] = _error(err)
    return out


def _versions(wanted: dict[str, str]) -> dict[str, dict[str, str | None]]:
    out = {}
    for dist, tested in wanted.items():
        try:
            installed: str | None = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        out[dist] = {"installed": installed, "tested": tested or None}
    return out


def _torch_device() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"torch": torch.__version__, "cuda_build": torch.version.cuda}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        free, total = torch.cuda.mem_get_info(0)
        info.update(
            device="cuda:0",
            name=props.name,
            capability=f"{props.major}.{props.minor}",
            memory_total=int(total),
            memory_free=int(free),
            devices=torch.cuda.device_count(),
        )
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        info.update(device="mps", name=platform.processor() or "Apple GPU")
    else:
        info.update(device="cpu", name=platform.processor() or platform.machine())
    return info


def _mlx_device() -> dict[str, Any]:
    import mlx.core as mx

    device = mx.default_device()
    kind = "gpu" if "gpu" in str(device).lower() else "cpu"
    info: dict[str, Any] = {"mlx": importlib.metadata.version("mlx"), "device": f"mlx {kind}"}
    info["name"] = "Metal" if kind == "gpu" else "MLX's CPU backend (no Metal here)"
    metal = getattr(mx, "metal", None)
    if metal is not None and metal.is_available():
        info["metal"] = True
        try:
            info["memory_total"] = int(metal.device_info().get("memory_size", 0))
        except Exception:  # older mlx: no device_info
            pass
    return info


def _torchaudio() -> dict[str, Any]:
    info: dict[str, Any] = {}
    if "torchaudio" in sys.modules:
        from torchaudio._extension import _IS_TORCHAUDIO_EXT_AVAILABLE

        info["extension"] = bool(_IS_TORCHAUDIO_EXT_AVAILABLE)
    plan = Path(sys.prefix, PLATFORM_FILE)
    if plan.is_file():
        info["plan"] = dict(line.split("=", 1) for line in plan.read_text().splitlines() if "=" in line)
    return info


def probe(header: dict[str, Any]) -> dict[str, Any]:
    """Everything doctor reports about one engine's environment."""
    cls: type[Engine] = _import_engine(header)
    context = EngineContext(**header["context"])
    engine = cls(cls.Settings.model_validate(header["settings"]), context)
    env = engine.environment()
    out: dict[str, Any] = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "imports": _imports(env.imports),
        "optional": _imports(tuple(env.optional)),
        "versions": _versions(env.versions),
    }
    try:
        if env.device == "torch" and out["imports"].get("torch", None) is None:
            out["device"] = _torch_device()
        elif env.device == "mlx" and all(err is None for err in out["imports"].values()):
            out["device"] = _mlx_device()
    except Exception as err:
        out["device_error"] = _error(err)
    out["torchaudio"] = _torchaudio()
    try:
        out["warnings"] = engine.self_check()
    except Exception as err:
        out["warnings"] = [f"self-check failed: {_error(err)}"]
    broken_files = getattr(engine, "broken_files", None)  # engines whose files open cheaply (Piper's voices)
    try:
        out["broken_files"] = broken_files() if broken_files is not None else []
    except Exception as err:
        out["warnings"].append(f"file check failed: {_error(err)}")
    rows = []
    for spec in engine.required_models():
        st = status(spec, context.models_dir, search_hf_cache=context.search_hf_cache)
        verified = verify_manifest(spec, st.path, hashes=bool(header.get("hashes"))) if st.path else None
        rows.append(
            {
                "name": spec.name,
                "repo": spec.repo,
                "path": str(st.path) if st.path else None,
                "size": st.size,
                "verified": verified,
                "pull": spec.pull_command,
            }
        )
    out["models"] = rows
    return out


def main() -> None:
    """Entry point of ``python -m voxhost.probe``: the report is the only line on stdout."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # packages that print keep the report clean
    sys.stdout = sys.stderr
    header = json.loads(sys.stdin.read())
    try:
        report = probe(header)
    except BaseException as err:
        report = {"error": _error(err)}
    out.write(json.dumps(report) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
