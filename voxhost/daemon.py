"""The daemon's lifecycle: start the core and the doors, report ready, shut down cleanly on a signal."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NoReturn

from . import models, replacing, statelock
from .components import collect_door_classes, door_configs
from .core import Core
from .door import Door, listen_problem
from .errors import AddressInUseError, StartupError
from .loops import loop_name
from .no_telemetry import opt_out
from .plugin_manager import Plugins
from .settings import Settings, ensure_state_dir
from .systemd import notify

_LOGGER = logging.getLogger(__name__)

HANDLED_SIGNALS = (
    signal.SIGINT,  # Ctrl-C in a terminal; a second one forces exit
    signal.SIGTERM,  # systemctl stop, container runtimes
    signal.SIGHUP,  # the terminal closed (or systemd's SendSIGHUP): stop cleanly, not die with jobs left queued
)

_early_signals: list[signal.Signals] = []
"""Signals that arrived before the event loop's handlers existed, in order (see ``catch_early_signals``)."""


def catch_early_signals() -> Callable[[], None]:
    """Record ``HANDLED_SIGNALS`` until ``Daemon.serve`` installs the loop's handlers, which then honour them; the
    callable returned puts back the handlers there were before.

    Plugins import and settings load before the loop runs, which can take seconds; a signal then would otherwise end
    the process with the default action (no clean shutdown, no word in the log, a non-zero exit status).
    """
    # A serve that ends in-process (a bad config, a port in use; tests, or a program embedding voxhost) must not
    # leave its recorder behind: Ctrl-C and SIGTERM would be swallowed for the rest of the process's life.
    previous = {sig: signal.signal(sig, _record_early_signal) for sig in _signals_to_handle()}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _early_signals.clear()

    return restore


def _record_early_signal(signum: int, frame: object) -> None:
    """The handler before the loop's: remember the signal, leave the stopping to ``Daemon.serve``."""
    _early_signals.append(signal.Signals(signum))


def _take_early_signals() -> list[signal.Signals]:
    """The signals recorded so far, forgotten as they are handed over."""
    taken = list(_early_signals)
    _early_signals.clear()
    return taken


