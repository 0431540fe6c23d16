"""A server-sent events reader for the tests: ``/v1/events`` read on a thread, as a dashboard would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2 as httpx


class EventStream:
    """Collects the JSON events of one ``/v1/events`` connection."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.status: int | None = None
        self._lock = threading.Lock()
        self._opened = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._run, args=(url, headers or {}), daemon=True)
        self._thread.start()
        if not self._opened.wait(10):
            raise AssertionError("the event stream did not open")

    def _run(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                if response.status_code != 200:
                    self.body = response.read()
                    return
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        with self._lock:
                            self.events.append(json.loads(line[6:]))
                        self._opened.set()  # the first event (hello) means we are subscribed
        except Exception:  # closed by the test
            pass
        finally:
            self._opened.set()

    def close(self) -> None:
        """Disconnect."""
        self._client.close()

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> dict[str, Any]:
        """The first event that matches, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for event in self.events:
                    if match(event):
                        return event
            time.sleep(0.02)
        with self._lock:
            seen = [e.get("event") for e in self.events]
        raise AssertionError(f"no matching event within {timeout} s; saw {seen}")

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every event of one kind so far."""
        with self._lock:
            return [e for e in self.events if e.get("event") == kind]
