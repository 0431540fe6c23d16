"""A tiny-model build made once per test run and copied thereafter, shared by the builders run as scripts.

With ``$VOXHOST_TINY_CACHE`` set (tests/conftest.py sets it for a test run), a builder run again with the same
arguments, the same interpreter and the same builder sources copies the files of the first build (and returns
its result) instead of importing torch and building them again: the engine tests and the benches that start the
same builder share one build. Without it every run builds, as from a shell.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

CACHE = "VOXHOST_TINY_CACHE"
HERE = Path(__file__).resolve().parent


def _key(args: list[str]) -> str:
    """The builders' sources (each may import the others and site/), the interpreter and the arguments."""
    digest = hashlib.sha256(json.dumps([sys.executable, *args]).encode())
    for source in sorted(HERE.rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:20]


def built_once(dest: Path, args: list[str], build: Callable[[], Any]) -> Any:
    """``build()``'s files in ``dest`` and its (JSON) result: built here, or copied from the run's first build."""
    root = os.environ.get(CACHE)
    if not root:
        return build()
    entry = Path(root) / _key(args)
    if (entry / "result.json").is_file():
        shutil.copytree(entry / "files", dest, dirs_exist_ok=True)
        return json.loads((entry / "result.json").read_text())
    result = build()
    Path(root).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root))
    shutil.copytree(dest, staging / "files")
    (staging / "result.json").write_text(json.dumps(result))
    try:
        staging.rename(entry)  # whole or not at all: a build stopped halfway is never reused
    except OSError:  # another run of the same build got there first
        shutil.rmtree(staging, ignore_errors=True)
    return result
