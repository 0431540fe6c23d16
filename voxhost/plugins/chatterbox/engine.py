"""The Chatterbox engine: English and 23-language TTS, cloned voices without transcripts, voice conversion.

This module stays light (the daemon imports it for voices and models); torch and chatterbox-tts are imported
by ``load()`` through ``runtime``, in the worker process that synthesizes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from voxhost.dsp import Joiner, stretch
from voxhost.engine import (
    PCM,
    Capability,
    Engine,
    EngineContext,
    EngineOptions,
    EngineSettings,
    EnvironmentSpec,
    ModelSpec,
    Reference,
    SynthesisRequest,
    VoiceInfo,
)
from voxhost.errors import (
    EngineError,
    InvalidAudioError,
    InvalidRequestError,
    ModelMissingError,
    UnknownVoiceError,
)
from voxhost.langid import LanguageIdentifier

from .languages import LANGUAGES, builtin_voice_id, builtin_voice_language, known_id
from .text import split_long

if TYPE_CHECKING:
    from .runtime import ChatterboxRuntime

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE = 24000
REPO = "ResembleAI/chatterbox"
ENGLISH = ModelSpec(
    engine="chatterbox",
    name="en",
    repo=REPO,
    files=("ve.safetensors", "t3_cfg.safetensors", "s3gen.safetensors", "tokenizer.json", "conds.pt"),
    description="Chatterbox English TTS and voice conversion (about 3 GB)",
)
MULTILINGUAL = ModelSpec(
    engine="chatterbox",
    name="multilingual",
    repo=REPO,
    files=(
        "ve.pt",
        "t3_mtl23ls_v2.safetensors",
        "s3gen.pt",
        "grapheme_mtl_merged_expanded_v1.json",
        "Cangjie5_TC.json",
        "conds.pt",
    ),
    description="Chatterbox multilingual TTS in 23 languages (about 3 GB)",
)


TURBO = ModelSpec(
    engine="chatterbox",
    name="turbo",
    repo="ResembleAI/chatterbox-turbo",
    # chatterbox.tts_turbo.ChatterboxTurboTTS.from_local reads these; the GPT-2 tokenizer's files are its *.json/*.txt
    files=("ve.safetensors", "t3_turbo_v1.safetensors", "s3gen_meanflow.safetensors", "conds.pt", "*.json", "*.txt"),
    description="Chatterbox-Turbo English TTS: GPT-2 backbone, two-step decoder, faster (about 2 GB)",
)

ModelName = Literal["en", "multilingual", "turbo"]
MODEL_NAMES: tuple[ModelName, ...] = ("en", "multilingual")
"""The models used when the config names none (``turbo`` is chosen explicitly)."""
JOIN_SECONDS = 0.05
"""Crossfade where a long sentence's pieces meet."""


class ChatterboxSettings(EngineSettings):
    """``[engines.chatterbox]``."""

    device: str = "auto"
    """``auto`` (CUDA, then MPS, then CPU), or a torch device such as ``cpu``, ``cuda:1``."""
    models: list[ModelName] = Field(default_factory=lambda: list(MODEL_NAMES))
    """Models to use: ``en``, ``multilingual``, ``turbo`` (Chatterbox-Turbo, English only). English text goes to
    ``en`` when it is configured, else to ``turbo``; everything else to ``multilingual``."""
    watermark: bool = True
    """Mark output with Resemble's imperceptible Perth watermark, as upstream always does."""
    max_speech_tokens: int = Field(1000, ge=1, le=4000)
    """Speech tokens per model call (25 a second); upstream asks for 1000, about 40 s."""
    max_chars: int = Field(300, ge=20, le=2000)
    """A sentence longer than this is spoken in several calls, cut at clauses."""
    max_convert_seconds: float = Field(600.0, gt=0)
    """Longest audio accepted for voice conversion."""
    convert_chunk_seconds: float = Field(20.0, ge=2, le=60)
    """Voice conversion works through long audio in pieces of this length, yielding each."""
    convert_overlap_seconds: float = Field(1.0, ge=0, le=5)
    """Each conversion piece starts this much before the previous one ends; the overlap is crossfaded."""


MIN_TEMPERATURE = 0.01
"""The least temperature: the logits are divided by it in float32 (float16 on some GPUs), where a smaller one (1e-300
is 0 there) makes them infinite and sampling fails (a 500 for a request's option); below 0.1 sampling is greedy
already."""


