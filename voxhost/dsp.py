"""Signal helpers for engines, numpy only (they run in every worker environment): time-stretch and joins.

``stretch``: pitch-preserving time-stretch (WSOLA) for engines without a native speed control.
``Joiner``: crossfades the pieces an engine makes inside one job (voice conversion segments that overlap, a long
sentence spoken in several calls), so that no join clicks.

WSOLA (waveform-similarity overlap-add) cuts the input into overlapping Hann frames, takes them at ``speed`` times
the output hop, and lets each frame shift by up to ``tolerance`` to where it best continues the previous one, so
pitch and timbre stay and no phase-vocoder "phasiness" appears. Chosen over the libraries measured side by side
(``bench/timestretch.py``, figures in docs/benchmarks.md): as intelligible to Whisper at 0.75x and 1.5x, faster,
and it needs nothing but numpy, so it runs in every worker environment (Jetson and macOS included).
"""

from __future__ import annotations

import numpy as np

MIN_SPEED = 0.25
MAX_SPEED = 4.0
FRAME_SECONDS = 0.04
"""Frame length: long enough to hold two periods of a low voice, short enough not to smear syllables."""


def stretch(audio: np.ndarray, rate: int, speed: float) -> np.ndarray:
    """``audio`` (mono float32) played ``speed`` times as fast at the same pitch; its length is divided by speed."""
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ValueError(f"speed {speed} outside {MIN_SPEED}-{MAX_SPEED}")
    if abs(speed - 1.0) < 1e-3 or x.size == 0:
        return x
    frame = max(16, int(FRAME_SECONDS * rate) // 2 * 2)
    hop_out = frame // 2  # 50 % overlap: periodic Hann windows sum to one
    hop_in = hop_out * speed
    tolerance = hop_out // 2
    out_len = int(round(x.size / speed))
    frames = out_len // hop_out + 2
    # pad so that every candidate frame (nominal position +- tolerance, and its natural continuation) exists
    pad_end = int(frames * hop_in) + frame + 2 * tolerance + hop_out - x.size
    xp = np.concatenate([np.zeros(tolerance, np.float32), x, np.zeros(max(pad_end, 0) + tolerance, np.float32)])
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)).astype(np.float32)
    out = np.zeros(frames * hop_out + frame, np.float32)
    weight = np.zeros_like(out)
    previous = 0
    for k in range(frames):
        nominal = int(round(k * hop_in))
        if k == 0:
            start = nominal
        else:
            # the samples that would follow the previous frame in the input: the next frame should resemble them
            natural = xp[previous + tolerance + hop_out : previous + tolerance + hop_out + frame]
            region = xp[nominal : nominal + 2 * tolerance + frame]
            start = nominal - tolerance + int(np.argmax(np.correlate(region, natural, mode="valid")))
            start = max(start, 0)
        chunk = xp[start + tolerance : start + tolerance + frame]
        at = k * hop_out
        out[at : at + frame] += chunk * window
        weight[at : at + frame] += window
        previous = start
    out /= np.maximum(weight, 1e-3)
    return out[:out_len]


class Joiner:
    """Joins consecutive pieces of audio with a linear crossfade of ``overlap`` samples at each join.

    Each ``push`` returns what may be played now; the last ``overlap`` samples are held back to blend with the
    next piece's first samples (``flush`` returns them at the end). For pieces whose ends cover the same input
    (overlapping conversion segments) the total length is the input's; otherwise each join shortens it by the fade.
    """

    def __init__(self, overlap: int) -> None:
        self.overlap = max(0, int(overlap))
        self._tail = np.zeros(0, np.float32)

    def push(self, audio: np.ndarray, overlap: int | None = None) -> np.ndarray:
        """Add the next piece (``overlap``: this join's fade, default the joiner's); returns audio ready to play."""
        piece = np.asarray(audio, dtype=np.float32).reshape(-1)
        n = min(self.overlap if overlap is None else max(0, int(overlap)), self._tail.size, piece.size)
        if n:
            ramp = np.linspace(0.0, 1.0, n + 2, dtype=np.float32)[1:-1]
            blended = self._tail[self._tail.size - n :] * (1.0 - ramp) + piece[:n] * ramp
            piece = np.concatenate([self._tail[: self._tail.size - n], blended, piece[n:]])
        else:
            piece = np.concatenate([self._tail, piece])
        keep = min(self.overlap, piece.size)
        self._tail = piece[piece.size - keep :].copy()
        return piece[: piece.size - keep]

    def flush(self) -> np.ndarray:
        """The held-back end of the last piece."""
        tail, self._tail = self._tail, np.zeros(0, np.float32)
        return tail
