"""``voxhost voices add``: a recording ``voxhost say`` wrote, stored in the state directory's voice library through
the core's own path (heard by the whisper engine when no transcript is given, refused when the given one is wrong)."""

from __future__ import annotations

import json
import os
import pty
import subprocess

import numpy as np
import pytest
import soundfile
import soxr

from voxhost.audio import wav_header
from voxhost.library import VoiceLibrary
from voxhost.operations import MAX_REFERENCE_SECONDS, VoiceCreate
from voxhost.voice_archive import write_archive

from .conftest import namespaces_work, run_cli, run_cli_measured, run_cli_on_tmpfs
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


def test_a_voice_no_running_engine_speaks_is_listed_and_said_so(tmp_path, state_dir):
    # With no cloning engine running, `voices add` said it was stored, and `voxhost voices` listed it nowhere.
    speech = tmp_path / "dinner.wav"
    run_cli(state_dir, "say", TEXT, "-o", str(speech))
    added = run_cli(state_dir, "voices", "add", str(speech), "--name", "Gate", "-l", "en_US", "--transcript", TEXT)
    fix = "enable a cloning engine: `voxhost engines` lists them, those that clone with `clone`"
    assert added.stdout.splitlines()[-1] == f"spoken by no running engine yet ({fix})", added.stdout
    stored = VoiceLibrary(state_dir / "voices").list()[0]
    listed = run_cli(state_dir, "voices").stdout.splitlines()
    heading = listed.index(f"in the voice library, spoken by no running engine ({fix}):")
    assert listed[heading + 1].split() == [stored.id, "en_US", f"{stored.seconds:.1f}", "s", "Gate"], listed
    shown = json.loads(run_cli(state_dir, "voices", "add", str(speech), "--name", "Gate 2", "--json").stdout)
    assert shown["engines"] == [], shown


def test_a_voice_added_under_a_name_taken_names_the_voices_that_have_it(tmp_path, state_dir):
    # A second "Grandma" (a better recording) was stored in silence: two alike in every voice list, the old one
    # never removed. Both are kept (voice lists call the later one "grandma (2)"), and the ones already named so are
    # said.
    sample = tmp_path / "grandma.wav"
    soundfile.write(sample, tone(220.0, 2.0, rate=16000), 16000)
    add = ("voices", "add", str(sample), "--transcript", "Hello dear.", "--json")
    unheard = {"VOXHOST_ENGINES__WHISPER__ENABLED": "false"}  # the transcript is taken as given: no model to load
    first = json.loads(run_cli(state_dir, *add, "--name", "Grandma", **unheard).stdout)
    assert first["same_name"] == []
    second = run_cli(state_dir, *add[:-1], "--name", "grandma", **unheard).stdout.splitlines()
    assert second[-1] == (
        f"also named grandma: {first['id']}; voice lists show this one as 'grandma (2)' "
        "(`voxhost voices remove ID` if this voice replaces one)"
    )
    assert len(VoiceLibrary(state_dir / "voices").list()) == 2


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
    assert bad.returncode == 1 and bad.stderr.startswith(f"voxhost: {junk}: the audio could not be decoded"), bad
    folder = run_cli(state_dir, "voices", "add", str(tmp_path), "--name", "Folder", check=False)
    assert folder.returncode == 1 and folder.stderr == f"voxhost: no audio file {tmp_path} (it is a directory)\n"
    unnamed = run_cli(state_dir, "voices", "add", str(speech), check=False)
    assert unnamed.returncode == 2 and "--name" in unnamed.stderr
    misnamed = run_cli(state_dir, "voices", "add", str(speech), "--name", "a/b", check=False)
    assert misnamed.returncode == 1 and misnamed.stderr.startswith("voxhost: name:"), misnamed.stderr
    assert VoiceLibrary(state_dir / "voices").list() == [], "nothing stored"


