"""The daemon starts, speaks through its core, and stops."""

from __future__ import annotations

from voxhost.operations import SpeechRequest

from .conftest import assert_speech, make_settings, running_daemon


def test_daemon_speaks_with_bundled_voice(state_dir):
    with running_daemon(make_settings(state_dir)) as d:
        pcm, rate = d.call(d.core.speak(SpeechRequest(text="Dinner is ready.")))
    assert_speech(pcm, rate, 0.6, 2.5)
