"""The F5-TTS engine: one model per language, voice cloning, routing by language.

Routing: the language comes from the request, else from the voice (a cloned voice's language, or the built-in
``default-<lang>`` voice), else it is detected from the text among the offered languages (lingua). The job then
goes to that language's model, loaded on first use (or at start), kept loaded up to ``max_loaded_models`` (least
recently used unloaded first) and unloaded after ``model_idle_unload`` seconds unused.

Built-in voices speak with the default reference: ``default`` (any offered language, detected) and
``default-<lang>`` per offered language. See ``reference`` for where the default reference comes from.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

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
    WithheldVoice,
)
from ...errors import InvalidRequestError, UnknownVoiceError
from ...langid import LanguageIdentifier, primary_language
from ...watching import Watcher, weak_look
from .native import PACKAGED, NativeSource, installed_piper_voice, withheld_reason
from .registry import (
    ENGINE_ID,
    SAMPLE_RATE,
    F5Options,
    F5Settings,
    LanguageModel,
    model_spec,
    vocoder_spec,
)

_LOGGER = logging.getLogger(__name__)

_EDGE_FADE_S = 0.02
"""Fade at sentence edges, so that sentences synthesized apart join without clicks."""


def _crossfade(head: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """Blend the end of one batch (``head``'s last samples) into the start of the next (equal lengths)."""
    ramp = np.linspace(0.0, 1.0, len(head), dtype=np.float32)
    return head * (1.0 - ramp) + tail * ramp


def _fade(audio: np.ndarray, *, fade_in: bool, fade_out: bool) -> np.ndarray:
    n = min(int(_EDGE_FADE_S * SAMPLE_RATE), len(audio) // 2)
    if n <= 0:
        return audio
    audio = audio.copy()
    if fade_in:
        audio[:n] *= np.linspace(0.0, 1.0, n, dtype=np.float32)
    if fade_out:
        audio[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
    return audio


@dataclass(frozen=True)
class _Builtin:
    """The languages whose built-in voice has a native reference, their voices, and the languages withheld."""

    voiced: tuple[str, ...]
    voices: list[VoiceInfo]
    """The same list until it changes (the catalog compares it by identity first)."""
    withheld: tuple[str, ...]


class F5Engine(Engine):
    """F5-TTS (flow matching, zero-shot cloning), one checkpoint per language."""

    engine_id: ClassVar[str] = ENGINE_ID
    display_name: ClassVar[str] = "F5-TTS"
    attribution_name: ClassVar[str] = "SWivid"
    attribution_url: ClassVar[str] = "https://github.com/SWivid/F5-TTS"
    package: ClassVar[str] = "f5-tts"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.TTS, Capability.CLONE})
    Settings: ClassVar[type[EngineSettings]] = F5Settings
    Options = F5Options
    default_mode: ClassVar[Literal["thread", "worker"]] = "worker"
    enabled_by_default: ClassVar[bool] = False
    clone_sample_rate: ClassVar[int] = SAMPLE_RATE
    needs_transcript: ClassVar[bool] = True
    """F5 conditions on the exact text of the reference: library voices without a transcript are not offered."""
    reference_seconds: ClassVar[float | None] = 12.0
    """F5 uses the first 12 s of a reference; longer ones are cut with their transcript (``reference.prepare``)."""

    settings: F5Settings

    def __init__(self, settings: EngineSettings, context: EngineContext) -> None:
        super().__init__(settings, context)
        self._registry: dict[str, LanguageModel] = self.settings.registry()
        self._lock = threading.Lock()
        self._resident: Any = None
        self._vocoder: Any = None
        self._references: Any = None
        self._langid: LanguageIdentifier | None = None
        self._default_reference: tuple[str, str] | None = None
        self._device = "cpu"
        self._last_language: str | None = None
        self._dtype: str | None = None
        self._configured: list[str] | None = None
        """``languages`` from the settings, those the registry knows (the others are warned about once, here)."""
        if self.settings.languages is not None:
            wanted = [primary_language(code) for code in self.settings.languages]
            unknown = [code for code in wanted if code not in self._registry]
            if unknown:
                _LOGGER.warning("F5 has no registry entry for %s; add [engines.f5.models.<lang>]", unknown)
            self._configured = [code for code in wanted if code in self._registry]
        self._builtin = _Builtin((), [], ())
        self._watcher = Watcher(weak_look(self, F5Engine._find_builtin), "f5-models", "F5's models and Piper's voices")

    # -- metadata (daemon side; cheap) ----------------------------------------------------------

    def offered_languages(self) -> list[str]:
        """Configured languages, or every registry language whose model files are installed."""
        if self._configured is not None:
            return list(self._configured)
        return [
            code
            for code, entry in self._registry.items()
            if self.context.find_model(model_spec(code, entry)) is not None
        ]

    def installed_languages(self) -> list[str]:
        """Offered languages whose model files are on disk: the ones detection chooses between."""
        return [
            code
            for code in self.offered_languages()
            if self.context.find_model(model_spec(code, self._registry[code])) is not None
        ]

    def native_source(self, code: str) -> NativeSource | None:
        """Where ``default-<code>`` gets a reference in its own language, or None (see ``native``)."""
        entry = self._registry.get(code)
        if entry is not None and entry.reference and entry.reference_text:
            return NativeSource("configured", entry.reference, entry.reference_text)
        s = self.settings
        if s.default_reference and primary_language(s.default_reference_language) == code:
            return NativeSource("engine-default", s.default_reference, s.default_reference_text or "")
        if code == "en":
            return NativeSource("bundled-piper")
        if code in PACKAGED:
            return NativeSource("f5-package", *PACKAGED[code])
        voice = installed_piper_voice(self.context.models_dir, code)
        return NativeSource("piper", str(voice)) if voice is not None else None

    def _builtin_voices(self) -> _Builtin:
        """The built-in voices and the languages withheld, as the watcher last found them."""
        # The catalog asks for the voices on every request, on the event loop; finding the installed models and
        # Piper voices on disk there cost each request about 0.17 ms (with nothing installed). A model or voice
        # pulled while the daemon runs is offered within two seconds, as Piper's own voices are.
        self._watcher.watch()
        return self._builtin

    def _find_builtin(self) -> None:
        """Find which built-in voices have a native reference on disk (the watcher's look)."""
        offered = self.offered_languages()
        voiced = tuple(code for code in offered if self.native_source(code) is not None)
        withheld = tuple(code for code in offered if code not in voiced)
        if (voiced, withheld) != (self._builtin.voiced, self._builtin.withheld):
            # Replaced whole, never changed in place: the loop reads it while the watcher looks.
            self._builtin = _Builtin(voiced, self._voice_infos(voiced), withheld)

    def withheld_voices(self) -> list[WithheldVoice]:
        locales = {code: self._registry[code].locale for code in self._builtin_voices().withheld}
        return [
            WithheldVoice(f"default-{code}", (locale,), withheld_reason(code, locale))
            for code, locale in locales.items()
        ]

    def voices(self) -> list[VoiceInfo]:
        return self._builtin_voices().voices

    def speaks_cloned(self, language: str) -> bool:
        """A language in ``languages`` (when set), else one the registry has a model for: every request to a
        library voice stored in another is refused (``_check_enabled``, ``validate_request``), so Home Assistant
        must not be offered it. One not installed yet stays offered: it is a ``models pull`` away."""
        code = primary_language(language)
        return code in self._configured if self._configured is not None else code in self._registry

    def _voice_infos(self, languages: tuple[str, ...]) -> list[VoiceInfo]:
        """``default`` over every language, and ``default-<code>`` for each."""
        if not languages:
            return []
        locales = tuple(self._registry[code].locale for code in languages)
        voices = [
            VoiceInfo(
                id="default",
                name="F5 default",
                languages=locales,
                sample_rate=SAMPLE_RATE,
                description="A reference voice in each language's own tongue; the language is detected from the text.",
            )
        ]
        for code in languages:
            entry = self._registry[code]
            voices.append(
                VoiceInfo(
                    id=f"default-{code}",
                    name=f"F5 default ({entry.locale})",
                    languages=(entry.locale,),
                    sample_rate=SAMPLE_RATE,
                    description=f"The default reference voice speaking {entry.locale} ({entry.repo}).",
                )
            )
        return voices

    def models(self) -> list[ModelSpec]:
        specs = [model_spec(code, entry) for code, entry in self._registry.items()]
        return [*specs, vocoder_spec(self.settings.vocoder)]

    def environment(self) -> EnvironmentSpec:
        return EnvironmentSpec(
            imports=("torch", "torchaudio", "vocos", "f5_tts.infer.utils_infer"),
            optional={
                "lingua": "a text's language is not detected: a request that gets none from itself, its cloned "
                "voice or a default-<lang> voice is spoken by the first installed language's model"
            },
            versions={"f5-tts": "1.1.22", "vocos": "0.1.0", "torch": "", "torchaudio": ""},
            setup="envs/f5/setup.sh {venv}",
            device="torch",
        )

    def required_models(self) -> list[ModelSpec]:
        """The offered languages' models (English when none is installed or configured), and the vocoder."""
        codes = self.offered_languages() or ["en"]
        return [*(model_spec(code, self._registry[code]) for code in codes), vocoder_spec(self.settings.vocoder)]

    def validate_request(self, request: SynthesisRequest) -> None:
        if request.reference is None and self._voice_language(request.voice) is None and request.voice != "default":
            raise UnknownVoiceError(f"F5 has no voice {request.voice!r}")
        voice_language = self._voice_language(request.voice) if request.reference is None else None
        if voice_language is not None and self.native_source(voice_language) is None:
            entry = self._registry[voice_language]
            raise UnknownVoiceError(
                f"F5 offers no voice {request.voice!r}: {withheld_reason(voice_language, entry.locale)}"
            )
        self._check_enabled(request)
        if request.language and primary_language(request.language) not in self._registry:
            raise InvalidRequestError(
                f"F5 has no model for language {request.language!r}; add one under "
                f"[engines.f5.models.{primary_language(request.language)}]",
                param="language",
            )
        F5Options(**request.options)

    def _check_enabled(self, request: SynthesisRequest) -> None:
        """A language outside ``languages`` (when set) is the client's error, whether the request names it or its
        voice is stored in it: the operator did not enable it, so no model of it is loaded or to be pulled (without
        ``languages`` every installed language is offered, and one not installed is a ``models pull`` away)."""
        if self._configured is None or not request.language:
            return
        code = primary_language(request.language)
        if code in self._configured:
            return
        enabled = ", ".join(self._configured) or "none"
        ref = request.reference
        why = (
            f"voice {ref.voice_id!r} is stored in {ref.language!r}"
            if ref is not None and ref.language and primary_language(ref.language) == code
            else f"language {request.language!r} was asked for"
        )
        raise InvalidRequestError(
            f"F5 does not speak {code!r} here ({why}); its enabled languages are {enabled} ([engines.f5] languages)",
            param="language",
        )

    def _voice_language(self, voice: str) -> str | None:
        if voice.startswith("default-") and voice[len("default-") :] in self._registry:
            return voice[len("default-") :]
        return None

    # -- worker side ----------------------------------------------------------------------------

    def load(self) -> None:
        from ...resident import ResidentModels
        from .reference import ReferenceCache
        from .runtime import import_f5, pick_device

        import_f5()
        self._device = pick_device(self.settings.device)
        self._references = ReferenceCache()
        self._resident = ResidentModels(
            self._load_language,
            self._unload_language,
            max_resident=self.settings.max_loaded_models,
            idle_s=self.settings.model_idle_unload,
            on_change=self._models_changed,
        )
        offered = self.offered_languages()
        installed = self.installed_languages()
        if self.settings.detect_language and len(installed) > 1:
            self._langid = LanguageIdentifier(installed, fallback=installed[0], preload=True)
        wanted = self.settings.preload_languages
        preload = offered if "*" in wanted else [primary_language(c) for c in wanted]
        for code in preload:
            self._resident.preload(code)
        self._resident.start_sweeper()
        _LOGGER.info("F5 ready on %s; languages %s; resident %s", self._device, offered, self._resident.names())

    def unload(self) -> None:
        self._watcher.stop()  # in-process, the engine is closing or idle: a later voice lookup starts it again
        if self._resident is not None:
            self._resident.clear()
        self._drop_vocoder()

    def _half(self) -> bool:
        """Float16 weights: asked for, and a CUDA GPU of compute capability 7 or newer (older ones stay fp32)."""
        from .runtime import supports_half

        return self.settings.half_precision and supports_half(self._device)

    def _load_language(self, code: str) -> Any:
        from .runtime import load_language_model, load_vocos

        entry = self._registry.get(code)
        if entry is None:
            raise InvalidRequestError(f"F5 has no model for language {code!r}", param="language")
        root = self.context.require_model(model_spec(code, entry))
        with self._lock:
            if self._vocoder is None:
                self._vocoder = load_vocos(
                    self.context.require_model(vocoder_spec(self.settings.vocoder)), self._device
                )
        model = load_language_model(entry, root, self._device, half=self._half())
        self._dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
        _LOGGER.info("F5 %s loaded from %s", code, root)
        return model

    def _unload_language(self, code: str, model: Any) -> None:
        from .runtime import release

        del model
        release(self._device)

    def _models_changed(self) -> None:
        if self._resident is not None and not self._resident.names():
            self._drop_vocoder()

    def _drop_vocoder(self) -> None:
        from .runtime import release

        with self._lock:
            if self._vocoder is None:
                return
            self._vocoder = None
        release(self._device)

    def route(self, request: SynthesisRequest) -> str:
        """The language whose model speaks this request."""
        if request.language:
            return primary_language(request.language)
        if request.reference is not None and request.reference.language:
            return primary_language(request.reference.language)
        voice_language = None if request.reference is not None else self._voice_language(request.voice)
        if voice_language is not None:
            return voice_language
        if self._langid is not None:
            found = self._langid.detect(request.text)
            if found:
                return found
        installed = self.installed_languages()
        if installed:
            return installed[0]
        raise InvalidRequestError("F5 has no language model installed; run: voxhost models list f5")

    def _reference(self, request: SynthesisRequest, code: str) -> Any:
        from .reference import ensure_native_reference

        ref = request.reference
        if ref is not None:
            if not ref.transcript:
                raise InvalidRequestError(
                    f"voice {ref.voice_id!r} has no transcript; F5 needs the exact text of the reference audio",
                    param="voice",
                )
            return self._references.get(
                ref.audio_path, ref.transcript, cache_dir=ref.cache_dir, fingerprint=ref.fingerprint, words=ref.words
            )
        entry = self._registry[code]
        source = self.native_source(code)
        if source is None:
            raise InvalidRequestError(
                f"F5 has no {entry.locale} voice of its own: {withheld_reason(code, entry.locale)}", param="voice"
            )
        if source.kind == "engine-default" and not source.text:
            raise InvalidRequestError("[engines.f5] default_reference needs default_reference_text")
        with self._lock:
            path, text = ensure_native_reference(source, code, self.context.cache_dir)
        return self._references.get(path, text, cache_dir=self.context.cache_dir)

    def synthesize(self, request: SynthesisRequest) -> Iterator[PCM]:
        from .reference import trim_silence
        from .runtime import GenerationParams, generate

        if self._resident is None:
            raise RuntimeError("F5Engine.load() was not called")
        options = F5Options(**request.options)
        self._check_enabled(request)  # a sentence's own language too, not only the job's
        code = self.route(request)
        if code not in self._registry:
            raise InvalidRequestError(
                f"F5 has no model for language {code!r}; add one under [engines.f5.models.{code}]", param="language"
            )
        ref = self._reference(request, code)
        s = self.settings
        params = GenerationParams(
            speed=request.speed,
            nfe_steps=options.nfe_steps or s.nfe_steps,
            cfg_strength=s.cfg_strength if options.cfg_strength is None else options.cfg_strength,
            sway_sampling=s.sway_sampling if options.sway_sampling is None else options.sway_sampling,
            seed=request.seed,
        )
        cross_fade = s.cross_fade if options.cross_fade is None else options.cross_fade
        trim = s.trim_silence if options.trim_silence is None else options.trim_silence
        fade_n = int(cross_fade * SAMPLE_RATE)
        with self._resident.use(code) as model:
            self._last_language = code
            pending: np.ndarray | None = None  # held back to cross-fade with the next batch
            first = True
            for wave in generate(model, self._vocoder, ref, request.text, params, self._device):
                if trim:
                    wave = trim_silence(wave, SAMPLE_RATE)
                if pending is not None:
                    n = min(fade_n, len(pending), len(wave))
                    if n > 0:
                        joined = _crossfade(pending[len(pending) - n :], wave[:n])
                        out = np.concatenate([pending[: len(pending) - n], joined])
                        wave = wave[n:]
                    else:
                        out = pending
                    yield PCM.from_float(_fade(out, fade_in=first and request.index > 0, fade_out=False), SAMPLE_RATE)
                    first = False
                pending = wave
            if pending is not None:
                yield PCM.from_float(
                    _fade(pending, fade_in=first and request.index > 0, fade_out=not request.final), SAMPLE_RATE
                )

    def status(self) -> dict[str, Any]:
        resident = self._resident
        memory: dict[str, Any] = {}
        if self._device.startswith("cuda"):
            import torch

            memory = {"cuda_allocated": torch.cuda.memory_allocated(), "cuda_reserved": torch.cuda.memory_reserved()}
        return {
            **memory,
            "device": self._device,
            "half_precision": self._half(),
            "dtype": self._dtype,
            "languages": self.offered_languages(),
            "resident": resident.names() if resident is not None else [],
            "loads": resident.loads if resident is not None else 0,
            "evictions": resident.evictions if resident is not None else 0,
            "vocoder_loaded": self._vocoder is not None,
            "last_language": self._last_language,
            "reference_cache": self._references.stats() if self._references is not None else {},
        }
