#!/usr/bin/env bash
# Create or update the Chatterbox worker venv: envs/chatterbox/setup.sh VENV_DIR
# Idempotent: a stamp holding a hash of this script and the requirement files skips work already done.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:?usage: envs/chatterbox/setup.sh VENV_DIR}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3

stamp="$venv/.voxhost-chatterbox-stamp"
want="$(cat "$here/setup.sh" "$here/requirements.txt" "$here/requirements-nodeps.txt" "$here/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]]; then
    echo "chatterbox env up to date: $venv"
    exit 0
fi

[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip wheel
"${pip[@]}" install -q -r "$here/requirements.txt" -c "$here/constraints.txt"
"${pip[@]}" install -q --no-deps -r "$here/requirements-nodeps.txt"

# torchaudio's native libraries are built for a CUDA torch of another version and fail to load; without them
# torchaudio reports its extension unavailable and the pure-Python transforms chatterbox and perth use still work.
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
rm -f "$site"/torchaudio/lib/*.so

"$venv/bin/python" - <<'PY'
import os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch, torchaudio, perth, chatterbox  # noqa: F401  (fails loudly if the env is broken)
assert perth.PerthImplicitWatermarker is not None, "Perth watermarker failed to import"
print(f"chatterbox env ok: torch {torch.__version__}, chatterbox {chatterbox.__version__}")
PY
echo "$want" > "$stamp"
