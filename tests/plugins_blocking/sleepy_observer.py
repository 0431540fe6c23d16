"""A test plugin that blocks the event loop in ``observe_event`` (a synchronous web request, say): 1.5 s a call."""

from __future__ import annotations

import time
from typing import Any

import voxhost


@voxhost.hookimpl
def observe_event(event: Any) -> None:
    """Sleep where every door waits."""
    time.sleep(1.5)
