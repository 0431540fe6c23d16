"""The engine contract: what an engine plugin implements, and the plain data it exchanges with the core.

An engine is a class. The host makes one instance per process that needs it: one in the daemon for its
metadata (voices, capabilities), and, in worker mode, one in the worker process that loads the model and
synthesizes. So ``__init__`` and ``voices()`` must be cheap and import nothing heavy; heavy imports
(torch, onnxruntime) belong in ``load()``. Every value that crosses to a worker is plain data (JSON + PCM).
"""

from __future__ import annotations

import enum
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from .errors import UnsupportedError
from .models import ModelSpec, find_model, require_model


class Capability(str, enum.Enum):
    """What an engine can do."""

    TTS = "tts"
    """Speak text with its built-in voices."""
    CLONE = "clone"
    """Speak text in a cloned voice from the voice library (reference audio, maybe a transcript)."""
    CONVERT = "convert"
    """Convert speech audio into a library voice (voice conversion)."""
    STREAM = "stream"
    """Yield audio for one sentence in several chunks as it is made (native streaming)."""
    TRANSCRIBE = "transcribe"
    """Turn speech audio into text (speech recognition)."""
    TRANSLATE = "translate"
    """Turn speech in the languages it knows into English text (``TranscriptionRequest.task == "translate"``)."""


class EngineSettings(BaseModel):
    """Base for an engine's own settings table (``[engines.<id>]``); unknown keys are errors."""

    # inf and nan pass every lower bound, then break the daemon (JSON has no Infinity; int(inf) raises).
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, allow_inf_nan=False)


class EngineOptions(BaseModel):
    """Base for an engine's per-request options; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class VoiceInfo:
    """A voice an engine offers."""

    id: str
    """Engine-local id, e.g. ``en_US-joe-medium``; the catalog id is ``<engine>:<id>``."""
    name: str
    """Display name."""
    languages: tuple[str, ...]
    """Languages in ``en_US`` form (Home Assistant matches these exactly)."""
    sample_rate: int
    """Native output rate in Hz."""
    speakers: tuple[str, ...] = ()
    """Speaker names for multi-speaker voices."""
    description: str = ""
    """Longer text shown in voice lists."""


@dataclass(frozen=True)
class WithheldVoice:
    """A built-in voice the engine could offer but does not, and why (shown by ``voxhost voices`` and the API)."""

    id: str
    """Engine-local id it would have."""
    languages: tuple[str, ...]
    reason: str
    """Why it is not offered, and what would make it so."""


@dataclass(frozen=True)
class Reference:
    """A cloned voice from the voice library, as cloning and conversion engines see it."""

    voice_id: str
    """Library id, e.g. ``voice_grandma``."""
    audio_path: str
    """Reference audio: a mono WAV file."""
    transcript: str | None
    """What is said in the reference audio, when known."""
    language: str | None
    """Language of the reference, ``en_US`` form."""
    cache_dir: str
    """A directory the engine may use to cache per-voice preprocessing (conditionals, prompts)."""
    fingerprint: str = ""
    """Changes whenever the reference audio or transcript changes; key caches on it."""
    seconds: float | None = None
    """Length of the reference audio, when known."""
    words: tuple[tuple[float, float, str], ...] | None = None
    """What a speech recognizer heard in the reference, word by word: (start, end, word) in seconds. Engines that
    use only the first seconds of a reference cut it at a word boundary with these (``voxhost.transcripts``)."""


@dataclass
class SynthesisRequest:
    """One unit of work for an engine: usually one sentence of a job."""

    text: str
    voice: str
    """Engine-local voice id (ignored when ``reference`` is set)."""
    speaker: str | None = None
    language: str | None = None
    speed: float = 1.0
    """1.0 is normal; 2.0 twice as fast."""
    options: dict[str, Any] = field(default_factory=dict)
    """The engine's validated per-request options."""
    reference: Reference | None = None
    """Set for cloned voices."""
    instructions: str | None = None
    """Free-form style instructions, for engines that use them."""
    seed: int | None = None
    index: int = 0
    """Position of this sentence in its job."""
    final: bool = True
    """Whether this is the job's last sentence (known only once its text is complete)."""
    shared: bool = False
    """Other sentences are being synthesized at the same time: an engine that can choose how many threads to use
    should use fewer (when False, the sentence has the machine to itself)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the worker boundary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthesisRequest:
        """Inverse of ``to_dict``."""
        data = dict(data)
        if data.get("reference") is not None:
            data["reference"] = reference_from_dict(data["reference"])
        return cls(**data)


def reference_from_dict(data: dict[str, Any]) -> Reference:
    """A ``Reference`` from its plain data (``dataclasses.asdict``), word timings as tuples again."""
    data = dict(data)
    if data.get("words") is not None:
        data["words"] = tuple((float(s), float(e), str(w)) for s, e, w in data["words"])
    return Reference(**data)


@dataclass(frozen=True)
class PCM:
    """A chunk of mono signed 16-bit little-endian audio."""

    data: bytes
    rate: int
    last: bool = False
    """Nothing follows in this request: an in-process engine that says so lets its sentence end (and the next one
    start) without waiting for its generator to return."""

    @classmethod
    def from_float(cls, samples: np.ndarray, rate: int) -> PCM:
        """Convert float samples in [-1, 1] (any shape, taken as mono) to PCM."""
        flat = np.asarray(samples, dtype=np.float32).reshape(-1)
        clipped = np.clip(np.nan_to_num(flat), -1.0, 1.0)
        return cls((clipped * 32767.0).astype("<i2").tobytes(), rate)

    @property
    def seconds(self) -> float:
        """Duration of the chunk."""
        return len(self.data) / 2 / self.rate


MAX_RATE = 384_000
"""Highest sample rate an engine's chunk may have (the highest any audio interface offers)."""


