# Shared steps of the worker environments' setup scripts; sourced by envs/<engine>/setup.sh.
#
# env_begin NAME VENV   make or reuse the venv; exit early when a stamp (a hash of the engine's setup files, this
#                       file and the torch choice) says it is already up to date
# pip_install ARGS...   pip install into the venv, quietly
# install_torch         TORCH_SPEC (default torch==2.13.0, the CPU wheel cached on the dev/CI machines); on a CUDA
#                       machine set TORCH_SPEC and TORCH_INDEX (e.g. https://download.pytorch.org/whl/cu128)
# strip_torchaudio      PyPI's torchaudio wheels are CUDA builds pinned to one torch: next to a CPU torch their
#                       compiled extension cannot load, so remove it; the pure-Python parts the engines use
#                       (MelSpectrogram, Resample, compliance.kaldi) keep working
# env_done              write the stamp
set -euo pipefail
ENVS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

env_begin() {
  ENV_NAME=$1
  VENV=${2:?usage: envs/$1/setup.sh VENV_DIR}
  HERE="$ENVS_DIR/$ENV_NAME"
  STAMP="$VENV/.voxhost-$ENV_NAME-stamp"
  HASH=$( (cat "$ENVS_DIR/lib.sh" "$HERE"/setup.sh "$HERE"/requirements*.txt; echo "$TORCH_SPEC ${TORCH_INDEX:-}") \
    | sha256sum | cut -d' ' -f1)
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" && -x "$VENV/bin/python" ]]; then
    echo "$ENV_NAME worker env up to date: $VENV"
    exit 0
  fi
  local python=${PYTHON:-python3.11}
  command -v "$python" >/dev/null 2>&1 || python=python3
  [[ -x "$VENV/bin/python" ]] || "$python" -m venv "$VENV"
}

pip_install() {
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}

install_torch() {
  if [[ -n "${TORCH_INDEX:-}" ]]; then
    pip_install --index-url "$TORCH_INDEX" "$TORCH_SPEC"
  else
    pip_install "$TORCH_SPEC"
  fi
}

strip_torchaudio() {
  if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(0 if torch.version.cuda else 1)"; then
    local site
    site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    rm -f "$site"/torchaudio/lib/*.so
  fi
}

env_done() {
  echo "$HASH" > "$STAMP"
  echo "$ENV_NAME worker env ready: $VENV"
}
