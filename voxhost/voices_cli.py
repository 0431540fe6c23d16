"""``voxhost voices [list] | add | remove | export | import``: the catalog (and the library's broken voices), one new
voice, removing voices, and the voice library as one archive.

Voices are read and written in the state directory's voice library directly (a running daemon sees added, removed
and imported voices on its next look at the library: writes are atomic, each voice renamed into place or away).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from .api import EngineInfo
from .audio import MAX_SPEECH_RATE, decode_audio
from .cli_input import STDIN, input_file, piped_stdin, stdin_audio
from .errors import VoxhostError
from .library import VoiceLibrary, valid_voice_id
from .operations import MAX_REFERENCE_SECONDS, VoiceCreate, parse
from .replacing import replacing
from .settings import Settings, ensure_state_dir
from .voice_archive import MAX_ARCHIVE, import_archive, write_archive
from .voices import BrokenVoice, LibraryVoice, listed_names, same_name

UNSPOKEN_FIX = "enable a cloning engine: `voxhost engines` lists them, those that clone with `clone`"
"""What to do about library voices no running engine speaks."""
PIPE_EXAMPLE = "arecord -f S16_LE -r 16000 -c 1 -d 10 -t wav | voxhost voices add --name NAME -"
"""How a recording is piped in, as a refusal of a terminal shows it."""
ARCHIVE_PIPE_EXAMPLE = "voxhost voices export -o - | ssh HOST voxhost voices import -"
"""How an archive is piped in, as a refusal of a terminal shows it."""

SettingsFactory = Callable[[argparse.Namespace], Settings]
CoreFactory = Callable[[argparse.Namespace], Any]
"""Builds the core from the command's arguments (engines not loaded yet)."""


def _library(settings: Settings) -> VoiceLibrary:
    """The state directory's voice library, with the quota the daemon applies ([library])."""
    quota = settings.library
    ensure_state_dir(settings)
    return VoiceLibrary(
        settings.library_path,
        max_voices=quota.max_voices,
        max_bytes=quota.max_bytes,
    )


def broken_entry(voice: BrokenVoice) -> dict[str, Any]:
    """A broken voice as an entry of ``voxhost voices --json``: every key a catalog voice has (``kind``:
    ``"broken"``, no engine, no languages), and why it is broken, what its files take and when its folder changed."""
    return {
        "id": voice.id,
        "engine": "",
        "voice": voice.id,
        "name": voice.id,
        "languages": [],
        "sample_rate": 0,
        "kind": "broken",
        "speakers": [],
        "description": voice.problem,
        "aliases": [],
        "pipeline": None,
        "problem": voice.problem,
        "bytes": voice.bytes,
        "modified_at": voice.modified_at,
    }


def unspoken_reason(voice: LibraryVoice, engines: Sequence[EngineInfo]) -> str:
    """Why no running engine speaks a library voice, and what to do about it."""
    cloners = [engine for engine in engines if "clone" in engine.capabilities]
    if not cloners:
        return f"no running engine clones voices; {UNSPOKEN_FIX}"
    if voice.transcript is None and all(engine.needs_transcript for engine in cloners):
        needing = f"{', '.join(engine.id for engine in cloners)} need{'s' if len(cloners) == 1 else ''}"
        return f"it has no transcript, which {needing}; give it one (in the voice lab, or over the HTTP door)"
    return f"no running cloning engine ({', '.join(e.id for e in cloners)}) speaks {voice.language}"


def unspoken_entry(voice: LibraryVoice, reason: str) -> dict[str, Any]:
    """A library voice no running engine speaks as an entry of ``voxhost voices --json``: every key a catalog voice
    has (``kind``: ``"unspoken"``, no engine), why it is not spoken now, and its recording's length."""
    return {
        "id": voice.id,
        "engine": "",
        "voice": voice.id,
        "name": voice.name,
        "languages": [voice.language] if voice.language else [],
        "sample_rate": voice.sample_rate,
        "kind": "unspoken",
        "speakers": [],
        "description": f"cloned voice {voice.name}",
        "aliases": [],
        "pipeline": None,
        "reason": reason,
        "seconds": voice.seconds,
        "created_at": voice.created_at,
    }


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    """Delete voices of the library, broken ones too: every id is checked first, under the library's lock, so an
    unknown one removes none; each voice is renamed away at once, then its files deleted."""
    library = _library(settings)
    ids = list(dict.fromkeys(args.ids))
    with library.locked():  # no other writer between the check and the last removal
        known = {voice.id for voice in library.list()} | {voice.id for voice in library.broken()}
        for voice_id in ids:
            if voice_id not in known:
                meant = library.meant(voice_id)  # a name given for its id (`remove Grandma`), or a typo
                where = meant or ("" if valid_voice_id(voice_id) else " (only voice-library voices can be removed)")
                raise VoxhostError(f"no voice {voice_id!r} in the voice library{where}; nothing removed")
        removed = library.remove_all(ids)  # all or none
    if args.json:
        print(json.dumps({"removed": [voice.id for voice in removed]}, indent=2))
        return 0
    for voice in removed:
        print(f"removed  {voice.id:40} {voice.name}")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    library = _library(settings)
    voices = [library.get(voice_id) for voice_id in args.ids] if args.ids else library.list()
    if args.output == "-":  # as `say -o -`: standard output (it was a file named "-")
        return _export_to_stdout(library.root, voices)
    output = Path(args.output or f"voxhost-voices-{time.strftime('%Y%m%d-%H%M%S')}.zip")
    try:
        with replacing(output) as part:  # whole or untouched: never a truncated zip on a full disk
            write_archive(part, library.root, voices)
    except OSError as err:
        # A missing folder, a directory named as the output, no permission: one line, as other errors are.
        raise VoxhostError(f"cannot write {output}: {err.strerror or err}") from None
    print(f"{output}: {len({v.id for v in voices})} voice(s)", file=sys.stderr)
    return 0


