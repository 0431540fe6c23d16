"""The engines' libraries send nothing home: their telemetry is switched off before any of them is imported."""

from __future__ import annotations

import os

OPT_OUTS = {
    # ONNX Runtime (Piper, the recognizer's voice detector) otherwise reports to Microsoft's event collector from a
    # thread of its own (DNS lookups and a connection attempt every few seconds, with threads started for each) and
    # keeps a device id and an event database under ~/.cache/Microsoft. Only this variable stops it, and only when
    # it is set before onnxruntime is imported: ``onnxruntime.disable_telemetry_events()`` leaves it running.
    "ORT_DISABLE_TELEMETRY": "1",
    # huggingface_hub (model pulls) reads it when imported.
    "HF_HUB_DISABLE_TELEMETRY": "1",
}
"""Environment variables that switch a library's telemetry off, and their value."""


def opt_out() -> None:
    """Switch the libraries' telemetry off in this process and the workers it starts (a value already set is kept)."""
    for name, value in OPT_OUTS.items():
        os.environ.setdefault(name, value)
