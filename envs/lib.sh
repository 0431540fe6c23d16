# Shared steps of the worker environments' setup scripts; sourced by envs/<engine>/setup.sh.
#
# env_begin NAME VENV   make or reuse the venv; exit early when a stamp (a hash of the engine's setup files, these
#                       files and the torch plan) says it is already up to date
# pip_install ARGS...   pip install into the venv, quietly
# install_torch         torch and torchaudio as envs/platform.sh plans them for this machine (VOXHOST_PLATFORM
#                       overrides the detection; TORCH_SPEC, TORCHAUDIO_SPEC, TORCH_INDEX override the plan)
# strip_torchaudio      if torchaudio cannot import beside this torch (its compiled extension needs another torch or
#                       CUDA), remove the extension: the pure-Python parts the engines use (MelSpectrogram, Resample,
#                       compliance.kaldi) keep working. Writes what happened to VENV/.voxhost-platform for doctor
# env_done              write the stamp
set -euo pipefail
ENVS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=envs/platform.sh
source "$ENVS_DIR/platform.sh"
platform_plan

env_begin() {
  ENV_NAME=$1
  VENV=${2:?usage: envs/$1/setup.sh VENV_DIR}
  HERE="$ENVS_DIR/$ENV_NAME"
  STAMP="$VENV/.voxhost-$ENV_NAME-stamp"
  HASH=$( (cat "$ENVS_DIR/lib.sh" "$ENVS_DIR/platform.sh" "$HERE"/setup.sh "$HERE"/requirements*.txt
    echo "$PLATFORM $PYTHON $TORCH_SPEC $TORCHAUDIO_SPEC $TORCHAUDIO_FROM ${TORCH_INDEX:-}") \
    | sha256sum | cut -d' ' -f1)
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" && -x "$VENV/bin/python" ]]; then
    echo "$ENV_NAME worker env up to date: $VENV"
    exit 0
  fi
  local python=$PYTHON
  command -v "$python" >/dev/null 2>&1 || python=python3
  echo "$ENV_NAME worker env for platform $PLATFORM: $TORCH_SPEC, $TORCHAUDIO_SPEC (${TORCH_INDEX:-PyPI})"
  [[ -x "$VENV/bin/python" ]] || "$python" -m venv "$VENV"
}

pip_install() {
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}

install_torch() {
  if [[ "$TORCHAUDIO_FROM" == "index" && -n "$TORCH_INDEX" ]]; then
    # a pair built together; --index-url, not --extra-index-url: pip would otherwise prefer PyPI's other builds
    pip_install --index-url "$TORCH_INDEX" "$TORCH_SPEC" "$TORCHAUDIO_SPEC"
  else
    # a wheel pip already has (a local wheel cache, as on CI) or PyPI first, then the platform's index
    pip_install "$TORCH_SPEC" 2>/dev/null \
      || { [[ -n "$TORCH_INDEX" ]] && pip_install --extra-index-url "$TORCH_INDEX" "$TORCH_SPEC"; }
    # PyPI's torchaudio pins another torch: without its dependencies, checked (and stripped) below
    pip_install --no-deps "$TORCHAUDIO_SPEC"
  fi
}

strip_torchaudio() {
  local mode site
  if "$VENV/bin/python" -c "import torchaudio" >/dev/null 2>&1; then
    mode=$("$VENV/bin/python" -c "from torchaudio._extension import _IS_TORCHAUDIO_EXT_AVAILABLE as ok
print('extension' if ok else 'pure-python')")
  else
    site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    rm -f "$site"/torchaudio/lib/*.so
    "$VENV/bin/python" -c "import torchaudio" || { echo "torchaudio does not import even without its extension" >&2; exit 1; }
    mode=stripped
    echo "torchaudio's compiled extension cannot load beside $TORCH_SPEC: removed it (pure-Python parts only)"
  fi
  {
    echo "platform=$PLATFORM"
    echo "torch=$TORCH_SPEC"
    echo "torchaudio=$TORCHAUDIO_SPEC"
    echo "torchaudio_mode=$mode"
    echo "index=${TORCH_INDEX:-pypi}"
  } > "$VENV/.voxhost-platform"
}

env_done() {
  echo "$HASH" > "$STAMP"
  echo "$ENV_NAME worker env ready: $VENV"
}
