#!/usr/bin/env python
"""wyoming-piper with one change: its Piper synthesis runs on a thread instead of on its event loop.

wyoming-piper makes its audio on its event loop, so while it speaks it reads nothing else (a ``describe`` under
four clients waits seconds). voxhost makes its audio on an engine thread and keeps its loop free. This runs
wyoming-piper with that one difference, to measure what keeping the loop free costs a lone client: its handler's
call of ``_synthesize_piper`` becomes ``await loop.run_in_executor(None, ...)`` as the module is loaded; nothing
else changes. Run it with wyoming-piper's interpreter and wyoming-piper's own arguments (``bench/one_sentence.py
--threaded-wyoming-piper`` does):

    /path/to/wyoming-piper-venv/bin/python bench/wyoming_piper_threaded.py --uri tcp://127.0.0.1:10200 ...
"""

from __future__ import annotations

import importlib
import importlib.util
import runpy
import sys
import types
from importlib.abc import SourceLoader

MODULE = "wyoming_piper.handler"
CALL = "self._synthesize_piper("
"""The one call moved to a thread (its arguments stay as they are: they become run_in_executor's)."""
THREADED = "await asyncio.get_running_loop().run_in_executor(None, self._synthesize_piper, "


def threaded_handler() -> types.ModuleType:
    """wyoming-piper's handler module, compiled with its Piper synthesis on the default executor."""
    spec = importlib.util.find_spec(MODULE)
    source = spec.loader.get_source(MODULE) if spec and isinstance(spec.loader, SourceLoader) else None
    if spec is None or source is None or source.count(CALL) != 1:
        sys.exit(f"{MODULE} is not the wyoming-piper 2.5 this was written for (one call of {CALL!r} expected)")
    package = importlib.import_module("wyoming_piper")
    module = importlib.util.module_from_spec(spec)
    # ``asyncio`` appended, not prepended: the lines of tracebacks stay those of the installed file.
    code = compile(source.replace(CALL, THREADED) + "\nimport asyncio\n", str(spec.origin), "exec")
    sys.modules[MODULE] = module
    exec(code, module.__dict__)  # the installed module's own source, with that one call changed
    package.handler = module  # type: ignore[attr-defined]
    return module


def main() -> None:
    threaded_handler()
    sys.argv = ["wyoming_piper", *sys.argv[1:]]
    runpy.run_module("wyoming_piper", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
