"""Piper's speed: the length scale that gives a requested speed, and a time-stretch for what Piper cannot reach.

Piper's ``length_scale`` does not divide a sentence's duration by the factor asked. Part of the length does not
follow it: with the bundled voice twice the scale makes 1.75 times the audio, not 2, and four times makes 3.25.
Below about half the voice's scale the durations' rounding to whole frames holds Piper back, unevenly from one
text to the next: speed 4 (a quarter of the scale) gave 1.9x to 3.2x depending on the text. So each voice is
measured once, the first time it is asked a speed other than 1 (one sentence at four length scales, about 0.1 s
of CPU per second of speech), and a speed maps to the scale that gives it. The curve is kept in the engine's cache
directory (``CurveFile``), so a voice is measured once, not once per daemon start. A speed faster than the voice reaches
at half its scale is taken there and the rest is done with a pitch-preserving time-stretch (``voxhost.dsp``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..replacing import replacing

_LOGGER = logging.getLogger(__name__)

CALIBRATION_TEXT = "The washing machine is done and the dryer will start in five minutes."
SCALES = (0.5, 0.7, 1.0, 2.0)
"""Length scales measured, as factors of the voice's own. The first is as fast as Piper is taken: below it the
response is uneven from text to text. Slower than the last, the curve goes on in a straight line."""
MAX_SCALE = 8.0
"""The slowest length scale used (a factor of the voice's own); slower still is stretched."""
METHOD = hashlib.sha256(repr((CALIBRATION_TEXT, SCALES)).encode()).hexdigest()[:12]
"""What the stored curves were measured with: a change of text or scales measures every voice again."""


@dataclass(frozen=True)
class SpeedCurve:
    """A voice's duration at each of ``SCALES``, relative to its duration at its own length scale."""

    scales: tuple[float, ...]
    lengths: tuple[float, ...]

    def plan(self, speed: float) -> tuple[float, float]:
        """For ``speed``: the factor of the voice's length scale, and the time-stretch still needed (1: none)."""
        target = 1.0 / speed
        scales, lengths = self.scales, self.lengths
        if target <= lengths[0]:  # faster than Piper is taken: the rest is stretched
            return scales[0], _clamp(lengths[0] / target)
        for i in range(1, len(scales)):
            if target <= lengths[i]:  # between two measured points (target > lengths[i - 1] here)
                share = (target - lengths[i - 1]) / (lengths[i] - lengths[i - 1])
                return scales[i - 1] + share * (scales[i] - scales[i - 1]), 1.0
        slope = (lengths[-1] - lengths[-2]) / (scales[-1] - scales[-2])
        if slope <= 0:
            return scales[-1], _clamp(lengths[-1] / target)
        scale = min(MAX_SCALE, scales[-1] + (target - lengths[-1]) / slope)
        reached = lengths[-1] + slope * (scale - scales[-1])
        return scale, _clamp(reached / target)


def measure(voice: Any, length_scale: float) -> SpeedCurve:
    """Synthesize ``CALIBRATION_TEXT`` with ``voice`` (a PiperVoice) at each of ``SCALES`` times ``length_scale``,
    without noise, so that the curve is the same every time."""
    from piper import SynthesisConfig

    sentences = [voice.phonemes_to_ids(phonemes) for phonemes in voice.phonemize(CALIBRATION_TEXT) if phonemes]

    def samples(scale: float) -> int:
        config = SynthesisConfig(length_scale=length_scale * scale, noise_scale=0.0, noise_w_scale=0.0)
        return sum(int(voice.phoneme_ids_to_audio(ids, config).size) for ids in sentences)

    measured = {scale: samples(scale) for scale in SCALES}
    base = max(measured[1.0], 1)
    return SpeedCurve(SCALES, tuple(measured[scale] / base for scale in SCALES))


class CurveFile:
    """Measured curves kept in a JSON file, by voice file (path, modification time and size) and length scale."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._curves: dict[str, Any] | None = None

    @staticmethod
    def key(model: Path, stamp: tuple[int, int], length_scale: float) -> str:
        """The entry of one voice file as it is now, at its own length scale."""
        return f"{METHOD}:{model}:{stamp[0]}:{stamp[1]}:{length_scale!r}"

    def get(self, key: str) -> SpeedCurve | None:
        """The curve stored under ``key``, or None (also for an unreadable or foreign file: measured again)."""
        entry = self._read().get(key)
        try:
            lengths = tuple(float(length) for length in entry["lengths"]) if isinstance(entry, dict) else ()
        except (TypeError, KeyError, ValueError):
            return None
        # A curve must be what measure() makes: one length per scale, growing with the scale, 1 at the voice's own.
        if len(lengths) != len(SCALES) or list(lengths) != sorted(lengths) or lengths[SCALES.index(1.0)] != 1.0:
            return None
        return SpeedCurve(SCALES, lengths)

    def put(self, key: str, curve: SpeedCurve) -> None:
        """Store ``curve`` under ``key``, dropping entries of older files of the same voice; a failure only logs."""
        voice = key.rsplit(":", 3)[0]
        curves = {k: v for k, v in self._read().items() if k.rsplit(":", 3)[0] != voice}
        curves[key] = {"lengths": list(curve.lengths)}
        self._curves = curves
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with replacing(self.path) as part:  # a crash or a second engine never leaves half a file
                part.write_text(json.dumps(curves, indent=1))
        except OSError as err:
            _LOGGER.warning("Piper speed curves cannot be kept in %s (measured again next start): %s", self.path, err)

    def _read(self) -> dict[str, Any]:
        """The file's entries, read once."""
        if self._curves is None:
            try:
                loaded = json.loads(self.path.read_text())
            except (OSError, ValueError):
                loaded = {}
            self._curves = loaded if isinstance(loaded, dict) else {}
        return self._curves


def _clamp(speed: float) -> float:
    """A stretch within what ``dsp.stretch`` takes; within a thousandth of 1, none."""
    from voxhost.dsp import MAX_SPEED, MIN_SPEED  # numpy: only once a speed is asked

    speed = min(MAX_SPEED, max(MIN_SPEED, speed))
    return 1.0 if abs(speed - 1.0) < 1e-3 else speed
