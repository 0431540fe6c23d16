#!/usr/bin/env bash
# Create or update the mlx-audio worker environment: envs/mlx/setup.sh VENV_DIR
# On Linux (tests only) MLX runs on its CPU backend, mlx[cpu] (requirements-linux.txt).
source "$(dirname "$0")/../lib.sh"
env_begin mlx "${1:-}"
reqs=(-r "$HERE/requirements.txt")
[[ "$(uname -s)" == "Linux" ]] && reqs+=(-r "$HERE/requirements-linux.txt")
pip_install "${reqs[@]}"
"$VENV/bin/python" -c "import mlx.core, mlx_audio.tts.utils" >/dev/null || { echo "mlx-audio failed to import in $VENV" >&2; exit 1; }
env_done
