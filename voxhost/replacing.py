"""Files written whole or not at all: what the user names (``say -o``, ``voices export -o``, a service unit) and
what voxhost keeps (voice usage, the lexicon, job records, engines' caches).

The new content is written beside the file, then renamed over it: a full disk, a signal or a crash part-way leaves
the file as it was (or absent), not a truncated WAV, zip or JSON, and nothing else behind. The error itself is the
caller's to report (a door's 507, a log line), as the ``OSError`` it was. Only a ``kill -9`` or a power loss
part-way leaves the part file itself: ``sweep`` removes those at the daemon's start.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

_PART = re.compile(r"\..+\.[0-9a-f]{8}\.part")
"""The name ``part_name`` gives: what matches it is a write of ``replacing``, never a file of the user's."""

STALE_AFTER = 600.0
"""Seconds since a part file last changed before ``sweep`` takes it for abandoned: a write still going on (a local
``voxhost say`` filling an engine's cache as the daemon starts, a slow download) changes its part file more often."""


def part_name(target: Path) -> Path:
    """Where ``replacing`` writes ``target``'s new content: a hidden file beside it, unique to the write."""
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")


def sweep(root: Path, skip: Callable[[Path], bool] = lambda folder: False) -> tuple[int, int]:
    """Remove the part files under ``root`` that a killed write left (unchanged for ``STALE_AFTER`` seconds); how
    many and their bytes. Folders ``skip`` names are not entered; symbolic links are not followed."""
    removed: list[str] = []
    size = 0
    before = time.time() - STALE_AFTER
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not skip(Path(folder, name))]
        for name in files:
            if not _PART.fullmatch(name):
                continue
            path = Path(folder, name)
            try:
                info = path.lstat()
                if not stat.S_ISREG(info.st_mode) or info.st_mtime > before:  # a link is not followed
                    continue
                path.unlink()
            except OSError as err:  # gone already, or not ours to remove: left as it is
                _LOGGER.debug("part file %s not removed: %s", path, err)
                continue
            removed.append(str(path.relative_to(root)))
            size += info.st_size
    if removed:
        _LOGGER.info(
            "Removed %d unfinished write(s) from %s (%d bytes): %s", len(removed), root, size, ", ".join(removed)
        )
    return len(removed), size


@contextlib.contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A path to write ``target``'s new content to, renamed over it when the block ends, removed if the block fails.

    What is not a regular file (``/dev/null``, a FIFO, ``/dev/stdout``) is written in place: a rename would replace
    the device or pipe with a file. A symbolic link's destination is replaced, not the link."""
    target = Path(os.path.realpath(target))
    if target.exists() and not target.is_file():
        yield target
        return
    if target.exists() and not os.access(target, os.W_OK):
        # The rename would get past a file its owner made read-only; writing it in place would not. Read-only
        # means "keep it" (as ``cp`` and a shell's ``>`` take it): refused, naming the file.
        raise PermissionError(
            errno.EACCES, "the file is read-only (make it writable to let voxhost replace it)", str(target)
        )
    part = part_name(target)
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666  # a new file: as the umask says
    os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    try:
        yield part
        if target.exists():
            os.chmod(part, mode)  # the umask applied at creation; an existing file keeps its own mode
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