class Daemon:
    """startup → serve until a signal → shutdown (drain jobs within a bound, then cancel)."""

    def __init__(self, settings: Settings, plugins: Plugins) -> None:
        opt_out()  # before any engine imports its libraries
        self.settings = settings
        self.plugins = plugins
        self.core: Core | None = None
        self.doors: list[Door] = []
        self.started = asyncio.Event()
        self._should_exit = asyncio.Event()
        self._force_exit = False
        self._start_failed = False
        """The start failed (a door's address in use, a bad table): its error is the last word, not "Stopped"."""

    def request_exit(self) -> None:
        """Begin a graceful shutdown (a second call forces it)."""
        if self._should_exit.is_set():
            self._force_exit = True
            if self.core:
                for job in self.core.jobs():
                    job.cancel("forced shutdown")
        self._should_exit.set()

    async def serve(self, install_signals: bool = True) -> None:
        """Run until asked to exit; asked during startup, stop starting (no Ready) and shut down."""
        handled = _signals_to_handle() if install_signals else []
        loop = asyncio.get_running_loop()
        for sig in handled:
            loop.add_signal_handler(sig, self.request_exit)
        for sig in _take_early_signals() if install_signals else []:
            _LOGGER.info("Received %s while starting: stopping", sig.name)
            self.request_exit()  # as the loop's handler would (a second one forces the exit)
        try:
            if not self._should_exit.is_set():  # stopped before starting: take no lock, load nothing
                await self._start_unless_stopped()
            await self._should_exit.wait()
        finally:
            await self.shutdown()
            statelock.release(self.settings.state_path)
            for sig in handled:
                loop.remove_signal_handler(sig)

    async def _start_unless_stopped(self) -> None:
        """Run ``startup``, cancelled if an exit is requested first: loading engines can take minutes, and a stop must
        not wait for them (systemd would kill the daemon past its stop timeout)."""
        starting = asyncio.ensure_future(self.startup())
        stopping = asyncio.ensure_future(self._should_exit.wait())
        try:
            await asyncio.wait([starting, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not starting.done():
                starting.cancel()
                # an engine loading on a thread cannot be interrupted; its awaiting is, at once
                await asyncio.wait([starting], timeout=1.0)
        if not starting.cancelled() and starting.done():
            self._start_failed = starting.exception() is not None
            starting.result()  # a StartupError stops here
        else:
            _LOGGER.info("Startup cancelled: asked to stop")

    async def startup(self) -> None:
        """Build the core, load engines, run startup hooks, open the doors, report ready."""
        classes = collect_door_classes(self.plugins, self.settings)
        doors = door_configs(self.settings, classes)  # a bad door table stops the start before engines load
        statelock.hold(ensure_state_dir(self.settings))  # before the core touches the state dir (job recovery, library)
        await asyncio.to_thread(_sweep_parts, self.settings)  # on a thread: a big outputs folder takes a while
        # Engines may take minutes to load (a heavy model on a Jetson): an address in use is said before, not after.
        for name, door_settings in doors.items():
            for endpoint in classes[name].endpoints(door_settings) if door_settings.enabled else []:
                if endpoint.role == "listen" and (err := listen_problem(endpoint)) is not None:
                    where = (endpoint.host, endpoint.port)  # said as the door's own bind would say it
                    _refuse_door(
                        name,
                        OSError(
                            err.errno,
                            f"error while attempting to bind on address {where!r}: "
                            f"{(err.strerror or str(err)).lower()}",
                        ),
                    )
        self.core = core = Core(self.settings, self.plugins)
        await core.start()
        await self.plugins.acall("startup", core=core)
        for name, door_settings in doors.items():
            if not door_settings.enabled:
                continue
            door = classes[name](core, door_settings)
            try:
                await door.start()
            except OSError as err:
                _refuse_door(name, err)
            self.doors.append(door)
            core.doors.append(door)
            _LOGGER.info("Door %s open %s", name, door.status())
        if self._should_exit.is_set():  # asked to stop while the last step finished: never report ready
            return
        voices = len(core.voices())
        engines = ", ".join(f"{s.id}{'' if s.runner.loaded else ' (not loaded)'}" for s in core.registry)
        _LOGGER.info(
            "Ready: %d voices; engines: %s; doors: %s; loop: %s",
            voices,
            engines or "none",
            ", ".join(d.name for d in self.doors) or "none",
            loop_name(asyncio.get_running_loop()),
        )
        notify("READY=1\nSTATUS=Ready")
        self.started.set()

    async def shutdown(self) -> None:
        """Drain, cancel, close: done within ``shutdown_timeout`` plus ``CLOSE_MARGIN``, whatever the doors and jobs.

        One deadline for everything: every door stops taking requests and lets its own finish while the core's jobs
        (of every door) run, all at once until the deadline; jobs still running then are cancelled. Doors, shutdown
        hooks and engines then close, each step cut short past the margin (worker processes are killed).
        """
        notify("STOPPING=1")
        loop = asyncio.get_running_loop()
        timeout = 0.0 if self._force_exit else self.settings.shutdown_timeout
        deadline = loop.time() + timeout
        doors, self.doors = list(reversed(self.doors)), []
        drains = [self._step(f"door {door.name} drain", door.drain(deadline)) for door in doors]
        if self.core is not None:
            drains.append(self._step("jobs", self.core.drain(timeout)))
        await _bounded(drains, deadline + 0.5 - loop.time())
        closing = loop.time() + CLOSE_MARGIN  # every step below ends by then
        await _bounded([self._step(f"door {door.name}", door.stop()) for door in doors], CLOSE_MARGIN / 2)
        if self.core is not None:
            hooks = self.plugins.acall("shutdown", core=self.core)
            await _bounded([self._step("shutdown hooks", hooks)], min(1.0, closing - loop.time() - 1.5))
            grace = closing - loop.time() - 0.5
            await _bounded([self._step("engines", self.core.close(grace))], grace)
        if not self._start_failed:  # what was started is closed all the same, in silence
            _LOGGER.info("Stopped")

    @staticmethod
    async def _step(name: str, work: Awaitable[object]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            _LOGGER.warning("Shutdown: %s cut short", name)
            raise
        except Exception:
            _LOGGER.exception("Shutdown: %s failed", name)


def _sweep_parts(settings: Settings) -> None:
    """Remove what writes cut off by a ``kill -9`` or a power loss left (a pull's part file may be gigabytes): under
    the state dir, whose lock this daemon holds, and in the models dir, where a pull of another process may run."""
    models_dir = settings.models_path.resolve()
    replacing.sweep(settings.state_path, skip=lambda folder: folder.resolve() == models_dir)
    models.sweep_parts(models_dir)


def _signals_to_handle() -> list[signal.Signals]:
    """``HANDLED_SIGNALS``, less a SIGHUP ignored by whoever started us (``nohup voxhost serve``: it must outlive the
    terminal)."""
    return [sig for sig in HANDLED_SIGNALS if sig != signal.SIGHUP or signal.getsignal(sig) != signal.SIG_IGN]


CLOSE_MARGIN = 5.0
"""Seconds that closing doors, running shutdown hooks and stopping engines may take after the drain."""


async def _bounded(steps: list[Coroutine[Any, Any, None]], timeout: float) -> None:
    """Run steps at once; cancel those still running after ``timeout`` seconds."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, timeout))
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=0.2)


def _refuse_door(name: str, err: OSError) -> NoReturn:
    """Stop the start: the door ``name`` cannot listen (``err``), with what to do about it."""
    message = f"the {name} door could not start: {err}{_bind_hint(name, err)}"
    if err.errno == errno.EADDRINUSE:
        raise AddressInUseError(message, door=name) from err
    raise StartupError(message) from err


def _bind_hint(door: str, err: OSError) -> str:
    """What to do about an address a door could not listen on."""
    if err.errno == errno.EADDRINUSE:
        return f"; another program (or another voxhost) listens there: stop it, or give [doors.{door}] another"
    if err.errno == errno.EACCES:
        return f"; a port below 1024 needs root: give [doors.{door}] a higher one"
    return ""
