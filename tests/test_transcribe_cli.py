"""The command line's speech recognition: ``voxhost transcribe`` on files ``voxhost say`` wrote, and the whisper
engine's models in ``voxhost models`` (pulled like every engine's, refused offline with the same message)."""

from __future__ import annotations

import json
import os
import pty
import shlex
import subprocess
import sys
import threading

import numpy as np
import soundfile
import soxr

from voxhost.audio import wav_header

from .conftest import run_cli, run_cli_measured
from .listener import wer

TEXT = "Dinner is ready. Please come to the kitchen."


def test_transcribe_files_as_text_json_and_subtitles(tmp_path, state_dir):
    speech = tmp_path / "dinner.wav"
    run_cli(state_dir, "say", TEXT, "-o", str(speech))
    text = run_cli(state_dir, "transcribe", str(speech)).stdout.strip()
    assert wer(TEXT, text) <= 0.1, text
    # Several files: text lines and JSON lines name their file (JSON objects came back to back, naming none).
    other = tmp_path / "again.wav"
    other.write_bytes(speech.read_bytes())
    lines = run_cli(state_dir, "transcribe", str(speech), str(other), "--format", "json", "-l", "en").stdout
    data, again = (json.loads(line) for line in lines.splitlines())
    assert data["language"] == "en" and data["segments"][0]["words"], data
    assert (data["file"], again["file"], again["text"]) == (str(speech), str(other), data["text"]), lines
    # The transcript's reader gone (`| true`) is said as such: it was "cannot read the audio: Broken pipe".
    voxhost = shlex.join([sys.executable, "-m", "voxhost", "transcribe", str(speech), "--format", "srt"])
    gone = subprocess.run(
        ["bash", "-c", f"{voxhost} | true; exit ${{PIPESTATUS[0]}}"],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "VOXHOST_STATE_DIR": str(state_dir), "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert (gone.returncode, gone.stderr) == (1, "voxhost: cannot write standard output: the reader closed it\n"), gone
    srt = run_cli(state_dir, "transcribe", str(speech), "--format", "srt").stdout
    assert srt.startswith("1\n00:00:00,") and "kitchen" in srt.lower()
    # Subtitles of several files back to back (cues restarting at 1, nothing between them) are refused at once.
    refused = run_cli(state_dir, "transcribe", str(speech), str(other), "--format", "vtt", check=False)
    assert refused.returncode == 1 and refused.stdout == "", refused
    assert refused.stderr.startswith("voxhost: --format vtt writes one subtitle file: give one audio file"), refused


def test_a_file_that_is_not_there_is_named_before_anything_is_transcribed(tmp_path, state_dir):
    # It was "[Errno 2] No such file or directory: '...'", after the recognizer loaded and the files before it were
    # transcribed (and printed).
    speech = tmp_path / "dinner.wav"
    run_cli(state_dir, "say", TEXT, "-o", str(speech))
    for missing, why in ((tmp_path / "missing.wav", ""), (tmp_path, " (it is a directory)")):
        result = run_cli(state_dir, "transcribe", str(speech), str(missing), check=False)
        assert result.returncode == 1 and result.stderr == f"voxhost: no audio file {missing}{why}\n", result.stderr
        assert result.stdout == ""


def test_a_file_that_does_not_decode_is_named(tmp_path, state_dir):
    # "voxhost: the audio could not be decoded: ..." named none of the files given (a batch of twenty, say).
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio at all\n")
    result = run_cli(state_dir, "transcribe", str(notes), check=False)
    assert result.returncode == 1 and result.stderr.startswith(f"voxhost: {notes}: the audio could not be decoded")
    assert result.stderr.count("\n") == 1 and result.stdout == "", result.stderr


def streamed(speech, path):
    """``speech`` (a WAV) as a recorder writes it to a pipe (``arecord -t wav``, ``ffmpeg -f wav -``): a header
    whose lengths are unknown, then the samples; ``path``."""
    samples, rate = soundfile.read(speech, dtype="int16")
    path.write_bytes(wav_header(rate) + samples.tobytes())
    return path


def test_standard_input_is_transcribed_as_a_file_is(tmp_path, state_dir):
    # `arecord ... | voxhost transcribe -` answered "no audio file -".
    speech = tmp_path / "dinner.wav"
    run_cli(state_dir, "say", TEXT, "-o", str(speech))
    # A named pipe too, as bash's `<(arecord ...)` gives one (/dev/fd/63): it was "no audio file /dev/fd/63".
    fifo = tmp_path / "recorder"
    os.mkfifo(fifo)
    recorder = threading.Thread(target=fifo.write_bytes, args=(streamed(speech, tmp_path / "fed.wav").read_bytes(),))
    recorder.start()
    try:
        with streamed(speech, tmp_path / "piped.wav").open("rb") as piped:
            args = ("transcribe", str(speech), "-", str(fifo), "--format", "json")
            lines = run_cli(state_dir, *args, stdin=piped).stdout
    finally:
        if recorder.is_alive():  # the command never opened it: let the writer go
            fifo.open("rb").close()
        recorder.join()
    given, heard, fed = (json.loads(line) for line in lines.splitlines())
    assert heard["file"] == "-" and wer(TEXT, heard["text"]) <= 0.1 and heard["text"] == given["text"], lines
    assert fed["file"] == str(fifo) and fed["text"] == given["text"], lines
    # Nothing to decode is one line, before the recognizer loads: a terminal (nothing typed is audio), no bytes at
    # all, bytes that are no audio, and "-" twice (standard input is read once).
    notes = tmp_path / "notes.txt"
    notes.write_text("not audio at all\n")
    primary, terminal = pty.openpty()
    try:
        with notes.open("rb") as no_audio:
            for fed, args, said in (
                (terminal, ["-"], "standard input is a terminal, not audio: pipe it (arecord "),
                (subprocess.DEVNULL, ["-"], "standard input is empty: no audio came"),
                (no_audio, ["-"], "standard input: the audio could not be decoded"),
                (subprocess.DEVNULL, ["-", "-"], "- (standard input) is given more than once"),
            ):
                result = run_cli(state_dir, "transcribe", *args, check=False, stdin=fed)
                assert result.returncode == 1 and result.stdout == "", result
                assert result.stderr.startswith(f"voxhost: {said}") and result.stderr.count("\n") == 1, result.stderr
    finally:
        os.close(primary)
        os.close(terminal)


def test_whisper_models_are_listed_and_pulled_like_any_engines(state_dir):
    listed = run_cli(state_dir, "models", "list", "whisper").stdout
    names = [line.split()[1] for line in listed.splitlines()[1:]]
    assert {"tiny.en", "tiny", "small", "medium", "large-v3", "turbo", "distil-large-v3"} <= set(names)
    offline = run_cli(state_dir, "models", "pull", "whisper", "small", check=False)
    assert (
        offline.returncode == 1
        and "HF_HUB_OFFLINE" in offline.stderr
        and "Systran/faster-whisper-small" in (offline.stderr)
    )


def long_flac(speech, path, rate: int, minutes: float) -> int:
    """``speech`` (a WAV) at ``rate``, then silence, ``minutes`` long in all, as a FLAC written a second at a time (a
    few hundred kilobytes); its frames."""
    samples, speech_rate = soundfile.read(speech, dtype="float32")
    head = (soxr.resample(samples, speech_rate, rate) * 32767).astype(np.int16)
    frames = int(minutes * 60 * rate)
    with soundfile.SoundFile(path, "w", rate, 1, subtype="PCM_16", format="FLAC") as out:
        out.write(head)
        silence = np.zeros(rate, np.int16)
        for _ in range((frames - head.size) // rate):
            out.write(silence)
    return soundfile.info(path).frames


def test_a_long_high_rate_file_is_decoded_in_bounded_memory(tmp_path, state_dir):
    """10 minutes of 192 kHz audio take no more memory to transcribe than the same 10 minutes at 16 kHz (what the
    recognizer hears): decoded at its own rate it would take 0.46 GB as float32 (and more in copies), decoded as the
    doors decode uploads (a block at a time, to 16 kHz mono, read from the file as it goes) hardly more."""
    speech = tmp_path / "dinner.wav"
    run_cli(state_dir, "say", TEXT, "-o", str(speech))
    high, low = tmp_path / "high.flac", tmp_path / "low.flac"
    full = long_flac(speech, high, 192000, 10) * 4  # bytes of its float32 samples at its own rate
    long_flac(speech, low, 16000, 10)
    peaks = {}
    for path in (low, high):
        result, peaks[path] = run_cli_measured(state_dir, "transcribe", str(path))
        assert result.returncode == 0, result.stderr
        assert wer(TEXT, result.stdout.strip()) <= 0.1, result.stdout
    more = peaks[high] - peaks[low]
    assert more < full / 4, f"192 kHz took {more / 2**20:.0f} MiB more than 16 kHz ({full / 2**20:.0f} MiB decoded)"
