#!/usr/bin/env bash
# Create or update the Chatterbox worker environment: envs/chatterbox/setup.sh VENV_DIR
# chatterbox-tts pins torch 2.6, gradio and more; it and its helpers are installed --no-deps beside a tested list
# (requirements.txt). setuptools stays below 81: the Perth watermarker imports pkg_resources (the engine copes
# without it too). torch and torchaudio as envs/platform.sh plans them. Chinese word segmentation (spacy-pkuseg)
# needs its model, fetched here once into VENV/share/pkuseg (the engine points PKUSEG_HOME there); offline, Chinese
# is spoken without segmentation and `voxhost doctor` says so.
source "$(dirname "$0")/../lib.sh"
env_begin chatterbox "${1:-}"
install_torch
pip_install -r "$HERE/requirements.txt" "$TORCH_SPEC"
pip_install --no-deps -r "$HERE/requirements-nodeps.txt"
strip_torchaudio
mkdir -p "$VENV/share/pkuseg"
PKUSEG_HOME="$VENV/share/pkuseg" timeout 300 "$VENV/bin/python" -c "import spacy_pkuseg; spacy_pkuseg.pkuseg()" \
  >/dev/null 2>&1 || echo "spacy-pkuseg could not fetch its model (offline?): Chinese will not be segmented" >&2
"$VENV/bin/python" -W ignore - <<'PY'
import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch, torchaudio, perth, chatterbox, spacy_pkuseg, lingua  # noqa: F401  (fails loudly if broken)
assert perth.PerthImplicitWatermarker is not None, "the Perth watermarker failed to import"
print("chatterbox worker env ok: torch", torch.__version__, "cuda", torch.cuda.is_available(),
      "chatterbox", chatterbox.__version__)
PY
env_done
