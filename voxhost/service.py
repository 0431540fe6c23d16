"""``voxhost service install|uninstall``: run this install of voxhost at boot, as a systemd unit or a launchd job.

Linux gets a systemd unit (``Type=notify``: voxhost reports ready once engines are loaded and doors are open):
``/etc/systemd/system/voxhost.service`` for the system, ``~/.config/systemd/user/voxhost.service`` with ``--user``.

macOS gets a launchd job. Without ``--user`` it is a **LaunchDaemon** (``/Library/LaunchDaemons``, the ``system``
domain, run as a named user): it starts at boot with nobody logged in, which is what a headless Mac mini beside Home
Assistant needs. MLX and PyTorch's MPS backend find the GPU with ``MTLCopyAllDevices``, which needs no window server
connection, so Metal works there (unlike frameworks that need a GUI session). ``--user`` makes a **LaunchAgent**
(``~/Library/LaunchAgents``, the ``gui/<uid>`` domain while someone is logged in, else ``user/<uid>``). Either way
``ProcessType = Interactive`` keeps launchd from throttling CPU and I/O as it does background jobs, ``HOME`` is set
(daemons get none, and model caches live under it), and both output streams go to one log file:
``/Library/Logs/voxhost/voxhost.log`` or ``~/Library/Logs/voxhost/voxhost.log``.

Paths are this install's: the ``voxhost`` script beside the running interpreter, and the config file given (or
found). ``--state-dir``, ``--plugins-dir`` and ``--debug`` given to ``service install`` are passed on to the service's
``serve``, paths made absolute. ``--dry-run`` prints the file and the commands instead of running them. The system
unit's ``PrivateTmp=yes`` hides the real /tmp and /var/tmp from it, so a config or a folder it names there (or one
given on the command line) is refused, dry run or not.
"""

from __future__ import annotations

import getpass
import grp
import math
import os
import platform
import plistlib
import pwd
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .daemon import CLOSE_MARGIN
from .errors import VoxhostError
from .replacing import replacing
from .settings import Settings, load_settings

Manager = Literal["systemd", "launchd"]
LABEL = "org.voxhost.daemon"
"""The launchd job label."""
UNIT = "voxhost.service"
SYSTEM_UNITS = Path("/etc/systemd/system")
"""Where a system unit is written."""
STATE_DIR_MODE = 0o750
"""A state folder that ``service install`` makes: its user's alone (and its group's to read), as StateDirectoryMode."""
STOP_SLACK = 10.0
"""Seconds beyond ``shutdown_timeout`` plus the close margin before the service manager kills voxhost: a loaded
machine exits late, and a kill would lose the drain's records."""
MIN_STOP_TIMEOUT = 45
"""The stop timeout of ``systemd/voxhost.service`` (room for a ``shutdown_timeout`` up to 30 s); never less."""


def stop_timeout(shutdown_timeout: float) -> int:
    """Seconds the service manager waits after SIGTERM: the drain, closing, and slack, so it never kills a drain."""
    return max(MIN_STOP_TIMEOUT, math.ceil(shutdown_timeout + CLOSE_MARGIN + STOP_SLACK))


@dataclass
class Plan:
    """What installing (or uninstalling) writes and runs."""

    manager: Manager
    path: Path
    """The unit or plist file."""
    content: str
    commands: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    state_dir: Path | None = None
    """A state folder given with ``--state-dir`` that does not exist yet: made before the service starts."""
    state_owner: str | None = None
    """Whom that folder is made for (the system service's user); None: whoever installs (a user service)."""


def default_manager(system: str | None = None) -> Manager:
    """launchd on macOS, systemd elsewhere."""
    return "launchd" if (system or platform.system()) == "Darwin" else "systemd"


def voxhost_command() -> list[str]:
    """How to start this install: its ``voxhost`` script beside the interpreter, else ``python -m voxhost``."""
    script = Path(sys.executable).parent / "voxhost"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "voxhost"]


def _home(user: str) -> str:
    try:
        return pwd.getpwnam(user).pw_dir
    except KeyError:
        return os.path.expanduser("~")


