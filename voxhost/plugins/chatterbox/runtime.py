"""The heavy half of the Chatterbox engine: imported only by ``load()``, in the process that synthesizes.

Models load through chatterbox-tts's own ``from_local`` loaders. Two upstream faults are handled here:
the Perth watermarker vanishing when ``pkg_resources`` is gone (setuptools >= 81), and the multilingual
model passing speech tokens >= 6561 on to S3Gen, whose embedding has 6561 rows.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.resources
import logging
import os
import random
import sys
import tempfile
import types
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
import torch

from voxhost.engine import Reference
from voxhost.errors import EngineError, UnknownVoiceError
from voxhost.replacing import replacing

from .segmenter import pkuseg_model_present

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE = 24000
SPEECH_VOCAB_SIZE = 6561
"""Rows of S3Gen's speech-token embedding; ids at or above it are start/stop or out of range."""
_MEMORY_CONDS = 16
"""Cloned voices whose conditionals stay in memory (they are on disk either way)."""


def pick_device(setting: str) -> str:
    """``auto`` means CUDA, then Apple MPS, then CPU; anything else is taken as given."""
    if setting != "auto":
        return setting
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def seed_everything(seed: int | None) -> None:
    """Make sampling repeatable for a request that carries a seed."""
    if seed is None:
        return
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class _PassThroughWatermarker:
    """Stands in for Perth when the watermark is switched off."""

    def apply_watermark(self, wav: np.ndarray, sample_rate: int = SAMPLE_RATE, **_: Any) -> np.ndarray:
        return wav


def _pkg_resources_stand_in() -> types.ModuleType:
    """The one ``pkg_resources`` function Perth uses, on top of importlib.resources."""
    module = types.ModuleType("pkg_resources")

    def resource_filename(package: str, resource: str) -> str:
        return str(importlib.resources.files(package).joinpath(resource))

    module.resource_filename = resource_filename  # type: ignore[attr-defined]
    return module


def perth_watermarker_class() -> type:
    """Perth's implicit watermarker class, importing it without ``pkg_resources`` if that is gone.

    perth swallows the ImportError and sets ``PerthImplicitWatermarker = None``, after which every Chatterbox
    constructor fails with "'NoneType' object is not callable"; here the failure is repaired or made loud.
    """
    import perth

    if perth.PerthImplicitWatermarker is not None:
        return perth.PerthImplicitWatermarker  # type: ignore[no-any-return]
    stand_in = None
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        stand_in = _pkg_resources_stand_in()
        sys.modules["pkg_resources"] = stand_in
        _LOGGER.info("pkg_resources is missing (setuptools >= 81); loading Perth through importlib.resources")
    try:
        module = importlib.import_module("perth.perth_net.perth_net_implicit.perth_watermarker")
    except Exception as err:
        raise EngineError(
            f"the Perth watermarker cannot be imported ({type(err).__name__}: {err}); "
            "install setuptools<81 in the Chatterbox environment, or set [engines.chatterbox] watermark = false"
        ) from err
    finally:
        if stand_in is not None and sys.modules.get("pkg_resources") is stand_in:
            del sys.modules["pkg_resources"]
    perth.PerthImplicitWatermarker = module.PerthImplicitWatermarker
    return module.PerthImplicitWatermarker  # type: ignore[no-any-return]