def test_a_recording_piped_in_is_added_as_a_file_is(tmp_path, state_dir):
    # `ffmpeg ... -f wav - | voxhost voices add --name Rose -` answered "no audio file -".
    speech = tmp_path / "dinner.wav"
    run_cli(state_dir, "say", TEXT, "-o", str(speech))
    samples, rate = soundfile.read(speech, dtype="int16")
    piped = tmp_path / "piped.wav"  # as a recorder writes a WAV to a pipe: its lengths unknown
    piped.write_bytes(wav_header(rate) + samples.tobytes())
    with piped.open("rb") as fed:
        shown = json.loads(run_cli(state_dir, "voices", "add", "--name", "Rose", "--json", "-", stdin=fed).stdout)
    assert shown["name"] == "Rose" and shown["transcribed"] is True and wer(TEXT, shown["transcript"]) <= 0.1, shown
    assert abs(shown["seconds"] - samples.size / rate) < 0.05, shown
    # A stream that goes on past the longest recording is refused once that much is decoded (a recorder never
    # stopped), as are a terminal, nothing at all, and bytes that are no audio: one line each, nothing stored.
    endless = tmp_path / "endless.wav"
    endless.write_bytes(
        wav_header(16000) + (tone(220.0, MAX_REFERENCE_SECONDS + 5, rate=16000) * 32767).astype("<i2").tobytes()
    )
    junk = tmp_path / "junk.txt"
    junk.write_text("not audio at all\n")
    unheard = {"VOXHOST_ENGINES__WHISPER__ENABLED": "false"}
    primary, terminal = pty.openpty()
    try:
        with endless.open("rb") as long, junk.open("rb") as no_audio:
            for given, said in (
                (long, "standard input: the audio is 3"),
                (terminal, "standard input is a terminal, not audio: pipe it (arecord "),
                (subprocess.DEVNULL, "standard input is empty: no audio came"),
                (no_audio, "standard input: the audio could not be decoded"),
            ):
                add = ("voices", "add", "--name", "Other", "--transcript", "Hello.", "-")
                result = run_cli(state_dir, *add, check=False, stdin=given, **unheard)
                assert result.returncode == 1 and result.stdout == "", result
                assert result.stderr.startswith(f"voxhost: {said}") and result.stderr.count("\n") == 1, result.stderr
    finally:
        os.close(primary)
        os.close(terminal)
    assert [voice.name for voice in VoiceLibrary(state_dir / "voices").list()] == ["Rose"]


def test_a_high_rate_recording_is_decoded_in_bounded_memory(tmp_path, state_dir):
    """29 s of 8-channel 192 kHz audio (an 89 MB WAV) take hardly more memory to add (and to hear) than the same
    29 s of 48 kHz mono, the most a voice is stored at: decoded as the doors decode uploads, a block at a time, mixed
    to mono and brought to 48 kHz as it goes, and read from the file as it goes; never even its mono samples at its
    own rate (22 MB as float32) are held."""
    speech = tmp_path / "dinner.wav"
    run_cli(state_dir, "say", TEXT, "-o", str(speech))
    samples, speech_rate = soundfile.read(speech, dtype="float32")
    files = {}
    for rate, channels in ((48000, 1), (192000, 8)):
        head = soxr.resample(samples, speech_rate, rate)
        mono = np.concatenate([head, np.zeros(int(29 * rate) - head.size, np.float32)])
        files[rate] = tmp_path / f"{rate}.wav"
        soundfile.write(files[rate], np.repeat(mono[:, None], channels, axis=1), rate, subtype="PCM_16")
    own_rate = soundfile.info(files[192000]).frames * 4  # bytes of its mono float32 samples at its own rate
    peaks, shown = {}, {}
    for rate, path in files.items():
        result, peaks[rate] = run_cli_measured(
            state_dir, "voices", "add", str(path), "--name", f"At {rate}", "--transcript", TEXT, "--json"
        )
        assert result.returncode == 0, result.stderr
        shown[rate] = json.loads(result.stdout)
    assert shown[192000]["sample_rate"] == 48000 and abs(shown[192000]["seconds"] - 29) < 0.01, shown
    more = peaks[192000] - peaks[48000]
    assert more < own_rate, f"192 kHz took {more / 2**20:.0f} MiB more than 48 kHz ({own_rate / 2**20:.0f} MiB in mono)"


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


@pytest.mark.skipif(not namespaces_work(), reason="no user namespaces here (unshare -rm)")
def test_export_on_a_full_disk_leaves_the_file_as_it_was(tmp_path, state_dir):
    # The zip was written in place until the disk was full: the old archive lost, a broken one left instead.
    run_cli(state_dir, "voices", "import", str(_archive(tmp_path, 1)))
    disk = tmp_path / "disk"
    disk.mkdir()
    out = disk / "voices.zip"
    result = run_cli_on_tmpfs(
        disk,
        "voices",
        "export",
        "-o",
        str(out),
        "--state-dir",
        str(state_dir),
        size="40k",
        prepare=f"printf 'the old archive' > {out}",
        after=f"ls -A {disk}; grep -qx 'the old archive' {out} && echo same",
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"voxhost: cannot write {out}: No space left on device\n", result.stderr
    assert result.stdout == "voices.zip\nsame\n", "untouched, and nothing else left beside it"
