#!/usr/bin/env bash
# Create or update the whisper engine's MLX worker environment: envs/whisper-mlx/setup.sh VENV_DIR
# On Linux (tests only) MLX runs on its CPU backend, mlx[cpu] (requirements-linux.txt).
source "$(dirname "$0")/../lib.sh"
env_begin whisper-mlx "${1:-}"
reqs=(-r "$HERE/requirements.txt")
[[ "$(uname -s)" == "Linux" ]] && reqs+=(-r "$HERE/requirements-linux.txt")
pip_install "${reqs[@]}"
pip_install --no-deps -r "$HERE/requirements-nodeps.txt"
"$VENV/bin/python" -c "import mlx.core, mlx_whisper" >/dev/null || { echo "mlx-whisper failed to import in $VENV" >&2; exit 1; }
env_done
