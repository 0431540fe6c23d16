"""``voxhost service``: a systemd unit that ``systemd-analyze verify`` accepts, a launchd plist with the keys launchd
needs, and install/uninstall writing, enabling and removing them (with stand-ins for systemctl and launchctl)."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from voxhost import service
from voxhost.cli import main
from voxhost.daemon import CLOSE_MARGIN

from .conftest import REPO, namespaces_work, run_cli_on_tmpfs


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """systemctl and launchctl stand-ins that log their arguments; HOME in the test's folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    for tool in ("systemctl", "launchctl"):
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\n')
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    return log


@pytest.mark.parametrize("user_mode", [False, True], ids=["system", "user"])
def test_systemd_unit_verifies(tmp_path, user_mode):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    config = REPO / "configs" / "voxhost.toml"
    plan = service.install_plan("systemd", user_mode=user_mode, config=config, run_as="root", home=tmp_path)
    unit = tmp_path / "voxhost.service"
    unit.write_text(plan.content)
    args = ["systemd-analyze", *(["--user"] if user_mode else []), "verify", str(unit)]
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}  # a user manager needs one, even to verify
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    problems = [line for line in done.stderr.splitlines() if "voxhost.service" in line]
    assert done.returncode == 0 and not problems, done.stderr
    assert f"ExecStart={service.voxhost_command()[0]} serve --config {config}" in plan.content
    assert "Type=notify" in plan.content
    assert ("User=" in plan.content) is not user_mode
    assert plan.content.rstrip().endswith("default.target" if user_mode else "multi-user.target")


@pytest.mark.parametrize("user_mode", [False, True], ids=["daemon", "agent"])
def test_launchd_plist_has_what_launchd_needs(tmp_path, user_mode):
    plan = service.install_plan("launchd", user_mode=user_mode, config=Path("/etc/voxhost.toml"), run_as="voxhost")
    job = plistlib.loads(plan.content.encode())
    assert job["Label"] == service.LABEL
    program = job["ProgramArguments"]
    assert Path(program[0]).is_absolute() and Path(program[0]).exists()
    assert program[-3:] == ["serve", "--config", "/etc/voxhost.toml"]
    assert job["RunAtLoad"] is True and job["KeepAlive"] == {"SuccessfulExit": False}
    assert job["ProcessType"] == "Interactive"  # no background throttling of inference
    assert job["StandardOutPath"] == job["StandardErrorPath"] and job["StandardOutPath"].endswith("voxhost.log")
    assert job["EnvironmentVariables"]["HOME"]  # a daemon gets no HOME of its own
    if user_mode:
        assert "UserName" not in job and "/Library/LaunchAgents/" in str(plan.path)
        assert plan.commands[0][:2] == ["launchctl", "bootstrap"] and plan.commands[0][2].startswith("gui/")
    else:
        assert job["UserName"] == "voxhost" and str(plan.path).startswith("/Library/LaunchDaemons/")
        assert plan.commands[0][:3] == ["launchctl", "bootstrap", "system"]
        assert job["StandardOutPath"].startswith("/Library/Logs/voxhost/")


def test_user_systemd_install_and_uninstall(tmp_path, fake_tools, capsys):
    config = tmp_path / "voxhost.toml"
    config.write_text("")
    assert main(["service", "install", "--user", "--manager", "systemd", "-c", str(config)]) == 0
    unit = tmp_path / "home" / ".config" / "systemd" / "user" / "voxhost.service"
    assert f"--config {config}" in unit.read_text()
    assert fake_tools.read_text().splitlines() == [
        "systemctl --user daemon-reload",
        "systemctl --user enable --now voxhost.service",
    ]
    assert "journalctl --user -u voxhost" in capsys.readouterr().out
    assert main(["service", "uninstall", "--user", "--manager", "systemd"]) == 0
    assert not unit.exists()
    assert fake_tools.read_text().splitlines()[2:] == [
        "systemctl --user disable --now voxhost.service",
        "systemctl --user daemon-reload",
    ]


