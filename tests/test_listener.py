"""The listener itself: Piper's speech through the core is heard word for word; silence is heard as nothing."""

from __future__ import annotations

from voxhost.operations import SpeechRequest

from .conftest import make_settings, running_daemon
from .listener import hear, heard_words, wer


def test_piper_speech_is_heard_word_for_word(state_dir):
    text = "Dinner is ready. Please come to the kitchen."
    with running_daemon(make_settings(state_dir)) as d:
        pcm, rate = d.call(d.core.speak(SpeechRequest(text=text)))
    heard = hear(pcm, rate)
    assert wer(text, heard) <= 0.1, heard
    assert "kitchen" in heard_words(heard)


def test_silence_is_heard_as_nothing():
    assert hear(b"\x00\x00" * 16000 * 2, 16000) == ""
