"""Settings: TOML file, environment overrides, and one readable error naming the key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from voxhost.components import collect_door_classes, door_configs
from voxhost.errors import ConfigError
from voxhost.plugin_manager import build_plugins
from voxhost.settings import load_settings

from .conftest import REPO, namespaces_work, run_cli_on_tmpfs


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
        # a key no client can send in a header, or one of white space alone, which no client could match
        ('[doors.http]\napi_key = "schlüssel"', "doors.http.api_key"),
        ('[doors.http]\napi_key = " \\n"', "doors.http.api_key"),
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
    assert "schlüssel" not in result.stderr  # a secret is never shown back, even a bad one


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


@pytest.mark.parametrize(
    "text, env, line",
    [
        ("[engine.piper]\nenabled = true", {}, "there is no [engine] table; did you mean [engines.piper]?"),
        ("[output]\nmax_mb = 100", {}, "there is no [output] table; did you mean [outputs]?"),
        ("shutdown_timout = 5", {}, "shutdown_timout: unknown setting; did you mean shutdown_timeout? (got 5)"),
        ("[outputs]\nmax_m = 5", {}, "outputs.max_m: unknown setting; did you mean max_mb? (got 5)"),
        ("[doors.http]\nprot = 10200", {}, "doors.http.prot: unknown setting; did you mean port? (got 10200)"),
        ("[engines.piper]\nenabeld = true", {}, "engines.piper.enabeld: unknown setting; did you mean enabled?"),
        ("", {"VOXHOST_DOORS__HTTP__PROT": "1"}, "doors.http.prot: unknown setting; did you mean port? (got '1')"),
        ("[doors.wyoming]\nbogus = 1", {}, "doors.wyoming.bogus: unknown setting; `voxhost default-config` prints"),
    ],
)
def test_a_misspelled_key_or_table_is_named_with_the_one_meant(tmp_path, text, env, line):
    # [engine.piper] was "a door's table is [doors.engine]", and a misspelled key "Extra inputs are not permitted".
    config = tmp_path / "typo.toml"
    config.write_text(text + "\n")
    result = _voxhost("check-config", "-c", str(config), "--state-dir", str(tmp_path), env=env)
    assert result.returncode == 2 and result.stderr.startswith(f"voxhost: invalid configuration: {line}"), result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("where", ["-c", "VOXHOST_CONFIG"])
def test_a_toml_syntax_error_names_the_file(tmp_path, where):
    config = tmp_path / "broken.toml"
    config.write_text('[doors.http]\nhost = "127.0.0.1\n')
    given = {"env": {"VOXHOST_CONFIG": str(config)}} if where == "VOXHOST_CONFIG" else {}
    result = _voxhost("check-config", *(["-c", str(config)] if where == "-c" else []), **given)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"voxhost: cannot read config {config}: Illegal character '\\n' (at line 2, column 18)\n"


@pytest.mark.parametrize("name, value", [("VOXHOST_ALIASES", "kitchen=x"), ("VOXHOST_PLUGINS_DIRS", "/srv/plugins")])
def test_an_environment_list_or_table_that_is_not_json_is_named(tmp_path, name, value):
    # It was 'cannot read config: error parsing value for field "aliases" from source "EnvSettingsSource"'.
    result = _voxhost("check-config", "--state-dir", str(tmp_path), env={name: value})
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"voxhost: environment variable {name} is not valid JSON (Expecting value: ")
    assert "lists and tables are written as JSON (VOXHOST_PLUGINS_DIRS='[" in result.stderr


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


def _voxhost(*args, env=None, timeout=60):
    """Run ``python -m voxhost`` as a user does (``env``: variables added to this process's environment)."""
    return subprocess.run(
        [sys.executable, "-m", "voxhost", *args],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **(env or {})},
        timeout=timeout,
    )


