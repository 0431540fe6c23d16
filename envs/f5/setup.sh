#!/usr/bin/env bash
# Create or update the F5-TTS worker environment: envs/f5/setup.sh VENV_DIR
#
# torch: TORCH_SPEC (default torch==2.13.0, the CPU wheel cached on the dev/CI machines). On a CUDA machine set
# TORCH_SPEC and TORCH_INDEX (e.g. https://download.pytorch.org/whl/cu128) to get a CUDA build.
# torchaudio: PyPI's wheels pin one exact torch and carry CUDA libraries, so it is installed --no-deps and its
# compiled extension removed; the pure-Python parts F5 and Vocos use (MelSpectrogram, Resample) still work.
# Idempotent: a stamp holding a hash of this script and the requirement files makes a second run instant.
set -euo pipefail
VENV=${1:?usage: envs/f5/setup.sh VENV_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3.11}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
STAMP="$VENV/.voxhost-f5-stamp"
HASH=$( (cat "$HERE/setup.sh" "$HERE/requirements.txt" "$HERE/requirements-nodeps.txt"; echo "$TORCH_SPEC ${TORCH_INDEX:-}") | sha256sum | cut -d' ' -f1)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" && -x "$VENV/bin/python" ]]; then
  echo "f5 worker env up to date: $VENV"
  exit 0
fi
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
if [[ -n "${TORCH_INDEX:-}" ]]; then
  "${PIP[@]}" --index-url "$TORCH_INDEX" "$TORCH_SPEC"
else
  "${PIP[@]}" "$TORCH_SPEC"
fi
"${PIP[@]}" -r "$HERE/requirements.txt" "$TORCH_SPEC"
"${PIP[@]}" --no-deps -r "$HERE/requirements-nodeps.txt"
# torchaudio's compiled extension links CUDA torch libraries; without it torchaudio falls back to pure Python.
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -f "$SITE"/torchaudio/lib/*.so
"$VENV/bin/python" - <<'PY'
import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch, torchaudio, vocos, lingua  # noqa: F401
from f5_tts.infer import utils_infer  # noqa: F401
print("f5 worker env ok: torch", torch.__version__, "cuda", torch.cuda.is_available())
PY
echo "$HASH" > "$STAMP"
