"""faster-whisper's speech detection and log-Mel features in bounded memory, with the results of its whole-file steps.

faster-whisper computes both over the whole audio at once. Its voice-activity detector copies the audio twice
(padded, then with each window's context) before its model sees the first window: a 28-minute upload of silence
and a few sentences peaked at about 5 times its float32 size. Its features are a short-time Fourier transform of
all the speech kept, framed, windowed and transformed in one piece: 13-16 times the audio's float32 size, 1.5 GiB for
half an hour of speech. Here the detector's model runs over 16 s of windows at a time, its state carried from one
block to the next as faster-whisper carries it from one of its batches to the next, and the features are made 30 s
at a time; only the results are kept whole (a probability per 32 ms, 80 Mel values per 10 ms).
"""

from __future__ import annotations

from typing import Any

import numpy as np

RATE = 16000
WINDOW = 512
"""Samples the detector judges at once (32 ms)."""
CONTEXT = 64
"""Samples of the window before that the detector sees with each window."""
BATCH = 500
"""Windows per model call (16 s): the model reads a batch's windows in order, carrying its state from one to the next,
so its probabilities are those of faster-whisper's batches of 10,000 bit for bit, and its buffers 17 MiB, not 120."""
FRAMES = 3000
"""Feature frames made at once (30 s): about 10 MB of intermediate arrays."""


def speech_chunks(audio: np.ndarray) -> list[dict[str, int]] | None:
    """Where ``audio`` (16 kHz float32) has speech, in samples, as ``faster_whisper.vad.get_speech_timestamps`` with
    its default options finds it; None when the installed faster-whisper is not the one this follows."""
    from faster_whisper import vad

    options = vad.VadOptions()
    session = getattr(vad.get_vad_model(), "session", None)
    if session is None or options.max_speech_duration_s != float("inf") or options.neg_threshold is not None:
        return None
    probs = _probabilities(session, audio)
    # Compared as faster-whisper compares them: float32 against the Python thresholds.
    speech = probs >= options.threshold
    silent = probs < max(options.threshold - 0.15, 0.01)
    min_silence = RATE * options.min_silence_duration_ms / 1000
    min_speech = RATE * options.min_speech_duration_ms / 1000
    found: list[dict[str, int]] = []
    triggered, start, silence_from = False, 0, 0
    for i in np.flatnonzero(speech | silent).tolist():
        at = WINDOW * i
        if speech[i]:
            silence_from = 0
            if not triggered:
                triggered, start = True, at
            continue
        if not triggered:
            continue
        if not silence_from:
            silence_from = at
        if at - silence_from >= min_silence:
            if silence_from - start > min_speech:
                found.append({"start": start, "end": silence_from})
            triggered, silence_from = False, 0
    if triggered and len(audio) - start > min_speech:
        found.append({"start": start, "end": len(audio)})
    return _padded_chunks(found, len(audio), RATE * options.speech_pad_ms / 1000)


