"""A test plugin slow in ``observe_event`` but not blocking for long: 0.15 s on a job's first event."""

from __future__ import annotations

import time
from typing import Any

import voxhost
from voxhost.events import JobAccepted


@voxhost.hookimpl
def observe_event(event: Any) -> None:
    """Dawdle once per job."""
    if isinstance(event, JobAccepted):
        time.sleep(0.15)