def _groups_that_exist(*names: str) -> list[str]:
    out = []
    for name in names:
        try:
            grp.getgrnam(name)
            out.append(name)
        except KeyError:
            pass
    return out


def check_run_as(user: str, manager: Manager) -> None:
    """``VoxhostError`` when the account a system service is to run as is not there: it would fail at every start."""
    try:
        pwd.getpwnam(user)
    except KeyError:
        make = f" (sudo useradd --system --home /var/lib/voxhost --shell /usr/sbin/nologin {user})"
        raise VoxhostError(
            f"--run-as {user}: there is no such user here; make it first{make if manager == 'systemd' else ''}, "
            "or name one there is"
        ) from None


def default_run_user(user_mode: bool) -> str:
    """Who the service runs as: yourself with ``--user``; else a ``voxhost`` account if one exists, else the
    user who ran sudo (or yourself)."""
    me = os.environ.get("SUDO_USER") or getpass.getuser()
    if user_mode:
        return getpass.getuser()
    try:
        pwd.getpwnam("voxhost")
        return "voxhost"
    except KeyError:
        return me


def configured_shutdown_timeout(config: Path | None) -> float:
    """``shutdown_timeout`` of the config the service will run with (the default while it names no file yet)."""
    if config is not None and not config.is_file():
        return float(Settings.model_fields["shutdown_timeout"].default)
    return load_settings(config).shutdown_timeout


PRIVATE_TMP_DIRS = (Path("/tmp"), Path("/var/tmp"))
"""What ``PrivateTmp=yes`` in the system unit replaces with empty folders of the service's own."""


@dataclass(frozen=True)
class ServeOptions:
    """The common options ``service install`` was given, passed on to the service's ``serve``."""

    state_dir: Path | None = None
    plugins_dirs: tuple[Path, ...] = ()
    debug: bool = False

    @classmethod
    def given(cls, state_dir: Path | None, plugins_dirs: list[Path] | None, debug: bool) -> ServeOptions:
        """The options with absolute, resolved paths: the service does not start in the installer's folder."""
        return cls(
            state_dir=_absolute(state_dir) if state_dir else None,
            plugins_dirs=tuple(_absolute(folder) for folder in plugins_dirs or ()),
            debug=debug,
        )

    def args(self) -> list[str]:
        """The options as ``serve`` arguments."""
        out = ["--state-dir", str(self.state_dir)] if self.state_dir else []
        for folder in self.plugins_dirs:
            out += ["--plugins-dir", str(folder)]
        return out + (["--debug"] if self.debug else [])


def _absolute(path: Path) -> Path:
    return path.expanduser().resolve()


def serve_command(command: list[str], config: Path | None, options: ServeOptions) -> list[str]:
    """The service's command line: ``serve`` with the config and the options given."""
    return [*command, "serve", *(["--config", str(config)] if config else []), *options.args()]


_C_ESCAPES = {"\\": "\\\\", '"': '\\"'}


def systemd_quote(word: str, *, expands_variables: bool = True) -> str:
    """``word`` as one item of a unit file setting, which systemd reads back unchanged (systemd.syntax(7)).

    Not ``shlex.quote``: systemd reads C escapes (``\\b``) inside single quotes too, expands ``%`` specifiers
    (``%%`` is a ``%``) and, in ExecStart= arguments, ``$VAR`` (``$$`` is a ``$``; not in its executable, nor in
    Environment= or ReadWritePaths=).
    """
    text = word.replace("%", "%%")
    if expands_variables:
        text = text.replace("$", "$$")
    if text and not any(c in " ;'\"\\" or _is_control(c) for c in text):
        return text
    # a quoted ";" is an argument, never the separator of two command lines
    return '"' + "".join(_C_ESCAPES.get(c) or (f"\\x{ord(c):02x}" if _is_control(c) else c) for c in text) + '"'


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or ord(char) == 0x7F


