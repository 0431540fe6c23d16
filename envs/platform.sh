#!/usr/bin/env bash
# Which torch + torchaudio a worker environment gets on this machine; sourced by envs/lib.sh, or run to print it:
#   envs/platform.sh            prints the plan for this machine (platform, python, torch, torchaudio, index)
#   VOXHOST_PLATFORM=jetson envs/platform.sh    the plan for a platform named explicitly
#
# Platforms:
#   cpu     Linux without an NVIDIA GPU (and CI): torch 2.13.0+cpu; torchaudio 2.11.0 with its compiled extension
#           removed (PyPI's torchaudio is a CUDA build); the pure-Python parts the engines call keep working
#   cuda12  Linux x86_64, NVIDIA driver for CUDA 12.x: torch and torchaudio 2.11.0 from PyTorch's cu128 index, a pair
#           built together (torchaudio's extension needs the same CUDA as torch)
#   cuda13  Linux x86_64, NVIDIA driver for CUDA 13.x: the same pair from the cu130 index
#   jetson  NVIDIA Jetson, JetPack 6 (aarch64, CUDA 12.6, Python 3.10): torch and torchaudio 2.8.0 from NVIDIA's
#           Jetson AI Lab index (jp6/cu126)
#   macos   Apple Silicon: PyPI's torch 2.13.0 (CPU + MPS) and torchaudio 2.11.0 (MLX for Qwen3: envs/mlx)
# Whatever the platform, a torchaudio whose extension cannot load beside the installed torch is stripped to its
# pure-Python parts (envs/lib.sh strip_torchaudio), so the engines still import; doctor says which happened.
#
# Detection reads `uname -s`, `uname -m`, /etc/nv_tegra_release and the CUDA version in `nvidia-smi`'s header
# (the newest CUDA the driver runs). Overrides: VOXHOST_PLATFORM, and TORCH_SPEC, TORCHAUDIO_SPEC, TORCH_INDEX,
# PYTHON for a combination of your own. VOXHOST_SYSROOT prefixes the files read (for tests).

detect_platform() {
  local system machine cuda
  system=$(uname -s 2>/dev/null || echo unknown)
  machine=$(uname -m 2>/dev/null || echo unknown)
  if [[ "$system" == "Darwin" ]]; then
    echo macos
    return
  fi
  if [[ "$machine" == "aarch64" && -f "${VOXHOST_SYSROOT:-}/etc/nv_tegra_release" ]]; then
    echo jetson
    return
  fi
  if command -v nvidia-smi >/dev/null 2>&1; then
    cuda=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9][0-9]*\)\..*/\1/p' | head -n1)
    case "$cuda" in
      12) echo cuda12; return ;;
      13|14|15) echo cuda13; return ;;  # newer drivers run older CUDA builds
    esac
  fi
  echo cpu
}

# Sets PLATFORM, PYTHON, TORCH_SPEC, TORCHAUDIO_SPEC, TORCH_INDEX and TORCHAUDIO_FROM ("index": the pair comes
# from TORCH_INDEX; "pypi": PyPI's torchaudio, installed --no-deps and stripped if its extension cannot load).
platform_plan() {
  PLATFORM=${VOXHOST_PLATFORM:-$(detect_platform)}
  local python torch audio index from
  case "$PLATFORM" in
    cpu)
      python=python3.11 torch="torch==2.13.0+cpu" audio="torchaudio==2.11.0"
      index=https://download.pytorch.org/whl/cpu from=pypi ;;
    cuda12)
      python=python3.11 torch="torch==2.11.0" audio="torchaudio==2.11.0"
      index=https://download.pytorch.org/whl/cu128 from=index ;;
    cuda13)
      python=python3.11 torch="torch==2.11.0" audio="torchaudio==2.11.0"
      index=https://download.pytorch.org/whl/cu130 from=index ;;
    jetson)
      python=python3.10 torch="torch==2.8.0" audio="torchaudio==2.8.0"
      index=https://pypi.jetson-ai-lab.io/jp6/cu126 from=index ;;
    macos)
      python=python3.11 torch="torch==2.13.0" audio="torchaudio==2.11.0" index="" from=pypi ;;
    *)
      echo "unknown platform '$PLATFORM' (VOXHOST_PLATFORM): use cpu, cuda12, cuda13, jetson or macos" >&2
      return 2 ;;
  esac
  PYTHON=${PYTHON:-$python}
  TORCH_SPEC=${TORCH_SPEC:-$torch}
  TORCHAUDIO_SPEC=${TORCHAUDIO_SPEC:-$audio}
  TORCH_INDEX=${TORCH_INDEX-$index}
  TORCHAUDIO_FROM=${TORCHAUDIO_FROM:-$from}
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  platform_plan
  echo "platform=$PLATFORM python=$PYTHON torch=$TORCH_SPEC torchaudio=$TORCHAUDIO_SPEC torchaudio_from=$TORCHAUDIO_FROM index=${TORCH_INDEX:-pypi}"
fi
