"""A test recognizer that writes down what it is asked: each ``transcribe`` call appends one JSON line (language,
prompt, word timestamps, task) to ``[engines.ledger] record``, and answers one fixed segment, with its words timed
only when they were asked for. It only transcribes; ``interpreter`` also translates: it hears German, and answers
in English when asked to translate. Both are off unless a config enables them, so the other tests here keep their
recognizer."""

from __future__ import annotations

import json
from pathlib import Path

import voxhost
from voxhost.engine import Segment, TranscriptInfo, TranscriptionModel, Word
from voxhost.errors import UnsupportedError

TEXT = " Hello there."


class LedgerSettings(voxhost.EngineSettings):
    """``[engines.ledger]``."""

    record: str = ""
    """The file each request is written down in."""


class _Listener(voxhost.Engine):
    """A recognizer with no voices and nothing to load, off unless a config enables it."""

    enabled_by_default = False

    def voices(self):
        return []

    def load(self):
        pass

    def synthesize(self, request):
        raise UnsupportedError(f"the {self.engine_id} only listens")


class LedgerEngine(_Listener):
    """Hears every recording as the same words, and keeps a ledger of what it was asked."""

    engine_id = "ledger"
    display_name = "Ledger"
    capabilities = frozenset({voxhost.Capability.TRANSCRIBE})
    Settings = LedgerSettings

    def transcription_models(self):
        return [TranscriptionModel("ledger", ("en",), "writes down what it is asked")]

    def transcribe(self, audio, request):
        asked = {
            "language": request.language,
            "prompt": request.prompt,
            "word_timestamps": request.word_timestamps,
            "task": request.task,
        }
        with Path(self.settings.record).open("a", encoding="utf-8") as ledger:
            ledger.write(json.dumps(asked) + "\n")
        duration = round(audio.seconds, 3)
        yield TranscriptInfo("en", 1.0, duration)
        words = (
            (Word(0.0, duration / 2, " Hello"), Word(duration / 2, duration, " there."))
            if request.word_timestamps
            else ()
        )
        yield Segment(0, 0.0, duration, TEXT, words=words)


class InterpreterEngine(_Listener):
    """Hears every recording as the same German words; asked to translate, it answers them in English."""

    engine_id = "interpreter"
    display_name = "Interpreter"
    capabilities = frozenset({voxhost.Capability.TRANSCRIBE, voxhost.Capability.TRANSLATE})

    def transcription_models(self):
        return [TranscriptionModel("interpreter", ("de", "en"), "German heard, English on request")]

    def transcribe(self, audio, request):
        duration = round(audio.seconds, 3)
        yield TranscriptInfo("de", 1.0, duration)
        yield Segment(0, 0.0, duration, " Hello everyone." if request.task == "translate" else " Hallo zusammen.")


@voxhost.hookimpl
def register_engines(register):
    """Register the ledger and the interpreter."""
    register(LedgerEngine)
    register(InterpreterEngine)
