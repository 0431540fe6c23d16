"""The voice library: validation before anything is written, atomic storage, restart survival."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from voxhost.errors import InvalidRequestError, UnknownVoiceError
from voxhost.library import VoiceLibrary
from voxhost.operations import VoiceCreate, parse


def _speechlike(seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def test_round_trip_and_restart(tmp_path):
    lib = VoiceLibrary(tmp_path)
    voice = lib.add(VoiceCreate(name="Grandma Rose", transcript="Hello dear.", language="en-us"), _speechlike(3), 16000)
    assert voice.id.startswith("voice_grandma_rose_") and voice.language == "en_US"
    again = VoiceLibrary(tmp_path)
    assert [v.id for v in again.list()] == [voice.id]
    ref = again.reference(voice.id)
    assert ref.transcript == "Hello dear." and ref.audio_path.endswith("reference.wav")
    again.remove(voice.id)
    assert again.list() == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name, seconds, language, match",
    [
        ("../../etc/passwd", 3, None, "invalid voice name"),
        ("a/b", 3, None, "invalid voice name"),
        ("", 3, None, "invalid voice name"),
        ("ok", 0.5, None, "1-30 s"),
        ("ok", 31, None, "1-30 s"),
        ("ok", 3, "english!", "invalid language"),
    ],
)
def test_bad_input_writes_nothing(tmp_path, name, seconds, language, match):
    lib = VoiceLibrary(tmp_path)
    with pytest.raises(InvalidRequestError, match=match):
        lib.add(parse(VoiceCreate, {"name": name, "language": language}), _speechlike(seconds), 16000)
    assert list(tmp_path.iterdir()) == []


def test_silence_is_rejected(tmp_path):
    with pytest.raises(InvalidRequestError, match="silent"):
        VoiceLibrary(tmp_path).add(VoiceCreate(name="quiet"), np.zeros(32000, dtype=np.float32), 16000)


def test_interrupted_write_leaves_no_voice(tmp_path):
    (tmp_path / ".tmp-voice_half_0000").mkdir()
    (tmp_path / ".tmp-voice_half_0000" / "reference.wav").write_bytes(b"RIFF")
    lib = VoiceLibrary(tmp_path)
    assert lib.list() == [] and not (tmp_path / ".tmp-voice_half_0000").exists()


def test_unknown_and_path_like_ids(tmp_path):
    lib = VoiceLibrary(tmp_path)
    for bad in ("voice_nope", "../x", "voice_../../etc"):
        with pytest.raises(UnknownVoiceError):
            lib.get(bad)


def test_an_unreadable_voice_is_named_in_a_warning(tmp_path, caplog):
    lib = VoiceLibrary(tmp_path)
    kept, broken = (lib.add(VoiceCreate(name=f"Voice {i}"), _speechlike(2), 16000) for i in range(2))
    (tmp_path / broken.id / "voice.json").write_text('{"id": "voice_')
    with caplog.at_level(logging.WARNING, logger="voxhost.library"):
        assert [v.id for v in VoiceLibrary(tmp_path).list()] == [kept.id]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(tmp_path / broken.id) in warnings[0] and "voice.json" in warnings[0]


def test_metadata_of_the_wrong_shape_makes_a_broken_voice_not_a_broken_library(tmp_path):
    lib = VoiceLibrary(tmp_path)
    kept, dated, moved, listed, mute = (lib.add(VoiceCreate(name=f"V {i}"), _speechlike(2), 16000) for i in range(5))
    meta = json.loads((tmp_path / dated.id / "voice.json").read_text())
    (tmp_path / dated.id / "voice.json").write_text(json.dumps({**meta, "created_at": "yesterday"}))
    (tmp_path / moved.id / "voice.json").write_text(json.dumps({**meta, "id": kept.id}))
    (tmp_path / listed.id / "voice.json").write_text("[1, 2]")
    (tmp_path / mute.id / "reference.wav").unlink()
    again = VoiceLibrary(tmp_path)
    assert [v.id for v in again.list()] == [kept.id]
    problems = {v.id: v.problem for v in again.broken()}
    assert problems == {
        dated.id: "voice.json does not describe a voice",
        moved.id: f"voice.json names another voice ({kept.id!r})",
        listed.id: "voice.json does not describe a voice",
        mute.id: "reference.wav is missing",
    }
    assert again.usage()[0] == 5  # their files are still there
    assert again.remove(moved.id).name == moved.id and not (tmp_path / moved.id).exists()
    assert again.get(kept.id) == kept