def checked_pcm(item: object) -> PCM:
    """An engine's audio chunk as the core takes it, or ``TypeError``/``ValueError`` saying what is wrong with it.

    Checked where a plugin's audio enters voxhost: a wrong chunk passed on broke a door's encoder after its
    response had begun (an HTTP 200 with no body), and an odd byte shifted every later sample.
    """
    if not isinstance(item, PCM):
        raise TypeError(f"yielded {type(item).__name__}, not voxhost.PCM")
    data, rate = item.data, item.rate
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"yielded PCM whose data is {type(data).__name__}, not bytes")
    if isinstance(rate, bool) or not isinstance(rate, numbers.Integral) or not 1 <= rate <= MAX_RATE:
        raise ValueError(f"yielded PCM at rate {rate!r}, not a whole number of Hz from 1 to {MAX_RATE}")
    if not isinstance(data, bytes):
        data = bytes(data)
    if len(data) % 2:
        raise ValueError(f"yielded PCM of {len(data)} bytes, not whole 16-bit samples")
    return item if data is item.data and type(rate) is int else PCM(data, int(rate), item.last)


@dataclass
class TranscriptionRequest:
    """What a speech recognizer is asked to do with one piece of audio."""

    language: str | None = None
    """Base language code (``en``, ``de``); None: the engine detects it (or uses its configured default)."""
    prompt: str | None = None
    """Text that came before, or words to expect (Whisper's initial prompt)."""
    word_timestamps: bool = False
    """Also time every word (``Segment.words``)."""
    options: dict[str, Any] = field(default_factory=dict)
    """The engine's validated per-request options."""
    task: Literal["transcribe", "translate"] = "transcribe"
    """``translate``: English text whatever the language spoken (asked only of engines with
    ``Capability.TRANSLATE``)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the worker boundary."""
        return asdict(self)


@dataclass(frozen=True)
class Word:
    """One recognized word and when it was said (seconds from the start of the audio)."""

    start: float
    end: float
    text: str
    """The word as written, with its leading space (Whisper's convention)."""
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    """A stretch of recognized speech (a phrase or a sentence), with its timing."""

    id: int
    """Its place in the transcript, counted from 0 (as OpenAI's ``verbose_json`` numbers segments)."""
    start: float
    end: float
    text: str
    """The text, with its leading space (Whisper's convention); join segments as they are and strip."""
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    temperature: float = 0.0
    tokens: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the worker boundary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        """Inverse of ``to_dict``."""
        data = dict(data)
        data["words"] = tuple(Word(**word) for word in data.get("words") or ())
        data["tokens"] = tuple(data.get("tokens") or ())
        return cls(**data)


@dataclass(frozen=True)
class TranscriptInfo:
    """What a recognizer knows before its first segment: the language and the audio's length."""

    language: str | None
    """Base language code of the speech (detected, or as asked)."""
    language_probability: float | None
    duration: float
    """Seconds of audio."""


TranscriptPart = TranscriptInfo | Segment
"""What ``Engine.transcribe`` yields: one ``TranscriptInfo`` first, then ``Segment`` after ``Segment``."""


