"""envs/platform.sh: which torch + torchaudio a worker environment gets, from faked platform facts.

Each case puts fake ``uname`` and ``nvidia-smi`` commands first on PATH (and a fake /etc/nv_tegra_release under
VOXHOST_SYSROOT), runs the script as setup.sh sources it, and reads the plan it prints.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO

PLATFORM_SH = REPO / "envs" / "platform.sh"

NVIDIA_SMI_HEADER = """\
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI {driver}              Driver Version: {driver}      CUDA Version: {cuda}     |
|-----------------------------------------+------------------------+----------------------+
"""


def _plan(tmp_path: Path, system: str, machine: str, cuda: str | None = None, tegra: bool = False, **env: str):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    uname = bin_dir / "uname"
    uname.write_text(f'#!/bin/sh\ncase "$1" in -s) echo {system};; -m) echo {machine};; *) echo {system};; esac\n')
    uname.chmod(0o755)
    if cuda is not None:
        smi = bin_dir / "nvidia-smi"
        smi.write_text("#!/bin/sh\ncat <<'X'\n" + NVIDIA_SMI_HEADER.format(driver="580.65", cuda=cuda) + "X\n")
        smi.chmod(0o755)
    root = tmp_path / "root"
    if tegra:
        (root / "etc").mkdir(parents=True, exist_ok=True)
        (root / "etc" / "nv_tegra_release").write_text("# R36 (release), REVISION: 4.3\n")
    clean = {k: v for k, v in os.environ.items() if k not in {"VOXHOST_PLATFORM", "TORCH_SPEC", "TORCH_INDEX"}}
    clean.update(PATH=f"{bin_dir}:/usr/bin:/bin", VOXHOST_SYSROOT=str(root), **env)
    out = subprocess.run(["bash", str(PLATFORM_SH)], capture_output=True, text=True, env=clean, check=False)
    assert out.returncode == 0, out.stderr
    return dict(item.split("=", 1) for item in out.stdout.split())


def test_linux_without_gpu_is_the_cpu_plan_ci_uses(tmp_path):
    plan = _plan(tmp_path, "Linux", "x86_64")
    assert plan["platform"] == "cpu"
    assert plan["torch"] == "torch==2.13.0+cpu"  # the wheel on the CI machines' disk
    assert plan["torchaudio_from"] == "pypi"  # stripped to its pure-Python parts


@pytest.mark.parametrize(("cuda", "platform", "index"), [("12.4", "cuda12", "cu128"), ("13.0", "cuda13", "cu130")])
def test_nvidia_driver_picks_a_matched_pair_from_its_cuda_index(tmp_path, cuda, platform, index):
    plan = _plan(tmp_path, "Linux", "x86_64", cuda=cuda)
    assert plan["platform"] == platform
    assert plan["torch"] == "torch==2.11.0" and plan["torchaudio"] == "torchaudio==2.11.0"
    assert plan["torchaudio_from"] == "index" and plan["index"].endswith("/" + index)


def test_jetson_uses_nvidias_jetpack_wheels_on_python_3_10(tmp_path):
    plan = _plan(tmp_path, "Linux", "aarch64", tegra=True)
    assert plan["platform"] == "jetson" and plan["python"] == "python3.10"
    assert plan["index"] == "https://pypi.jetson-ai-lab.io/jp6/cu126"
    assert plan["torch"] == "torch==2.8.0" and plan["torchaudio"] == "torchaudio==2.8.0"


def test_aarch64_without_tegra_is_not_a_jetson(tmp_path):
    assert _plan(tmp_path, "Linux", "aarch64")["platform"] == "cpu"


def test_apple_silicon(tmp_path):
    plan = _plan(tmp_path, "Darwin", "arm64")
    assert plan["platform"] == "macos" and plan["index"] == "pypi"


def test_explicit_platform_and_specs_win(tmp_path):
    plan = _plan(tmp_path, "Linux", "x86_64", cuda="13.0", VOXHOST_PLATFORM="cuda12")
    assert plan["platform"] == "cuda12"
    plan = _plan(tmp_path, "Linux", "x86_64", TORCH_SPEC="torch==2.14.1", TORCH_INDEX="")
    assert plan["torch"] == "torch==2.14.1" and plan["index"] == "pypi"


def test_unknown_platform_is_refused(tmp_path):
    env = {k: v for k, v in os.environ.items()} | {"VOXHOST_PLATFORM": "amiga"}
    out = subprocess.run(["bash", str(PLATFORM_SH)], capture_output=True, text=True, env=env, check=False)
    assert out.returncode != 0 and "unknown platform 'amiga'" in out.stderr


def test_install_takes_platform_after_the_engines_and_checks_every_name_first(tmp_path):
    # README: `envs/install.sh /opt/voxhost/venvs f5 chatterbox qwen  # --platform cuda12|cuda13 to choose`. Put
    # after the engines, --platform and its value were taken for engines, each built in turn with the platform
    # detected, until the first of them was refused; a misspelled engine waited for the builds of those before it.
    venvs = tmp_path / "venvs"
    install = [str(REPO / "envs" / "install.sh"), str(venvs)]
    alone = subprocess.run([*install, "--platform", "cpu"], capture_output=True, text=True, timeout=30)
    assert alone.returncode == 2 and alone.stderr == "name at least one engine: f5 chatterbox qwen mlx\n", alone.stderr
    typo = subprocess.run(
        [*install, "f5", "chaterbox", "--platform", "cpu"], capture_output=True, text=True, timeout=30
    )
    assert typo.returncode == 2 and "no engine environment 'chaterbox'" in typo.stderr, typo.stderr
    assert typo.stdout == "" and not venvs.exists(), "refused before the plan, and before anything was built"
