"""Settings: TOML file, environment overrides, and one readable error naming the key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from voxhost.components import collect_door_classes, door_configs
from voxhost.errors import ConfigError
from voxhost.plugin_manager import build_plugins
from voxhost.settings import load_settings

from .conftest import REPO


def test_toml_and_environment(tmp_path, monkeypatch):
    config = tmp_path / "voxhost.toml"
    config.write_text(
        'log_level = "debug"\n[doors.http]\nport = 8123\nhost = "0.0.0.0"\n[engines.piper]\nsentence_silence = 0.2\n'
    )
    monkeypatch.setenv("VOXHOST_DOORS__HTTP__PORT", "9000")
    monkeypatch.setenv("VOXHOST_DOORS__WYOMING__URI", '["tcp://127.0.0.1:10300"]')
    settings = load_settings(config)
    assert settings.log_level == "debug"
    doors = door_configs(settings, collect_door_classes(build_plugins(load_entrypoints=False), settings))
    assert doors["http"].port == 9000  # the environment wins over the file
    assert doors["http"].host == "0.0.0.0"  # and keeps what it does not set
    assert doors["wyoming"].uri == ["tcp://127.0.0.1:10300"]
    assert settings.engines["piper"]["sentence_silence"] == 0.2


@pytest.mark.parametrize(
    "text, key",
    [
        ('log_level = "loud"', "log_level"),
        ("[http\nport = 1", "cannot read config"),
        ("[http]\nport = 8001", r"there is no \[http\] table; a door's table is \[doors.http\]"),
    ],
)
def test_invalid_config_names_the_key(tmp_path, text, key):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=key):
        load_settings(config)


def test_moved_environment_variable_names_the_new_one(monkeypatch):
    monkeypatch.setenv("VOXHOST_MQTT__HOST", "broker")
    with pytest.raises(
        ConfigError, match="VOXHOST_MQTT__HOST names no setting; a door's setting is VOXHOST_DOORS__MQTT__HOST"
    ):
        load_settings(None)


@pytest.mark.parametrize(
    "text, key",
    [
        ("[doors.http]\nport = 99999", "doors.http.port"),
        ("[doors.wyoming]\nbogus = 1", "doors.wyoming.bogus"),
        ("[doors.mqtt]\nqos = 3", "doors.mqtt.qos"),
    ],
)
def test_invalid_door_table_exits_2_naming_the_key(tmp_path, text, key):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "check-config", "-c", str(config), "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and key in result.stderr, result.stderr


def test_invalid_engine_table_exits_2_naming_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[engines.piper]\nsentence_silence = -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "check-config", "-c", str(config), "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "engines.piper.sentence_silence" in result.stderr
    assert result.stderr.count("\n") == 1  # one readable line, no traceback


def test_serve_with_invalid_config_exits_2(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[doors.mqtt]\nport = 0\n")
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "serve", "-c", str(config), "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "doors.mqtt.port" in result.stderr


def test_example_configs_are_valid(tmp_path):
    for config in sorted((REPO / "configs").glob("*.toml")):
        result = subprocess.run(
            [sys.executable, "-m", "voxhost", "check-config", "-c", str(config), "--state-dir", str(tmp_path)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"{config.name}: {result.stderr}"


def test_example_config_is_every_setting_with_its_default(tmp_path):
    generated = subprocess.run(
        [sys.executable, "-m", "voxhost", "default-config", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "VOXHOST_LOAD_PLUGINS": ""},
    ).stdout
    assert (REPO / "configs" / "voxhost.toml").read_text() == generated, (
        "configs/voxhost.toml is stale: regenerate it with VOXHOST_LOAD_PLUGINS= voxhost default-config"
    )
