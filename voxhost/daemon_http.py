"""JSON from a running daemon's HTTP door, for the command line and ``voxhost doctor`` (which cannot import it)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from .errors import VoxhostError


def get_json(url: str, api_key: str | None = None, timeout: float = 10) -> Any:
    """GET a JSON answer from the daemon; its errors, an unreachable daemon and a port that answers in another
    protocol each as one readable sentence (``VoxhostError``)."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        try:
            message = json.loads(err.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = err.reason
        raise VoxhostError(f"the daemon answered {err.code}: {message}") from None
    except OSError as err:
        raise VoxhostError(
            f"cannot reach the daemon at {url.split('/v1/')[0]} ({getattr(err, 'reason', err)}); "
            "is `voxhost serve` running with the HTTP door? (--url names another address)"
        ) from None
    except (http.client.HTTPException, ValueError):
        # Something else listens there: the Wyoming door (10200) answers in its own protocol, a web server in HTML.
        raise VoxhostError(
            f"what answers at {url.split('/v1/')[0]} is not voxhost's HTTP door; --url names that door "
            "(http://127.0.0.1:8000 by default; not the Wyoming port)"
        ) from None
