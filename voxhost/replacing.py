"""Files written whole or not at all: what the user names (``say -o``, ``voices export -o``, a service unit) and
what voxhost keeps (voice usage, the lexicon, job records, voice metadata, engines' caches).

The new content is written beside the file, then renamed over it: a full disk, a signal or a crash part-way leaves
the file as it was (or absent), not a truncated WAV, zip or JSON, and nothing else behind. The error itself is the
caller's to report (a door's 507, a log line), as the ``OSError`` it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


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
        # The rename would get past a file its owner made read-only; writing it in place would not.
        raise PermissionError(13, os.strerror(13), str(target))
    part = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
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
