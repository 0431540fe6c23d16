"""``voxhost voices [list] | export | import``: the catalog, and the voice library as one archive.

Voices are read and written in the state directory's voice library directly (a running daemon sees imported voices
on its next look at the library: writes are atomic, each voice renamed into place).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import VoxhostError
from .library import VoiceLibrary
from .settings import Settings
from .voice_archive import import_archive, write_archive

SettingsFactory = Callable[[argparse.Namespace], Settings]


def _library(settings: Settings) -> VoiceLibrary:
    return VoiceLibrary(settings.state_path / "voices")


def _export(args: argparse.Namespace, settings: Settings) -> int:
    library = _library(settings)
    voices = [library.get(voice_id) for voice_id in args.ids] if args.ids else library.list()
    output = Path(args.output or f"voxhost-voices-{time.strftime('%Y%m%d-%H%M%S')}.zip")
    write_archive(output, library.root, voices)
    print(f"{output}: {len(voices)} voice(s)", file=sys.stderr)
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.archive)
    if not path.is_file():
        raise VoxhostError(f"no archive {path}")
    result = import_archive(_library(settings), path.read_bytes(), args.duplicates)
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


def _runner(fn: Callable[[argparse.Namespace, Settings], int], settings: SettingsFactory) -> Callable[..., int]:
    return lambda args: fn(args, settings(args))


def add_voices_command(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    list_voices: Callable[[argparse.Namespace], int],
    settings: SettingsFactory,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """``voices`` (the catalog, as before), ``voices list``, ``voices export``, ``voices import``."""
    common = list(parents)
    parser = subparsers.add_parser("voices", parents=common, help="list voices; export or import the voice library")
    parser.add_argument("--json", action="store_true", help="JSON output")
    parser.set_defaults(func=list_voices)
    sub = parser.add_subparsers(dest="voices_command")
    p = sub.add_parser("list", parents=common, help="every voice of the catalog (the default)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=list_voices)
    p = sub.add_parser(
        "export", parents=common, help="the voice library (or some voices) as one zip archive with a manifest of hashes"
    )
    p.add_argument("ids", nargs="*", metavar="id", help="voice-library ids (default: every voice)")
    p.add_argument("-o", "--output", help="the archive to write (default: voxhost-voices-<time>.zip)")
    p.set_defaults(func=_runner(_export, settings))
    p = sub.add_parser(
        "import", parents=common, help="voices from an archive, checked in full before anything is stored"
    )
    p.add_argument("archive", help="a zip written by `voxhost voices export` (or the HTTP door's library export)")
    p.add_argument(
        "--duplicates",
        choices=("skip", "replace"),
        default="skip",
        help="a voice whose id is already in the library: leave it (skip, the default) or overwrite it",
    )
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=_runner(_import, settings))
