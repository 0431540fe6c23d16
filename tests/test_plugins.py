"""Plugins from all three sources, broken plugins beside working ones, the rescue variable, and each hook."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

import voxhost
from voxhost.components import (
    collect_door_classes,
    collect_engine_classes,
    door_configs,
)
from voxhost.core import Core
from voxhost.door import Door, DoorSettings
from voxhost.errors import ConfigError, StartupError
from voxhost.events import VoiceAdded
from voxhost.operations import SpeechRequest
from voxhost.plugin_manager import build_plugins

from .conftest import REPO, make_settings, running_daemon

PLUGINS = REPO / "tests" / "plugins"
BROKEN = REPO / "tests" / "plugins_broken"


def test_three_sources(state_dir):
    plugins = build_plugins([PLUGINS])
    sources = {row["name"]: row["source"] for row in plugins.describe()}
    assert sources["voxhost.plugins.piper"] == "builtin"
    assert sources["morse"] == "entrypoint"  # plugins/voxhost-morse, installed by the test command
    assert sources["tone_engine"] == "directory"
    classes = collect_engine_classes(plugins, make_settings(state_dir))
    assert {"piper", "morse", "tone"} <= set(classes)


def test_broken_plugins_are_reported_and_others_work(state_dir):
    plugins = build_plugins([BROKEN, PLUGINS])
    failed = {f.name: f.error for f in plugins.failures}
    assert "ImportError" in failed["a_broken_import"]
    assert "unknown hook 'register_engine'" in failed["b_misspelled_hook"]
    core = Core(make_settings(state_dir), plugins)
    failed = {f.name: f.error for f in plugins.failures}
    assert "cannot register today" in failed["c_raising_hook"]
    assert {"piper", "morse", "tone"} <= set(core.registry.ids())


def test_misspelled_hook_is_caught_by_check_pending():
    plugins = build_plugins([BROKEN], load_entrypoints=False)
    names = [row["name"] for row in plugins.describe()]
    assert "b_misspelled_hook" not in names  # unregistered, so check_pending passes for the rest
    plugins.pm.check_pending()


def test_rescue_variable_restricts_external_plugins(monkeypatch):
    def external():
        return {row["name"] for row in build_plugins([PLUGINS]).describe() if row["source"] != "builtin"}

    monkeypatch.setenv("VOXHOST_LOAD_PLUGINS", "")
    assert external() == set()
    monkeypatch.setenv("VOXHOST_LOAD_PLUGINS", "tone_engine")
    assert external() == {"tone_engine"}
    monkeypatch.delenv("VOXHOST_LOAD_PLUGINS")
    assert external() == {"tone_engine", "morse", "linesay"}


def test_plugins_command_lists_versions_and_hooks(state_dir):
    out = subprocess.run(
        [sys.executable, "-m", "voxhost", "plugins", "--plugins-dir", str(PLUGINS), "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    morse = next(line for line in out.splitlines() if line.startswith("morse"))
    assert "entrypoint" in morse and "0.1.0" in morse and "observe_event, register_engines" in morse
    assert any(line.startswith("voxhost.plugins.piper") and voxhost.__version__ in line for line in out.splitlines())


def test_duplicate_engine_id_is_a_startup_error(state_dir):
    class Twin:
        __name__ = "twin"

        @voxhost.hookimpl
        def register_engines(self, register):
            from voxhost.plugins.piper import PiperEngine

            clone = type("OtherPiper", (PiperEngine,), {})
            register(clone)

    plugins = build_plugins([], load_entrypoints=False, extra=[("twin", Twin())])
    with pytest.raises(StartupError, match="two plugins register engine 'piper'"):
        collect_engine_classes(plugins, make_settings(state_dir))


# -- one test per hook (the meta-test in test_docs.py checks the names) -----------------------------------


def test_hook_register_engines(state_dir):
    plugins = build_plugins([PLUGINS], load_entrypoints=False)
    classes = collect_engine_classes(plugins, make_settings(state_dir))
    assert classes["tone"].__name__ == "ToneEngine"
    assert classes["piper"].__name__ == "PiperEngine"


class _EchoSettings(DoorSettings):
    greeting: str = "hi"
    """What the door says when it opens."""


class _EchoDoor(Door):
    name = "echo-door"
    Settings = _EchoSettings
    opened: list[str] = []

    async def start(self):
        self.opened.append(f"start: {self.settings.greeting}")

    async def stop(self):
        self.opened.append("stop")


class _DoorPlugin:
    __name__ = "door-plugin"

    @voxhost.hookimpl
    def register_doors(self, register):
        register(_EchoDoor)


def test_hook_register_doors(state_dir):
    plugins = build_plugins([], load_entrypoints=False, extra=[("door-plugin", _DoorPlugin())])
    assert collect_door_classes(plugins, make_settings(state_dir))["echo-door"] is _EchoDoor
    _EchoDoor.opened.clear()
    with running_daemon(make_settings(state_dir), plugins_extra=(("door-plugin", _DoorPlugin()),)) as d:
        assert d.core.doors == []  # a door opens only when its table enables it
    doors = {"echo-door": {"enabled": True, "greeting": "hello"}}
    with running_daemon(make_settings(state_dir, doors=doors), plugins_extra=(("door-plugin", _DoorPlugin()),)) as d:
        assert [door.name for door in d.core.doors] == ["echo-door"]
        assert "echo-door" in d.core.door_status()
    assert _EchoDoor.opened == ["start: hello", "stop"]


def test_third_party_door_table_is_validated_by_the_door(state_dir):
    settings = make_settings(state_dir, doors={"echo-door": {"enabled": True, "greting": "typo"}})
    plugins = build_plugins([], load_entrypoints=False, extra=[("door-plugin", _DoorPlugin())])
    with pytest.raises(ConfigError, match=r"doors\.echo-door\.greting"):
        door_configs(settings, collect_door_classes(plugins, settings))


class _Lifecycle:
    __name__ = "lifecycle"

    def __init__(self):
        self.calls = []

    @voxhost.hookimpl
    def startup(self, core):
        self.calls.append(("startup", sorted(engine.id for engine in core.engines())))

    @voxhost.hookimpl
    async def shutdown(self, core):
        await asyncio.sleep(0)
        self.calls.append(("shutdown", core.jobs() == []))


def test_hook_startup(state_dir):
    plugin = _Lifecycle()
    with running_daemon(make_settings(state_dir), plugins_extra=(("lifecycle", plugin),)):
        assert len(plugin.calls) == 1  # once, before the doors open
    name, engines = plugin.calls[0]
    assert name == "startup" and "piper" in engines


def test_hook_shutdown(state_dir):
    plugin = _Lifecycle()
    with running_daemon(make_settings(state_dir), plugins_extra=(("lifecycle", plugin),)):
        pass
    assert plugin.calls[-1] == ("shutdown", True)  # awaited, after jobs drained


def test_hook_observe_event(state_dir):
    with running_daemon(make_settings(state_dir, plugins_dirs=[str(BROKEN)])) as d:
        d.call(d.core.speak(SpeechRequest(text="Hello there.")))
        seen = list(sys.modules["voxhost_plugins_dir.d_working"].SEEN)
    assert "engine_loaded" in seen
    kinds = [k for k in seen if k.startswith("job_")]
    assert kinds[0] == "job_accepted" and kinds[-1] == "job_finished"
    assert "job_audio" in kinds and "job_started" in kinds


# -- pluggy semantics: order, wrappers, isolation ------------------------------------------------------


def _recorder(name: str, calls: list[str], **marks: bool) -> object:
    class Recorder:
        __name__ = name

        @voxhost.hookimpl(**marks)
        def observe_event(self, event):
            calls.append(name)

    return Recorder()


def test_hooks_run_in_pluggy_order_tryfirst_first_trylast_last():
    calls: list[str] = []
    extra = [
        ("last", _recorder("last", calls, trylast=True)),
        ("plain-1", _recorder("plain-1", calls)),
        ("first", _recorder("first", calls, tryfirst=True)),
        ("plain-2", _recorder("plain-2", calls)),
    ]
    plugins = build_plugins([], load_entrypoints=False, builtins=(), extra=extra)
    plugins.call("observe_event", event=VoiceAdded(voice="x"))
    assert calls == ["first", "plain-2", "plain-1", "last"]  # registered later runs earlier (LIFO)


def test_wrapper_implementations_run_around_the_others():
    calls: list[str] = []

    class Wrappers:
        __name__ = "wrappers"

        @voxhost.hookimpl(wrapper=True)
        def register_engines(self, register):
            calls.append("new-style before")
            result = yield
            calls.append(f"new-style after {len(result)}")
            return result

    class OldWrapper:
        __name__ = "old-wrapper"

        @voxhost.hookimpl(hookwrapper=True)
        def register_engines(self):
            calls.append("old-style before")
            yield
            calls.append("old-style after")

    class Plain:
        __name__ = "plain"

        @voxhost.hookimpl
        def register_engines(self, register):
            calls.append("plain")

    extra = [("plain", Plain()), ("old-wrapper", OldWrapper()), ("wrappers", Wrappers())]
    plugins = build_plugins([], load_entrypoints=False, builtins=(), extra=extra)
    plugins.call("register_engines", register=lambda cls: None, settings=None)
    assert calls == ["new-style before", "old-style before", "plain", "old-style after", "new-style after 0"]


def test_a_plugin_that_raises_is_unregistered_reported_once_and_the_others_still_run(state_dir):
    seen: list[str] = []

    class Watcher:
        __name__ = "watcher"

        @voxhost.hookimpl
        def observe_event(self, event):
            seen.append(event.kind)

    class Faulty:
        __name__ = "faulty"

        @voxhost.hookimpl
        def observe_event(self, event):
            raise RuntimeError("cannot observe")

    extra = (("watcher", Watcher()), ("faulty", Faulty()))  # faulty registered last: called first
    with running_daemon(make_settings(state_dir), plugins_extra=extra) as d:
        d.call(d.core.speak(SpeechRequest(text="Hello there. How are you today?")))
        plugins = d.plugins
        assert plugins.pm.get_plugin("faulty") is None  # unregistered for real
        assert [(f.name, f.source) for f in plugins.failures] == [("faulty", "extra")]  # once, not per chunk
        assert "cannot observe" in plugins.failures[0].error
    assert seen.count("job_audio") >= 2 and "job_finished" in seen
    assert seen[0] == "engine_loaded"  # the watcher saw even the event that the faulty plugin failed on
