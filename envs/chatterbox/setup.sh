#!/usr/bin/env bash
# Create or update the Chatterbox worker environment: envs/chatterbox/setup.sh VENV_DIR
#
# torch: TORCH_SPEC (default torch==2.13.0, the CPU wheel cached on the dev/CI machines). On a CUDA machine set
# TORCH_SPEC and TORCH_INDEX (e.g. https://download.pytorch.org/whl/cu128) to get a CUDA build.
# chatterbox-tts pins torch 2.6, gradio and more; it and its helpers are installed --no-deps next to a tested list
# (requirements.txt). torchaudio's PyPI wheels pin one exact torch and carry CUDA libraries, so it is installed
# --no-deps and its compiled extension removed; the pure-Python transforms Chatterbox and Perth use still work.
# setuptools stays below 81: the Perth watermarker imports pkg_resources (the engine copes without it too).
# Idempotent: a stamp holding a hash of this script and the requirement files makes a second run instant.
set -euo pipefail
VENV=${1:?usage: envs/chatterbox/setup.sh VENV_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
STAMP="$VENV/.voxhost-chatterbox-stamp"
HASH=$( (cat "$HERE/setup.sh" "$HERE/requirements.txt" "$HERE/requirements-nodeps.txt"; echo "$TORCH_SPEC ${TORCH_INDEX:-}") | sha256sum | cut -d' ' -f1)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" && -x "$VENV/bin/python" ]]; then
  echo "chatterbox worker env up to date: $VENV"
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
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -f "$SITE"/torchaudio/lib/*.so
"$VENV/bin/python" -W ignore - <<'PY'
import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch, torchaudio, perth, chatterbox  # noqa: F401  (fails loudly if the environment is broken)
assert perth.PerthImplicitWatermarker is not None, "the Perth watermarker failed to import"
print("chatterbox worker env ok: torch", torch.__version__, "cuda", torch.cuda.is_available(),
      "chatterbox", chatterbox.__version__)
PY
echo "$HASH" > "$STAMP"