@pytest.mark.parametrize(
    "text, env, key",
    [
        ("[jobs]\nresult_minutes = inf", {}, "jobs.result_minutes"),
        ("[outputs]\nmax_mb = inf", {}, "outputs.max_mb"),
        ("[library]\nmax_megabytes = inf", {}, "library.max_megabytes"),
        ("[text]\nmax_sentence_seconds = nan", {}, "text.max_sentence_seconds"),
        ("[doors.http]\nidle_timeout = inf", {}, "doors.http.idle_timeout"),
        ("[engines.piper]\nidle_unload = inf", {}, "engines.piper.idle_unload"),
        ("", {"VOXHOST_SHUTDOWN_TIMEOUT": "inf"}, "shutdown_timeout"),
        ("", {"VOXHOST_OUTPUTS__MAX_MB": "nan"}, "outputs.max_mb"),
    ],
)
def test_infinite_or_nan_number_exits_2_naming_the_key(tmp_path, text, env, key):
    # inf passes every lower bound, then broke the daemon: Infinity in JSON, OverflowError on /health.
    config = tmp_path / "inf.toml"
    config.write_text(text + "\n")
    result = _voxhost("check-config", "-c", str(config), "--state-dir", str(tmp_path), env=env)
    assert result.returncode == 2, result.stderr
    assert f"{key}: Input should be a finite number" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "command",
    [
        ["say", "Hi", "-o", "out.wav"],
        ["voices"],
        ["voices", "export", "-o", "voices.zip"],
        ["serve", "--no", "wyoming", "--no", "http"],
    ],
)
@pytest.mark.parametrize("state, reason", [("file", "exists and is not a directory"), ("file/sub", "Not a directory")])
def test_unusable_state_dir_is_one_line(tmp_path, command, state, reason):
    (tmp_path / "file").write_text("x")
    state_dir = tmp_path / state
    result = _voxhost(*command, "--state-dir", str(state_dir), env={"VOXHOST_CONFIG": ""})
    assert result.returncode == 2, result.stderr
    assert f"voxhost: state_dir {state_dir}: {reason}\n" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not namespaces_work(), reason="no user namespaces here (unshare -rm)")
@pytest.mark.parametrize(
    "command",
    [
        ["say", "Hi", "-o", "-"],
        ["voices"],
        ["voices", "remove", "voice_x_1a2b3c4d"],
        ["transcribe", "speech.wav"],
        ["serve", "--no", "wyoming", "--no", "http"],
    ],
)
def test_a_state_dir_that_cannot_be_written_and_holds_no_library_is_one_line(tmp_path, command):
    # A read-only (or another user's) state_dir with no voices folder yet: a PermissionError traceback from the
    # voice library making its folder, where the README promises one line.
    state = tmp_path / "state"
    state.mkdir()
    (tmp_path / "speech.wav").write_bytes(b"")
    args = [*command[:1], *(str(tmp_path / a) if a.endswith(".wav") else a for a in command[1:])]
    result = run_cli_on_tmpfs(state, *args, "--state-dir", str(state), read_only=True)
    assert result.returncode == 2, result.stderr
    expected = f"voxhost: state_dir {state}: Read-only file system; make it writable for this user, or set another"
    assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("voxhost: state_dir"), result.stderr


@pytest.mark.parametrize("text, env", [('state_dir = ""', {}), ('state_dir = "/tmp"', {"VOXHOST_STATE_DIR": ""})])
def test_empty_state_dir_is_refused(tmp_path, text, env):
    config = tmp_path / "empty.toml"
    config.write_text(text + "\n")
    result = _voxhost("check-config", "-c", str(config), env=env)
    assert result.returncode == 2 and "state_dir: must not be empty" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "uris, message",
    [
        ('["htp://127.0.0.1:10300"]', "'htp://127.0.0.1:10300' is not tcp://host:port, unix:///path or stdio://"),
        ('["tcp://127.0.0.1:port"]', "invalid port in 'tcp://127.0.0.1:port'"),
        ('["stdio://", "stdio://"]', "stdio:// can be given once"),
        # the door opened on nothing, and the daemon said it served Wyoming
        ("[]", "no address given; name one (tcp://0.0.0.0:10200), or set enabled = false to close the door"),
    ],
)
@pytest.mark.parametrize("command", ["check-config", "serve"])
def test_wyoming_address_serve_refuses_fails_check_config_too(tmp_path, uris, message, command):
    config = tmp_path / "wyoming.toml"
    config.write_text(f"[doors.wyoming]\nuri = {uris}\n[doors.http]\nenabled = false\n")
    result = _voxhost(command, "-c", str(config), "--state-dir", str(tmp_path))
    assert result.returncode == 2 and f"doors.wyoming.uri: {message}" in result.stderr, result.stderr


