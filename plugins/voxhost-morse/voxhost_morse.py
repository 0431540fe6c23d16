"""voxhost-morse: an example engine plugin that speaks text as Morse code tones.

It shows the whole plugin surface: an engine with settings, per-request options, voices and streaming output,
registered through the ``voxhost`` entry point group, plus an event observer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
from pydantic import Field

import voxhost

_LOGGER = logging.getLogger(__name__)

CODE = {
    "a": ".-",
    "b": "-...",
    "c": "-.-.",
    "d": "-..",
    "e": ".",
    "f": "..-.",
    "g": "--.",
    "h": "....",
    "i": "..",
    "j": ".---",
    "k": "-.-",
    "l": ".-..",
    "m": "--",
    "n": "-.",
    "o": "---",
    "p": ".--.",
    "q": "--.-",
    "r": ".-.",
    "s": "...",
    "t": "-",
    "u": "..-",
    "v": "...-",
    "w": ".--",
    "x": "-..-",
    "y": "-.--",
    "z": "--..",
    "0": "-----",
    "1": ".----",
    "2": "..---",
    "3": "...--",
    "4": "....-",
    "5": ".....",
    "6": "-....",
    "7": "--...",
    "8": "---..",
    "9": "----.",
}


class MorseSettings(voxhost.EngineSettings):
    """``[engines.morse]`` in voxhost's config."""

    wpm: int = Field(20, ge=5, le=60)
    """Words per minute at speed 1.0."""
    sample_rate: int = 16000


class MorseOptions(voxhost.EngineOptions):
    """Options a request may pass."""

    pitch: float = Field(700.0, ge=200, le=2000)


class MorseEngine(voxhost.Engine):
    """Morse code: one PCM chunk per word, so audio streams as it is made."""

    engine_id = "morse"
    display_name = "Morse code"
    Settings = MorseSettings
    Options = MorseOptions
    enabled_by_default = True

    def voices(self) -> list[voxhost.VoiceInfo]:
        """One voice; Morse speaks every Latin-alphabet language."""
        return [
            voxhost.VoiceInfo(id="cw", name="Morse (CW)", languages=("en_US",), sample_rate=self.settings.sample_rate)
        ]

    def load(self) -> None:
        """Nothing heavy to load; real engines load models here, off the event loop."""

    def synthesize(self, request: voxhost.SynthesisRequest) -> Iterator[voxhost.PCM]:
        """Yield one chunk of tones per word."""
        rate = self.settings.sample_rate
        unit = 1.2 / (self.settings.wpm * request.speed)  # seconds per dot (PARIS standard)
        pitch = request.options.get("pitch", 700.0)

        def tone(units: int) -> np.ndarray:
            t = np.arange(int(rate * unit * units)) / rate
            return 0.4 * np.sin(2 * np.pi * pitch * t)

        def gap(units: int) -> np.ndarray:
            return np.zeros(int(rate * unit * units))

        for word in request.text.lower().split():
            parts = []
            for letter in word:
                for symbol in CODE.get(letter, ""):
                    parts += [tone(1 if symbol == "." else 3), gap(1)]
                parts.append(gap(2))
            parts.append(gap(4))
            yield voxhost.PCM.from_float(np.concatenate(parts), rate)


@voxhost.hookimpl
def register_engines(register):
    """Called once at startup: register the engine class."""
    register(MorseEngine)


@voxhost.hookimpl
def observe_event(event):
    """Log how fast each job started speaking."""
    if event.kind == "job_finished":
        _LOGGER.info("job %s: first audio after %s s", event.job_id, event.ttfa)