@contextlib.contextmanager
def _constructing(watermarker: Any, model_dir: Path) -> Iterator[None]:
    """While a Chatterbox class is built: hand it our watermarker, and resolve hub files from ``model_dir``.

    The constructors call ``perth.PerthImplicitWatermarker()`` themselves; one shared instance (or the
    pass-through) is enough. ``MTLTokenizer`` fetches ``Cangjie5_TC.json`` with ``hf_hub_download`` into a
    hub cache; ``voxhost models pull`` keeps the file flat in the model directory instead.
    """
    import perth
    from chatterbox.models.tokenizers import tokenizer as tokenizer_module

    saved_perth, saved_download = perth.PerthImplicitWatermarker, tokenizer_module.hf_hub_download

    def local_download(repo_id: str, filename: str, **_: Any) -> str:
        path = model_dir / filename
        if not path.is_file():
            raise FileNotFoundError(f"{filename} is not in {model_dir}")
        return str(path)

    perth.PerthImplicitWatermarker = lambda: watermarker
    tokenizer_module.hf_hub_download = local_download
    # MTLTokenizer's spacy_pkuseg.pkuseg() downloads its model when it is missing, and only an ImportError is
    # caught: offline that would fail the whole multilingual load. Without the model, pkuseg is hidden instead
    # (upstream then skips Chinese segmentation with a warning; doctor says how to get the model).
    hide_pkuseg = "spacy_pkuseg" not in sys.modules and not pkuseg_model_present()
    if hide_pkuseg:
        sys.modules["spacy_pkuseg"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        perth.PerthImplicitWatermarker = saved_perth
        tokenizer_module.hf_hub_download = saved_download
        if hide_pkuseg and sys.modules.get("spacy_pkuseg", 0) is None:
            del sys.modules["spacy_pkuseg"]


def _cap_tokens(model: Any, max_new_tokens: int) -> dict[str, Any]:
    """Bound T3's speech tokens per call (upstream asks for 1000) and drop ids S3Gen cannot embed.

    Returns the original methods, which ``_uncap`` puts back: the wrappers hold the model's bound methods, a
    reference cycle that would keep its memory until the garbage collector finds it.
    """
    originals = {"t3.inference": model.t3.inference, "s3gen.inference": model.s3gen.inference}
    t3_inference = model.t3.inference
    s3_inference = model.s3gen.inference

    def t3_capped(**kwargs: Any) -> torch.Tensor:
        kwargs["max_new_tokens"] = min(int(kwargs.get("max_new_tokens") or max_new_tokens), max_new_tokens)
        return t3_inference(**kwargs)

    def s3_valid_only(*args: Any, speech_tokens: torch.Tensor, **kwargs: Any) -> Any:
        # The multilingual generate() lacks the English path's `tokens < 6561` filter, so a sampled id past
        # the vocabulary would raise an IndexError inside S3Gen's embedding.
        if speech_tokens.dim() == 1:
            speech_tokens = speech_tokens[speech_tokens < SPEECH_VOCAB_SIZE]
        else:
            speech_tokens = speech_tokens[:, speech_tokens[0] < SPEECH_VOCAB_SIZE]
        return s3_inference(*args, speech_tokens=speech_tokens, **kwargs)

    model.t3.inference = t3_capped
    model.s3gen.inference = s3_valid_only
    if hasattr(model.t3, "inference_turbo"):
        turbo_inference = model.t3.inference_turbo
        originals["t3.inference_turbo"] = turbo_inference

        def turbo_capped(*args: Any, **kwargs: Any) -> torch.Tensor:
            kwargs["max_gen_len"] = min(int(kwargs.get("max_gen_len") or max_new_tokens), max_new_tokens)
            return turbo_inference(*args, **kwargs)

        model.t3.inference_turbo = turbo_capped
    return originals


def _uncap(model: Any, originals: dict[str, Any]) -> None:
    """Undo ``_cap_tokens`` (instance attributes only: the class methods come back)."""
    for dotted in originals:
        owner, name = dotted.split(".")
        vars(getattr(model, owner)).pop(name, None)


def release_device_memory(device: str) -> None:
    """Collect dropped models, then hand the framework's cached device memory back (CUDA or MPS)."""
    import gc

    gc.collect()
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.startswith("mps"):
        mps = getattr(torch, "mps", None)
        if mps is not None and hasattr(mps, "empty_cache"):
            mps.empty_cache()


def _turbo_loader() -> Callable[..., Any]:
    """``ChatterboxTurboTTS.from_local``, imported only when Turbo is configured (it needs the GPT-2 tokenizer)."""

    def load(directory: str, device: str) -> Any:
        from chatterbox.tts_turbo import ChatterboxTurboTTS

        return ChatterboxTurboTTS.from_local(directory, device)

    return load


@dataclass
class _Variant:
    """One loaded Chatterbox model: ``en`` (ChatterboxTTS) or ``multilingual``."""

    name: str
    model: Any
    builtin: Any
    """The model's bundled voice (``conds.pt``), or None."""
    originals: dict[str, Any]
    """The model methods ``_cap_tokens`` wrapped."""


class ChatterboxRuntime:
    """Loaded models, per-voice conditionals (memory + disk), synthesis and conversion. Not thread-safe."""

    def __init__(
        self,
        model_dirs: dict[str, Path],
        *,
        device: str,
        watermark: bool,
        max_new_tokens: int,
    ) -> None:
        self.model_dirs = model_dirs
        self.device = device
        self.watermark = watermark
        self.max_new_tokens = max_new_tokens
        self.variants: dict[str, _Variant] = {}
        self._vc: Any = None
        self._vc_variant = ""
        self._conds: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self.counters = {"conditionals_computed": 0, "conditionals_from_disk": 0, "conditionals_from_memory": 0}
        self._watermarker: Any = None

    def load(self) -> None:
        """Build every model in ``model_dirs`` through its ``from_local`` loader."""
        # spacy-pkuseg reads its segmentation model from PKUSEG_HOME: envs/chatterbox/setup.sh puts it in the env
        pkuseg_home = Path(sys.prefix, "share", "pkuseg")
        if pkuseg_home.is_dir():
            os.environ.setdefault("PKUSEG_HOME", str(pkuseg_home))
        from chatterbox import ChatterboxMultilingualTTS, ChatterboxTTS, ChatterboxVC

        self._watermarker = perth_watermarker_class()() if self.watermark else _PassThroughWatermarker()
        loaders: dict[str, Callable[..., Any]] = {
            "en": ChatterboxTTS.from_local,
            "multilingual": ChatterboxMultilingualTTS.from_local,
            "turbo": _turbo_loader(),
        }
        for name, directory in self.model_dirs.items():
            with _constructing(self._watermarker, directory):
                model = loaders[name](str(directory), self.device)
            originals = _cap_tokens(model, self.max_new_tokens)
            self.variants[name] = _Variant(name, model, model.conds, originals)
            _LOGGER.info("loaded Chatterbox %s model from %s on %s", name, directory, self.device)
        # Conversion needs only S3Gen: share the English model's (the one ChatterboxVC.from_local reads); Turbo's
        # S3Gen is the two-step "meanflow" decoder, which conversion does not use.
        order = [name for name in ("en", "multilingual", "turbo") if name in self.variants]
        self._vc_variant = order[0]
        with _constructing(self._watermarker, self.model_dirs[self._vc_variant]):
            self._vc = ChatterboxVC(self.variants[self._vc_variant].model.s3gen, self.device)

    def unload(self) -> None:
        """Drop the models and give memory back (in thread mode the process lives on, so this must be complete)."""
        for variant in self.variants.values():
            _uncap(variant.model, variant.originals)
        self.variants.clear()
        self._conds.clear()
        self._vc = None
        release_device_memory(self.device)

    @property
    def watermarker_name(self) -> str:
        """What marks the output: ``perth`` or ``off``."""
        return "off" if isinstance(self._watermarker, _PassThroughWatermarker) else "perth"

    def conditionals(self, variant: str, reference: Reference | None) -> Any:
        """A voice's conditionals: the bundled voice, or a cloned voice's from memory, disk, or computed once."""
        target = self.variants[variant]
        if reference is None:
            if target.builtin is None:
                raise EngineError(f"the Chatterbox {variant} model has no bundled voice (conds.pt)")
            return target.builtin
        key = (variant, reference.fingerprint or reference.audio_path)
        if key in self._conds:
            self._conds.move_to_end(key)
            self.counters["conditionals_from_memory"] += 1
            return self._conds[key]
        # Turbo has a Conditionals class of its own, beside its model class
        conditionals_class = sys.modules[type(target.model).__module__].Conditionals
        cache = self._cache_path(variant, reference)
        conds = None
        if cache is not None and cache.is_file():
            try:
                conds = conditionals_class.load(cache, map_location=self._map_location).to(self.device)
                self.counters["conditionals_from_disk"] += 1
            except Exception as err:  # a torn or foreign file: compute afresh
                _LOGGER.warning("ignoring unreadable conditionals cache %s: %s", cache, err)
        if conds is None:
            conds = self._compute(target, reference)
            if cache is not None:
                try:
                    cache.parent.mkdir(parents=True, exist_ok=True)
                    with replacing(cache) as part:
                        conds.save(part)
                except OSError as err:  # a full or read-only disk: speak all the same, without the cache
                    _LOGGER.warning("could not keep the conditionals in %s: %s", cache, err)
        self._conds[key] = conds
        while len(self._conds) > _MEMORY_CONDS:
            self._conds.popitem(last=False)
        return conds

    @property
    def _map_location(self) -> str:
        return "cpu" if self.device in ("cpu", "mps") else self.device

    @staticmethod
    def _cache_path(variant: str, reference: Reference) -> Path | None:
        if not reference.cache_dir or not reference.fingerprint:
            return None
        return Path(reference.cache_dir) / f"chatterbox-{variant}-{reference.fingerprint}.pt"

    def _compute(self, target: _Variant, reference: Reference) -> Any:
        if not Path(reference.audio_path).is_file():
            raise UnknownVoiceError(f"the reference audio of voice {reference.voice_id!r} is missing")
        model = target.model
        saved = model.conds
        try:
            model.prepare_conditionals(reference.audio_path, exaggeration=0.5)
            conds = model.conds
        finally:
            model.conds = saved
        self.counters["conditionals_computed"] += 1
        _LOGGER.info("computed Chatterbox %s conditionals for %s", target.name, reference.voice_id)
        return conds

    def synthesize(
        self,
        variant: str,
        text: str,
        *,
        language: str,
        reference: Reference | None,
        exaggeration: float,
        cfg_weight: float,
        temperature: float,
        seed: int | None,
        **sampling: float,
    ) -> np.ndarray:
        """Speak one piece of text; float32 mono at 24 kHz. ``sampling``: repetition_penalty, min_p, top_p."""
        target = self.variants[variant]
        model = target.model
        model.conds = self.conditionals(variant, reference)
        seed_everything(seed)
        kwargs: dict[str, Any] = {"exaggeration": exaggeration, "cfg_weight": cfg_weight, "temperature": temperature}
        if variant == "multilingual":
            kwargs["language_id"] = language
        if variant == "turbo":  # Turbo warns on cfg, min_p and exaggeration and ignores them
            kwargs = {"temperature": temperature, "exaggeration": 0.0, "cfg_weight": 0.0, "min_p": 0.0}
            sampling.pop("min_p", None)
        kwargs.update(sampling)
        wav = model.generate(text, **kwargs)
        return wav.reshape(-1).detach().cpu().numpy().astype(np.float32)

    def convert(self, samples: np.ndarray, rate: int, target: Reference, workdir: Path) -> np.ndarray:
        """Speech in any voice to ``target``'s voice through ChatterboxVC; float32 mono at 24 kHz."""
        self._vc.ref_dict = self.conditionals(self._vc_variant, target).gen
        workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(suffix=".wav", dir=workdir) as source:
            soundfile.write(source.name, samples, rate, subtype="FLOAT", format="WAV")
            wav = self._vc.generate(source.name)
        return wav.reshape(-1).detach().cpu().numpy().astype(np.float32)
