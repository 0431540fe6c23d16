"""The Qwen3-TTS engine: voice cloning with a Base model on one of two backends.

Backends: mlx-audio on Apple Silicon (native streaming: several chunks per sentence), qwen-tts on PyTorch
elsewhere (NVIDIA, Jetson, CPU: one chunk per sentence, streamed sentence by sentence by the core). Each runs in
its own worker environment (``envs/mlx``, ``envs/qwen``).

Voices: a Base model has no preset speakers, so the built-in voices (``<locale>-default``, one per language the
model speaks) clone the default reference (see ``reference``); library voices clone their own reference, in ICL
mode with a transcript and from the speaker embedding alone (x-vector mode) without one. The language comes from
the request, else the voice; one the model does not speak is refused (a library voice stored in one is not offered),
and a voice of none is left to the model to detect (``auto``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from ...dsp import stretch
from ...engine import (
    PCM,
    Capability,
    Engine,
    EngineContext,
    EngineSettings,
    EnvironmentSpec,
    ModelSpec,
    SynthesisRequest,
    VoiceInfo,
)
from ...errors import EngineError, InvalidRequestError, UnknownVoiceError
from ...langid import primary_language
from .backend import Backend, Generation
from .config import (
    ENGINE_ID,
    SAMPLE_RATE,
    Qwen3Options,
    Qwen3Settings,
    all_model_specs,
    model_spec,
    select_backend,
)
from .languages import LOCALES, model_languages, to_model_language
from .reference import VoiceRef, default_reference, from_reference, reference_key

_LOGGER = logging.getLogger(__name__)


def backend_class(name: str) -> type[Backend]:
    """The backend class by name (imports no heavy package)."""
    if name == "mlx":
        from .mlx_backend import MlxBackend

        return MlxBackend
    from .torch_backend import TorchBackend

    return TorchBackend


class Qwen3Engine(Engine):
    """Qwen3-TTS 12 Hz Base (1.7B or 0.6B): zero-shot cloning in ten languages."""

    engine_id: ClassVar[str] = ENGINE_ID
    display_name: ClassVar[str] = "Qwen3-TTS"
    attribution_name: ClassVar[str] = "Qwen"
    attribution_url: ClassVar[str] = "https://github.com/QwenLM/Qwen3-TTS"
    package: ClassVar[str] = "qwen-tts"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.TTS, Capability.CLONE, Capability.STREAM})
    """All it can do; an instance on the PyTorch backend does not stream (see ``__init__``)."""
    Settings: ClassVar[type[EngineSettings]] = Qwen3Settings
    Options = Qwen3Options
    default_mode: ClassVar[Literal["thread", "worker"]] = "worker"
    enabled_by_default: ClassVar[bool] = False
    clone_sample_rate: ClassVar[int] = SAMPLE_RATE
    reference_seconds: ClassVar[float | None] = 20.0
    """Qwen3 uses the first 20 s of a reference; longer ones are cut with their transcript (``reference``)."""

    settings: Qwen3Settings

    def __init__(self, settings: EngineSettings, context: EngineContext) -> None:
        super().__init__(settings, context)
        self.backend_name = select_backend(self.settings.backend)
        self.spec: ModelSpec = model_spec(self.backend_name, self.settings.model)
        if not backend_class(self.backend_name).streams:
            # The PyTorch backend yields one chunk per sentence; the core streams sentence by sentence.
            self.capabilities = frozenset({Capability.TTS, Capability.CLONE})  # type: ignore[misc]
        self._backend: Backend | None = None
        self._default_ref: VoiceRef | None = None

    # -- metadata (daemon side; cheap) ----------------------------------------------------------

    def model_dir(self) -> Path:
        """Where the model is (or would be after ``voxhost models pull``)."""
        if self.settings.model_path:
            return Path(self.settings.model_path).expanduser()
        return self.context.model_dir(self.spec)

    def languages(self) -> list[str]:
        """Model language names, from the installed model's config (the published list without one)."""
        root = self.model_dir()
        return model_languages(root if root.is_dir() else None)

    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(
                id=f"{LOCALES[name]}-default",
                name=f"Qwen3-TTS default ({LOCALES[name]})",
                languages=(LOCALES[name],),
                sample_rate=SAMPLE_RATE,
                description=f"The default reference voice speaking {name.title()}",
            )
            for name in self.languages()
        ]

    def speaks_cloned(self, language: str) -> bool:
        """A language of the model (``languages``): one outside them is spoken with the wrong sounds, if at all, so
        no door offers a library voice stored in it, and a request in it is refused (``validate_request``)."""
        return primary_language(language) in self._spoken()

    def _spoken(self) -> dict[str, str]:
        """The model's languages: primary code → locale (``de`` → ``de_DE``)."""
        return {primary_language(LOCALES[name]): LOCALES[name] for name in self.languages()}

    def models(self) -> list[ModelSpec]:
        return all_model_specs()

    def environment(self) -> EnvironmentSpec:
        if self.backend_name == "mlx":
            return EnvironmentSpec(
                imports=("mlx.core", "mlx_audio.tts.utils"),
                versions={"mlx-audio": "0.6.2", "mlx": "0.32.4"},
                setup="envs/mlx/setup.sh {venv}",
                device="mlx",
            )
        return EnvironmentSpec(
            imports=("torch", "torchaudio", "qwen_tts"),
            versions={
                "qwen-tts": "0.1.1",
                "transformers": "4.57.3",
                "accelerate": "1.12.0",
                "torch": "",
                "torchaudio": "",
            },
            setup="envs/qwen/setup.sh {venv}",
            device="torch",
        )

    def required_models(self) -> list[ModelSpec]:
        """The configured model, unless ``model_path`` names a directory of one's own."""
        return [] if self.settings.model_path else [self.spec]

    def validate_request(self, request: SynthesisRequest) -> None:
        if request.reference is None and request.voice not in {v.id for v in self.voices()}:
            raise UnknownVoiceError(f"Qwen3-TTS has no voice {request.voice!r}", param="voice")
        # The request's language, else its library voice's (the core passes that on): the model would guess.
        if request.language and not self.speaks_cloned(request.language):
            ref, why = request.reference, "it was asked for"
            if ref is not None and ref.language == request.language:
                why = f"voice {ref.voice_id!r} is stored in it"
            raise InvalidRequestError(
                f"Qwen3-TTS does not speak {request.language!r} ({why}); its languages here are "
                f"{', '.join(self._spoken().values())}; give one of them as the language to speak in",
                param="language",
            )
        Qwen3Options(**request.options)

    # -- worker side -------------------------------------------------------------------------------

    def load(self) -> None:
        root = Path(self.settings.model_path).expanduser() if self.settings.model_path else None
        if root is not None and not (root / "config.json").is_file():
            raise EngineError(f"engines.qwen3.model_path: no Qwen3-TTS model (config.json) in {root}")
        root = root or self.context.require_model(self.spec)
        backend = backend_class(self.backend_name)(root, self.settings)
        backend.load()
        self._backend = backend

    def unload(self) -> None:
        if self._backend is not None:
            self._backend.unload()
        self._backend = None

    def _model_id(self) -> str:
        return f"{self.backend_name}:{self.model_dir().name}"

    def _voice_ref(self, request: SynthesisRequest, x_vector_only: bool) -> VoiceRef:
        if request.reference is not None:
            return from_reference(request.reference, x_vector_only=x_vector_only, model_id=self._model_id())
        if self._default_ref is None:
            path, text = default_reference(
                self.settings.default_reference, self.settings.default_reference_text, self.context.cache_dir
            )
            key = reference_key(path, text, "", self._model_id())
            self._default_ref = VoiceRef(key, path, text, self.context.cache_dir)
        ref = self._default_ref
        if x_vector_only and ref.transcript is not None:
            ref = VoiceRef(
                reference_key(ref.audio_path, None, "", self._model_id()), ref.audio_path, None, ref.cache_dir
            )
        return ref

    def synthesize(self, request: SynthesisRequest) -> Iterator[PCM]:
        backend = self._backend
        if backend is None:
            raise EngineError("the Qwen3-TTS engine is not loaded")
        options = Qwen3Options(**request.options)
        ref = self._voice_ref(request, options.x_vector_only)
        language = request.language or (request.reference.language if request.reference else None)
        generation = Generation(
            text=request.text,
            language=to_model_language(language, model_languages(backend.model_dir)),
            seed=request.seed,
            temperature=options.temperature,
            top_k=options.top_k,
            top_p=options.top_p,
            repetition_penalty=options.repetition_penalty,
            max_new_tokens=options.max_new_tokens or self.settings.max_new_tokens,
        )
        if request.speed == 1.0:
            for audio in backend.synthesize(generation, ref):
                yield PCM.from_float(audio, SAMPLE_RATE)
            return
        # Qwen3-TTS has no speed control: the whole sentence is time-stretched (pitch kept), so a streaming
        # backend's chunks are gathered first; stretching each chunk alone would put a seam at every one.
        chunks = list(backend.synthesize(generation, ref))
        if chunks:
            yield PCM.from_float(stretch(np.concatenate(chunks), SAMPLE_RATE, request.speed), SAMPLE_RATE)

    def status(self) -> dict[str, object]:
        return self._backend.status() if self._backend is not None else {"backend": self.backend_name}