def test_one_item_of_a_door_list_needs_no_list(tmp_path):
    # Written as wyoming-piper's --uri takes it, an address was refused: "Input should be a valid list".
    config = tmp_path / "doors.toml"
    config.write_text(
        '[doors.wyoming]\nuri = "tcp://127.0.0.1:10300"\n[doors.http]\ncors_origins = "http://UI.lan:3000/"\n'
        '[doors.mqtt]\nhermes_site_ids = "kitchen"\n'
    )
    for args, env in (
        (("-c", str(config)), {}),
        (
            (),
            {
                "VOXHOST_DOORS__WYOMING__URI": "unix:///run/voxhost/wyoming.sock",
                "VOXHOST_DOORS__HTTP__CORS_ORIGINS": "*",
            },
        ),
    ):
        result = _voxhost("check-config", "--state-dir", str(tmp_path), *args, env=env)
        assert result.returncode == 0 and result.stdout.startswith("config OK"), result.stderr
    settings = load_settings(config)
    doors = door_configs(settings, collect_door_classes(build_plugins(load_entrypoints=False), settings))
    assert doors["wyoming"].uri == ["tcp://127.0.0.1:10300"]
    assert doors["http"].cors_origins == ["http://ui.lan:3000"] and doors["mqtt"].hermes_site_ids == ["kitchen"]


@pytest.mark.parametrize("where", ["missing.toml", "."])
def test_voxhost_config_naming_no_file_exits_2(tmp_path, where):
    # It used to be ignored: the daemon started on the defaults, Wyoming open on 0.0.0.0.
    path = tmp_path / where
    result = _voxhost("check-config", "--state-dir", str(tmp_path), env={"VOXHOST_CONFIG": str(path)})
    # A folder is said to be one (as `-c /etc/voxhost` is typed): "not found" alone sent one looking for a typo.
    folder = " (it is a directory: name the .toml file in it)" if where == "." else ""
    assert result.returncode == 2 and f"voxhost: config file not found: {path}{folder}\n" == result.stderr, result


@pytest.mark.parametrize(
    "name, hint",
    [
        ("VOXHOST_SHUTDWN_TIMEOUT", "did you mean VOXHOST_SHUTDOWN_TIMEOUT?"),
        ("VOXHOST_HTTP", "a door's key is VOXHOST_DOORS__<DOOR>__<KEY>"),
    ],
)
def test_misspelled_top_level_environment_variable_exits_2(tmp_path, name, hint):
    # Only __-nested names were checked: a typo at the top level was ignored and the default used.
    result = _voxhost("check-config", "--state-dir", str(tmp_path), env={name: "3", "VOXHOST_CONFIG": ""})
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"voxhost: environment variable {name} names no setting; {hint}\n"


def test_environment_variables_that_are_not_settings_pass(tmp_path):
    env = {"VOXHOST_LOAD_PLUGINS": "", "VOXHOST_TRACE_PLUGINS": "", "VOXHOST_F5_PYTHON": "python3"}
    result = _voxhost("check-config", "--state-dir", str(tmp_path), env={**env, "VOXHOST_LOG_LEVEL": "debug"})
    assert result.returncode == 0, result.stderr