@dataclass(frozen=True)
class Transcript:
    """A whole transcription: the text, its language, and its segments (words, when asked)."""

    text: str
    language: str | None
    language_probability: float | None
    duration: float
    segments: tuple[Segment, ...] = ()

    @property
    def words(self) -> tuple[Word, ...]:
        """Every word of every segment, in order."""
        return tuple(word for segment in self.segments for word in segment.words)

    @classmethod
    def collect(cls, info: TranscriptInfo, segments: list[Segment]) -> Transcript:
        """The transcript of an info and its segments (texts joined as Whisper writes them, then stripped)."""
        text = "".join(segment.text for segment in segments).strip()
        return cls(text, info.language, info.language_probability, info.duration, tuple(segments))


@dataclass(frozen=True)
class TranscriptionModel:
    """A speech-recognition model an engine serves, as doors advertise it (Wyoming's ``asr`` models)."""

    name: str
    languages: tuple[str, ...]
    """Base language codes it transcribes."""
    description: str = ""


@dataclass(frozen=True)
class EnvironmentSpec:
    """What an engine needs in its interpreter, as ``voxhost doctor`` checks it there (before any model loads)."""

    imports: tuple[str, ...] = ()
    """Modules that must import (e.g. ``torch``, ``torchaudio``, the engine's package)."""
    optional: dict[str, str] = field(default_factory=dict)
    """Modules the engine works without → what goes without one (doctor warns rather than fails)."""
    versions: dict[str, str] = field(default_factory=dict)
    """Distribution name → the version voxhost is tested with (``""``: any version)."""
    setup: str = ""
    """The command that creates or repairs the environment; ``{venv}`` stands for its directory."""
    device: Literal["", "torch", "mlx"] = ""
    """Which framework picks the device: doctor reports its device and memory."""


@dataclass(frozen=True)
class EngineContext:
    """Where an engine may keep files; plain data so that it crosses to a worker."""

    state_dir: str
    """voxhost's state directory (voice library, caches)."""
    models_dir: str
    """Where downloaded models live (``voxhost models pull``)."""
    cache_dir: str
    """A directory of the engine's own for caches."""
    search_hf_cache: bool = True
    """Also look for model files in the Hugging Face cache (``HF_HUB_CACHE``/``HF_HOME``)."""

    def path(self, *parts: str) -> Path:
        """A path under the engine's cache directory."""
        return Path(self.cache_dir, *parts)

    def model_dir(self, spec: ModelSpec) -> Path:
        """Where ``voxhost models pull`` puts a model: ``<models_dir>/<org>--<repo>``."""
        return Path(self.models_dir, spec.repo.replace("/", "--"))

    def find_model(self, spec: ModelSpec) -> Path | None:
        """The directory holding all of the model's files (models directory, then the HF cache), or None."""
        return find_model(spec, self.models_dir, search_hf_cache=self.search_hf_cache)

    def require_model(self, spec: ModelSpec) -> Path:
        """The model's directory, or ``ModelMissingError`` naming the pull command."""
        return require_model(spec, self.models_dir, search_hf_cache=self.search_hf_cache)


