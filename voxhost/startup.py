"""What a signal does while the ``voxhost`` command is still importing: end quietly, as the command would once it runs.

Importing the command line takes a fraction of a second on a PC and more on a small board; a signal then would
otherwise take Python's default action: a ``KeyboardInterrupt`` traceback on Ctrl-C, or for ``serve`` under a
service manager a death by SIGTERM where a started daemon exits 0. This module imports nothing heavy, so that the
handlers exist before the rest of voxhost loads: importing it holds the signals (``voxhost.cli`` imports it first).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals ``serve`` stops cleanly on (``voxhost.daemon.HANDLED_SIGNALS``)."""

_DEFAULTS = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL, signal.SIGHUP: signal.SIG_DFL}

_held: dict[signal.Signals, object] = {}
"""The handlers replaced by ``hold``, to put back on ``release``."""


def hold() -> None:
    """Until ``release``, end the process on a held signal as the command being started would."""
    if threading.current_thread() is not threading.main_thread() or not _is_the_command():
        return  # voxhost.cli imported by another program (a test, a tool): its signals are its own
    for sig in HELD:
        if signal.getsignal(sig) is _DEFAULTS[sig]:  # a SIGHUP ignored by `nohup` stays ignored
            _held[sig] = signal.signal(sig, _stop_while_starting)


def release() -> None:
    """Give the held signals back to what they did before ``hold``."""
    while _held:
        sig, previous = _held.popitem()
        signal.signal(sig, previous)  # type: ignore[arg-type]  # what getsignal returned


def _is_the_command() -> bool:
    """This process is the ``voxhost`` console script or ``python -m voxhost``."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None:
        return bool(spec.name == "voxhost.__main__")
    return Path(getattr(main, "__file__", None) or "").stem == "voxhost"


def _command() -> str:
    """The subcommand on the command line (``serve``, ``say``, ...), or ``""``."""
    return next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "")


def _stop_while_starting(signum: int, frame: object) -> None:
    """End now, as the command would once running: nothing has started that needs closing."""
    sig = signal.Signals(signum)
    if _command() == "serve":
        # a daemon stops on these signals with status 0 ("Stopped"); a service manager counts nothing else as clean
        print(f"voxhost: received {sig.name} while starting: stopped", file=sys.stderr, flush=True)
        os._exit(0)
    if sig == signal.SIGINT:
        os._exit(130)  # as Ctrl-C ends every other command (128 + SIGINT), without a traceback
    signal.signal(sig, signal.SIG_DFL)  # as SIGTERM or SIGHUP ends a running `say`: by the signal itself
    os.kill(os.getpid(), sig)


def fill_standard_fds() -> None:
    """Point a closed standard descriptor (``voxhost serve >&-``) at /dev/null before anything is opened: the next
    file or socket would take its number, and the event loop, which closes its own descriptors but never 0-2, aborted
    the process at exit with an assertion. ``sys.stdout`` stays None, so that commands still see it closed."""
    if not _is_the_command():
        return
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one, as those below are open
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


fill_standard_fds()
hold()  # on import: voxhost.cli's first import, before its heavy ones
