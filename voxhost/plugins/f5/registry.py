"""F5-TTS's language registry and settings: which checkpoint, vocab and architecture speak each language.

The registry is data: the built-in entries below are the published single-language F5 models; a user adds or
overrides entries under ``[engines.f5.models.<language>]``. Checkpoint, vocab and architecture belong together:
loading a checkpoint with the wrong architecture fails or silently degrades quality.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...engine import EngineOptions, EngineSettings, ModelSpec

ENGINE_ID = "f5"
SAMPLE_RATE = 24000

# DiT keyword arguments of the published architectures (f5_tts/configs/*.yaml).
ARCHITECTURES: dict[str, dict[str, Any]] = {
    # F5TTS_v1_Base
    "v1": dict(
        dim=1024,
        depth=22,
        heads=16,
        ff_mult=2,
        text_dim=512,
        text_mask_padding=True,
        qk_norm=None,
        conv_layers=4,
        pe_attn_head=None,
    ),
    # F5TTS_Base: the older base that most community fine-tunes start from
    "base": dict(
        dim=1024, depth=22, heads=16, ff_mult=2, text_dim=512, text_mask_padding=False, conv_layers=4, pe_attn_head=1
    ),
    # F5TTS_Small
    "small": dict(
        dim=768, depth=18, heads=12, ff_mult=2, text_dim=512, text_mask_padding=False, conv_layers=4, pe_attn_head=1
    ),
}
_RUNTIME_ARCH = dict(attn_backend="torch", attn_mask_enabled=False, checkpoint_activations=False)


class LanguageModel(BaseModel):
    """One registry entry: the model that speaks a language."""

    model_config = ConfigDict(extra="forbid")

    repo: str
    """Hugging Face repository."""
    checkpoint: str
    """Checkpoint file in the repository (``.safetensors`` of EMA weights, or ``.pt`` with ``ema_model_state_dict``)."""
    vocab: str
    """The vocab file trained with that checkpoint."""
    arch: Literal["v1", "base", "small"] | dict[str, Any]
    """``v1`` (F5TTS_v1_Base), ``base`` (F5TTS_Base), ``small`` (F5TTS_Small), or DiT keyword arguments."""
    locale: str
    """The language in ``fr_FR`` form, as voices advertise it."""
    revision: str | None = None
    reference: str | None = None
    """A reference WAV for this language's default voice (else the engine-wide default reference)."""
    reference_text: str | None = None
    """Exact transcript of ``reference``."""
    prune: bool = False
    """``checkpoint`` is a whole training checkpoint (optimizer state and all): keep only its EMA weights, as
    ``<name>.ema.safetensors``, when it is pulled (or first loaded), and delete the original."""

    def dit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``f5_tts.model.DiT``."""
        arch = ARCHITECTURES[self.arch] if isinstance(self.arch, str) else self.arch
        return {**_RUNTIME_ARCH, **arch}


_SWIVID = dict(
    repo="SWivid/F5-TTS",
    checkpoint="F5TTS_v1_Base/model_1250000.safetensors",
    vocab="F5TTS_v1_Base/vocab.txt",
    arch="v1",
)

DEFAULT_MODELS: dict[str, dict[str, Any]] = {
    "en": {**_SWIVID, "locale": "en_US"},
    "zh": {**_SWIVID, "locale": "zh_CN"},
    "fi": dict(
        repo="AsmoKoskinen/F5-TTS_Finnish_Model",
        locale="fi_FI",
        arch="base",
        checkpoint="model_common_voice_fi_vox_populi_fi_20241206.safetensors",
        vocab="vocab.txt",
    ),
    "fr": dict(
        repo="RASPIAUDIO/F5-French-MixedSpeakers-reduced",
        locale="fr_FR",
        arch="base",
        checkpoint="model_last_reduced.pt",
        vocab="vocab.txt",
    ),
    "hi": dict(
        repo="SPRINGLab/F5-Hindi-24KHz",
        locale="hi_IN",
        arch="small",
        checkpoint="model_2500000.safetensors",
        vocab="vocab.txt",
    ),
    "it": dict(
        repo="alien79/F5-TTS-italian",
        locale="it_IT",
        arch="base",
        checkpoint="model_159600.safetensors",
        vocab="vocab.txt",
    ),
    "ja": dict(
        repo="Jmica/F5TTS",
        locale="ja_JP",
        arch="base",
        checkpoint="JA_21999120/model_21999120.pt",
        vocab="JA_21999120/vocab_japanese.txt",
        prune=True,  # 5.4 GB with the optimizer state; about 1.35 GB of EMA weights
    ),
    "ru": dict(
        repo="hotstone228/F5-TTS-Russian",
        locale="ru_RU",
        arch="base",
        checkpoint="model_last.safetensors",
        vocab="vocab.txt",
    ),
    "es": dict(
        repo="jpgallegoar/F5-Spanish",
        locale="es_ES",
        arch="base",
        checkpoint="model_1200000.safetensors",
        vocab="vocab.txt",
    ),
}


class Vocoder(BaseModel):
    """The Vocos vocoder (mel → waveform) every F5 model here uses."""

    model_config = ConfigDict(extra="forbid")

    repo: str = "charactr/vocos-mel-24khz"
    revision: str | None = None


class F5Options(EngineOptions):
    """Per-request options; unset ones take the engine's configured defaults."""

    nfe_steps: int | None = Field(None, ge=1, le=128, description="Flow-matching steps (quality vs speed).")
    cfg_strength: float | None = Field(None, ge=0.0, le=10.0, description="Classifier-free guidance strength.")
    sway_sampling: float | None = Field(None, ge=-1.0, le=1.0, description="Sway sampling coefficient.")
    cross_fade: float | None = Field(None, ge=0.0, le=1.0, description="Cross-fade between text batches, s.")
    trim_silence: bool | None = Field(None, description="Trim leading and trailing silence of each sentence.")


