"""Audio a command takes from standard input, as ``-`` where it takes an audio file (``arecord ... | voxhost
transcribe -``): refused at once when there is none to read, else decoded as it arrives."""

from __future__ import annotations

import io
import sys
from typing import BinaryIO

from .errors import VoxhostError

STDIN = "-"
"""The name that stands for standard input (as ``say`` takes it for its text)."""


def stdin_audio(example: str) -> BinaryIO:
    """Standard input to decode, once something arrived on it; refused, in one line, when it is closed, a terminal
    (``example`` shows how to pipe audio in) or empty. Nothing is read from it here but what a peek holds."""
    if sys.stdin is None:  # started with stdin closed (``<&-``)
        raise VoxhostError("cannot read standard input: it is closed")
    if sys.stdin.isatty():  # nothing typed is audio: the command would wait for an end of file never meant
        raise VoxhostError(f"standard input is a terminal, not audio: pipe it ({example}) or name a file")
    stream = sys.stdin.buffer
    # A peek waits for the first bytes (or the end) without taking them: an empty pipe is said as such, not as
    # "the audio could not be decoded: Invalid data found when processing input".
    if isinstance(stream, io.BufferedReader) and not stream.peek(1):
        raise VoxhostError("standard input is empty: no audio came (did the recorder fail? see its messages)")
    return stream
