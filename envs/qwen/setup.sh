#!/usr/bin/env bash
# Create or update the qwen-tts worker environment: envs/qwen/setup.sh VENV_DIR
# qwen-tts pins transformers 4.57 (mlx-audio needs 5.x: it has its own environment, envs/mlx).
source "$(dirname "$0")/../lib.sh"
env_begin qwen "${1:-}"
install_torch
pip_install -r "$HERE/requirements.txt" "$TORCH_SPEC"
pip_install --no-deps -r "$HERE/requirements-nodeps.txt"
strip_torchaudio
"$VENV/bin/python" -c "import qwen_tts" >/dev/null 2>&1 || { echo "qwen-tts failed to import in $VENV" >&2; exit 1; }
env_done