class Engine(ABC):
    """A text-to-speech engine. Subclass it and register the class from ``register_engines``."""

    engine_id: ClassVar[str]
    """Unique id, used in catalog ids (``<engine_id>:<voice>``) and config tables."""
    display_name: ClassVar[str] = ""
    attribution_name: ClassVar[str] = ""
    """Who made the engine or its models (shown in Home Assistant's voice lists); default: the display name."""
    attribution_url: ClassVar[str] = ""
    """Where the engine comes from."""
    package: ClassVar[str] = ""
    """The distribution whose version is the engine's version (default: the plugin's own)."""
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.TTS})
    Settings: ClassVar[type[EngineSettings]] = EngineSettings
    """The model that validates ``[engines.<engine_id>]``."""
    Options: ClassVar[type[EngineOptions]] = EngineOptions
    """The model that validates per-request options."""
    default_mode: ClassVar[Literal["thread", "worker"]] = "thread"
    """Run in-process in a thread, or in a worker process."""
    default_nice: ClassVar[int] = 5
    """How much lower the engine's CPU priority is than the daemon's, unless its table says (``nice``)."""
    default_concurrency: ClassVar[int] = 1
    """Sentences the engine may synthesize at once in thread mode (its ``synthesize`` must be thread-safe)."""
    enabled_by_default: ClassVar[bool] = False
    """Whether the engine runs when config does not mention it."""
    default_priority: ClassVar[int] = 0
    """Engines are listed by this, highest first; the first built-in voice is the default voice."""
    clone_sample_rate: ClassVar[int] = 24000
    """Output rate for cloned voices and conversion."""
    needs_transcript: ClassVar[bool] = False
    """Cloning needs the reference's transcript (F5-TTS, Qwen3-TTS Base); voices without one are not offered."""
    reads_numbers: ClassVar[bool] = False
    """The engine reads plain numbers (cardinals, decimals) correctly in the sentence's language by itself, as
    Piper's espeak-ng does: the text front-end then leaves them as digits and spells out only times, dates, money,
    units and the like. False (neural engines that learned from words): every number is written out."""
    inline_phonemes: ClassVar[str | None] = None
    """How the engine takes a pronunciation inside text (``"[[ {} ]]"`` for Piper), for lexicon entries with
    phonemes; None: lexicon entries' respellings are used instead."""
    reference_seconds: ClassVar[float | None] = None
    """How much of a reference the engine uses (it cuts longer ones); None: all of it. With a transcript, the cut
    must keep audio and text together: the core refuses a longer reference without word timings to an engine
    that ``needs_transcript``."""

    def __init__(self, settings: EngineSettings, context: EngineContext) -> None:
        self.settings = settings
        self.context = context

    @abstractmethod
    def voices(self) -> list[VoiceInfo]:
        """The engine's built-in voices; cheap, callable before ``load()``."""

    @abstractmethod
    def load(self) -> None:
        """Load models; called once, off the event loop, before any synthesis."""

    def unload(self) -> None:  # noqa: B027 (optional: most engines free memory by dropping references)
        """Free what ``load()`` took; the default does nothing."""

    @abstractmethod
    def synthesize(self, request: SynthesisRequest) -> Iterator[PCM]:
        """Speak ``request.text``; yield PCM as it is made. Runs off the event loop."""

    def convert(self, audio: PCM, target: Reference, options: dict[str, Any]) -> Iterator[PCM]:
        """Convert speech into the ``target`` voice (engines with ``Capability.CONVERT``)."""
        raise UnsupportedError(f"engine {self.engine_id!r} does not convert voices")

    def transcribe(self, audio: PCM, request: TranscriptionRequest) -> Iterator[TranscriptPart]:
        """Recognize the speech in ``audio`` (engines with ``Capability.TRANSCRIBE``): yield one ``TranscriptInfo``,
        then the ``Segment``s as they are recognized. Runs off the event loop."""
        raise UnsupportedError(f"engine {self.engine_id!r} does not transcribe speech")

    def transcription_models(self) -> list[TranscriptionModel]:
        """The recognition models this engine serves now (transcribing engines); cheap, callable before ``load()``."""
        return []

    def models(self) -> list[ModelSpec]:
        """Models this engine can use, for ``voxhost models``; cheap, callable before ``load()``."""
        return []

    def local_models(self) -> dict[str, Path]:
        """Models on this machine by name, wherever they are (Piper: every voice file found; Whisper: its bundled
        tiny.en), for ``voxhost models list``: shown installed where they were not pulled, and listed alone when
        ``refresh_models`` fails and nothing was fetched before; cheap, callable before ``load()``."""
        return {}

    def withheld_voices(self) -> list[WithheldVoice]:
        """Built-in voices not offered with this configuration, each with its reason; cheap like ``voices()``."""
        return []

    def speaks_cloned(self, language: str) -> bool:
        """Whether this engine (with ``Capability.CLONE``) can speak a library voice stored in ``language`` (a
        locale such as ``ja_JP``, or a bare ``ja``). When it cannot, ``<engine>:<library id>`` is left out of every
        voice list (Wyoming's describe, the MQTT select, ``/v1/audio/voices``) and the bare library id names
        another engine's entry; a request that still names it gets ``validate_request``'s error. Called when the
        catalog is built, on the event loop: answer from the configuration, cheaply, the same for the engine's
        life. The default: every language."""
        return True

    def refresh_models(self) -> None:  # noqa: B027 (optional: most engines' model lists are fixed)
        """Fetch the engine's list of downloadable models (``voxhost models`` calls it before listing or pulling
        for one engine); may use the network; raise a ``VoxhostError`` when it cannot."""

    def environment(self) -> EnvironmentSpec:
        """What the engine's interpreter must have, for ``voxhost doctor``; cheap, callable before ``load()``."""
        return EnvironmentSpec()

    def required_models(self) -> list[ModelSpec]:
        """The models this configuration loads (a subset of ``models()``), for ``voxhost doctor``."""
        return []

    def self_check(self) -> list[str]:
        """Problems short of failure the engine sees in its own environment (run by ``voxhost doctor`` there)."""
        return []

    def status(self) -> dict[str, Any]:
        """Extra status for health pages (device, memory); called after ``load()``."""
        return {}

    def validate_request(self, request: SynthesisRequest) -> None:  # noqa: B027 (optional check)
        """Reject a request before it is queued (e.g. an unknown speaker); raise a ``VoxhostError``."""
