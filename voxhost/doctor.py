"""``voxhost doctor``: what will fail with this config, found before Home Assistant finds it, each with its fix.

For every enabled engine its interpreter is started (``python -m voxhost.probe``) and reports the Python, the
modules the engine imports (torchaudio's compiled extension included), installed versions against the tested ones,
the device torch or MLX will use, and the configured models on disk. Then free disk, and for every enabled door
whether its port is free or its broker answers. Every failure carries the command that fixes it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from . import statelock
from .catalog import Catalog
from .components import (
    NO_DOOR_OPEN,
    collect_door_classes,
    collect_engine_classes,
    door_configs,
    engine_configs,
    engine_context,
    open_doors,
)
from .daemon_http import get_json
from .door import Endpoint, host_port, listen_problem
from .engine import Engine
from .errors import ConfigError, VoxhostError
from .library import VoiceLibrary
from .loader import DIR_PLUGIN_PREFIX
from .plugin_manager import Plugins
from .settings import EngineHostSettings, Settings, unwritable

Status = Literal["ok", "info", "warn", "fail"]

PROBE_TIMEOUT = 300.0
"""Seconds an engine's interpreter may take to import everything (torch and friends are slow on a cold disk)."""
LOW_DISK = 5 * 2**30
"""Below this much free space a heavy engine's model pull will likely fail."""


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    scope: str
    """``config``, ``engine <id>``, ``door <name>`` or ``disk``."""
    name: str
    status: Status
    detail: str
    fix: str = ""
    """The command (or setting) that fixes a failure."""


def _gib(size: float) -> str:
    return f"{size / 2**30:.1f} GiB"


def _python_path(engine: Engine, where: Path) -> str:
    """A directory linking voxhost (and the engine's own package) for the probe's path, as workers get."""
    packages = {"voxhost"}
    top = type(engine).__module__.split(".")[0]
    if top in sys.modules and getattr(sys.modules[top], "__path__", None):
        packages.add(top)
    for name in packages:
        (where / name).symlink_to(Path(list(sys.modules[name].__path__)[0]).resolve(), target_is_directory=True)
    return str(where)


def _setup_command(engine: Engine, python: str, own: bool) -> str:
    """The command that builds the engine's environment: where ``python`` lives when that is the engine's ``own``
    (the daemon's for a thread, the configured interpreter's virtual environment for a worker), else a new folder."""
    setup = engine.environment().setup
    if not setup:
        return ""
    where = Path(python)
    if own and where.parent.name == "bin":
        return setup.replace("{venv}", str(where.parent.parent))
    # A worker with no environment of its own yet: never the daemon's (the heavy engines' pins would break it), nor
    # the folder above an interpreter that is not in one (a bare /usr/bin/python3 would make it /usr).
    folder = f"/opt/voxhost/venvs/{Path(setup.split()[0]).parent.name}"
    return setup.replace("{venv}", folder) + f'; then set [engines.{engine.engine_id}] python = "{folder}/bin/python"'


def _is_daemons(python: str) -> bool:
    """Whether ``python`` is the daemon's own interpreter (its virtual environment)."""
    return Path(python).parent.parent.resolve() == Path(sys.prefix).resolve()


