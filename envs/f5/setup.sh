#!/usr/bin/env bash
# Create or update the F5-TTS worker environment: envs/f5/setup.sh VENV_DIR
# torch and torchaudio as in envs/lib.sh; f5-tts and its helpers --no-deps beside a tested list.
source "$(dirname "$0")/../lib.sh"
env_begin f5 "${1:-}"
install_torch
pip_install -r "$HERE/requirements.txt" "$TORCH_SPEC"
pip_install --no-deps -r "$HERE/requirements-nodeps.txt"
strip_torchaudio
"$VENV/bin/python" - <<'PY'
import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch, torchaudio, vocos, lingua  # noqa: F401  (fails loudly if the environment is broken)
from f5_tts.infer import utils_infer  # noqa: F401
print("f5 worker env ok: torch", torch.__version__, "cuda", torch.cuda.is_available())
PY
env_done
