#!/usr/bin/env bash
# Create or update the mlx-audio worker venv: envs/mlx/setup.sh VENV_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:?usage: $0 VENV_DIR}"
python="${PYTHON:-python3.11}"
stamp="$venv/.voxhost-env-stamp"
hash="$(cat "$here/setup.sh" "$here"/requirements*.txt | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" && -x "$venv/bin/python" ]]; then
  echo "mlx env up to date: $venv"
  exit 0
fi
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
reqs=(-r "$here/requirements.txt")
[[ "$(uname -s)" == "Linux" ]] && reqs+=(-r "$here/requirements-linux.txt")
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${reqs[@]}"
"$venv/bin/python" -c "import mlx.core, mlx_audio.tts.utils" >/dev/null || { echo "mlx-audio failed to import in $venv" >&2; exit 1; }
echo "$hash" > "$stamp"
echo "mlx env ready: $venv"