def systemd_command_line(argv: list[str]) -> str:
    """``argv`` as an ExecStart= value."""
    # systemd runs the executable it read, with no variables expanded: a "$" there is written as is
    return " ".join([systemd_quote(argv[0], expands_variables=False), *map(systemd_quote, argv[1:])])


def _under(path: Path, roots: tuple[Path, ...]) -> bool:
    """Whether ``path`` (as written, or with its links resolved) lies in one of ``roots``."""
    absolute = Path(os.path.abspath(path.expanduser()))
    # resolved on both sides: where /tmp is a link (/private/tmp on macOS), a resolved --state-dir is still in it
    every_root = {*roots, *(root.resolve() for root in roots)}
    return any(p == root or root in p.parents for p in (absolute, absolute.resolve()) for root in every_root)


def refuse_private_tmp_paths(
    manager: Manager, *, user_mode: bool, config: Path | None, options: ServeOptions = ServeOptions()
) -> None:
    """``VoxhostError`` when the system unit would not see the config, or a folder it or ``options`` name, for its
    private /tmp.

    The service would start with another config (or none), or keep its state where nobody else looks and lose it
    at each restart; a user unit and a launchd job see the real /tmp.
    """
    if manager != "systemd" or user_mode:
        return
    found: list[tuple[str, Path]] = [("the config", config)] if config is not None else []
    if config is None or (config.is_file() and not _under(config, PRIVATE_TMP_DIRS)):
        settings = load_settings(config)
        # left unset, the service's state_dir is its StateDirectory (/var/lib/voxhost), not the installer's default;
        # --state-dir and --plugins-dir replace what the config says
        if options.state_dir is None and "state_dir" in settings.model_fields_set:
            found.append(("state_dir", settings.state_path))
        found += [("models_dir", settings.models_path)] if settings.models_dir else []
        found += [] if options.plugins_dirs else [("plugins_dirs", Path(folder)) for folder in settings.plugins_dirs]
    found += [("--state-dir", options.state_dir)] if options.state_dir else []
    found += [("--plugins-dir", folder) for folder in options.plugins_dirs]
    hidden = [f"{what} {path}" for what, path in found if _under(path, PRIVATE_TMP_DIRS)]
    if hidden:
        raise VoxhostError(
            f"the service would not see {', '.join(hidden)}: a system unit gets a private /tmp and /var/tmp "
            f"(PrivateTmp=yes); move {'it' if len(hidden) == 1 else 'them'} elsewhere (the config to /etc/voxhost, "
            "state to /var/lib/voxhost), or use --user"
        )


def systemd_unit(
    command: list[str],
    config: Path | None,
    *,
    user_mode: bool,
    run_as: str,
    shutdown_timeout: float = 10.0,
    options: ServeOptions = ServeOptions(),
) -> str:
    """The unit file's text."""
    exec_start = systemd_command_line(serve_command(command, config, options))
    lines = [
        "# voxhost as a service; written by `voxhost service install`, removed by `voxhost service uninstall`.",
        "[Unit]",
        "Description=voxhost text-to-speech daemon",
        "Documentation=https://github.com/voxhost/voxhost",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "# voxhost tells systemd when engines are loaded and the doors are open.",
        "Type=notify",
        "NotifyAccess=main",
    ]
    if not user_mode:
        lines.append(f"User={run_as}")
        # CUDA and Jetson GPUs are device files of these groups
        groups = _groups_that_exist("video", "render")
        if groups:
            lines.append(f"SupplementaryGroups={' '.join(groups)}")
    lines += _state_lines(options.state_dir, user_mode=user_mode)
    lines += [
        f"ExecStart={exec_start}",
        "# SIGTERM lets running jobs finish (shutdown_timeout in the config) before voxhost exits.",
        "KillSignal=SIGTERM",
        "# To voxhost alone: it lets its engines' worker processes finish their jobs, then stops them (what is left at",
        "# the timeout is killed).",
        "KillMode=mixed",
        f"TimeoutStopSec={stop_timeout(shutdown_timeout)}",
        "Restart=on-failure",
        "RestartSec=3",
        "# loading large models on a Jetson can take a while",
        "TimeoutStartSec=600",
    ]
    if not user_mode:
        lines += [
            "# hardening; /usr, /boot and /etc are read-only (models_dir may live anywhere else)",
            "NoNewPrivileges=yes",
            "ProtectSystem=full",
            "PrivateTmp=yes",
            "ProtectKernelTunables=yes",
            "ProtectControlGroups=yes",
            "RestrictSUIDSGID=yes",
            "LockPersonality=yes",
        ]
    lines += ["", "[Install]", f"WantedBy={'default.target' if user_mode else 'multi-user.target'}", ""]
    return "\n".join(lines)