def _run_probe(engine: Engine, python: str, hashes: bool) -> dict[str, Any]:
    cls = type(engine)
    header: dict[str, Any] = {"module": cls.__module__, "cls": cls.__qualname__, "hashes": hashes}
    if cls.__module__.startswith(DIR_PLUGIN_PREFIX):
        header["file"] = sys.modules[cls.__module__].__file__
    header["settings"] = engine.settings.model_dump(mode="json")
    header["context"] = asdict(engine.context)
    with tempfile.TemporaryDirectory(prefix="voxhost-doctor-") as tmp:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_python_path(engine, Path(tmp)), env.get("PYTHONPATH")) if p)
        env.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may download
        proc = subprocess.run(
            [python, "-m", "voxhost.probe"],
            input=json.dumps(header),
            capture_output=True,
            text=True,
            env=env,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        tail = " | ".join(line for line in proc.stderr.strip().splitlines()[-3:])
        return {"error": f"the probe exited with {proc.returncode}: {tail or 'no output'}"}
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def _engine_checks(engine: Engine, host: EngineHostSettings, hashes: bool) -> list[Check]:
    scope = f"engine {engine.engine_id}"
    mode = host.mode or type(engine).default_mode
    python = (host.python or sys.executable) if mode == "worker" else sys.executable
    setup = _setup_command(engine, python, own=mode != "worker" or not _is_daemons(python))
    fix_env = setup or f"install {engine.engine_id}'s packages into {python}"
    checks: list[Check] = []
    if not (Path(python).is_file() and os.access(python, os.X_OK)) and shutil.which(python) is None:
        hint = f"; or point [engines.{engine.engine_id}] python at its environment's interpreter"
        return [Check(scope, "python", "fail", f"interpreter {python} not found ({mode} mode)", fix_env + hint)]
    try:
        report = _run_probe(engine, python, hashes)
    except subprocess.TimeoutExpired:
        return [Check(scope, "python", "fail", f"{python} did not answer within {PROBE_TIMEOUT:.0f} s", fix_env)]
    if "error" in report:
        return [Check(scope, "python", "fail", f"{python}: {report['error']}", fix_env)]
    checks.append(Check(scope, "python", "ok", f"Python {report['python']} at {report['executable']} ({mode} mode)"))
    lost = engine.environment().optional  # an optional module's absence is a warning saying what goes with it
    for module, error in {**report["imports"], **report.get("optional", {})}.items():
        if error is None:
            checks.append(Check(scope, f"import {module}", "ok", "imports"))
        elif module in lost:
            checks.append(Check(scope, f"import {module}", "warn", f"{error}: {lost[module]}", fix_env))
        else:
            checks.append(Check(scope, f"import {module}", "fail", error, _import_fix(module, error, setup) or fix_env))
    for dist, row in report["versions"].items():
        installed, tested = row["installed"], row["tested"]
        if installed is None:
            checks.append(Check(scope, dist, "fail", "not installed", fix_env))
        elif tested and installed.split("+")[0] != tested:
            checks.append(Check(scope, dist, "warn", f"{installed} installed; tested with {tested}", fix_env))
        else:
            checks.append(Check(scope, dist, "ok", installed + (" (tested)" if tested else "")))
    checks += _device_checks(scope, engine, report)
    checks += [Check(scope, "environment", "warn", text, setup) for text in report.get("warnings", [])]
    for broken in report.get("broken_files", []):  # the daemon would refuse these at their first request
        checks.append(Check(scope, broken["name"], "fail", f"{broken['path']}: {broken['error']}", broken["fix"]))
    for model in report["models"]:
        name = f"model {model['name']}"
        if model["path"] is None:
            checks.append(Check(scope, name, "fail", f"{model['repo']} is not installed", model["pull"]))
        elif model["verified"] is False:
            checks.append(
                Check(scope, name, "fail", f"{model['path']} does not match its manifest", model["pull"] + " --force")
            )
        else:
            how = "verified" if model["verified"] else "present (no pull manifest to verify against)"
            checks.append(Check(scope, name, "ok", f"{how}, {_gib(model['size'])} in {model['path']}"))
    return checks


def _import_fix(module: str, error: str, setup: str) -> str:
    if module.split(".")[0] == "torchaudio" and ("CUDA" in error or ".so" in error or "library" in error):
        # a torchaudio built for another torch/CUDA: the setup script pairs it or strips its extension
        return (setup or "envs/<engine>/setup.sh VENV") + (
            "   (picks a matched torch/torchaudio pair for this machine, or keeps torchaudio's pure-Python parts;"
            " VOXHOST_PLATFORM=cpu|cuda12|cuda13|jetson|macos overrides)"
        )
    return ""


def _device_checks(scope: str, engine: Engine, report: dict[str, Any]) -> list[Check]:
    checks = []
    device = report.get("device")
    wanted = str(getattr(engine.settings, "device", "auto") or "auto")
    if report.get("device_error"):
        checks.append(Check(scope, "device", "fail", report["device_error"]))
    if device:
        found = device.get("device", "cpu")
        detail = f"{found}: {device.get('name', '')}"
        if device.get("memory_total"):
            detail += f", {_gib(device['memory_total'])}"
            if device.get("memory_free") is not None:
                detail += f" ({_gib(device['memory_free'])} free)"
        if device.get("capability"):
            detail += f", compute capability {device['capability']}"
        if device.get("torch"):
            detail += f"; torch {device['torch']}" + (f" (CUDA {device['cuda_build']})" if device["cuda_build"] else "")
        if wanted.startswith(("cuda", "mps")) and not found.startswith(wanted.split(":")[0]):
            fix = f'set [engines.{engine.engine_id}] device = "auto", or build the environment for this GPU'
            checks.append(
                Check(scope, "device", "fail", f"configured {wanted}, but this environment has {detail}", fix)
            )
        else:
            checks.append(Check(scope, "device", "info", detail))
    audio = report.get("torchaudio") or {}
    plan = audio.get("plan") or {}
    if "extension" in audio or plan:
        mode = plan.get("torchaudio_mode") or ("extension" if audio.get("extension") else "pure-python")
        text = {
            "extension": "compiled extension loaded (matched pair)",
            "stripped": "compiled extension removed: pure-Python parts only (all the engines call)",
            "pure-python": "no compiled extension: pure-Python parts only (all the engines call)",
        }.get(mode, mode)
        built = f"; environment built for platform {plan['platform']}" if plan.get("platform") else ""
        checks.append(Check(scope, "torchaudio", "info", text + built))
    return checks


def _disk_checks(settings: Settings, heavy: bool) -> list[Check]:
    checks = []
    seen: set[int] = set()
    for label, path in (("models", settings.models_path), ("state", settings.state_path)):
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        stat = os.stat(existing)
        if stat.st_dev in seen:
            continue
        seen.add(stat.st_dev)
        free = shutil.disk_usage(existing).free
        detail = f"{_gib(free)} free at {path}"
        if free < 2**29:
            checks.append(Check("disk", label, "fail", detail, f"free space on the disk holding {existing}"))
        elif heavy and free < LOW_DISK:
            checks.append(Check("disk", label, "warn", detail + " (a heavy engine's model is 1-6 GB)"))
        else:
            checks.append(Check("disk", label, "ok", detail))
    return checks


@dataclass(frozen=True)
class Running:
    """The ``voxhost serve`` that holds this state directory's lock."""

    pid: int | None
    ports: frozenset[int] | None
    """The ports its doors listen on, as its ``/health`` lists them; None when it has no HTTP door to ask."""

    def owns(self, endpoint: Endpoint) -> bool:
        """Whether ``endpoint``'s port is this daemon's (without an HTTP door to ask, the lock says so)."""
        return self.ports is None or endpoint.port in self.ports


def _running(settings: Settings, doors: dict[str, Any]) -> Running | None:
    """The daemon running on this state directory, or None: its own ports are in use by it, not a problem."""
    with statelock.exclusive(settings.state_path) as free:
        if free:
            return None
    try:
        pid: int | None = int((settings.state_path / statelock.LOCK_NAME).read_text().strip())
    except (OSError, ValueError):
        pid = None
    http_door = doors.get("http")
    if http_door is None or not http_door.enabled:
        return Running(pid, None)
    host = "127.0.0.1" if http_door.host in ("0.0.0.0", "::", "") else http_door.host
    try:  # /health is open without the API key; what answers with the ports of its doors is voxhost
        health = get_json(f"http://{host_port(host, http_door.port)}", "/health", timeout=5)
    except VoxhostError:  # unreachable, an HTTP error, or no HTTP spoken there (BadStatusLine)
        health = None
    found = health.get("doors") if isinstance(health, dict) else None
    if not isinstance(found, dict):
        return Running(pid, frozenset())  # something else on the HTTP port: nothing is known to be the daemon's
    addresses = [str(v) for door in found.values() if isinstance(door, dict) for v in door.values() if v]
    addresses += [str(a) for door in found.values() if isinstance(door, dict) for a in door.get("listening", [])]
    return Running(pid, frozenset(int(m) for a in addresses for m in re.findall(r":(\d+)(?:/|$)", a)))


def _door_checks(name: str, door_cls: Any, door_settings: Any, running: Running | None) -> list[Check]:
    scope = f"door {name}"
    checks = []
    for endpoint in door_cls.endpoints(door_settings):
        where = host_port(endpoint.host, endpoint.port)
        if endpoint.role == "listen":
            err = listen_problem(endpoint)
            if err is None:
                checks.append(Check(scope, f"listen {where}", "ok", "the address is free"))
            elif running is not None and running.owns(endpoint):
                pid = f" (pid {running.pid})" if running.pid else ""
                detail = f"in use by the voxhost serve running on this state_dir{pid}"
                checks.append(Check(scope, f"listen {where}", "ok", detail))
            else:
                fix = (
                    f"stop what listens there (`ss -ltnp 'sport = :{endpoint.port}'`), "
                    f"or change the port in [doors.{name}]"
                )
                checks.append(Check(scope, f"listen {where}", "fail", f"cannot bind: {err.strerror or err}", fix))
        else:
            try:
                with socket.create_connection((endpoint.host, endpoint.port), timeout=3):
                    pass
                checks.append(Check(scope, f"connect {where}", "ok", "answers"))
            except OSError as err:
                fix = f"start the broker (e.g. `apt install mosquitto`), or set [doors.{name}] host and port"
                checks.append(Check(scope, f"connect {where}", "fail", f"not reachable: {err.strerror or err}", fix))
    return checks


def diagnose(
    settings: Settings, plugins: Plugins, *, engines: list[str] | None = None, hashes: bool = False
) -> list[Check]:
    """Every check for this config (``engines``: only those engine ids)."""
    try:
        classes = collect_engine_classes(plugins, settings)
        configs = engine_configs(settings, classes)
        door_classes = collect_door_classes(plugins, settings)
        doors = door_configs(settings, door_classes)
    except ConfigError as err:
        return [Check("config", "config", "fail", err.message, "voxhost check-config; then fix the key it names")]
    checks = [Check("config", "config", "ok", "valid")]
    checks += _asked_engine_checks(engines or [], {engine_id: configs[engine_id].enabled for engine_id in classes})
    chosen = [
        (cls(configs[engine_id].own, engine_context(settings, engine_id)), configs[engine_id].host)
        for engine_id, cls in classes.items()
        if configs[engine_id].enabled and (not engines or engine_id in engines)
    ]
    heavy = any((host.mode or type(engine).default_mode) == "worker" for engine, host in chosen)
    # each probe waits on its own interpreter's imports: run them side by side
    with ThreadPoolExecutor(max(1, len(chosen))) as pool:
        for found in pool.map(lambda pair: _engine_checks(pair[0], pair[1], hashes), chosen):
            checks += found
    checks += _disk_checks(settings, heavy)
    checks.append(_state_check(settings))
    if not engines:  # with --engine, the others' voices are not known here: every name would look missing
        checks += _voice_checks(settings, [engine for engine, _ in chosen])
    running = _running(settings, doors)
    for name, door_settings in doors.items():
        if door_settings.enabled:
            checks += _door_checks(name, door_classes[name], door_settings, running)
    if not open_doors(doors):
        fix = "open a door: enabled = true in its [doors.<name>] table, or no serve --no that closes it"
        checks.append(Check("doors", "open doors", "fail", NO_DOOR_OPEN, fix))
    return checks


def _voice_checks(settings: Settings, engines: list[Engine]) -> list[Check]:
    """default_voice, default_voices and aliases that name no voice of the enabled engines or the voice library."""
    stored = settings.library_path
    with tempfile.TemporaryDirectory(prefix="voxhost-doctor-") as empty:
        # no voices folder yet: no stored voices (an empty library elsewhere, so that doctor creates nothing)
        library = VoiceLibrary(stored if stored.is_dir() else Path(empty))
        missing = Catalog(settings, lambda: engines, library).dangling()
    if not missing:
        return [Check("voices", "defaults and aliases", "ok", "each names a voice there is")]
    detail = "names voice {!r}, which no enabled engine or stored voice offers (requests relying on it fail)"
    fix = "set {} to a voice `voxhost voices` lists, or remove it"
    return [Check("voices", key, "fail", detail.format(voice), fix.format(key)) for key, voice in missing]


def _asked_engine_checks(asked: list[str], enabled: dict[str, bool]) -> list[Check]:
    """``--engine`` ids that name no engine, or a disabled one: nothing would be checked for them."""
    checks = []
    for engine_id in asked:
        if engine_id not in enabled:
            known = ", ".join(sorted(enabled))
            detail = f"unknown engine {engine_id!r}; known engines: {known}"
            checks.append(Check(f"engine {engine_id}", "engine", "fail", detail, "voxhost engines lists them"))
        elif not enabled[engine_id]:
            fix = f"set [engines.{engine_id}] enabled = true in the config"
            checks.append(Check(f"engine {engine_id}", "engine", "fail", "disabled in this config", fix))
    return checks


def _state_check(settings: Settings) -> Check:
    """Whether the state directory (or, before the first start, the folder that will hold it) takes a new file."""
    path = settings.state_path
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    fix = f"make {path} a directory the daemon's user can write (or set state_dir)"
    if not existing.is_dir():
        return Check("disk", "state writable", "fail", f"{existing} is not a directory", fix)
    if problem := unwritable(existing):
        return Check("disk", "state writable", "fail", f"cannot create a file in {existing}: {problem}", fix)
    return Check("disk", "state writable", "ok", f"{existing} takes new files")


def failed(checks: list[Check]) -> bool:
    """Whether any check failed."""
    return any(check.status == "fail" for check in checks)


def render(checks: list[Check]) -> str:
    """The report for people: grouped by scope, failures with their fix."""
    lines: list[str] = []
    scope = None
    marks = {"ok": "ok  ", "info": "    ", "warn": "WARN", "fail": "FAIL"}
    for check in checks:
        if check.scope != scope:
            scope = check.scope
            lines.append(scope)
        lines.append(f"  {marks[check.status]}  {check.name:28} {check.detail}")
        if check.fix and check.status in ("fail", "warn"):
            lines.append(f"        fix: {check.fix}")
    problems = sum(check.status == "fail" for check in checks)
    warnings = sum(check.status == "warn" for check in checks)
    lines.append(
        f"{problems} problem(s), {warnings} warning(s)" if problems or warnings else "everything checked is fine"
    )
    return "\n".join(lines) + "\n"


def as_json(checks: list[Check]) -> str:
    """The report for scripts."""
    return json.dumps({"ok": not failed(checks), "checks": [asdict(check) for check in checks]}, indent=2)