class F5Settings(EngineSettings):
    """``[engines.f5]``."""

    models: dict[str, LanguageModel] = Field(default_factory=dict)
    """Registry entries added or overriding the built-in ones, keyed by ISO 639-1 language."""
    languages: list[str] | None = None
    """Languages to offer; a request in another (its own language, or its cloned voice's) is refused as the
    client's error, naming these. Unset: every registry language whose model files are installed."""
    vocoder: Vocoder = Field(default_factory=Vocoder)
    device: str = "auto"
    """``auto`` (CUDA, then MPS, then CPU), or a torch device string."""
    half_precision: bool = True
    """Run the model in float16 on CUDA (compute capability 7 and up)."""
    default_reference: str | None = None
    """Reference WAV for requests without a cloned voice; unset: one is made with the bundled Piper voice."""
    default_reference_text: str | None = None
    """Exact transcript of ``default_reference`` (required with it)."""
    default_reference_language: str = "en"
    """The language spoken in ``default_reference``: it serves that language's built-in voice only (each F5 model
    is trained on one language; other languages take their own reference, see docs/f5.md)."""
    preload_languages: list[str] = Field(default_factory=list)
    """Language models to load when the engine loads (``["*"]``: all offered); others load on first use."""
    model_idle_unload: float = Field(0.0, ge=0.0)
    """Unload a language model after this many seconds unused; 0 keeps it (the engine-wide ``idle_unload``
    stops the whole worker)."""
    max_loaded_models: int = Field(2, ge=0)
    """Most language models loaded at once (least recently used goes first); 0: no limit."""
    detect_language: bool = True
    """Detect the language of texts whose request and voice name none."""
    nfe_steps: int = Field(32, ge=1, le=128)
    cfg_strength: float = Field(2.0, ge=0.0, le=10.0)
    sway_sampling: float = Field(-1.0, ge=-1.0, le=1.0)
    cross_fade: float = Field(0.15, ge=0.0, le=1.0)
    trim_silence: bool = False

    def registry(self) -> dict[str, LanguageModel]:
        """Built-in entries updated with the configured ones."""
        merged = {code: LanguageModel(**entry) for code, entry in DEFAULT_MODELS.items()}
        merged.update(self.models)
        return merged


def model_spec(language: str, entry: LanguageModel) -> ModelSpec:
    """The ``voxhost models`` entry for a language model."""
    checkpoint = entry.checkpoint
    if entry.prune:  # the training checkpoint as pulled, or its EMA weights once pruned
        checkpoint = checkpoint.removesuffix(".pt") + ".*"
    return ModelSpec(
        engine=ENGINE_ID,
        name=language,
        repo=entry.repo,
        files=(checkpoint, entry.vocab),
        revision=entry.revision,
        requires=("vocos",),
        after_pull="voxhost.plugins.f5.prune:prune_pulled" if entry.prune else None,
        description=f"F5-TTS {entry.locale} ({entry.arch if isinstance(entry.arch, str) else 'custom'} architecture)",
    )


def vocoder_spec(vocoder: Vocoder) -> ModelSpec:
    """The ``voxhost models`` entry for the vocoder."""
    return ModelSpec(
        engine=ENGINE_ID,
        name="vocos",
        repo=vocoder.repo,
        files=("config.yaml", "pytorch_model.bin"),
        revision=vocoder.revision,
        description="Vocos mel vocoder, 24 kHz (needed by every F5 language)",
    )
