"""``voxhost transcribe FILE...``: speech to text through the same core the daemon uses (no daemon needed)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, BinaryIO

from .audio import RECOGNIZER_RATE, decoded_pcm
from .cli_input import STDIN, input_file, stdin_audio
from .engine import PCM, Transcript
from .errors import VoxhostError
from .operations import TranscribeParams, parse
from .transcripts import subtitles

SUBTITLES = ("srt", "vtt")
"""Formats that are a whole file each."""
MAX_SECONDS = 4 * 3600.0
"""Longest file the command takes (the doors have their own, lower limits)."""


PIPE_EXAMPLE = "arecord -f S16_LE -r 16000 -c 1 -t wav | voxhost transcribe -"
"""How audio is piped in, as a refusal of a terminal shows it."""


def _decoded(source: Path | BinaryIO, name: str) -> PCM:
    """A file's or a stream's audio as the recognizer takes it: as the doors decode it, a block at a time, mono, at
    most the recognizer's rate, read as it is decoded (an hour of 192 kHz audio would take gigabytes at its own
    rate); blocking. Its errors name it (``name``), which "could not be decoded" alone did not say."""
    try:
        return decoded_pcm(source, MAX_SECONDS, "file", RECOGNIZER_RATE)
    except VoxhostError as err:
        shown = "standard input" if name == STDIN else name
        raise VoxhostError(f"{shown}: {err.message}") from None


def render(transcript: Transcript, fmt: str) -> str:
    """A transcript as text, JSON (with segments and words), SubRip or WebVTT."""
    if fmt == "json":
        return json.dumps(asdict(transcript), ensure_ascii=False, indent=2)
    if fmt == "text":
        return transcript.text
    return subtitles(transcript.segments, vtt=fmt == "vtt")


def add_transcribe_command(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    make_core: Callable[[argparse.Namespace], Any],
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """Add ``transcribe``; ``make_core(args)`` builds the core (engines not loaded yet)."""
    p = subparsers.add_parser("transcribe", parents=list(parents), help="speech to text (audio files)")
    p.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="audio files (wav, flac, ogg, mp3, ...), or - for stdin"
    )
    p.add_argument("-l", "--language", help="the language spoken (default: detected)")
    p.add_argument("--engine", help="the recognizing engine (default: the first that transcribes)")
    p.add_argument("--prompt", help="words to expect (names, terms)")
    p.add_argument("--format", choices=["text", "json", "srt", "vtt"], default="text", help="output form")

    def run(args: argparse.Namespace) -> int:
        fields = {"language": args.language, "engine": args.engine, "prompt": args.prompt, "door": "cli"}
        params = parse(TranscribeParams, {k: v for k, v in fields.items() if v is not None})
        params = params.model_copy(update={"word_timestamps": args.format == "json"})
        if len(args.files) > 1 and args.format in SUBTITLES:
            # Subtitle files back to back are neither one file (their cues restart at 1) nor several (nothing marks
            # where one ends): one subtitle file per run.
            raise VoxhostError(
                f"--format {args.format} writes one subtitle file: give one audio file per run, e.g. "
                f'for f in *.wav; do voxhost transcribe --format {args.format} "$f" > "${{f%.*}}.{args.format}"; done'
            )
        piped = sum(str(path) == STDIN for path in args.files)
        if piped > 1:
            raise VoxhostError("- (standard input) is given more than once; it can be read once")
        for path in args.files:  # before the recognizer loads, and before the first file is transcribed
            if str(path) != STDIN:
                input_file(path, "audio file")

        async def go(piped_audio: PCM | None) -> int:
            core = make_core(args)
            for slot in core.registry:
                slot.host.preload = False  # load only the recognizer
            await core.start()
            try:
                checked = core.check_transcribe(params)
                for path in args.files:
                    if piped_audio is not None and str(path) == STDIN:
                        audio = piped_audio
                    else:
                        audio = await asyncio.to_thread(_decoded, path, str(path))
                    transcript = await core.transcribe(audio, checked)
                    if len(args.files) > 1 and args.format == "text":
                        print(f"{path}: ", end="")
                    if len(args.files) > 1 and args.format == "json":
                        # One object per file, as JSON Lines, each naming its file (as text lines start with it).
                        print(json.dumps({"file": str(path), **asdict(transcript)}, ensure_ascii=False))
                    else:
                        print(render(transcript, args.format))
            finally:
                await core.close()
            return 0

        try:
            # Standard input is decoded before the recognizer loads: a recorder writing into the pipe would otherwise
            # stall (and drop audio) for the seconds a model takes to load.
            piped_audio = _decoded(stdin_audio(PIPE_EXAMPLE), STDIN) if piped else None
            return asyncio.run(go(piped_audio))
        except BrokenPipeError:  # the reader of the transcript went away (`| head`): the command line says so
            raise
        except OSError as err:  # a file that went away or cannot be read (the command's other errors are the CLI's)
            raise VoxhostError(f"cannot read {err.filename or 'the audio'}: {err.strerror or err}") from None

    p.set_defaults(func=run)
