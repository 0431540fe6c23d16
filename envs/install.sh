#!/usr/bin/env bash
# Build the worker environments of several engines for this machine, one command per platform (README):
#   envs/install.sh [--platform cpu|cuda12|cuda13|jetson|macos] VENVS_DIR ENGINE...
# ENGINE is f5, chatterbox, qwen (Qwen3-TTS on PyTorch) or mlx (Qwen3-TTS on Apple Silicon); each goes to
# VENVS_DIR/<engine>. Without --platform, envs/platform.sh detects it; `envs/platform.sh` prints its plan.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# --platform anywhere (`install.sh DIR f5 --platform cuda12` too): after the engines it was built as one of them.
args=()
while (($#)); do
  if [[ "$1" == "--platform" ]]; then
    export VOXHOST_PLATFORM=${2:?--platform needs a value}
    shift 2
  else
    args+=("$1")
    shift
  fi
done
set -- ${args[@]+"${args[@]}"}  # bash 3.2 (macOS) calls an empty "${args[@]}" unbound
venvs=${1:?usage: envs/install.sh [--platform P] VENVS_DIR ENGINE...}
shift
(($#)) || { echo "name at least one engine: f5 chatterbox qwen mlx" >&2; exit 2; }
for engine in "$@"; do  # every name first: a typo in the last must not wait for the others' builds
  [[ -f "$here/$engine/setup.sh" ]] || { echo "no engine environment '$engine' (f5, chatterbox, qwen, mlx)" >&2; exit 2; }
done
bash "$here/platform.sh"
for engine in "$@"; do
  bash "$here/$engine/setup.sh" "$venvs/$engine"
done
echo "done: set [engines.<id>] python = \"$venvs/<engine>/bin/python\" (configs/ has a profile per platform), then run voxhost doctor"