def _padded_chunks(found: list[dict[str, int]], length: int, pad: float) -> list[dict[str, int]]:
    """Each stretch of speech widened by ``pad`` samples, or by half the silence to the next where that is less."""
    for i, chunk in enumerate(found):
        if i == 0:
            chunk["start"] = int(max(0, chunk["start"] - pad))
        if i == len(found) - 1:
            chunk["end"] = int(min(length, chunk["end"] + pad))
            continue
        after = found[i + 1]
        silence = after["start"] - chunk["end"]
        if silence < 2 * pad:
            chunk["end"] += int(silence // 2)
            after["start"] = int(max(0, after["start"] - silence // 2))
        else:
            chunk["end"] = int(min(length, chunk["end"] + pad))
            after["start"] = int(max(0, after["start"] - pad))
    return found


def _probabilities(session: Any, audio: np.ndarray) -> np.ndarray:
    """The detector's speech probability for each 512-sample window of ``audio`` and the zeros after it, one block
    of windows at a time: the same windows, contexts and model state as faster-whisper's call over the whole."""
    windows = len(audio) // WINDOW + 1  # faster-whisper pads to the next multiple of 512, a whole window if none
    h = np.zeros((1, 1, 128), dtype=np.float32)
    c = np.zeros((1, 1, 128), dtype=np.float32)
    before = np.zeros(CONTEXT, dtype=np.float32)
    probs: list[np.ndarray] = []
    for first in range(0, windows, BATCH):
        count = min(BATCH, windows - first)
        block = np.zeros((count, CONTEXT + WINDOW), dtype=np.float32)
        piece = audio[first * WINDOW : (first + count) * WINDOW]
        whole = piece.size // WINDOW
        block[:whole, CONTEXT:] = piece[: whole * WINDOW].reshape(whole, WINDOW)
        if whole < count:
            block[whole, CONTEXT : CONTEXT + piece.size - whole * WINDOW] = piece[whole * WINDOW :]
        if first + count == windows:
            block[-1, -CONTEXT:] = 0  # faster-whisper zeroes the last window's end (its context for the first)
        block[0, :CONTEXT] = before
        block[1:, :CONTEXT] = block[:-1, -CONTEXT:]
        before = block[-1, -CONTEXT:].copy()
        out, h, c = session.run(None, {"input": block, "h": h, "c": c})
        probs.append(np.asarray(out, dtype=np.float32).reshape(-1))
    return np.concatenate(probs)


def bounded_features(extractor: Any) -> Any:
    """``extractor`` (a faster-whisper ``FeatureExtractor``) made to compute its features 30 s at a time."""
    from faster_whisper.feature_extractor import FeatureExtractor

    class BoundedFeatureExtractor(FeatureExtractor):  # type: ignore[misc]
        """faster-whisper's log-Mel features, the same values, made a block of frames at a time."""

        def __call__(self, waveform: np.ndarray, padding: int = 160, chunk_length: int | None = None) -> np.ndarray:
            if chunk_length is not None:
                self.n_samples = chunk_length * self.sampling_rate
                self.nb_max_frames = self.n_samples // self.hop_length
            if padding != self.hop_length or waveform.size <= FRAMES * self.hop_length:
                return super().__call__(waveform, padding, chunk_length)
            return _log_mel(self, np.asarray(waveform, dtype=np.float32), padding)

    bounded = BoundedFeatureExtractor.__new__(BoundedFeatureExtractor)
    bounded.__dict__.update(extractor.__dict__)
    return bounded


def _log_mel(extractor: Any, waveform: np.ndarray, padding: int) -> np.ndarray:
    """What ``FeatureExtractor.__call__`` returns for ``waveform`` with ``padding`` zeros after it (at least an n_fft
    long), made ``FRAMES`` frames at a time: the signal is reflected at both ends, framed every hop, windowed,
    transformed, its power put through the Mel filters and its log clamped 8 below the whole's maximum."""
    n_fft, hop = extractor.n_fft, extractor.hop_length
    half = n_fft // 2
    total = waveform.size + padding  # the signal before the reflection
    frames = (total + 2 * half - n_fft) // hop  # faster-whisper drops the last frame
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    mel = extractor.mel_filters
    out = np.empty((mel.shape[0], frames), dtype=np.float32)
    for first in range(0, frames, FRAMES):
        count = min(FRAMES, frames - first)
        # The samples of the reflected signal this block's frames cover.
        start, stop = first * hop - half, (first + count - 1) * hop + n_fft - half
        if start >= 0 and stop <= waveform.size:
            signal = waveform[start:stop]
        else:  # an end: indices into the zero-padded waveform, reflected at its edges
            index = np.abs(np.arange(start, stop))
            index = np.where(index >= total, 2 * (total - 1) - index, index)
            signal = np.where(index < waveform.size, waveform[np.minimum(index, waveform.size - 1)], np.float32(0))
        framed = np.lib.stride_tricks.as_strided(signal, (count, n_fft), (hop * signal.strides[0], signal.strides[0]))
        spectrum = np.fft.rfft(framed * window, n=n_fft, axis=-1).astype(np.complex64)
        power = np.abs(spectrum.T) ** 2
        np.log10(np.clip(mel @ power, 1e-10, None), out=out[:, first : first + count])
    np.maximum(out, out.max() - 8.0, out=out)
    out += 4.0
    out /= 4.0
    return out
