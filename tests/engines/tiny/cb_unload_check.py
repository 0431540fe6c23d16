"""Chatterbox unload frees its models in the same process (thread mode): run with the Chatterbox worker python and
``PYTHONPATH`` holding voxhost and ``tests/engines/tiny/site`` (which shrinks the architecture).

``cb_unload_check.py MODELS_DIR`` loads the tiny English model through ``ChatterboxRuntime``, speaks once,
unloads, and prints JSON: whether the model is still alive afterwards (it must not be).
"""

from __future__ import annotations

import gc
import json
import sys
import weakref
from pathlib import Path

from voxhost.plugins.chatterbox.runtime import ChatterboxRuntime


def main(models: str) -> dict:
    gc.disable()  # only what unload frees counts, not a collection that happens to run
    runtime = ChatterboxRuntime(
        {"en": Path(models) / "ResembleAI--chatterbox"}, device="cpu", watermark=False, max_new_tokens=20
    )
    runtime.load()
    wav = runtime.synthesize(
        "en", "Hello.", language="en", reference=None, exaggeration=0.5, cfg_weight=0.5, temperature=0.8, seed=1
    )
    model = weakref.ref(runtime.variants["en"].model)
    t3 = weakref.ref(runtime.variants["en"].model.t3)
    runtime.unload()
    return {"samples": int(wav.size), "model_alive": model() is not None, "t3_alive": t3() is not None}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