class ChatterboxOptions(EngineOptions):
    """Per-request options (the seed comes with the request)."""

    exaggeration: float = Field(0.5, ge=0, le=2)
    """Emotion intensity; 0.5 is neutral."""
    cfg_weight: float = Field(0.5, ge=0, le=3)
    """Classifier-free guidance weight; lower is slower, more deliberate speech."""
    temperature: float = Field(0.8, ge=MIN_TEMPERATURE, le=5)
    """Sampling temperature of the speech-token model."""
    repetition_penalty: float | None = Field(None, ge=1, le=5)
    """Penalty on repeated speech tokens; unset: the model's own (English 1.2, multilingual 2.0, Turbo 1.2)."""
    min_p: float | None = Field(None, ge=0, le=1)
    """Drop tokens below this fraction of the likeliest one's probability; unset: 0.05 (Turbo ignores it)."""
    top_p: float | None = Field(None, gt=0, le=1)
    """Nucleus sampling; unset: the model's own (1.0, Turbo 0.95)."""


class ChatterboxEngine(Engine):
    """Chatterbox TTS (English + multilingual) and voice conversion, through chatterbox-tts's loaders."""

    engine_id = "chatterbox"
    display_name = "Chatterbox"
    attribution_name = "Resemble AI"
    attribution_url = "https://github.com/resemble-ai/chatterbox"
    package = "chatterbox-tts"
    capabilities = frozenset({Capability.TTS, Capability.CLONE, Capability.CONVERT})
    Settings = ChatterboxSettings
    Options = ChatterboxOptions
    default_mode = "worker"
    enabled_by_default = False
    clone_sample_rate = SAMPLE_RATE

    def __init__(self, settings: ChatterboxSettings, context: EngineContext) -> None:
        super().__init__(settings, context)
        self.settings: ChatterboxSettings = settings
        self._runtime: ChatterboxRuntime | None = None
        self._lock = threading.Lock()
        self._langid: LanguageIdentifier | None = None

    # -- metadata (cheap, no heavy imports) -----------------------------------------------------

    def models(self) -> list[ModelSpec]:
        """The English and multilingual file sets of ResembleAI/chatterbox, and Chatterbox-Turbo."""
        return [ENGLISH, MULTILINGUAL, TURBO]

    def environment(self) -> EnvironmentSpec:
        return EnvironmentSpec(
            imports=("torch", "torchaudio", "perth", "chatterbox"),
            optional={
                "spacy_pkuseg": "Chinese is spoken without word segmentation",
                "lingua": "a cloned voice stored without a language speaks every text as English",
            },
            versions={
                "chatterbox-tts": "0.1.7",
                "s3tokenizer": "0.3.0",
                "resemble-perth": "1.0.1",
                "transformers": "5.2.0",
                "diffusers": "0.29.0",
                "torch": "",
                "torchaudio": "",
            },
            setup="envs/chatterbox/setup.sh {venv}",
            device="torch",
        )

    def required_models(self) -> list[ModelSpec]:
        return list(self._specs().values())

    def self_check(self) -> list[str]:
        """Chinese word segmentation needs spacy-pkuseg's model, which setup.sh fetches into the environment."""
        from .segmenter import pkuseg_home, pkuseg_model_present

        if "multilingual" not in self._specs() or pkuseg_model_present() or find_spec("spacy_pkuseg") is None:
            return []  # without the package at all, doctor's check of the import says so
        return [
            f"spacy-pkuseg's model is not in {pkuseg_home()}: Chinese is spoken without word segmentation "
            "(rerun the setup script on a machine with network)"
        ]

    def _specs(self) -> dict[str, ModelSpec]:
        chosen = {"en": ENGLISH, "multilingual": MULTILINGUAL, "turbo": TURBO}
        return {name: chosen[name] for name in self.settings.models}

    def _variant_for(self, code: str) -> str:
        """Which model speaks a language (one of ``_languages()``): English prefers the English model."""
        specs = self._specs()
        if code == "en":
            for name in ("en", "turbo"):
                if name in specs:
                    return name
        if "multilingual" in specs:
            return "multilingual"
        raise EngineError("[engines.chatterbox] models is empty")

    def _languages(self) -> list[str]:
        specs = self._specs()
        if "multilingual" in specs:
            return list(LANGUAGES)
        return ["en"] if "en" in specs or "turbo" in specs else []

    def speaks_cloned(self, language: str) -> bool:
        """A language the configured models speak: English with ``en`` or ``turbo``, the multilingual model's 23
        with ``multilingual``. A request to a library voice stored in another is refused (``validate_request``),
        so no door offers it; one whose model is configured but not installed yet stays offered (a ``models
        pull`` away)."""
        return known_id(language) in self._languages()

    def voices(self) -> list[VoiceInfo]:
        """One built-in voice per language, spoken with the model's bundled conditionals."""
        return [
            VoiceInfo(
                id=builtin_voice_id(code),
                name=f"Chatterbox {LANGUAGES[code].name}",
                languages=LANGUAGES[code].locales,
                sample_rate=SAMPLE_RATE,
                description=f"Chatterbox's built-in voice speaking {LANGUAGES[code].name}",
            )
            for code in self._languages()
        ]

    def validate_request(self, request: SynthesisRequest) -> None:
        """Reject unknown voices, languages and options before the request is queued."""
        self._plan(request, detect=False)
        self.Options.model_validate(request.options or {})

    def _detect(self, text: str) -> str:
        """The language of a text for a cloned voice that has none stored, among the languages loaded."""
        languages = self._languages()
        if self._langid is None:
            self._langid = LanguageIdentifier(languages, fallback="en" if "en" in languages else None)
        return self._langid.detect(text) or "en"

    def _plan(self, request: SynthesisRequest, detect: bool = True) -> tuple[str, str]:
        """(language id, model) for a request; a cloned voice without a language is detected from the text."""
        if request.reference is not None:
            stored = request.language or request.reference.language
            if stored is None:
                code = self._detect(request.text) if detect else "en"
            else:
                code = self._spoken(stored, request)
        else:
            voice_code = builtin_voice_language(request.voice)
            if voice_code is None or voice_code not in self._languages():
                raise UnknownVoiceError(f"Chatterbox has no voice {request.voice!r}")
            code = self._spoken(request.language, request) if request.language else voice_code
        return code, self._variant_for(code)

    def _spoken(self, language: str, request: SynthesisRequest) -> str:
        """The language id of ``language`` when the configured models speak it; else the client's error, saying
        why the request is in it (its voice is stored in it, or it was asked for) and what is spoken here."""
        code = known_id(language)
        spoken = self._languages()
        if code is not None and code in spoken:
            return code
        ref = request.reference
        if ref is not None and ref.language and _same(ref.language, language):
            why = f"voice {ref.voice_id!r} is stored in {ref.language!r}"
        else:
            why = f"language {language!r} was asked for"
        if code is not None and spoken == ["en"]:  # one of the multilingual model's, which is not configured
            name = LANGUAGES[code].name
            raise InvalidRequestError(
                f"Chatterbox does not speak {name} here ({why}): its models here ({', '.join(self.settings.models)}) "
                f'speak English only; add "multilingual" to [engines.chatterbox] models to speak {name}',
                param="language",
            )
        raise InvalidRequestError(
            f"Chatterbox does not speak {language!r} ({why}); its languages here are {', '.join(spoken) or 'none'}",
            param="language",
        )

    # -- lifecycle --------------------------------------------------------------------------------

    def load(self) -> None:
        """Load every configured model that is installed; fail naming the pull command if none is."""
        dirs: dict[str, Path] = {}
        missing: list[ModelMissingError] = []
        for name, spec in self._specs().items():
            try:
                dirs[name] = self.context.require_model(spec)
            except ModelMissingError as err:
                missing.append(err)
        if not dirs:
            raise missing[0] if missing else EngineError("[engines.chatterbox] models is empty")
        for skipped in missing:
            _LOGGER.warning("%s", skipped.message)
        from .runtime import ChatterboxRuntime, pick_device

        runtime = ChatterboxRuntime(
            dirs,
            device=pick_device(self.settings.device),
            watermark=self.settings.watermark,
            max_new_tokens=self.settings.max_speech_tokens,
        )
        runtime.load()
        self._runtime = runtime

    def unload(self) -> None:
        """Free the models."""
        with self._lock:
            if self._runtime is not None:
                self._runtime.unload()
                self._runtime = None

    def _loaded(self) -> ChatterboxRuntime:
        if self._runtime is None:
            raise EngineError("the Chatterbox engine is not loaded")
        return self._runtime

    def status(self) -> dict[str, Any]:
        """Device, loaded models, watermark and conditionals-cache counters."""
        runtime = self._runtime
        if runtime is None:
            return {"loaded": False}
        return {
            "loaded": True,
            "device": runtime.device,
            "models": sorted(runtime.variants),
            "watermark": runtime.watermarker_name,
            **runtime.counters,
        }

    # -- work -------------------------------------------------------------------------------------

    def synthesize(self, request: SynthesisRequest) -> Iterator[PCM]:
        """Speak one sentence; a sentence past ``max_chars`` is spoken piece by piece, the pieces crossfaded.

        Chatterbox has no speed control: at a speed other than 1 each piece is time-stretched (pitch kept).
        """
        code, variant = self._plan(request)
        options = self.Options.model_validate(request.options or {})
        runtime = self._loaded()
        if variant not in runtime.variants:
            spec = self._specs()[variant]
            raise ModelMissingError(f"the Chatterbox {variant} model is not installed. Run: {spec.pull_command}")
        joiner = Joiner(int(JOIN_SECONDS * SAMPLE_RATE))
        sampling = {
            name: getattr(options, name)
            for name in ("repetition_penalty", "min_p", "top_p")
            if getattr(options, name) is not None
        }
        for number, piece in enumerate(split_long(request.text, self.settings.max_chars)):
            with self._lock:
                wav = runtime.synthesize(
                    variant,
                    piece,
                    language=code,
                    reference=request.reference,
                    exaggeration=options.exaggeration,
                    cfg_weight=options.cfg_weight,
                    temperature=options.temperature,
                    # later pieces get their own seed, so a repeated piece does not repeat its audio
                    seed=None if request.seed is None else request.seed + number,
                    **sampling,
                )
            if request.speed != 1.0:
                wav = stretch(wav, SAMPLE_RATE, request.speed)
            ready = joiner.push(wav)
            if ready.size:
                yield PCM.from_float(ready, SAMPLE_RATE)
        tail = joiner.flush()
        if tail.size:
            yield PCM.from_float(tail, SAMPLE_RATE)

    def convert(self, audio: PCM, target: Reference, options: dict[str, Any]) -> Iterator[PCM]:
        """Convert speech into ``target``'s voice, in overlapping pieces of ``convert_chunk_seconds``, crossfaded."""
        if options:
            raise InvalidRequestError(
                f"Chatterbox voice conversion takes no options (got {', '.join(sorted(options))})",
                param="options",
            )
        samples = _pcm_samples(audio)
        seconds = samples.size / audio.rate
        if seconds > self.settings.max_convert_seconds:
            raise InvalidAudioError(
                f"the audio is {seconds:.1f} s long; Chatterbox converts at most "
                f"{self.settings.max_convert_seconds:g} s",
                param="audio",
            )
        if not Path(target.audio_path).is_file():
            raise UnknownVoiceError(f"the reference audio of voice {target.voice_id!r} is missing")
        runtime = self._loaded()
        workdir = self.context.path("convert")
        overlap = int(self.settings.convert_overlap_seconds * audio.rate)
        joiner = Joiner(overlap * SAMPLE_RATE // audio.rate)
        for begin, start, end in segments(samples.size, audio.rate, self.settings.convert_chunk_seconds, overlap):
            with self._lock:
                wav = runtime.convert(samples[begin:end], audio.rate, target, workdir)
            ready = joiner.push(wav, overlap=(start - begin) * SAMPLE_RATE // audio.rate)
            if ready.size:
                yield PCM.from_float(ready, SAMPLE_RATE)
        tail = joiner.flush()
        if tail.size:
            yield PCM.from_float(tail, SAMPLE_RATE)


def segments(total: int, rate: int, chunk_seconds: float, overlap: int) -> list[tuple[int, int, int]]:
    """Conversion pieces as (begin, start, end): each covers [begin, end) and is new from ``start`` on.

    A piece begins ``overlap`` samples before its predecessor ends; a remainder shorter than a second joins the
    piece before it, so no sliver is converted on its own.
    """
    step = max(1, int(chunk_seconds * rate))
    starts = list(range(0, total, step))
    if len(starts) > 1 and total - starts[-1] < rate:
        starts.pop()
    ends = [*starts[1:], total]
    return [(max(0, start - overlap), start, end) for start, end in zip(starts, ends, strict=True)]


def _same(language: str, other: str) -> bool:
    """Whether two language codes are one (``ja_JP``, ``ja-jp``)."""
    return language.replace("-", "_").lower() == other.replace("-", "_").lower()


def _pcm_samples(audio: PCM) -> np.ndarray:
    """Float samples of a PCM chunk, or a clear error when it is not 16-bit mono audio."""
    if audio.rate < 8000 or audio.rate > 192000:
        raise InvalidAudioError(f"unsupported sample rate {audio.rate} Hz", param="audio")
    if len(audio.data) % 2:
        raise InvalidAudioError("the audio is not 16-bit PCM (odd number of bytes)", param="audio")
    samples = np.frombuffer(audio.data, dtype="<i2").astype(np.float32) / 32768.0
    if samples.size < audio.rate // 10:
        raise InvalidAudioError("the audio is shorter than 0.1 s", param="audio")
    return samples
