"""A working plugin beside the broken ones: it observes events."""

import voxhost

SEEN: list[str] = []


@voxhost.hookimpl
def observe_event(event):
    """Remember event kinds."""
    SEEN.append(event.kind)
