"""``voxhost voices add``: a recording ``voxhost say`` wrote, stored in the state directory's voice library through
the core's own path (heard by the whisper engine when no transcript is given, refused when the given one is wrong)."""

from __future__ import annotations

import json

from voxhost.library import VoiceLibrary
from voxhost.operations import VoiceCreate
from voxhost.voice_archive import write_archive

from .conftest import run_cli
from .listener import wer
from .protocols.http_helpers import tone

TEXT = "Dinner is ready. Please come to the kitchen."


def test_a_voice_added_without_a_transcript_is_heard(tmp_path, state_dir):
    speech = tmp_path / "dinner.wav"
    run_cli(state_dir, "say", TEXT, "-o", str(speech))
    shown = json.loads(run_cli(state_dir, "voices", "add", str(speech), "--name", "Gate", "--json").stdout)
    assert shown["name"] == "Gate" and shown["transcribed"] is True and shown["language"] is None
    assert wer(TEXT, shown["transcript"]) <= 0.1, shown["transcript"]
    stored = VoiceLibrary(state_dir / "voices").get(shown["id"])
    assert stored.transcript == shown["transcript"] and stored.words, "stored as shown, its words timed"
    plain = run_cli(state_dir, "voices", "add", str(speech), "--name", "Told", "-l", "en_US", "--transcript", TEXT)
    assert "Told" in plain.stdout and f"transcript: {TEXT}" in plain.stdout and "(heard)" not in plain.stdout


def test_wrong_transcripts_and_bad_input_are_refused(tmp_path, state_dir):
    speech = tmp_path / "dinner.wav"
    run_cli(state_dir, "say", TEXT, "-o", str(speech))
    wrong = run_cli(
        state_dir, "voices", "add", str(speech), "--name", "Wrong", "--transcript", "Bananas are rich in potassium.",
        check=False,
    )  # fmt: skip
    assert wrong.returncode == 1 and wrong.stderr.startswith("voxhost: the transcript does not match"), wrong.stderr
    assert "kitchen" in wrong.stderr.lower()
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio, just some text that is long enough to look like a file")
    bad = run_cli(state_dir, "voices", "add", str(junk), "--name", "Junk", check=False)
    assert bad.returncode == 1 and "could not be decoded" in bad.stderr, bad.stderr
    unnamed = run_cli(state_dir, "voices", "add", str(speech), check=False)
    assert unnamed.returncode == 2 and "--name" in unnamed.stderr
    misnamed = run_cli(state_dir, "voices", "add", str(speech), "--name", "a/b", check=False)
    assert misnamed.returncode == 1 and misnamed.stderr.startswith("voxhost: name:"), misnamed.stderr
    assert VoiceLibrary(state_dir / "voices").list() == [], "nothing stored"


def _archive(tmp_path, count: int):
    """An archive of ``count`` voices written by another library."""
    source = VoiceLibrary(tmp_path / "source")
    for i in range(count):
        source.add(VoiceCreate(name=f"Voice {i}"), tone(300.0 + 20 * i, 2.0), 24000)
    archive = tmp_path / "voices.zip"
    write_archive(archive, source.root, source.list())
    return archive


def test_import_keeps_to_the_library_quota(tmp_path, state_dir):
    archive = _archive(tmp_path, 3)
    full = run_cli(state_dir, "voices", "import", str(archive), check=False, VOXHOST_LIBRARY__MAX_VOICES="2")
    assert full.returncode == 1 and full.stderr.startswith("voxhost: the voice library is full"), full.stderr
    assert VoiceLibrary(state_dir / "voices").list() == [], "nothing stored"
    small = run_cli(state_dir, "voices", "import", str(archive), check=False, VOXHOST_LIBRARY__MAX_MEGABYTES="0.1")
    assert small.returncode == 1 and "MiB" in small.stderr, small.stderr
    run_cli(state_dir, "voices", "import", str(archive), VOXHOST_LIBRARY__MAX_VOICES="3")
    assert len(VoiceLibrary(state_dir / "voices").list()) == 3


def test_export_to_a_place_that_cannot_be_written_is_one_line(tmp_path, state_dir):
    run_cli(state_dir, "voices", "import", str(_archive(tmp_path, 1)))
    for output in (tmp_path / "missing" / "voices.zip", tmp_path):
        failed = run_cli(state_dir, "voices", "export", "-o", str(output), check=False)
        assert failed.returncode == 1, failed.stderr
        assert failed.stderr.startswith(f"voxhost: cannot write {output}: "), failed.stderr
        assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