def _state_lines(state_dir: Path | None, *, user_mode: bool) -> list[str]:
    """Where the unit keeps state: its StateDirectory=, or the folder ``--state-dir`` named."""
    if state_dir is None:
        return [
            "# the voice library, caches and models (voxhost reads $STATE_DIRECTORY)",
            "StateDirectory=voxhost",
            "StateDirectoryMode=0750",
            "Environment=HF_HUB_CACHE=%S/voxhost/hf-cache",
        ]
    hf_cache = f"HF_HUB_CACHE={state_dir / 'hf-cache'}"
    lines = [
        "# the voice library, caches and models: in --state-dir (systemd makes a StateDirectory= only in /var/lib)",
        f"Environment={systemd_quote(hf_cache, expands_variables=False)}",
    ]
    if not user_mode:
        lines += [
            '# writable even under /usr, /boot, /efi or /etc (ProtectSystem=full); "-": no error while it is missing',
            f"ReadWritePaths={systemd_quote(f'-{state_dir}', expands_variables=False)}",
        ]
    return lines


def launchd_plist(
    command: list[str],
    config: Path | None,
    *,
    user_mode: bool,
    run_as: str,
    shutdown_timeout: float = 10.0,
    options: ServeOptions = ServeOptions(),
) -> bytes:
    """The launchd job's property list."""
    home = os.path.expanduser("~") if user_mode else _home(run_as)
    logs = Path(home, "Library", "Logs", "voxhost") if user_mode else Path("/Library/Logs/voxhost")
    job: dict[str, object] = {
        "Label": LABEL,
        "ProgramArguments": serve_command(command, config, options),
        "RunAtLoad": True,
        # restart after a crash, not after a clean exit (`launchctl bootout` stops it for good)
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 10,
        "ProcessType": "Interactive",
        "ExitTimeOut": stop_timeout(shutdown_timeout),
        "WorkingDirectory": home,
        "EnvironmentVariables": {
            "HOME": home,
            "HF_HOME": str(Path(home, ".cache", "huggingface")),
            "PATH": "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "PYTHONUNBUFFERED": "1",
        },
        "StandardOutPath": str(logs / "voxhost.log"),
        "StandardErrorPath": str(logs / "voxhost.log"),
    }
    if not user_mode:
        job["UserName"] = run_as
    return plistlib.dumps(job, sort_keys=False)


def _launchd_domain(user_mode: bool) -> str:
    if not user_mode:
        return "system"
    uid = os.getuid()
    # an agent joins the GUI session when someone is logged in at the screen; over ssh only the user domain exists
    return f"gui/{uid}" if os.environ.get("SSH_CONNECTION") is None else f"user/{uid}"