def test_launch_agent_install_and_uninstall(tmp_path, fake_tools):
    assert main(["service", "install", "--user", "--manager", "launchd"]) == 0
    plist = tmp_path / "home" / "Library" / "LaunchAgents" / f"{service.LABEL}.plist"
    job = plistlib.loads(plist.read_bytes())
    assert Path(job["StandardOutPath"]).parent.is_dir()  # launchd opens the log, it does not make its folder
    uid = os.getuid()
    assert fake_tools.read_text().splitlines() == [
        f"launchctl bootstrap gui/{uid} {plist}",
        f"launchctl enable gui/{uid}/{service.LABEL}",
    ]
    assert main(["service", "uninstall", "--user", "--manager", "launchd"]) == 0
    assert not plist.exists()
    assert fake_tools.read_text().splitlines()[-1] == f"launchctl bootout gui/{uid}/{service.LABEL}"


def test_dry_run_changes_nothing(tmp_path, fake_tools, capsys):
    assert main(["service", "install", "--user", "--dry-run", "--manager", "systemd"]) == 0
    out = capsys.readouterr().out
    assert "[Service]" in out and "$ systemctl --user enable --now voxhost.service" in out
    assert not (tmp_path / "home" / ".config").exists() and not fake_tools.exists()


def test_failing_command_is_reported(tmp_path, fake_tools, capsys):
    (fake_tools.parent / "bin" / "systemctl").write_text("#!/bin/sh\necho 'Failed to connect to bus' >&2\nexit 1\n")
    assert main(["service", "install", "--user", "--manager", "systemd"]) == 1
    unit = tmp_path / "home" / ".config" / "systemd" / "user" / "voxhost.service"
    assert capsys.readouterr().err == (
        "voxhost: `systemctl --user daemon-reload` failed (1): Failed to connect to bus; "
        f"{unit} is written: once that works, run "
        "systemctl --user daemon-reload && systemctl --user enable --now voxhost.service\n"
    )
    assert unit.is_file()


def _stop_timeout(unit: str) -> float:
    return float(next(line for line in unit.splitlines() if line.startswith("TimeoutStopSec=")).partition("=")[2])


def test_stop_timeout_covers_the_configured_drain(tmp_path, fake_tools):
    config = tmp_path / "voxhost.toml"
    config.write_text("shutdown_timeout = 120\n")
    assert main(["service", "install", "--user", "--manager", "systemd", "-c", str(config)]) == 0
    unit = (tmp_path / "home" / ".config" / "systemd" / "user" / "voxhost.service").read_text()
    # systemd must never SIGKILL a drain: shutdown_timeout, then the close margin, then slack
    assert _stop_timeout(unit) > 120 + CLOSE_MARGIN
    plan = service.install_plan("launchd", user_mode=True, config=config, home=tmp_path)
    assert plistlib.loads(plan.content.encode())["ExitTimeOut"] > 120 + CLOSE_MARGIN


def test_shipped_unit_matches_the_default_stop_timeout(tmp_path):
    config = tmp_path / "voxhost.toml"
    config.write_text("")
    plan = service.install_plan("systemd", user_mode=False, config=config, run_as="root", home=tmp_path)
    shipped = (REPO / "systemd" / "voxhost.service").read_text()
    assert _stop_timeout(shipped) == _stop_timeout(plan.content) > 10 + CLOSE_MARGIN
    # SIGTERM to the whole control group (systemd's default) killed the engines' worker processes mid-job
    assert "\nKillMode=mixed\n" in shipped and "\nKillMode=mixed\n" in plan.content


