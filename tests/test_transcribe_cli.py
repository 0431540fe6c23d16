"""The command line's speech recognition: ``voxhost transcribe`` on files ``voxhost say`` wrote, and the whisper
engine's models in ``voxhost models`` (pulled like every engine's, refused offline with the same message)."""

from __future__ import annotations

import json

from .conftest import run_cli
from .listener import wer

TEXT = "Dinner is ready. Please come to the kitchen."


def test_transcribe_files_as_text_json_and_subtitles(tmp_path, state_dir):
    speech = tmp_path / "dinner.wav"
    run_cli(state_dir, "say", TEXT, "-o", str(speech))
    text = run_cli(state_dir, "transcribe", str(speech)).stdout.strip()
    assert wer(TEXT, text) <= 0.1, text
    data = json.loads(run_cli(state_dir, "transcribe", str(speech), "--format", "json", "-l", "en").stdout)
    assert data["language"] == "en" and data["segments"][0]["words"], data
    srt = run_cli(state_dir, "transcribe", str(speech), "--format", "srt").stdout
    assert srt.startswith("1\n00:00:00,") and "kitchen" in srt.lower()
    bad = run_cli(state_dir, "transcribe", str(speech), "-l", "de", check=False)
    assert bad.returncode == 1 and "tiny.en" in bad.stderr


def test_whisper_models_are_listed_and_pulled_like_any_engines(state_dir):
    listed = run_cli(state_dir, "models", "list", "whisper").stdout
    names = [line.split()[1] for line in listed.splitlines()[1:]]
    assert {"tiny.en", "tiny", "small", "medium", "large-v3", "turbo", "distil-large-v3"} <= set(names)
    offline = run_cli(state_dir, "models", "pull", "whisper", "small", check=False)
    assert (
        offline.returncode == 2
        and "HF_HUB_OFFLINE" in offline.stderr
        and "Systran/faster-whisper-small" in (offline.stderr)
    )
