"""Built-in plugins: engines written like any third-party plugin, and the list of every built-in plugin."""

BUILTIN_PLUGINS: tuple[str, ...] = (
    "voxhost.plugins.piper",
    "voxhost.plugins.f5",
    "voxhost.plugins.chatterbox",
    "voxhost.plugins.qwen3",
    "voxhost.plugins.whisper",
    "voxhost.protocols.http",
    "voxhost.protocols.mqtt",
    "voxhost.protocols.wyoming",
)
"""Modules registered as plugins at every start (engines, then doors), before entry points and directories."""