def _directives(unit: str) -> dict[str, str]:
    """A unit's ``Key=value`` lines (comments and section headers left out)."""
    pairs = (line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    return dict(pairs)


def test_shipped_unit_is_the_installed_one_for_the_default_paths(tmp_path):
    # The README calls systemd/voxhost.service "the same unit for hand-installs"; it had ProtectSystem=strict and
    # ProtectHome=read-only, so a models_dir or state_dir outside /var/lib was read-only there and not in the other.
    config = tmp_path / "voxhost.toml"
    config.write_text("")
    plan = service.install_plan("systemd", user_mode=False, config=config, run_as="voxhost", home=tmp_path)
    shipped, installed = _directives((REPO / "systemd" / "voxhost.service").read_text()), _directives(plan.content)
    local = {"Description", "Group", "SupplementaryGroups", "Environment", "ExecStart"}  # this install's own
    assert {k: v for k, v in shipped.items() if k not in local} == {
        k: v for k, v in installed.items() if k not in local
    }


def test_a_system_unit_refuses_paths_its_private_tmp_hides(tmp_path, fake_tools, monkeypatch, capsys):
    # PrivateTmp=yes gives the service a /tmp of its own: a config there was missing when it started (or another one
    # was read), a state_dir there held other voices and was lost at each restart.
    assert "PrivateTmp=yes" in service.systemd_unit(["voxhost"], None, user_mode=False, run_as="root")
    assert (Path("/tmp"), Path("/var/tmp")) == service.PRIVATE_TMP_DIRS
    private = tmp_path / "tmp"  # stands in for /tmp, whatever folder the test runs in
    monkeypatch.setattr(service, "PRIVATE_TMP_DIRS", (private,))
    monkeypatch.delenv("VOXHOST_STATE_DIR", raising=False)
    private.mkdir()
    (private / "voxhost.toml").write_text("")
    (tmp_path / "state.toml").write_text(f'state_dir = "{private / "state"}"\n')
    (tmp_path / "plugins.toml").write_text(f'plugins_dirs = ["{tmp_path / "plugins"}", "{private / "plugins"}"]\n')
    (tmp_path / "fine.toml").write_text(f'state_dir = "{tmp_path / "state"}"\n')
    system = ["service", "install", "--manager", "systemd", "--run-as", "root"]
    for config, named in (
        (private / "voxhost.toml", f"the config {private / 'voxhost.toml'}"),
        (tmp_path / "state.toml", f"state_dir {private / 'state'}"),
        (tmp_path / "plugins.toml", f"plugins_dirs {private / 'plugins'}"),
    ):
        for dry_run in ([], ["--dry-run"]):
            assert main([*system, *dry_run, "-c", str(config)]) == 1
            captured = capsys.readouterr()
            assert captured.out == "" and captured.err.count("\n") == 1, captured
            assert f"voxhost: the service would not see {named}: " in captured.err, captured.err
            assert "(PrivateTmp=yes)" in captured.err and "--user" in captured.err
    assert not fake_tools.exists()  # nothing was run
    # A user unit sees the real /tmp; a config and folders outside it are fine for a system unit.
    assert (
        main(["service", "install", "--user", "--dry-run", "--manager", "systemd", "-c", str(private / "voxhost.toml")])
        == 0
    )
    assert main([*system, "--dry-run", "-c", str(tmp_path / "fine.toml")]) == 0
    assert "PrivateTmp=yes" in capsys.readouterr().out


def _install_dry_run(home: Path, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``voxhost service install --dry-run`` as its own process, in ``cwd``, with ``home`` as HOME."""
    # No config or state folder from the test run's environment (they may lie in /tmp, refused for a system unit).
    env = {key: value for key, value in os.environ.items() if not key.startswith("VOXHOST_")} | {"HOME": str(home)}
    command = [sys.executable, "-m", "voxhost", "service", "install", "--dry-run", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd, env=env)


def test_the_service_gets_the_common_options(tmp_path):
    # Given to `service install`, --state-dir, --plugins-dir and --debug are meant for the service: each reaches its
    # serve, paths absolute (relative ones from where install ran), quoted as systemd reads them back.
    # No config file: the repository's (and any test folder) may lie in /tmp, which a system unit refuses.
    state = "/srv/vox host/100%$HOME"  # systemd reads % and $ as its own unless written %% and $$
    given = ["--state-dir", state, "--plugins-dir", "srv/plugins", "--plugins-dir", '/srv/a "b"']
    done = _install_dry_run(tmp_path, "--manager", "systemd", "--run-as", "root", *given, "--debug", cwd=Path("/"))
    assert done.returncode == 0, done.stderr
    unit = done.stdout.splitlines()
    voxhost = " ".join(service.voxhost_command())
    assert (
        f'ExecStart={voxhost} serve --state-dir "/srv/vox host/100%%$$HOME" '
        f'--plugins-dir /srv/plugins --plugins-dir "/srv/a \\"b\\"" --debug'
    ) in unit
    # the state is in the folder given, which ProtectSystem=full leaves writable wherever it is
    assert 'Environment="HF_HUB_CACHE=/srv/vox host/100%%$HOME/hf-cache"' in unit  # no $ expansion in Environment=
    assert 'ReadWritePaths="-/srv/vox host/100%%$HOME"' in unit and "ProtectSystem=full" in unit
    assert not [line for line in unit if line.startswith(("StateDirectory", "Environment=HF_HUB_CACHE=%S"))]
    done = _install_dry_run(tmp_path, "--manager", "launchd", "--user", *given, "--debug", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plist = done.stdout[done.stdout.index("<?xml") : done.stdout.index("</plist>") + len("</plist>")]
    assert plistlib.loads(plist.encode())["ProgramArguments"][-8:] == [
        *["serve", "--state-dir", state],
        *["--plugins-dir", str(tmp_path / "srv" / "plugins"), "--plugins-dir", '/srv/a "b"', "--debug"],
    ]


def test_systemd_reads_paths_with_spaces_and_percent_back(tmp_path, monkeypatch, capsys):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    # `verify` looks for the executable as systemd parsed it: shlex's '/x/bin 100%n' is "/x/bin 100voxhost.service"
    bin_dir = tmp_path / "bin 100%n $x"
    bin_dir.mkdir()
    script = bin_dir / "voxhost"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(service, "voxhost_command", lambda: [str(script)])
    monkeypatch.setattr(service, "PRIVATE_TMP_DIRS", ())  # the test's folders are in /tmp
    config = tmp_path / "voxhost.toml"
    config.write_text("")
    folder = tmp_path / "state 50%n \\ 'q'"
    given = ["-c", str(config), "--state-dir", str(folder), "--plugins-dir", str(folder / "plugins"), "--debug"]
    assert main(["service", "install", "--dry-run", "--manager", "systemd", "--run-as", "root", *given]) == 0
    out = capsys.readouterr().out
    unit = tmp_path / "voxhost.service"
    unit.write_text(out[out.index("\n") + 1 : out.index("\n$ ")])  # the unit, between the heading and the commands
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False)
    problems = [line for line in done.stderr.splitlines() if "voxhost.service" in line]
    assert done.returncode == 0 and not problems, done.stderr + out
    # the arguments as systemd reads them back: %% is %, $$ is $ (not in the executable), \\ is \ within quotes
    here = str(tmp_path)  # none of its own spaces, quotes, % or $
    state = f"{here}/state 50%%n \\\\ 'q'"
    assert (
        f'ExecStart="{here}/bin 100%%n $x/voxhost" serve --config {config} --state-dir "{state}" '
        + (f'--plugins-dir "{state}/plugins" --debug')
        in out.splitlines()
    )


def test_a_system_unit_refuses_private_tmp_folders_given_on_the_command_line(tmp_path):
    # The service's serve would use them, inside a /tmp of its own: state lost at each restart, no plugins.
    system = ["--manager", "systemd", "--run-as", "root"]
    for option, folder in (("--state-dir", "/tmp/voxhost-state"), ("--plugins-dir", "/var/tmp/voxhost-plugins")):
        done = _install_dry_run(tmp_path, *system, option, folder)
        assert done.returncode == 1 and done.stdout == "", done
        assert done.stderr.startswith(f"voxhost: the service would not see {option} {folder}: "), done.stderr
        assert "(PrivateTmp=yes)" in done.stderr
        # a user unit sees the real /tmp
        done = _install_dry_run(tmp_path, "--manager", "systemd", "--user", option, folder)
        assert done.returncode == 0, done.stderr


def _service_user() -> tuple[str, int]:
    """An account the installed service runs as: another one when the tests run as root (the folder must be given
    to it), else whoever runs them."""
    import pwd

    if os.geteuid() == 0:
        for name in ("nobody", "daemon"):
            try:
                return name, pwd.getpwnam(name).pw_uid
            except KeyError:
                pass
    return pwd.getpwuid(os.geteuid()).pw_name, os.geteuid()


def test_a_system_install_makes_the_state_folder_it_is_given(tmp_path, fake_tools, monkeypatch, capsys):
    # systemd makes a StateDirectory= only in /var/lib: a folder named with --state-dir must exist, and be the
    # service's user's, before the service starts (its serve cannot make /srv/voxhost, nor write one of root's).
    monkeypatch.setattr(service, "SYSTEM_UNITS", tmp_path / "etc" / "systemd" / "system")
    monkeypatch.setattr(service, "PRIVATE_TMP_DIRS", ())  # the test's folders are in /tmp
    user, uid = _service_user()
    state = tmp_path / "srv" / "voxhost state"
    config = tmp_path / "voxhost.toml"
    config.write_text("")
    given = ["--manager", "systemd", "--run-as", user, "-c", str(config), "--state-dir", str(state)]
    assert main(["service", "install", "--dry-run", *given]) == 0
    assert not state.exists() and f"the state folder {state} is made first" in capsys.readouterr().out
    assert main(["service", "install", *given]) == 0, capsys.readouterr().err
    assert state.is_dir() and state.stat().st_uid == uid and state.stat().st_mode & 0o777 == 0o750
    unit = (tmp_path / "etc" / "systemd" / "system" / "voxhost.service").read_text()
    assert f'--state-dir "{state}"' in unit and f"User={user}" in unit
    assert fake_tools.read_text().splitlines() == ["systemctl daemon-reload", "systemctl enable --now voxhost.service"]
    # a folder there already is left as it is
    assert main(["service", "install", *given]) == 0 and state.stat().st_uid == uid


def test_a_state_folder_that_cannot_be_made_stops_the_install(tmp_path, fake_tools, monkeypatch, capsys):
    monkeypatch.setattr(service, "SYSTEM_UNITS", tmp_path / "etc" / "systemd" / "system")
    monkeypatch.setattr(service, "PRIVATE_TMP_DIRS", ())
    user, _ = _service_user()
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    state = blocked / "state"
    assert main(["service", "install", "--manager", "systemd", "--run-as", user, "--state-dir", str(state)]) == 1
    err = capsys.readouterr().err
    assert f"cannot make the state folder {state} (Not a directory)" in err, err
    assert not (tmp_path / "etc").exists() and not fake_tools.exists()  # nothing installed, nothing started


@pytest.mark.parametrize(
    "config, message",
    [
        ("missing.toml", "config file not found: {folder}/missing.toml"),
        ("typo.toml", "invalid configuration: doors.http.prot: unknown setting; did you mean port? (got 8001)"),
    ],
)
def test_a_config_serve_would_refuse_stops_the_install(tmp_path, fake_tools, config, message):
    # The unit was written, enabled and started with it: a service failing at every start, restarted for ever.
    (tmp_path / "typo.toml").write_text("[doors.http]\nprot = 8001\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("VOXHOST_")}
    command = [sys.executable, "-m", "voxhost", "service", "install", "--user", "--manager", "systemd"]
    done = subprocess.run([*command, "-c", str(tmp_path / config)], capture_output=True, text=True, env=env)
    assert done.returncode == 2 and done.stderr == f"voxhost: {message.format(folder=tmp_path)}\n", done.stderr
    assert not (tmp_path / "home" / ".config").exists() and not fake_tools.exists()  # nothing written or started


def test_uninstall_of_a_service_never_installed_says_so(tmp_path, fake_tools):
    # It said "stopped and removed: <the unit>" of a unit that was never there.
    env = {key: value for key, value in os.environ.items() if not key.startswith("VOXHOST_")}
    command = [sys.executable, "-m", "voxhost", "service", "uninstall", "--user", "--manager", "systemd"]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    unit = tmp_path / "home" / ".config" / "systemd" / "user" / "voxhost.service"
    assert done.returncode == 0 and done.stdout == f"not installed (no {unit}); nothing removed\n", done


@pytest.mark.skipif(not namespaces_work(), reason="no user namespaces here (unshare -rm)")
def test_an_install_on_a_full_disk_leaves_no_half_unit(tmp_path, fake_tools):
    # The unit was written in place: a full disk left it empty, with a traceback (only PermissionError was caught).
    home = tmp_path / "home"  # HOME, as fake_tools set it
    home.mkdir()
    units = home / ".config" / "systemd" / "user"
    fill = f"mkdir -p {units} && (head -c 1M /dev/zero > {home}/filler 2>/dev/null || true)"
    done = run_cli_on_tmpfs(
        home, "service", "install", "--user", "--manager", "systemd", size="40k", prepare=fill, after=f"ls -A {units}"
    )
    assert done.returncode == 1 and done.stdout == "", done
    unit = units / "voxhost.service"
    assert done.stderr == f"voxhost: cannot write {unit} (No space left on device); nothing was installed\n"
    assert not fake_tools.exists()  # nothing enabled or started


def test_a_system_service_for_a_user_not_there_is_refused(tmp_path):
    # User=<a typo> was written and enabled: systemd cannot start it ("Failed to determine user credentials").
    done = _install_dry_run(tmp_path, "--manager", "systemd", "--run-as", "voxhots-no-such-user", cwd=Path("/"))
    assert done.returncode == 1 and done.stdout == "", done
    assert done.stderr == (
        "voxhost: --run-as voxhots-no-such-user: there is no such user here; make it first (sudo useradd --system "
        "--home /var/lib/voxhost --shell /usr/sbin/nologin voxhots-no-such-user), or name one there is\n"
    )
