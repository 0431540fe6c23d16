"""Chatterbox fidelity on tiny models: speed by time-stretch, sampling options, long sentences joined, overlapping
conversion pieces crossfaded back to the input's length, a cloned voice's language detected, memory freed on
unload in thread mode."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voxhost.engine import PCM
from voxhost.library import VoiceLibrary
from voxhost.operations import ConvertParams, SpeechRequest, VoiceCreate

from ..conftest import REPO, running_daemon
from .test_chatterbox import RATE, TINY, _collect, _settings, _status, _worker_env, tiny_models, worker_python
from .tiny.tiny_chatterbox import reference_tone

pytestmark = pytest.mark.heavy

__all__ = ["tiny_models"]  # the module-scoped fixture, shared with test_chatterbox


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path) -> Any:
    state = tmp_path_factory.mktemp("state")
    voice = VoiceLibrary(state / "voices").add(VoiceCreate(name="Nobody"), reference_tone(3.0, 180.0), RATE)
    patch = _worker_env()
    settings = _settings(state, tiny_models, "cpu", max_chars=40, convert_chunk_seconds=2, convert_overlap_seconds=0.5)
    try:
        with running_daemon(settings) as d:
            d.voice = voice
            yield d
    finally:
        patch.undo()


def _speak(daemon: Any, **fields: Any) -> np.ndarray:
    pcm, rate = daemon.call(daemon.core.speak(SpeechRequest(**fields)), timeout=300)
    assert rate == RATE
    return np.frombuffer(pcm, dtype="<i2")


def test_speed_stretches_the_same_speech(daemon):
    text = "Speed test."
    normal = _speak(daemon, text=text, voice="chatterbox:en_US-default", seed=3)
    fast = _speak(daemon, text=text, voice="chatterbox:en_US-default", seed=3, speed=1.5)
    slow = _speak(daemon, text=text, voice="chatterbox:en_US-default", seed=3, speed=0.75)
    assert fast.size == pytest.approx(normal.size / 1.5, rel=0.02)
    assert slow.size == pytest.approx(normal.size / 0.75, rel=0.02)


def test_sampling_options_reach_the_model(daemon):
    base = _speak(daemon, text="Options.", voice="chatterbox:en_US-default", seed=4)
    again = _speak(daemon, text="Options.", voice="chatterbox:en_US-default", seed=4)
    other = _speak(
        daemon,
        text="Options.",
        voice="chatterbox:en_US-default",
        seed=4,
        options={"top_p": 0.5, "min_p": 0.2, "repetition_penalty": 3.0},
    )
    assert np.array_equal(base, again) and not np.array_equal(base, other)


def test_long_sentence_pieces_are_joined(daemon):
    text = "one two three four five, six seven eight nine ten, eleven twelve thirteen fourteen"  # 3 pieces
    joined = _speak(daemon, text=text, voice="chatterbox:en_US-default", seed=5)
    assert joined.size > 0
    # the pieces overlap by the 50 ms crossfade: no sample jumps by more than the audio itself does elsewhere
    jumps = np.abs(np.diff(joined.astype(np.int32)))
    assert jumps.max() <= max(2 * np.percentile(jumps, 99.9), 2000)


def test_conversion_pieces_overlap_and_keep_the_length(daemon):
    source = PCM.from_float(reference_tone(5.0, 130.0, rate=16000), 16000)
    params = ConvertParams(voice=daemon.voice.id, engine="chatterbox")
    pcm, rate = daemon.call(_collect(daemon.core.convert(source, params)), timeout=300)
    assert rate == RATE
    # three pieces of 2 s (the last absorbs the remainder), each starting 0.5 s early: crossfaded back to 5 s
    assert len(pcm) / 2 / rate == pytest.approx(5.0, abs=0.25)


def test_cloned_voice_without_language_speaks_the_detected_one(daemon):
    before = _status(daemon)
    _speak(daemon, text="Guten Morgen, der Kaffee ist fertig.", voice=f"chatterbox:{daemon.voice.id}", seed=6)
    after = _status(daemon)
    # the multilingual model's conditionals were computed for this voice: German went to the multilingual model
    cache = Path(daemon.core.library.reference(daemon.voice.id).cache_dir)
    assert list(cache.glob(f"chatterbox-multilingual-{daemon.voice.fingerprint}.pt")), (before, after)


def test_unload_frees_the_model_in_the_same_process(tiny_models):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(TINY / "site")]),
        "VOXHOST_TINY_CHATTERBOX": "1",
        "HF_HUB_OFFLINE": "1",
    }
    out = subprocess.run(
        [worker_python(), str(TINY / "cb_unload_check.py"), str(tiny_models)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["samples"] > 0
    assert result == {**result, "model_alive": False, "t3_alive": False}
