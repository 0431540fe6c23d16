"""One daemon per state directory: ``voxhost serve`` holds an exclusive ``flock`` on ``<state_dir>/daemon.lock``.

The kernel drops the lock when the process ends, however it ends (``kill -9`` included), so a crash leaves no stale
lock. Other processes on the same state directory (``voxhost say``, the other commands) change what the daemon owns
there (the job store's recovery and sweep) only while nobody holds the lock, taking it for just that while.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import StartupError

_LOGGER = logging.getLogger(__name__)

LOCK_NAME = "daemon.lock"

_held: dict[Path, int] = {}
"""State directories whose lock this process holds (resolved path → open descriptor): a second ``flock`` of this
process on a new descriptor would conflict with its own lock."""


def _key(state_dir: Path) -> Path:
    return state_dir.expanduser().resolve()


def _try_lock(path: Path, mode: int = os.O_RDWR | os.O_CREAT) -> int | None:
    """An open descriptor of ``path`` locked exclusively, or None when another process holds the lock."""
    fd = os.open(path, mode | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def hold(state_dir: Path) -> None:
    """Lock ``state_dir`` for this daemon's lifetime; ``StartupError`` (one line) when another daemon holds it."""
    key = _key(state_dir)
    if key in _held:
        return
    try:
        key.mkdir(parents=True, exist_ok=True)
        fd = _try_lock(key / LOCK_NAME)
    except OSError as err:
        try:  # a lock file of another user, or a read-only state dir: a read-only descriptor locks as well
            fd = _try_lock(key / LOCK_NAME, os.O_RDONLY)
        except OSError:
            # No lock file can be made: the daemon still speaks (as with outputs), unguarded against a second one.
            _LOGGER.warning("The state_dir %s cannot be locked (%s)", key, err.strerror or err)
            return
    if fd is None:
        owner = _owner(key / LOCK_NAME)
        raise StartupError(
            f"the state_dir {key} is in use by another voxhost serve{f' (pid {owner})' if owner else ''}; "
            "stop it, or give this one another state_dir"
        )
    with contextlib.suppress(OSError):  # for the message a second daemon prints
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = fd


def release(state_dir: Path) -> None:
    """Give up the lock taken by ``hold`` (the kernel does it too when the process ends)."""
    fd = _held.pop(_key(state_dir), None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no pid of a stopped daemon left to name
        os.close(fd)


@contextlib.contextmanager
def exclusive(state_dir: Path) -> Iterator[bool]:
    """True inside the block when this process may change what a daemon owns in ``state_dir``: it holds the daemon's
    lock, or took it for the block because no daemon runs; False while a daemon (another process) holds it."""
    key = _key(state_dir)
    if key in _held or not key.is_dir():  # no folder: no daemon there (the caller makes it)
        yield True
        return
    try:
        # read-only is enough to lock (a daemon of another user may own the file)
        fd = _try_lock(key / LOCK_NAME, os.O_RDONLY)
    except OSError:  # no lock file: no daemon has run there
        yield True
        return
    if fd is None:
        yield False
        return
    try:
        yield True
    finally:
        os.close(fd)


def _owner(path: Path) -> int | None:
    """The pid the daemon holding ``path`` wrote into it, if readable."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
