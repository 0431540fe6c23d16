"""What an engine found on disk, looked at again every few seconds on a thread of its own, never on a request's way.

The catalog asks every engine for its voices on the event loop, for every request; an engine whose voices depend on
files (Piper's voice directories, F5's installed models) reads what its watcher last found, and a file pulled or
removed while the daemon runs is seen within ``RESCAN_SECONDS``. The voice library (``voxhost.library``) compares its
voice folders' files on a watcher too: one damaged or replaced in place is seen within ``RESCAN_SECONDS``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from typing import TypeVar

_LOGGER = logging.getLogger(__name__)

RESCAN_SECONDS = 2.0
"""How often a watcher looks again."""

Owner = TypeVar("Owner")


def weak_look(owner: Owner, look: Callable[[Owner], object]) -> Callable[[], bool]:
    """A watcher's look that holds ``owner`` by a weak reference, so that an owner nobody uses any more ends its
    watcher (``look`` must not hold it either: pass an unbound method)."""
    ref = weakref.ref(owner)

    def looked() -> bool:
        found = ref()
        if found is None:
            return False
        look(found)
        return True

    return looked


class Watcher:
    """Calls ``look`` on a thread named ``name`` every ``RESCAN_SECONDS``, from ``watch`` until ``stop`` or until
    ``look`` returns False (what it looks for is gone)."""

    def __init__(self, look: Callable[[], bool], name: str, what: str) -> None:
        self._look = look
        self._name = name
        self._what = what
        """What is looked at, for the warning when it cannot be read."""
        self._current: tuple[threading.Thread, threading.Event] | None = None
        """The watching thread and what stops it: an event of its own, so that a watcher started just after
        ``stop`` is never stopped, nor the stopped one kept going, by the other's event."""
        self._lock = threading.Lock()

    @property
    def watching(self) -> bool:
        """Whether ``watch`` was called since the last ``stop`` (its first look may still be under way)."""
        return self._current is not None

    def watch(self) -> None:
        """Look again every ``RESCAN_SECONDS`` until ``stop``; a first look now if the watcher was not running."""
        with self._lock:
            if self._current is not None:
                return
            stopped = threading.Event()
            thread = threading.Thread(target=self._watch, args=(stopped,), name=self._name, daemon=True)
            self._current = (thread, stopped)
        self._look()  # it may have changed while nothing watched
        with self._lock:
            # Started only while still the watcher: a ``stop`` during the look above means no watching.
            if self._current == (thread, stopped):
                thread.start()

    def stop(self) -> None:
        """Stop watching (what was found so far stays)."""
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            thread, stopped = current
            stopped.set()
            # Not started (stopped during ``watch``'s first look), it never will be: nothing to wait for.
            if thread.ident is not None and thread is not threading.current_thread():
                thread.join()

    def _watch(self, stopped: threading.Event) -> None:
        while not stopped.wait(RESCAN_SECONDS):
            try:
                if not self._look():
                    return
            except Exception:  # a directory that cannot be read must not end the watching
                _LOGGER.warning("%s could not be read", self._what, exc_info=True)
