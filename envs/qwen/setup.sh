#!/usr/bin/env bash
# Create or update the qwen-tts worker venv: envs/qwen/setup.sh VENV_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:?usage: $0 VENV_DIR}"
python="${PYTHON:-python3.11}"
stamp="$venv/.voxhost-env-stamp"
hash="$(cat "$here/setup.sh" "$here"/requirements*.txt | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" && -x "$venv/bin/python" ]]; then
  echo "qwen env up to date: $venv"
  exit 0
fi
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" -r "$here/requirements.txt"
"${pip[@]}" --no-deps -r "$here/requirements-nodeps.txt"
# PyPI's torchaudio is a CUDA build; its compiled extensions cannot load beside a CPU torch, and qwen-tts only
# needs the pure-Python parts (compliance.kaldi), which work once the libraries are absent.
if ! "$venv/bin/python" -c "import torch, sys; sys.exit(0 if torch.version.cuda else 1)"; then
  site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  rm -f "$site"/torchaudio/lib/*.so
fi
"$venv/bin/python" -c "import qwen_tts" >/dev/null 2>&1 || { echo "qwen-tts failed to import in $venv" >&2; exit 1; }
echo "$hash" > "$stamp"
echo "qwen env ready: $venv"
