"""Logging set-up: plain lines on stderr; no timestamps under systemd, where journald adds its own."""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(level: str = "info", debug: bool = False) -> None:
    """Configure the root logger once for the daemon or a CLI command."""
    under_journald = bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))
    fmt = "%(levelname)s %(name)s: %(message)s" if under_journald else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler = logging.StreamHandler(sys.stderr)  # never stdout: stdio:// and `say -o -` use it for data
    handler.setFormatter(logging.Formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else getattr(logging, level.upper(), logging.INFO))
    # Chatty libraries stay at warning unless debugging.
    for name in ("asyncio", "aiohttp.access", "urllib3", "httpx", "zeroconf"):
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)