def _export_to_stdout(root: Path, voices: list[LibraryVoice]) -> int:
    """The archive on standard output (made in a temporary file first: a zip is written with seeks)."""
    if sys.stdout is None or sys.stdout.isatty():
        where = "closed" if sys.stdout is None else "a terminal"
        raise VoxhostError(
            f"cannot write the archive to standard output: it is {where}; pipe it or name a file with -o"
        )
    with tempfile.TemporaryDirectory(prefix="voxhost-export-") as folder:
        part = Path(folder) / "voices.zip"
        write_archive(part, root, voices)
        with part.open("rb") as archive:
            shutil.copyfileobj(archive, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    print(f"standard output: {len({v.id for v in voices})} voice(s)", file=sys.stderr)
    return 0


def _read_archive(source: BinaryIO, name: str) -> bytes:
    """An archive's bytes, read to at most ``MAX_ARCHIVE``: more is refused, not held (a pipe that never ends)."""
    data = source.read(MAX_ARCHIVE + 1)
    if len(data) > MAX_ARCHIVE:
        raise VoxhostError(f"{name}: the archive is larger than {MAX_ARCHIVE // 2**20} MiB, the most an import takes")
    return data


def _import(args: argparse.Namespace, settings: Settings) -> int:
    if args.archive == "-":  # as `voices export -o -` writes it: `... export -o - | ssh host voxhost voices import -`
        empty = "no archive came (did the export before the pipe fail? see its messages)"
        data = _read_archive(piped_stdin("a voice archive", ARCHIVE_PIPE_EXAMPLE, empty), "standard input")
    else:
        with input_file(args.archive, "archive").open("rb") as source:
            data = _read_archive(source, args.archive)
    result = import_archive(_library(settings), data, args.duplicates)
    if args.json:
        print(json.dumps({"imported": [v.id for v in result.imported], "skipped": result.skipped,
                          "replaced": result.replaced}, indent=2))  # fmt: skip
        return 0
    for voice in result.imported:
        mark = "replaced" if voice.id in result.replaced else "imported"
        print(f"{mark:9} {voice.id:40} {voice.name}")
    for voice_id in result.skipped:
        print(f"{'skipped':9} {voice_id:40} (already in the library; --duplicates replace overwrites it)")
    return 0


def _add(args: argparse.Namespace, make_core: CoreFactory) -> int:
    """Store one voice through the core's own path: a missing transcript is heard by a running recognizer, a wrong
    one refused, the words timed."""
    fields = {"name": args.name, "language": args.language, "transcript": args.transcript}
    voice = parse(VoiceCreate, {key: value for key, value in fields.items() if value is not None})
    if args.file == STDIN:  # `ffmpeg -i talk.mp4 -ss 10 -t 12 -f wav - | voxhost voices add --name Rose -`
        source: Path | BinaryIO = stdin_audio(PIPE_EXAMPLE)
    else:
        source = input_file(args.file, "audio file")
    # As the doors do: a block at a time, mono, at most the rate a voice is stored at, read as it is decoded.
    try:
        samples, rate = decode_audio(source, MAX_REFERENCE_SECONDS, "file", MAX_SPEECH_RATE)
    except VoxhostError as err:  # named as transcribe names it: "could not be decoded" alone says not what
        raise VoxhostError(f"{'standard input' if args.file == STDIN else args.file}: {err.message}") from None

    async def store() -> Any:
        core = make_core(args)
        for slot in core.registry:
            slot.host.preload = False  # only the recognizer is loaded, when the voice is heard
        await core.start()
        try:
            stored = await core.store_voice(voice, samples, rate)
            engines = sorted({v.engine for v in core.voices() if v.kind == "cloned" and v.voice == stored.id})
            # Two voices may share a name (a second recording of Grandma, listed as "Grandma (2)"), but one added
            # to replace the other would leave both in every voice list: those named so already are said.
            library = await core.library_voices()
            namesakes = [v.id for v in library if v.id != stored.id and same_name(v.name, stored.name)]
            return stored, engines, namesakes, listed_names(library).get(stored.id, stored.name)
        finally:
            await core.close()

    stored, engines, namesakes, listed = asyncio.run(store())
    heard = voice.transcript is None and stored.transcript is not None
    if args.json:
        shown = {
            "id": stored.id,
            "name": stored.name,
            "language": stored.language,
            "transcript": stored.transcript,
            "transcribed": heard,
            "seconds": stored.seconds,
            "sample_rate": stored.sample_rate,
            "created_at": stored.created_at,
            "engines": engines,
            "same_name": namesakes,
        }
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    print(f"{stored.id:40} {stored.name}  {stored.language or '-'}  {stored.seconds:.1f} s")
    transcript = stored.transcript if stored.transcript is not None else "(none)"
    print(f"transcript{' (heard)' if heard else ''}: {transcript}")
    print(f"spoken by: {', '.join(engines)}" if engines else f"spoken by no running engine yet ({UNSPOKEN_FIX})")
    if namesakes:
        print(
            f"also named {stored.name}: {', '.join(namesakes)}; voice lists show this one as {listed!r} "
            "(`voxhost voices remove ID` if this voice replaces one)"
        )
    return 0


def _runner(fn: Callable[[argparse.Namespace, Settings], int], settings: SettingsFactory) -> Callable[..., int]:
    return lambda args: fn(args, settings(args))


def add_voices_command(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    list_voices: Callable[[argparse.Namespace], int],
    settings: SettingsFactory,
    parents: Sequence[argparse.ArgumentParser] = (),
    make_core: CoreFactory | None = None,
) -> None:
    """``voices`` (the catalog, as before), ``voices list``, ``voices add`` (with ``make_core``), ``voices remove``,
    ``voices export``, ``voices import``."""
    common = list(parents)
    parser = subparsers.add_parser(
        "voices", parents=common, help="list voices; add, remove, export or import library voices"
    )
    parser.add_argument("--json", action="store_true", help="JSON output")
    parser.set_defaults(func=list_voices)
    sub = parser.add_subparsers(dest="voices_command")
    p = sub.add_parser("list", parents=common, help="every voice of the catalog (the default)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=list_voices)
    if make_core is not None:
        p = sub.add_parser("add", parents=common, help="store a cloned voice (its transcript heard when none is given)")
        p.add_argument(
            "file",
            metavar="FILE",
            help=f"the reference recording (wav, flac, ogg, mp3, ...; 1-{MAX_REFERENCE_SECONDS:g} s), or - for stdin",
        )
        p.add_argument("--name", required=True, help="the voice's display name")
        p.add_argument("-l", "--language", help="the language spoken (en_US, de_DE, ...)")
        p.add_argument("--transcript", help="the recording's exact words (default: heard by the speech recognizer)")
        p.add_argument("--json", action="store_true", help="JSON output")
        core_factory = make_core
        p.set_defaults(func=lambda args: _add(args, core_factory))
    p = sub.add_parser(
        "remove",
        aliases=["delete"],
        parents=common,
        help="delete voices of the voice library, broken ones too (all or none: an unknown id removes nothing)",
    )
    p.add_argument("ids", nargs="+", metavar="id", help="voice-library ids (as `voxhost voices` lists them)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=_runner(_remove, settings))
    p = sub.add_parser(
        "export", parents=common, help="the voice library (or some voices) as one zip archive with a manifest of hashes"
    )
    p.add_argument("ids", nargs="*", metavar="id", help="voice-library ids (default: every voice)")
    p.add_argument("-o", "--output", help="the archive to write (default: voxhost-voices-<time>.zip), or - for stdout")
    p.set_defaults(func=_runner(_export, settings))
    p = sub.add_parser(
        "import", parents=common, help="voices from an archive, checked in full before anything is stored"
    )
    p.add_argument(
        "archive", help="a zip written by `voxhost voices export` (or the HTTP door's library export), or - for stdin"
    )
    p.add_argument(
        "--duplicates",
        choices=("skip", "replace"),
        default="skip",
        help="a voice whose id is already in the library: leave it (skip, the default) or overwrite it",
    )
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=_runner(_import, settings))
