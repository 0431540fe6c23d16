"""Resident models of one engine: load on first use, keep at most N (least recently used goes), unload when idle.

An engine with several models (one per language, one per size) keeps them in a ``ResidentModels``; the loader
and unloader are the engine's. A background sweeper thread unloads models idle for longer than ``idle_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

_LOGGER = logging.getLogger(__name__)

V = TypeVar("V")


@dataclass
class _Slot(Generic[V]):
    value: V
    last_used: float
    users: int = 0


class ResidentModels(Generic[V]):
    """A bounded, idle-expiring set of loaded models keyed by name."""

    def __init__(
        self,
        load: Callable[[str], V],
        unload: Callable[[str, V], None],
        *,
        max_resident: int = 0,
        idle_s: float = 0.0,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        """``max_resident`` 0 means no limit; ``idle_s`` 0 means never unload for idleness."""
        self._load = load
        self._unload = unload
        self.max_resident = max_resident
        self.idle_s = idle_s
        self._on_change = on_change
        self._slots: OrderedDict[str, _Slot[V]] = OrderedDict()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.loads = 0
        self.evictions = 0

    def names(self) -> list[str]:
        """Resident model names, least recently used first."""
        with self._lock:
            return list(self._slots)

    @contextmanager
    def use(self, name: str) -> Iterator[V]:
        """Load (or reuse) a model and hold it for the duration of the block; a held model is never evicted."""
        with self._lock:
            slot = self._slots.get(name)
            if slot is None:
                self._make_room(for_new=True)
                _LOGGER.info("loading model %s", name)
                slot = _Slot(self._load(name), time.monotonic())
                self._slots[name] = slot
                self.loads += 1
                self._changed()
            self._slots.move_to_end(name)
            slot.users += 1
        try:
            yield slot.value
        finally:
            with self._lock:
                slot.users -= 1
                slot.last_used = time.monotonic()

    def preload(self, name: str) -> None:
        """Load a model now, without using it."""
        with self.use(name):
            pass

    def _make_room(self, *, for_new: bool) -> None:
        limit = self.max_resident - (1 if for_new else 0)
        if self.max_resident <= 0:
            return
        for name in list(self._slots):
            if len(self._slots) <= limit:
                break
            if self._slots[name].users == 0:
                _LOGGER.info("evicting model %s (limit %d resident)", name, self.max_resident)
                self._drop(name)
                self.evictions += 1

    def _drop(self, name: str) -> None:
        slot = self._slots.pop(name)
        try:
            self._unload(name, slot.value)
        finally:
            self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def sweep(self, now: float | None = None) -> list[str]:
        """Unload models idle for longer than ``idle_s``; returns their names."""
        if self.idle_s <= 0:
            return []
        now = time.monotonic() if now is None else now
        dropped = []
        with self._lock:
            for name, slot in list(self._slots.items()):
                if slot.users == 0 and now - slot.last_used >= self.idle_s:
                    _LOGGER.info("unloading model %s after %.0f s idle", name, now - slot.last_used)
                    self._drop(name)
                    dropped.append(name)
        return dropped

    def start_sweeper(self) -> None:
        """Run ``sweep`` in a daemon thread until ``clear``/``stop_sweeper``."""
        if self.idle_s <= 0 or self._sweeper is not None:
            return
        self._stop.clear()
        interval = max(0.05, min(self.idle_s / 4, 10.0))

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.sweep()
                except Exception:  # keep sweeping; a failed unload must not end the thread
                    _LOGGER.exception("idle unload failed")

        self._sweeper = threading.Thread(target=run, name="voxhost-idle-unload", daemon=True)
        self._sweeper.start()

    def stop_sweeper(self) -> None:
        """Stop the idle sweeper thread."""
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=5)
            self._sweeper = None

    def clear(self) -> None:
        """Unload everything and stop the sweeper."""
        self.stop_sweeper()
        with self._lock:
            for name in list(self._slots):
                self._drop(name)
