"""JSON from a running daemon's HTTP door, for the command line and ``voxhost doctor`` (which cannot import it)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from .errors import VoxhostError


class UnreachableError(VoxhostError):
    """Nothing answers at the daemon's address (refused, timed out, no such host)."""


class NotTheDoorError(VoxhostError):
    """Something answers at the address, but not voxhost's HTTP door (another protocol, a web page)."""


def get_json(base: str, path: str, api_key: str | None = None, timeout: float = 10) -> Any:
    """GET ``base + path`` as JSON; an error answer (its message), an unreachable daemon and an address that answers
    in another protocol each as one sentence (``VoxhostError``, the last two as their own kinds)."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=timeout) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as err:
        try:
            message = json.loads(err.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = err.reason
        raise VoxhostError(f"the daemon answered {err.code}: {message}") from None
    except OSError as err:
        raise UnreachableError(f"cannot reach the daemon at {base} ({getattr(err, 'reason', err)})") from None
    except (http.client.HTTPException, ValueError):  # no HTTP spoken there (BadStatusLine), or no JSON
        raise NotTheDoorError(f"what answers at {base} is not voxhost's HTTP door") from None