def install_plan(
    manager: Manager,
    *,
    user_mode: bool,
    config: Path | None,
    run_as: str | None = None,
    home: Path | None = None,
    shutdown_timeout: float | None = None,
    options: ServeOptions = ServeOptions(),
) -> Plan:
    """The file and commands ``service install`` uses (``shutdown_timeout``: the config's, read if not given)."""
    command = voxhost_command()
    if shutdown_timeout is None:
        shutdown_timeout = configured_shutdown_timeout(config)  # the stop timeout must cover the drain it sets
    who = run_as or default_run_user(user_mode)
    home = home or Path(os.path.expanduser("~"))
    if manager == "systemd":
        path = home / ".config/systemd/user" / UNIT if user_mode else SYSTEM_UNITS / UNIT
        scope = ["--user"] if user_mode else []
        unit = systemd_unit(
            command, config, user_mode=user_mode, run_as=who, shutdown_timeout=shutdown_timeout, options=options
        )
        plan = Plan(manager, path, unit)
        plan.commands = [["systemctl", *scope, "daemon-reload"], ["systemctl", *scope, "enable", "--now", UNIT]]
        logs = "journalctl --user -u voxhost -f" if user_mode else "journalctl -u voxhost -f"
        plan.notes.append(f"logs: {logs}")
        if user_mode:
            plan.notes.append(f"to start at boot without a login: sudo loginctl enable-linger {who}")
        _plan_state_dir(plan, options.state_dir, None if user_mode else who)
        return plan
    name = f"{LABEL}.plist"
    path = home / "Library/LaunchAgents" / name if user_mode else Path("/Library/LaunchDaemons") / name
    job = launchd_plist(
        command, config, user_mode=user_mode, run_as=who, shutdown_timeout=shutdown_timeout, options=options
    )
    content = job.decode()
    plan = Plan(manager, path, content)
    domain = _launchd_domain(user_mode)
    plan.commands = [["launchctl", "bootstrap", domain, str(path)], ["launchctl", "enable", f"{domain}/{LABEL}"]]
    log = plistlib.loads(content.encode())["StandardOutPath"]
    plan.notes.append(f"logs: tail -f {log}; restart: launchctl kickstart -k {domain}/{LABEL}")
    _plan_state_dir(plan, options.state_dir, None if user_mode else who)
    return plan


def _plan_state_dir(plan: Plan, state_dir: Path | None, owner: str | None) -> None:
    """Make a missing ``--state-dir`` for the service's user, or say when an existing one belongs to another.

    systemd makes a ``StateDirectory=`` (only ever under /var/lib) for the service's user, and launchd makes none:
    a folder of one's own choosing must exist and be the service's before it starts. The service's own ``serve``
    could not make it where only root may (/srv), nor under ``ProtectSystem=full``'s read-only /etc or /usr.
    """
    if state_dir is None:
        return
    if not state_dir.is_dir():
        plan.state_dir, plan.state_owner = state_dir, owner
        whose = f", owned by {owner}" if owner else ""
        plan.notes.append(f"the state folder {state_dir} is made first (mode {STATE_DIR_MODE:04o}{whose})")
        return
    if owner is None:
        return
    try:
        user, holder = pwd.getpwnam(owner), state_dir.stat().st_uid
    except (KeyError, OSError):
        return  # no such user: the service manager says so; an unreadable folder: the service logs it
    if holder != user.pw_uid:
        try:
            name = pwd.getpwuid(holder).pw_name
        except KeyError:
            name = str(holder)
        folder = shlex.quote(str(state_dir))
        plan.notes.append(
            f"the state folder {state_dir} belongs to {name}, and the service runs as {owner}: unless it may write "
            f"there, what it stores is refused (read_only); give it the folder: sudo chown {owner}: {folder}"
        )


def make_state_dir(path: Path, owner: str | None) -> None:
    """Make ``path`` (and its parents) with ``STATE_DIR_MODE``, for ``owner`` and their group (None: for whoever
    runs this); ``VoxhostError`` when it cannot be made or given to them (the folder made is removed again)."""
    folder = shlex.quote(str(path))
    how = f"sudo install -d -m {STATE_DIR_MODE:04o} -o {owner} {folder}" if owner else f"mkdir -p {folder}"
    try:
        user = pwd.getpwnam(owner) if owner else None
    except KeyError:
        raise VoxhostError(f"cannot make the state folder {path} for {owner}: there is no such user") from None
    try:
        path.mkdir(parents=True, exist_ok=False)
    except OSError as err:
        raise VoxhostError(
            f"cannot make the state folder {path} ({err.strerror or err}); run with sudo, or make it first: {how}"
        ) from err
    try:
        path.chmod(STATE_DIR_MODE)  # mkdir's mode is cut by the umask
        if user is not None and (path.stat().st_uid, path.stat().st_gid) != (user.pw_uid, user.pw_gid):
            os.chown(path, user.pw_uid, user.pw_gid)
    except OSError as err:
        path.rmdir()
        raise VoxhostError(
            f"cannot give the state folder {path} to {owner} ({err.strerror or err}); run with sudo, or make it "
            f"first: {how}"
        ) from err


