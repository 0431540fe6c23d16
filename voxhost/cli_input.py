"""What a command reads where it takes a file: a file named, or standard input as ``-`` (audio: ``arecord ... |
voxhost transcribe -``; a voice archive: ``voxhost voices export -o - | voxhost voices import -``), refused at once
when there is none to read."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import BinaryIO

from .errors import VoxhostError

STDIN = "-"
"""The name that stands for standard input (as ``say`` takes it for its text)."""


def piped_stdin(what: str, example: str, empty: str) -> BinaryIO:
    """Standard input to read ``what`` (``"audio"``, ``"a voice archive"``) from, once something arrived on it;
    refused, in one line, when it is closed, a terminal (``example`` shows how to pipe it in) or empty (``empty``
    says what may have gone wrong upstream). Nothing is read from it here but what a peek holds."""
    if sys.stdin is None:  # started with stdin closed (``<&-``)
        raise VoxhostError("cannot read standard input: it is closed")
    if sys.stdin.isatty():  # nothing typed is audio or a zip: the command would wait for an end of file never meant
        raise VoxhostError(f"standard input is a terminal, not {what}: pipe it ({example}) or name a file")
    stream = sys.stdin.buffer
    # A peek waits for the first bytes (or the end) without taking them: an empty pipe is said as such, not as
    # "the audio could not be decoded: Invalid data found when processing input" or "the archive is not a zip file".
    if isinstance(stream, io.BufferedReader) and not stream.peek(1):
        raise VoxhostError(f"standard input is empty: {empty}")
    return stream


def stdin_audio(example: str) -> BinaryIO:
    """Standard input to decode audio from (``piped_stdin``); ``example`` shows how to pipe a recording in."""
    return piped_stdin("audio", example, "no audio came (did the recorder fail? see its messages)")


def input_file(given: str | Path, what: str) -> Path:
    """The file ``given`` names, to read ``what`` (``"audio file"``, ``"archive"``) from: a file, or a named pipe
    (bash's ``<(arecord ...)`` is ``/dev/fd/63``); refused, in one line, when there is none, or a directory is named
    (a tab completion that stopped at the folder)."""
    path = Path(given)
    if path.is_dir() or not path.exists():
        raise VoxhostError(f"no {what} {path}" + (" (it is a directory)" if path.is_dir() else ""))
    return path