def uninstall_plan(manager: Manager, *, user_mode: bool, home: Path | None = None) -> Plan:
    """The commands and file ``service uninstall`` removes."""
    home = home or Path(os.path.expanduser("~"))
    if manager == "systemd":
        path = home / ".config/systemd/user" / UNIT if user_mode else SYSTEM_UNITS / UNIT
        scope = ["--user"] if user_mode else []
        plan = Plan(manager, path, "")
        plan.commands = [["systemctl", *scope, "disable", "--now", UNIT]]
        return plan
    name = f"{LABEL}.plist"
    path = home / "Library/LaunchAgents" / name if user_mode else Path("/Library/LaunchDaemons") / name
    plan = Plan(manager, path, "")
    plan.commands = [["launchctl", "bootout", f"{_launchd_domain(user_mode)}/{LABEL}"]]
    return plan


def apply_install(plan: Plan) -> None:
    """Make the state folder asked for, write the file (and the launchd log folder), then run the commands; a
    failing step stops with its reason (nothing is written when the state folder cannot be made)."""
    if plan.state_dir is not None and not plan.state_dir.is_dir():
        make_state_dir(plan.state_dir, plan.state_owner)
    try:
        plan.path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(plan.path) as part:  # whole or untouched: a full disk never leaves half a unit to start
            part.write_text(plan.content)
    except PermissionError as err:
        raise VoxhostError(f"cannot write {plan.path} ({err.strerror}); run with sudo, or use --user") from None
    except OSError as err:  # a full or read-only disk
        raise VoxhostError(f"cannot write {plan.path} ({err.strerror or err}); nothing was installed") from None
    if plan.manager == "launchd":
        log_dir = Path(plistlib.loads(plan.content.encode())["StandardOutPath"]).parent
        log_dir.mkdir(parents=True, exist_ok=True)
    for done, command in enumerate(plan.commands):
        try:
            _run([command])
        except VoxhostError as err:
            # The file is in place: say so, and what is left to do by hand (no user bus under `sudo -u`, say).
            left = " && ".join(shlex.join(step) for step in plan.commands[done:])
            raise VoxhostError(f"{err.message}; {plan.path} is written: once that works, run {left}") from None


def apply_uninstall(plan: Plan) -> None:
    """Stop and disable the service (ignoring "not loaded"), then delete its file."""
    _run(plan.commands, tolerate=True)
    if plan.path.exists():
        try:
            plan.path.unlink()
        except PermissionError as err:
            raise VoxhostError(f"cannot remove {plan.path} ({err.strerror}); run with sudo") from err
    if plan.manager == "systemd":
        scope = ["--user"] if "--user" in plan.commands[0] else []
        _run([["systemctl", *scope, "daemon-reload"]], tolerate=True)


def _run(commands: list[list[str]], tolerate: bool = False) -> None:
    for command in commands:
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError as err:
            raise VoxhostError(f"{command[0]} is not available here: {err}") from err
        if done.returncode != 0 and not tolerate:
            output = (done.stderr or done.stdout).strip()
            raise VoxhostError(f"`{shlex.join(command)}` failed ({done.returncode}): {output}")


def describe(plan: Plan, action: str) -> str:
    """What a dry run prints."""
    out = [f"# {action}: {plan.path} ({plan.manager})"]
    if plan.content:
        out += [plan.content.rstrip(), ""]
    out += [f"$ {shlex.join(command)}" for command in plan.commands]
    out += [f"# {note}" for note in plan.notes]
    return "\n".join(out) + "\n"
